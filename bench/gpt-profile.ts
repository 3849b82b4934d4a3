/**
 * Hand-run profile (not a test): where one training step of the Transformer LM goes on the wasm
 * backend, nanoGPT's laptop configuration by default (4 layers, 4 heads, width 128, context 64,
 * batch 12, vocab 65). Every wasm kernel is wrapped with a timer (exclusive time: a kernel calling
 * another kernel, e.g. the matmul fix calling Transpose, is charged only for its own part), and the
 * step is timed in phases: forward+loss, gradients (variableGrads minus forward), clip norm,
 * Adam (applyGradients), weight decay.
 *
 *   node --import tsx bench/gpt-profile.ts [--steps 10] [--warmup 3] [--batch 12] [--top 30] [--ops]
 * `--ops`: the plain tf-ops path (fused kernels of arch/transformer-kernels.ts off).
 * `--ab`: no kernel timers; alternates whole training steps between the ops path, each fused piece
 * alone and all of them, in one process (the fairest comparison on a shared, noisy machine); medians.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/select.ts';
import { TransformerLM } from '../src/arch/transformer.ts';
import { sequenceCrossEntropy } from '../src/arch/lm.ts';
import { fusedKernelsActive, setFusedKernels } from '../src/arch/transformer-kernels.ts';
import { arg } from './lib/args.ts';

const steps = Number(arg('steps', '10'));
const warmup = Number(arg('warmup', '3'));
const B = Number(arg('batch', '12'));
const top = Number(arg('top', '30'));
const T = 64;
const V = 65;
await initBackend('wasm');
fusedKernelsActive(); // registers the fused kernels, so that they are wrapped below too
if (process.argv.includes('--ops')) setFusedKernels(false);

// ---- per-kernel timers (exclusive) ---------------------------------------------------------
const stats = new Map<string, { ms: number; n: number }>();
let on = false;
const stack: number[] = []; // child time accumulated per open frame
for (const cfg of tf.getKernelsForBackend('wasm')) {
  const inner = cfg.kernelFunc;
  const name = cfg.kernelName;
  cfg.kernelFunc = ((p: Parameters<tf.KernelFunc>[0]) => {
    if (!on) return inner(p);
    const shapes = Object.values(p.inputs).map((t) => (t ? `[${(t as tf.TensorInfo).shape}]` : '-')).join('');
    stack.push(0);
    const t0 = performance.now();
    try {
      return inner(p);
    } finally {
      const dt = performance.now() - t0;
      const child = stack.pop()!;
      if (stack.length) stack[stack.length - 1]! += dt;
      const key = `${name} ${shapes}`;
      const s = stats.get(key) ?? { ms: 0, n: 0 };
      s.ms += dt - child;
      s.n++;
      stats.set(key, s);
    }
  }) as tf.KernelFunc;
}

const lm = new TransformerLM({ vocabSize: V, layers: 4, heads: 4, embeddingDim: 128, contextLength: T }, 1);
const opt = tf.train.adam(1e-3, 0.9, 0.99, 1e-8);
const ids = () => tf.tensor2d(Int32Array.from({ length: B * T }, () => Math.floor(Math.random() * V)), [B, T], 'int32');
const phase = { forward: 0, grads: 0, norm: 0, adam: 0, decay: 0, total: 0 };

function step(measure: boolean): void {
  tf.tidy(() => {
    const x = ids();
    const y = ids();
    const t0 = performance.now();
    // forward alone (for the split), then the real variableGrads (forward + backward)
    if (measure) {
      tf.tidy(() => sequenceCrossEntropy(lm.forward(x), y).dataSync());
    }
    const t1 = performance.now();
    const { value, grads } = tf.variableGrads(() => sequenceCrossEntropy(lm.forward(x), y));
    value.dataSync();
    const t2 = performance.now();
    const names = Object.keys(grads);
    const norm = tf.tidy(() => tf.sqrt(tf.addN(names.map((n) => tf.sum(tf.square(grads[n]!))))).dataSync()[0]!);
    const t3 = performance.now();
    opt.applyGradients(grads as Parameters<typeof opt.applyGradients>[0]);
    const t4 = performance.now();
    const reg = tf.engine().registeredVariables;
    for (const n of names) if (reg[n]!.rank >= 2) reg[n]!.assign(tf.mul(reg[n]!, 0.9999));
    const t5 = performance.now();
    if (measure) {
      phase.forward += t1 - t0;
      phase.grads += t2 - t1 - (t1 - t0);
      phase.norm += t3 - t2;
      phase.adam += t4 - t3;
      phase.decay += t5 - t4;
      phase.total += t5 - t1; // a real step: no separate forward
    }
    void norm;
    tf.dispose(Object.values(grads));
  });
}

if (process.argv.includes('--ab')) {
  // Modes alternate step by step: every mode sees the same machine load.
  type Mode = 'ops' | 'layerNorm' | 'dense' | 'gelu' | 'fused';
  const modes: Mode[] = ['ops', 'layerNorm', 'dense', 'gelu', 'fused'];
  const times = Object.fromEntries(modes.map((m) => [m, [] as number[]])) as Record<Mode, number[]>;
  for (let i = 0; i < warmup + steps; i++) {
    for (const mode of modes) {
      setFusedKernels(mode !== 'ops');
      const all = mode === 'fused';
      setFusedKernels({ layerNorm: all || mode === 'layerNorm', dense: all || mode === 'dense', gelu: all || mode === 'gelu' });
      const t0 = performance.now();
      step(false);
      if (i >= warmup) times[mode].push(performance.now() - t0);
    }
  }
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
  const base = med(times.ops);
  for (const mode of modes) console.log(`${mode === 'ops' || mode === 'fused' ? mode : `only ${mode}`}: median step ${med(times[mode]).toFixed(1)} ms (${Math.round((B * T) / (med(times[mode]) / 1000))} tokens/s), ÷ ops ${(med(times[mode]) / base).toFixed(3)}, over ${steps} steps`);
  console.log(`tensors ${tf.memory().numTensors}`);
  process.exit(0);
}
for (let i = 0; i < warmup; i++) step(false);
const tensors0 = tf.memory().numTensors;
on = true;
for (let i = 0; i < steps; i++) step(true);
on = false;
const kernelTotal = [...stats.values()].reduce((a, s) => a + s.ms, 0);
const launches = [...stats.values()].reduce((a, s) => a + s.n, 0);
const per = (ms: number) => (ms / steps).toFixed(2);
console.log(`B ${B}, T ${T}, ${steps} measured steps; tensors ${tensors0} -> ${tf.memory().numTensors}`);
console.log(`phases per step (ms): ${Object.entries(phase).map(([k, v]) => `${k} ${per(v)}`).join(', ')}; tokens/s ${Math.round((B * T * steps) / (phase.total / 1000))}`);
console.log(`kernel time per step (incl. the extra forward): ${per(kernelTotal)} ms in ${Math.round(launches / steps)} launches`);
const byKernel = new Map<string, { ms: number; n: number }>();
for (const [k, s] of stats) {
  const name = k.split(' ')[0]!;
  const t = byKernel.get(name) ?? { ms: 0, n: 0 };
  t.ms += s.ms;
  t.n += s.n;
  byKernel.set(name, t);
}
console.log('\n| kernel | ms/step | % | launches/step |\n|---|---|---|---|');
for (const [k, s] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms)) console.log(`| ${k} | ${per(s.ms)} | ${((100 * s.ms) / kernelTotal).toFixed(1)} | ${s.n / steps} |`);
console.log(`\n| kernel and input shapes (top ${top}) | ms/step | % | launches/step |\n|---|---|---|---|`);
for (const [k, s] of [...stats].sort((a, b) => b[1].ms - a[1].ms).slice(0, top)) console.log(`| ${k} | ${per(s.ms)} | ${((100 * s.ms) / kernelTotal).toFixed(1)} | ${s.n / steps} |`);
lm.dispose();
