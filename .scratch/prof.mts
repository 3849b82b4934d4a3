import * as tf from '@tensorflow/tfjs';
import { initBackend } from '/work/main/src/backend/select.ts';
import { FusedLSTM } from '/work/main/src/arch/fused-lstm.ts';
import { setRnnKernels } from '/work/main/src/arch/rnn-kernels.ts';
const V = 96, E = 64, B = 32, T = 64;
await initBackend('wasm');
setRnnKernels(process.argv[2] !== 'ops');
const model = tf.sequential({ layers: [tf.layers.embedding({ inputDim: V, outputDim: E, inputLength: T }), new FusedLSTM({ units: 256 }), tf.layers.dense({ units: V })] });
const opt = tf.train.adam(2e-3);
const rand = (n: number) => Int32Array.from({ length: n }, () => Math.floor(Math.random() * V));
const x = tf.tensor2d(rand(B * T), [B, T], 'int32');
const y = tf.tidy(() => tf.oneHot(tf.tensor2d(rand(B * T), [B, T], 'int32'), V));
const step = () => { const l = opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x) as tf.Tensor) as tf.Scalar, true); l!.dataSync(); l!.dispose(); };
step(); step();
const t0 = performance.now(); step(); console.log('step ms', performance.now() - t0);
const prof = await tf.profile(() => { step(); });
const agg = new Map<string, { ms: number; n: number }>();
for (const k of prof.kernels) { const a = agg.get(k.name) ?? { ms: 0, n: 0 }; a.ms += k.kernelTimeMs as number; a.n++; agg.set(k.name, a); }
const rows = [...agg.entries()].sort((a, b) => b[1].ms - a[1].ms);
let tot = 0; for (const [, a] of rows) tot += a.ms;
console.log('kernels', prof.kernels.length, 'kernel ms total', tot.toFixed(1));
for (const [n, a] of rows.slice(0, 14)) console.log(n.padEnd(28), a.n, a.ms.toFixed(1));
const mm = new Map<string, { ms: number; n: number }>();
for (const k of prof.kernels) if (k.name === 'BatchMatMul' || k.name === '_FusedMatMul') { const key = `${k.name} ${JSON.stringify(k.inputShapes)}`; const a = mm.get(key) ?? { ms: 0, n: 0 }; a.ms += k.kernelTimeMs as number; a.n++; mm.set(key, a); }
for (const [n, a] of [...mm.entries()].sort((a, b) => b[1].ms - a[1].ms)) console.log(n.padEnd(60), a.n, a.ms.toFixed(1), (a.ms / a.n).toFixed(2));
