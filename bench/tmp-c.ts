import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
function jsT(src: Float32Array, dst: Float32Array, R: number, C: number) {
  const BS = 32;
  for (let i0 = 0; i0 < R; i0 += BS) { const i1 = Math.min(i0 + BS, R);
    for (let j0 = 0; j0 < C; j0 += BS) { const j1 = Math.min(j0 + BS, C);
      for (let i = i0; i < i1; i++) { const s = i * C; for (let j = j0; j < j1; j++) dst[j * R + i] = src[s + j]; } } }
}
async function main() {
await tf.setBackend('wasm');
for (const [R, C] of [[256, 1024], [1024, 32], [1024, 256], [32, 256]]) {
  const x = tf.randomNormal([R, C]);
  for (let i = 0; i < 5; i++) tf.transpose(x).dispose();
  let t0 = performance.now(); for (let i = 0; i < 50; i++) tf.transpose(x).dispose();
  const tw = (performance.now() - t0) / 50;
  const src = x.dataSync() as Float32Array; const dst = new Float32Array(R * C);
  for (let i = 0; i < 5; i++) jsT(src, dst, R, C);
  t0 = performance.now(); for (let i = 0; i < 50; i++) jsT(src, dst, R, C);
  const tj = (performance.now() - t0) / 50;
  console.log(R, C, 'wasm', tw.toFixed(3), 'js', tj.toFixed(3));
}
}
main();
