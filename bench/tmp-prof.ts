import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/select.ts';
import { setMatMulFixOptions } from '../src/backend/wasm-fixes.ts';
const V = 96, E = 64, H = 256, B = 32, T = 64;
async function main() {
  await initBackend('wasm');
  setMatMulFixOptions({ enabled: process.argv[2] !== 'off' });
  const model = tf.sequential({ layers: [
      tf.layers.embedding({ inputDim: V, outputDim: E, inputLength: T }),
      tf.layers.lstm({ units: H, returnSequences: true, recurrentInitializer: 'glorotUniform' }),
      tf.layers.dense({ units: V }) ] });
  const opt = tf.train.adam(2e-3);
  const x = tf.randomUniform([B, T], 0, V, 'int32');
  const y = tf.tidy(() => tf.oneHot(tf.randomUniform([B, T], 0, V, 'int32') as tf.Tensor1D, V));
  const step = () => { const l = opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x) as tf.Tensor) as tf.Scalar, true); l!.dataSync(); l!.dispose(); };
  step();
  const t0 = performance.now();
  const prof = await tf.profile(step);
  const wall = performance.now() - t0;
  const agg = new Map<string, { n: number; ms: number }>();
  for (const k of prof.kernels) {
    const key = k.name + (k.name.includes('MatMul') ? ' ' + k.inputShapes.map(s => `[${s}]`).join('x') : '');
    const e = agg.get(key) ?? { n: 0, ms: 0 }; e.n++; e.ms += k.kernelTimeMs as number; agg.set(key, e);
  }
  const tot = [...agg.values()].reduce((s, e) => s + e.ms, 0);
  console.log('wall', wall.toFixed(0), 'kernel total', tot.toFixed(0), 'nkernels', prof.kernels.length);
  for (const [k, e] of [...agg.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)) console.log(e.ms.toFixed(1).padStart(8), String(e.n).padStart(5), k);
}
main();
