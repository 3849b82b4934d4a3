// The row-copying wasm GatherV2 (src/backend/wasm-gather-kernel.ts) gives exactly the cpu backend's
// result for every rank, axis (incl. negative), index shape (incl. repeats and empty) and heap dtype;
// an out-of-range index throws; nothing leaks.
import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/select.ts';
import { createRng } from '../../src/decode/rng.ts';
import { maxDiff } from '../helpers/compare.ts';

const rand = createRng(77);
type DType = 'float32' | 'int32' | 'bool';
const values = (n: number, dtype: DType) =>
  dtype === 'float32' ? Float32Array.from({ length: n }, () => rand() * 2 - 1) : Int32Array.from({ length: n }, () => (dtype === 'bool' ? (rand() < 0.5 ? 1 : 0) : Math.floor(rand() * 2000) - 1000));

async function gatherOn(backend: 'cpu' | 'wasm', x: { shape: number[]; data: ArrayLike<number>; dtype: DType }, idx: { shape: number[]; data: number[] }, axis: number) {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const out = tf.tidy(() => tf.gather(tf.tensor(x.data as number[] | Float32Array | Int32Array, x.shape, x.dtype), tf.tensor(idx.data, idx.shape, 'int32'), axis));
  const r = { shape: out.shape, dtype: out.dtype, data: out.dataSync() as ArrayLike<number> };
  out.dispose();
  return { ...r, leaked: tf.memory().numTensors - before };
}

t.test('GatherV2 on wasm equals cpu', async (t) => {
  const info = await initBackend('wasm');
  t.ok(info.fixes.includes('GatherV2'), 'GatherV2 registered');
  const failures: string[] = [];
  let cases = 0;
  for (const shape of [[7], [5, 3], [4, 1, 6], [3, 5, 40], [2, 3, 4, 5]]) {
    for (let axis = -shape.length; axis < shape.length; axis++) {
      const dim = shape[axis < 0 ? axis + shape.length : axis]!;
      for (const idxShape of [[0], [1], [4], [2, 3]]) {
        for (const dtype of ['float32', 'int32', 'bool'] as DType[]) {
          const n = shape.reduce((a, b) => a * b, 1);
          const x = { shape, data: values(n, dtype), dtype };
          const count = idxShape.reduce((a, b) => a * b, 1);
          const idx = { shape: idxShape, data: Array.from({ length: count }, () => Math.floor(rand() * dim)) };
          const c = await gatherOn('cpu', x, idx, axis);
          const w = await gatherOn('wasm', x, idx, axis);
          const name = `[${shape}] axis ${axis} idx [${idxShape}] ${dtype}`;
          cases++;
          if (w.leaked !== 0) failures.push(`${name}: leaked ${w.leaked}`);
          if (JSON.stringify(w.shape) !== JSON.stringify(c.shape) || w.dtype !== c.dtype) failures.push(`${name}: [${w.shape}] ${w.dtype} vs cpu [${c.shape}] ${c.dtype}`);
          else if (maxDiff(w.data, c.data) !== 0) failures.push(`${name}: values differ`);
        }
      }
    }
  }
  t.same(failures, [], `${cases} cases equal the cpu backend`);
  await tf.setBackend('wasm');
  const before = tf.memory().numTensors;
  t.throws(() => tf.tidy(() => tf.gather(tf.zeros([3, 2]), tf.tensor1d([0, 3], 'int32'))), /GatherV2: the index value 3 is not in \[0, 2\]/);
  t.equal(tf.memory().numTensors, before, 'nothing left after the throw');
});
