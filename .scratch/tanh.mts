import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '/work/main/src/backend/select.ts';
import { tanhApprox } from '/work/main/src/arch/rnn-kernels.ts';
await initBackend('wasm');
tf.registerKernel({ kernelName: 'MyTanh', backendName: 'wasm', kernelFunc: (({ inputs, backend }: any) => {
  const b = backend as BackendWasm; const x = inputs.x; const out = b.makeOutput(x.shape, 'float32');
  const X = b.typedArrayFromHeap(x) as Float32Array, O = b.typedArrayFromHeap(out) as Float32Array;
  for (let i = 0; i < X.length; i++) O[i] = tanhApprox(X[i]!);
  return out; }) as any });
for (const shape of [[2048, 256], [32, 256], [1, 256]]) {
  const x = tf.randomNormal(shape, 0, 2);
  const time = (name: string, f: () => void) => { for (let i = 0; i < 50; i++) f(); const n = shape[0] === 1 ? 5000 : shape[0] === 32 ? 2000 : 100; const t0 = performance.now(); for (let i = 0; i < n; i++) f(); const us = (performance.now() - t0) / n * 1000; console.log(JSON.stringify(shape), name, us.toFixed(1), 'us', (us * 1000 / x.size).toFixed(2), 'ns/elt'); };
  time('wasm Tanh', () => tf.tidy(() => { tf.tanh(x); }));
  time('JS approx', () => tf.tidy(() => { tf.engine().runKernel('MyTanh', { x }, {}); }));
  time('2σ(2x)−1 ops', () => tf.tidy(() => { tf.sub(tf.mul(tf.sigmoid(tf.mul(x, 2)), 2), 1); }));
}
