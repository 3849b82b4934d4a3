import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '../../src/backend/select.ts';
import { createRng } from '../../src/decode/rng.ts';
import { maxDiff, size } from '../helpers/compare.ts';
import { applyWasmFixes } from '../../src/backend/wasm-fixes.ts';
import { setSliceKernelOptions } from '../../src/backend/wasm-slice-kernels.ts';

// Deterministic data so that both backends see the same inputs.
const rand = createRng(4242);
const randInt = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo));

type DType = 'float32' | 'int32' | 'bool';
function randValues(n: number, dtype: DType): Float32Array | Int32Array | Uint8Array {
  if (dtype === 'float32') return Float32Array.from({ length: n }, () => rand() * 2 - 1);
  if (dtype === 'int32') return Int32Array.from({ length: n }, () => randInt(-1000, 1000));
  return Uint8Array.from({ length: n }, () => (rand() < 0.5 ? 1 : 0));
}


const numDataIds = () => (tf.backend() as unknown as { numDataIds(): number }).numDataIds();

interface Result {
  shape: number[];
  dtype: string;
  data: ArrayLike<number>;
}

/** Run fn on a backend and read all its outputs (everything created inside is disposed). */
async function on(backend: 'cpu' | 'wasm', fn: () => tf.Tensor | tf.Tensor[]): Promise<{ results: Result[]; leaked: number; leakedIds: number }> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const ids = numDataIds();
  const out = tf.tidy(fn);
  const outs = Array.isArray(out) ? out : [out];
  const results = outs.map((o) => ({ shape: o.shape, dtype: o.dtype, data: o.dataSync() as ArrayLike<number> }));
  tf.dispose(outs);
  return { results, leaked: tf.memory().numTensors - before, leakedIds: numDataIds() - ids };
}

/** Compare fn on wasm with cpu; collects failures instead of emitting one assertion per case. */
async function compare(name: string, fn: () => tf.Tensor | tf.Tensor[], failures: string[]): Promise<void> {
  const c = await on('cpu', fn);
  const w = await on('wasm', fn);
  if (c.leaked !== 0) failures.push(`${name}: cpu leaked ${c.leaked} tensors`);
  if (w.leaked !== 0) failures.push(`${name}: wasm leaked ${w.leaked} tensors`);
  if (w.leakedIds !== 0) failures.push(`${name}: wasm leaked ${w.leakedIds} buffers`);
  if (w.results.length !== c.results.length) {
    failures.push(`${name}: ${w.results.length} outputs on wasm, ${c.results.length} on cpu`);
    return;
  }
  for (let i = 0; i < c.results.length; i++) {
    const [a, b] = [w.results[i], c.results[i]];
    if (JSON.stringify(a.shape) !== JSON.stringify(b.shape)) failures.push(`${name}[${i}]: shape [${a.shape}] vs cpu [${b.shape}]`);
    else if (a.dtype !== b.dtype) failures.push(`${name}[${i}]: dtype ${a.dtype} vs cpu ${b.dtype}`);
    else if (maxDiff(a.data, b.data) !== 0) failures.push(`${name}[${i}]: values differ from cpu`);
  }
}

const SHAPES: number[][] = [[7, 5], [1, 9], [4, 1, 6], [3, 5, 2], [2, 3, 4, 5], [3, 1, 2, 6], [2, 2, 3, 2, 3]];
const DTYPES: DType[] = ['float32', 'int32', 'bool'];

t.before(async () => {
  const info = await initBackend('wasm');
  t.equal(info.name, 'wasm');
  for (const k of ['Slice', 'Unpack', 'SplitV', 'GatherV2']) t.ok(info.fixes.includes(k), `${k} registered`);
});

t.test('applyWasmFixes keeps one wrapper per kernel', async (t) => {
  const before = ['Slice', 'Unpack', 'SplitV'].map((k) => tf.getKernel(k, 'wasm'));
  const fixes = applyWasmFixes();
  t.ok(['Slice', 'Unpack', 'SplitV'].every((k) => fixes.includes(k)));
  t.same(['Slice', 'Unpack', 'SplitV'].map((k) => tf.getKernel(k, 'wasm')), before);
});

t.test('unstack matches cpu on every axis, negative axes, all dtypes', async (t) => {
  const failures: string[] = [];
  let n = 0;
  for (const shape of SHAPES) {
    for (const dtype of DTYPES) {
      const v = randValues(size(shape), dtype);
      for (let axis = -shape.length; axis < shape.length; axis++) {
        n++;
        await compare(`unstack [${shape}] ${dtype} axis=${axis}`, () => tf.unstack(tf.tensor(v, shape, dtype), axis), failures);
      }
    }
  }
  // rank 1 -> scalars, and a zero-size input
  await compare('unstack 1d', () => tf.unstack(tf.tensor1d([1, 2, 3])), failures);
  await compare('unstack zero-size', () => tf.unstack(tf.zeros([3, 0, 2]), 0), failures);
  t.same(failures, [], `${n + 2} cases equal cpu, no leaks`);
});

t.test('split (equal parts and explicit sizes) matches cpu on every axis, all dtypes', async (t) => {
  const failures: string[] = [];
  let n = 0;
  const shapes: number[][] = [[6, 8], [4, 6, 3], [2, 4, 6, 2], [3, 2, 4, 2, 6]];
  for (const shape of shapes) {
    for (const dtype of DTYPES) {
      const v = randValues(size(shape), dtype);
      for (let axis = -shape.length; axis < shape.length; axis++) {
        const d = shape[(axis + shape.length) % shape.length];
        const parts = d % 2 === 0 ? 2 : d;
        const sizes = d >= 3 ? [1, -1, 1] : [d, 0];
        n += 2;
        await compare(`split [${shape}] ${dtype} axis=${axis} into ${parts}`, () => tf.split(tf.tensor(v, shape, dtype), parts, axis), failures);
        await compare(`split [${shape}] ${dtype} axis=${axis} sizes ${sizes}`, () => tf.split(tf.tensor(v, shape, dtype), sizes, axis), failures);
      }
    }
  }
  // the gate split of an LSTM step: [B, 4H] -> 4 x [B, H] along the last axis
  const z = randValues(3 * 4 * 40, 'float32');
  await compare('split lstm gates', () => tf.split(tf.tensor(z, [3, 160]), 4, -1), failures);
  t.same(failures, [], `${n + 1} cases equal cpu, no leaks`);
});

t.test('gather matches cpu on axis 0 (the fast path) and other axes (shipped), all dtypes', async (t) => {
  const failures: string[] = [];
  let n = 0;
  for (const shape of SHAPES) {
    for (const dtype of DTYPES) {
      const v = randValues(size(shape), dtype);
      for (let axis = 0; axis < shape.length; axis++) {
        const d = shape[axis]!;
        // repeated and out-of-order indices, as a 1-D and a 2-D index tensor
        const idx1 = Int32Array.from({ length: 5 }, () => randInt(0, d));
        const idx2 = Int32Array.from({ length: 6 }, () => randInt(0, d));
        n += 2;
        await compare(`gather [${shape}] ${dtype} axis=${axis} [5]`, () => tf.gather(tf.tensor(v, shape, dtype), tf.tensor1d(idx1, 'int32'), axis), failures);
        await compare(`gather [${shape}] ${dtype} axis=${axis} [2,3]`, () => tf.gather(tf.tensor(v, shape, dtype), tf.tensor2d(idx2, [2, 3], 'int32'), axis), failures);
      }
    }
  }
  await compare('gather no indices', () => tf.gather(tf.ones([4, 3]), tf.tensor1d([], 'int32')), failures);
  t.same(failures, [], `${n + 1} cases equal cpu, no leaks`);
  const before = tf.memory().numTensors;
  const ids = numDataIds();
  t.throws(() => tf.tidy(() => tf.gather(tf.ones([4, 3]), tf.tensor1d([1, 4], 'int32'))), /index value 4 is not in \[0, 3\]/, 'an out-of-range index throws the shipped message');
  t.equal(tf.memory().numTensors, before, 'nothing leaked by the throw');
  t.equal(numDataIds(), ids, 'no buffer leaked by the throw');
});

t.test('slice matches cpu for random boxes on ranks 1-5, all dtypes', async (t) => {
  const failures: string[] = [];
  let n = 0;
  const shapes: number[][] = [[11], [7, 5], [4, 1, 6], [3, 5, 2], [2, 3, 4, 5], [3, 4, 2, 3, 4]];
  for (const shape of shapes) {
    for (const dtype of DTYPES) {
      const v = randValues(size(shape), dtype);
      for (let k = 0; k < 12; k++) {
        const begin = shape.map((d) => randInt(0, d));
        // mix of full dims (collapsible), partial dims, size -1 and empty boxes
        const sz = shape.map((d, i) => {
          const r = rand();
          if (k % 4 === 0) return r < 0.5 ? -1 : d - begin[i];
          if (r < 0.3) { begin[i] = 0; return d; }
          if (r < 0.4) return -1;
          if (k === 11 && i === 0) return 0;
          return randInt(1, d - begin[i] + 1);
        });
        n++;
        await compare(`slice [${shape}] ${dtype} begin=[${begin}] size=[${sz}]`, () => tf.slice(tf.tensor(v, shape, dtype), begin, sz), failures);
      }
    }
  }
  const x = randValues(24, 'float32');
  await compare('slice scalar-sized box', () => tf.slice(tf.tensor(x, [2, 3, 4]), [1, 2, 3], [1, 1, 1]), failures);
  await compare('slice whole tensor', () => tf.slice(tf.tensor(x, [2, 3, 4]), [0, 0, 0], [-1, -1, -1]), failures);
  await compare('slice contiguous rows', () => tf.slice(tf.tensor(x, [2, 3, 4]), [1, 1, 0], [1, 2, 4]), failures);
  t.same(failures, [], `${n + 3} cases equal cpu, no leaks`);
});

t.test('no whole-input copy: the new kernels never readSync', async (t) => {
  await tf.setBackend('wasm');
  const backend = tf.backend() as BackendWasm;
  const x = tf.randomNormal([8, 16, 32]);
  const orig = backend.readSync;
  let reads = 0;
  backend.readSync = function (this: BackendWasm, ...args: Parameters<BackendWasm['readSync']>) {
    reads++;
    return orig.apply(this, args);
  } as BackendWasm['readSync'];
  try {
    tf.dispose(tf.unstack(x, 1));
    tf.dispose(tf.split(x, [4, 12], 1));
    tf.dispose(tf.slice(x, [1, 2, 3], [2, 3, 4]));
    t.equal(reads, 0, 'no readSync with the replacement kernels');
    setSliceKernelOptions({ enabled: false });
    tf.dispose(tf.unstack(x, 1));
    t.equal(reads, 16, 'the shipped Unpack reads the whole input once per output');
  } finally {
    setSliceKernelOptions({ enabled: true });
    backend.readSync = orig;
    x.dispose();
  }
});

t.test('outputs that grow the wasm heap (detached views) are still correct', async (t) => {
  await tf.setBackend('wasm');
  const backend = tf.backend() as BackendWasm;
  const heapBytes = () => (backend.wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8.buffer.byteLength;
  // Big enough that allocating the outputs cannot fit in the heap as it is after creating x.
  const rows = 2, cols = Math.ceil((heapBytes() * 0.6) / 4 / rows);
  const v = new Float32Array(rows * cols);
  for (let i = 0; i < v.length; i += 997) v[i] = i;
  v[v.length - 1] = -1;
  const x = tf.tensor(v, [rows, cols]);
  const grown = heapBytes();
  const [a, b] = tf.unstack(x);
  t.ok(heapBytes() > grown, `heap grew while allocating the outputs (${grown} -> ${heapBytes()} bytes)`);
  t.equal(maxDiff(a.dataSync(), v.subarray(0, cols)), 0, 'first row');
  t.equal(maxDiff(b.dataSync(), v.subarray(cols)), 0, 'second row');
  tf.dispose([a, b]);
  const [c, d] = tf.split(x, [1, cols - 1], 1);
  t.same(Array.from(c.dataSync()), [v[0], v[cols]]);
  t.equal(d.dataSync()[2 * (cols - 1) - 1], -1);
  tf.dispose([x, c, d]);
});

t.test('LSTM and GRU gradients (unstack/split forward and backward) match cpu', async (t) => {
  const B = 3, T = 5, E = 4, H = 6, V = 5;
  const xv = randValues(B * T * E, 'float32');
  const yv = Int32Array.from({ length: B * T }, () => randInt(0, V));
  async function grads(backend: 'cpu' | 'wasm', cell: 'lstm' | 'gru') {
    await tf.setBackend(backend);
    const before = tf.memory().numTensors;
    const rnn = tf.layers[cell]({
      units: H, returnSequences: true, inputShape: [T, E],
      kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
      recurrentInitializer: tf.initializers.glorotUniform({ seed: 2 }),
      biasInitializer: tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed: 4 }),
    });
    const model = tf.sequential({ layers: [rnn, tf.layers.dense({ units: V, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) })] });
    const x = tf.tensor(xv, [B, T, E]);
    const y = tf.tidy(() => tf.oneHot(tf.tensor(yv, [B, T], 'int32'), V));
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.apply(x) as tf.Tensor) as tf.Scalar, vars);
    const out = vars.map((v) => grads[v.name].dataSync().slice());
    tf.dispose(grads);
    tf.dispose([x, y, value]);
    model.dispose();
    t.equal(tf.memory().numTensors, before, `${cell} on ${backend}: no leak`);
    return out;
  }
  for (const cell of ['lstm', 'gru'] as const) {
    const c = await grads('cpu', cell);
    const w = await grads('wasm', cell);
    t.equal(w.length, c.length);
    for (let i = 0; i < c.length; i++) {
      const d = maxDiff(w[i], c[i]);
      t.ok(d < 1e-4, `${cell} grad ${i} equals cpu (${d.toExponential(2)})`);
    }
  }
});
