import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/select.ts';
import { createRng } from '../../src/decode/rng.ts';
import { maxDiff, size } from '../helpers/compare.ts';
import { applyWasmFixes, setMatMulFixOptions, WASM_FIX_NAMES } from '../../src/backend/wasm-fixes.ts';

// Deterministic data so that both backends see the same inputs.
const rand = createRng(12345);
function randArray(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rand() * 2 - 1;
  return a;
}
function randInts(n: number, lo: number, hi: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + Math.floor(rand() * (hi - lo));
  return a;
}


/** Run fn on a backend and return the data of its result (tensors created inside are disposed). */
async function on(backend: 'cpu' | 'wasm', fn: () => tf.Tensor): Promise<{ shape: number[]; data: Float32Array | Int32Array }> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const out = tf.tidy(fn);
  const res = { shape: out.shape, data: out.dataSync() as Float32Array | Int32Array };
  out.dispose();
  t.equal(tf.memory().numTensors, before, `${backend}: no tensor leak`);
  return res;
}

async function compare(name: string, fn: () => tf.Tensor, tol: number): Promise<void> {
  const c = await on('cpu', fn);
  const dataIdsBefore = (await tf.setBackend('wasm'), (tf.backend() as unknown as { numDataIds(): number }).numDataIds());
  const w = await on('wasm', fn);
  t.equal((tf.backend() as unknown as { numDataIds(): number }).numDataIds(), dataIdsBefore, `${name}: no wasm buffer leak`);
  t.same(w.shape, c.shape, `${name}: shape`);
  const d = maxDiff(w.data, c.data);
  t.ok(d <= tol, `${name}: max |wasm - cpu| = ${d.toExponential(2)} <= ${tol}`);
}

t.before(async () => {
  const info = await initBackend('wasm');
  t.equal(info.name, 'wasm');
});

t.test('applyWasmFixes is idempotent', async (t) => {
  await tf.setBackend('wasm');
  const k = tf.getKernel('BatchMatMul', 'wasm');
  t.same(applyWasmFixes(), [...WASM_FIX_NAMES]);
  t.same(applyWasmFixes(), [...WASM_FIX_NAMES]);
  t.equal(tf.getKernel('BatchMatMul', 'wasm'), k, 'kernel not wrapped twice');
  t.ok(tf.getKernel('UnsortedSegmentSum', 'wasm'));
});

t.test('UnsortedSegmentSum matches cpu', async () => {
  const cases: { x: number[]; n: number; seg: number; lo?: number }[] = [
    { x: [7, 5], n: 7, seg: 4 }, // repeated ids
    { x: [40, 3], n: 40, seg: 6 },
    { x: [9, 2, 3], n: 9, seg: 5 }, // 3D x
    { x: [12, 4, 1, 2], n: 12, seg: 3 },
    { x: [10, 6], n: 10, seg: 4, lo: -2 }, // negative and out-of-range ids are dropped
    { x: [1, 8], n: 1, seg: 3 },
  ];
  for (const c of cases) {
    const xv = randArray(size(c.x));
    const ids = randInts(c.n, c.lo ?? 0, c.seg + (c.lo != null ? 2 : 0));
    if (c.lo == null) ids[c.n - 1] = ids[0]; // make sure one id repeats
    await compare(`segsum x=[${c.x}] ids=[${c.n}] seg=${c.seg}`, () =>
      tf.unsortedSegmentSum(tf.tensor(xv, c.x), tf.tensor1d(ids, 'int32'), c.seg), 1e-5);
  }
  // Rank-2 ids (the wasm kernel accepts ids covering the first dims of x; the cpu kernel does not, so
  // compare with the flattened equivalent on cpu).
  const xv = randArray(6 * 4 * 3);
  const ids2 = randInts(24, 0, 5);
  const c = await on('cpu', () => tf.unsortedSegmentSum(tf.tensor(xv, [24, 3]), tf.tensor1d(ids2, 'int32'), 5));
  const w = await on('wasm', () => tf.unsortedSegmentSum(tf.tensor(xv, [6, 4, 3]), (tf.tensor(ids2, [6, 4], 'int32') as tf.Tensor) as tf.Tensor1D, 5));
  t.same(w.shape, [5, 3]);
  t.ok(maxDiff(w.data, c.data) < 1e-5, 'rank-2 segment ids');
  const xi = randInts(15, -5, 5);
  const ids = randInts(5, 0, 3);
  await compare('segsum int32', () => tf.unsortedSegmentSum(tf.tensor(xi, [5, 3], 'int32'), tf.tensor1d(ids, 'int32'), 3), 0);
});

t.test('matMul: all transpose combinations, both plans, match cpu', async () => {
  const shapes2d: [number, number, number][] = [[5, 7, 3], [32, 64, 48], [1, 9, 4], [6, 1, 5], [8, 12, 1], [33, 17, 65]];
  try {
    for (const plan of ['auto', 'direct', 'swap'] as const) {
      setMatMulFixOptions({ plan });
      for (const [M, K, N] of shapes2d) {
        for (const tA of [false, true]) {
          for (const tB of [false, true]) {
            const av = randArray(M * K);
            const bv = randArray(K * N);
            await compare(`${plan} [${M}x${K}x${N}] tA=${tA} tB=${tB}`, () =>
              tf.matMul(tf.tensor(av, tA ? [K, M] : [M, K]), tf.tensor(bv, tB ? [N, K] : [K, N]), tA, tB), 1e-4);
          }
        }
      }
    }
  } finally {
    setMatMulFixOptions({ plan: 'auto' });
  }
});

t.test('batched matMul matches cpu', async () => {
  // [aShape (untransposed: [...batch, M, K]), bShape ([...batch, K, N])]
  const cases: [number[], number[]][] = [
    [[3, 16, 48], [3, 48, 64]], // per-batch XNNPACK path
    [[2, 3, 16, 40], [2, 3, 40, 64]], // rank 4, per-batch
    [[4, 5, 6], [4, 6, 7]], // small: shipped kernel
    [[3, 20, 24], [24, 16]], // b shared: flattened into one matmul
    [[2, 3, 20, 24], [1, 24, 16]], // b shared with a broadcast batch dim
    [[20, 40], [3, 40, 48]], // a shared, b batched
    [[1, 20, 40], [3, 40, 48]],
  ];
  const swapLast = (s: number[]) => [...s.slice(0, -2), s[s.length - 1], s[s.length - 2]];
  for (const [as, bs] of cases) {
    for (const tA of [false, true]) {
      for (const tB of [false, true]) {
        const av = randArray(size(as));
        const bv = randArray(size(bs));
        await compare(`batched [${as}]x[${bs}] tA=${tA} tB=${tB}`, () =>
          tf.matMul(tf.tensor(av, tA ? swapLast(as) : as), tf.tensor(bv, tB ? swapLast(bs) : bs), tA, tB), 1e-4);
      }
    }
  }
});

t.test('fused matMul (dense with bias/activation) matches cpu', async () => {
  // As shipped, a transposed operand plus a bias gives wrong results on wasm (slow-path bias bug).
  for (const activation of ['linear', 'relu', 'elu', 'sigmoid', 'leakyrelu', 'prelu'] as const) {
    for (const tA of [false, true]) {
      for (const tB of [false, true]) {
        const [M, K, N] = [6, 10, 7];
        const av = randArray(M * K);
        const bv = randArray(K * N);
        const biasv = randArray(N);
        await compare(`fused ${activation} tA=${tA} tB=${tB}`, () =>
          tf.fused.matMul({
            a: tf.tensor(av, tA ? [K, M] : [M, K]),
            b: tf.tensor(bv, tB ? [N, K] : [K, N]),
            transposeA: tA,
            transposeB: tB,
            bias: tf.tensor(biasv, [N]),
            activation,
            leakyreluAlpha: 0.2,
            preluActivationWeights: activation === 'prelu' ? tf.tensor(biasv, [N]) : undefined,
          }), 1e-4);
      }
    }
  }
  const av = randArray(2 * 8 * 12);
  const bv = randArray(12 * 5);
  const biasv = randArray(5);
  await compare('fused batched a, shared b, tA', () =>
    tf.fused.matMul({ a: tf.tensor(av, [2, 12, 8]), b: tf.tensor(bv, [12, 5]), transposeA: true, bias: tf.tensor(biasv, [5]), activation: 'relu' }), 1e-4);
});

t.test('reshaped weights: one buffer used as matmul weights under two shapes', async () => {
  // Shipped wasm caches the XNNPACK operator per weights-tensor id; reshape keeps the id.
  const wv = randArray(24);
  const x1 = randArray(12);
  const x2 = randArray(8);
  await compare('weights [6,4] then [4,6]', () => {
    const w = tf.tensor(wv, [6, 4]);
    const first = tf.matMul(tf.tensor(x1, [2, 6]), w);
    return tf.concat([first.flatten(), tf.matMul(tf.tensor(x2, [2, 4]), w.reshape([4, 6])).flatten()]);
  }, 1e-5);
});

t.test('Embedding gradient trains on wasm and matches cpu', async () => {
  const V = 13, D = 6, B = 4, T = 5;
  const w0 = randArray(V * D);
  const ids = randInts(B * T, 0, V);
  ids[3] = ids[0]; // repeated ids accumulate
  const target = randArray(B * T * D);
  async function train(backend: 'cpu' | 'wasm') {
    await tf.setBackend(backend);
    const before = tf.memory().numTensors;
    const layer = tf.layers.embedding({ inputDim: V, outputDim: D, inputLength: T });
    const x = tf.tensor(ids, [B, T], 'int32');
    const y = tf.tensor(target, [B, T, D]);
    tf.dispose(layer.apply(x) as tf.Tensor); // build
    const init = tf.tensor(w0, [V, D]);
    layer.setWeights([init]); // copies
    init.dispose();
    const opt = tf.train.adam(0.05);
    const loss = () => tf.losses.meanSquaredError(y, layer.apply(x) as tf.Tensor) as tf.Scalar;
    const v = layer.trainableWeights[0].read() as tf.Variable;
    const { value, grads } = tf.variableGrads(loss, [v]);
    const grad = grads[v.name].dataSync().slice();
    const first = value.dataSync()[0];
    value.dispose();
    tf.dispose(grads);
    let last = first;
    for (let i = 0; i < 5; i++) {
      const l = opt.minimize(loss, true);
      last = l!.dataSync()[0];
      l!.dispose();
    }
    const w = layer.trainableWeights[0].read().dataSync().slice();
    opt.dispose();
    layer.dispose();
    tf.dispose([x, y]);
    t.equal(tf.memory().numTensors, before, `${backend}: embedding training leaves no tensors`);
    return { grad, first, last, w };
  }
  const c = await train('cpu');
  const w = await train('wasm');
  t.ok(maxDiff(w.grad, c.grad) < 1e-6, 'embedding gradient equals cpu');
  t.ok(maxDiff(w.w, c.w) < 1e-5, 'weights after 5 Adam steps equal cpu');
  t.ok(w.last < w.first, `loss decreases on wasm (${w.first} -> ${w.last})`);
});

t.test('LSTM gradients (transposed matmuls in backprop) match cpu', async () => {
  const B = 3, T = 4, E = 5, H = 8, V = 7;
  const xv = randArray(B * T * E);
  const yv = randInts(B * T, 0, V);
  async function grads(backend: 'cpu' | 'wasm') {
    await tf.setBackend(backend);
    const before = tf.memory().numTensors;
    const model = tf.sequential({
      layers: [
        tf.layers.lstm({ units: H, returnSequences: true, inputShape: [T, E], kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }), recurrentInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
        tf.layers.dense({ units: V, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
      ],
    });
    const x = tf.tensor(xv, [B, T, E]);
    const y = tf.tidy(() => tf.oneHot(tf.tensor(yv, [B, T], 'int32'), V));
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.apply(x) as tf.Tensor) as tf.Scalar, vars);
    const out = vars.map((v) => grads[v.name].dataSync().slice());
    tf.dispose(grads);
    tf.dispose([x, y, value]);
    model.dispose();
    t.equal(tf.memory().numTensors, before, `${backend}: no leak`);
    return out;
  }
  const c = await grads('cpu');
  const w = await grads('wasm');
  t.equal(w.length, c.length);
  for (let i = 0; i < c.length; i++) t.ok(maxDiff(w[i], c[i]) < 1e-5, `grad ${i} equals cpu (${maxDiff(w[i], c[i]).toExponential(2)})`);
});
