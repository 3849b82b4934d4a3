import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
async function main() {
await tf.setBackend('wasm');
function time(name: string, f: () => tf.Tensor, n = 20) {
  for (let i = 0; i < 3; i++) f().dispose();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) f().dispose();
  console.log(name, ((performance.now() - t0) / n).toFixed(3), 'ms');
}
const a = tf.randomNormal([32, 1024]); const b = tf.randomNormal([1024, 256]);
const aT = tf.randomNormal([1024, 32]); const bT = tf.randomNormal([256, 1024]);
time('NN', () => tf.matMul(a, b));
time('TN', () => tf.matMul(aT, b, true, false));
time('NT', () => tf.matMul(a, bT, false, true));
time('transpose aT', () => tf.transpose(aT));
time('transpose bT', () => tf.transpose(bT));
for (const [B, M, K, N] of [[8, 64, 64, 64], [8, 16, 16, 16], [64, 8, 8, 8], [4, 256, 256, 256]]) {
  const x = tf.randomNormal([B, M, K]); const y = tf.randomNormal([B, K, N]);
  time(`batched ${B}x${M}x${K}x${N}`, () => tf.matMul(x, y));
  const x1 = tf.randomNormal([M, K]); const y1 = tf.randomNormal([K, N]);
  time(`single ${M}x${K}x${N} x${B}`, () => { let r; for (let i = 0; i < B; i++) { r?.dispose(); r = tf.matMul(x1, y1); } return r!; });
}
// correctness probes
const A = tf.randomNormal([1, 3, 4]), Bb = tf.randomNormal([2, 4, 5]);
const w = tf.matMul(A, Bb).arraySync(); await tf.setBackend('cpu'); const c = tf.matMul(A, Bb).arraySync();
console.log('broadcast a batch1 diff', Math.max(...(w as any).flat(3).map((v: number, i: number) => Math.abs(v - (c as any).flat(3)[i]))));
await tf.setBackend('wasm');
const X = tf.randomNormal([3, 4]), W = tf.randomNormal([5, 4]), bias = tf.randomNormal([5]);
for (const act of ['linear','relu','elu','sigmoid','leakyrelu'] as const) {
  const f = () => tf.fused.matMul({a: X, b: W, transposeB: true, bias, activation: act}).dataSync();
  const f2 = () => tf.fused.matMul({a: X, b: tf.transpose(W), bias, activation: act}).dataSync();
  const wv = f(), wv2 = f2(); await tf.setBackend('cpu'); const cv = f(); await tf.setBackend('wasm');
  console.log('fused', act, 'transposed diff', Math.max(...Array.from(wv).map((v, i) => Math.abs(v - cv[i]))), 'NN diff', Math.max(...Array.from(wv2).map((v, i) => Math.abs(v - cv[i]))));
}
}
main();
