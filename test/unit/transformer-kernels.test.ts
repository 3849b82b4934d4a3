// The Transformer's fused wasm kernels (arch/transformer-kernels.ts) against the plain tf-ops
// references they replace: values and gradients (w.r.t. every input) equal to float32 rounding, and
// no tensors left behind.
import t, { type Test } from 'tap';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/select.ts';
import { dense, denseOps, fusedKernelsActive, gelu, geluOps, layerNorm, layerNormOps } from '../../src/arch/transformer-kernels.ts';

await initBackend('wasm');

const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
const maxAbs = (a: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(a)).dataSync()[0]!);

/** Values and gradients of sum(f(inputs) · dy) for the fused function and its reference. */
function compare(t: Test, label: string, fused: (...x: tf.Tensor[]) => tf.Tensor, ref: (...x: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[], tol: number): void {
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    const outShape = ref(...inputs).shape;
    const dy = tf.randomNormal(outShape, 0, 1, 'float32', 7);
    const run = (f: (...x: tf.Tensor[]) => tf.Tensor) => tf.grads((...x: tf.Tensor[]) => tf.sum(tf.mul(f(...x), dy)))(inputs);
    const vf = fused(...inputs);
    const vr = ref(...inputs);
    t.ok(maxAbsDiff(vf, vr) <= tol * (1 + maxAbs(vr)), `${label}: value max |Δ| ${maxAbsDiff(vf, vr).toExponential(2)}`);
    const gf = run(fused);
    const gr = run(ref);
    gf.forEach((g, i) => {
      t.same(g.shape, inputs[i]!.shape, `${label}: gradient ${i} shape`);
      const d = maxAbsDiff(g, gr[i]!);
      t.ok(d <= tol * (1 + maxAbs(gr[i]!)), `${label}: gradient ${i} max |Δ| ${d.toExponential(2)} (scale ${maxAbs(gr[i]!).toExponential(2)})`);
    });
  });
  t.equal(tf.memory().numTensors, before, `${label}: no tensors left behind`);
}

t.test('the fused kernels are active on wasm', async (t) => {
  t.ok(fusedKernelsActive());
});

t.test('fused LayerNorm = the ops LayerNorm (values; gradients w.r.t. x, gamma, beta)', async (t) => {
  for (const [N, C] of [[5, 8], [37, 128]] as const) {
    const x = tf.add(tf.mul(tf.randomNormal([N, C], 0, 1, 'float32', N), 3), 1.5) as tf.Tensor2D;
    const gamma = tf.randomNormal([C], 1, 0.5, 'float32', 2);
    const beta = tf.randomNormal([C], 0, 0.5, 'float32', 3);
    compare(t, `LN [${N}, ${C}]`, (a, g, b) => layerNorm(a as tf.Tensor2D, g!, b!, 1e-5), (a, g, b) => layerNormOps(a as tf.Tensor2D, g!, b!, 1e-5), [x, gamma, beta], 2e-5);
    tf.dispose([x, gamma, beta]);
  }
});

t.test('fused dense = x·W + b (values; gradients w.r.t. x, W, b)', async (t) => {
  for (const [N, K, M] of [[3, 4, 5], [96, 128, 384]] as const) {
    const x = tf.randomNormal([N, K], 0, 1, 'float32', 4) as tf.Tensor2D;
    const w = tf.randomNormal([K, M], 0, 0.2, 'float32', 5) as tf.Tensor2D;
    const b = tf.randomNormal([M], 0, 1, 'float32', 6) as tf.Tensor1D;
    compare(t, `dense [${N}, ${K}]·[${K}, ${M}]`, (a, ww, bb) => dense(a as tf.Tensor2D, ww as tf.Tensor2D, bb as tf.Tensor1D), (a, ww, bb) => denseOps(a as tf.Tensor2D, ww as tf.Tensor2D, bb as tf.Tensor1D), [x, w, b], 2e-5);
    tf.dispose([x, w, b]);
  }
});

t.test('GELU with its hand-written gradient = the ops GELU (values; gradient)', async (t) => {
  const x = tf.mul(tf.randomNormal([64, 48], 0, 1, 'float32', 9), 3);
  compare(t, 'GELU [64, 48]', (a) => gelu(a!), (a) => geluOps(a!), [x], 2e-6);
  x.dispose();
});
