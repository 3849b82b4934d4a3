import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/select.ts';
import { setMatMulFixOptions } from '../src/backend/wasm-fixes.ts';
async function main() {
const log = { info: (o: object, m: string) => console.log('INFO', m, JSON.stringify(o)), warn: (o: object, m: string) => console.log('WARN', m, JSON.stringify(o)) };
console.log(await initBackend('auto', log));
function time(name: string, f: () => tf.Tensor, n = 20) {
  for (let i = 0; i < 3; i++) f().dispose();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) f().dispose();
  return ((performance.now() - t0) / n);
}
const shapes: [string, number, number, number][] = [['x',32,1024,256],['lstm U',32,256,1024],['lstm W',32,64,1024],['dense',32,256,96]];
for (const [nm, M, K, N] of shapes) {
  for (const [tA, tB] of [[false,false],[true,false],[false,true],[true,true]]) {
    const a = tf.randomNormal(tA ? [K, M] : [M, K]); const b = tf.randomNormal(tB ? [N, K] : [K, N]);
    const r: string[] = [];
    for (const cfg of [{enabled:false},{enabled:true,plan:'direct'},{enabled:true,plan:'swap'},{enabled:true,plan:'auto'}] as const) {
      setMatMulFixOptions(cfg as any);
      r.push(time('', () => tf.matMul(a, b, tA, tB)).toFixed(3));
    }
    console.log(nm, M, K, N, tA ? 'T' : 'N', tB ? 'T' : 'N', 'orig/direct/swap/auto', r.join(' '));
    a.dispose(); b.dispose();
  }
}
setMatMulFixOptions({ plan: 'auto' });
for (const [B, M, K, N] of [[8, 16, 16, 16], [8, 32, 32, 32], [8, 64, 64, 64], [4, 256, 256, 256], [64, 8, 64, 64], [8, 16, 64, 64], [8, 32, 32, 64]]) {
  for (const [tA, tB] of [[false,false],[true,true]]) {
  const x = tf.randomNormal(tA ? [B, K, M] : [B, M, K]); const y = tf.randomNormal(tB ? [B, N, K] : [B, K, N]);
  setMatMulFixOptions({enabled:false}); const t1 = time('', () => tf.matMul(x, y, tA, tB));
  setMatMulFixOptions({enabled:true}); const t2 = time('', () => tf.matMul(x, y, tA, tB));
  console.log('batched', B, M, K, N, tA, tB, 'work', M*K*N, 'orig', t1.toFixed(3), 'fixed', t2.toFixed(3));
  }
}
}
main();
