/**
 * Fixes for the tf.js 4.22 wasm backend (`@tensorflow/tfjs-backend-wasm`), applied once after the
 * wasm backend is registered (see select.ts). All fixes only touch the global kernel registry:
 *
 * - `UnsortedSegmentSum` is missing on wasm, so the gradient of `tf.gather` (and therefore of
 *   `tf.layers.embedding`) throws "Kernel 'UnsortedSegmentSum' not registered for backend 'wasm'".
 *   We register a JS kernel that works directly on the wasm heap.
 *
 * - `BatchMatMul` / `_FusedMatMul`: both end in the C++ `tfjs::wasm::batchMatMul`, which uses XNNPACK
 *   (`xnn_create_fully_connected_nc_f32`, operator cached per weight-tensor id) only when
 *   `!transposeA && !transposeB && batchA == 1 && batchB == 1`; anything else runs a blocked scalar
 *   triple loop (4-46x slower, `bench/wasm-fixes.ts --matmul`). Matmul gradients are transposed,
 *   so backprop ran on the slow path. The slow path also mis-applies a rank-1 bias (it indexes the bias with
 *   `min(i * N + j, size - 1)`, i.e. only the first output row is right), so a fused matmul with a
 *   transposed operand and a bias returns wrong numbers as shipped; routing it to the fast path fixes
 *   that too. We re-register both kernels: transposed operands are materialised with the wasm
 *   `Transpose` kernel, batched inputs are flattened (shared right operand) or split per batch,
 *   and the original kernel is then called with no transposes and batch 1. The shipped XNNPACK
 *   operator cache is keyed by tensor id only, so a buffer reused as weights under another shape
 *   (`w.reshape(...)` keeps the id) got the operator of the first shape; we pass a copy then.
 *
 * - `Slice`, `Unpack`, `SplitV`: the shipped kernels copy the whole input out of the wasm heap on
 *   every slice (Unpack/SplitV once per output), which dominated LSTM/GRU training time after the
 *   matmul fix. Replaced by kernels that copy only the selected elements (wasm-slice-kernels.ts).
 *
 * - `Identity` copies its input on wasm (the cpu backend shares the buffer with `incRef`). The engine
 *   clones every output a gradient saves (`saveTensorsForBackwardMode`) and customGrad results, so a
 *   Transformer training step ran ~200 Identity copies (~3% of the step). Replaced by the cpu backend's
 *   sharing (tf.js data are immutable: no kernel writes into an input; `Variable.assign` swaps dataIds).
 *
 * - `GatherV2` computes every output element's source offset (~50 ns per element) and pays a fixed
 *   ~80 µs per call (two reshapes, a `cwrap`'d call with array arguments, a readSync of the indices):
 *   every generated token's embedding lookup, every row selection of a batched state. Replaced by a
 *   kernel that copies each gathered slice as one run (wasm-gather-kernel.ts).
 *
 * Kernels are looked up by the engine at every op call as `registry.get(`${backend}_${kernel}`)`
 * (tfjs-core kernel_registry.ts, a Map kept on globalThis), so re-registering takes effect at once;
 * `setupFunc`s are only run when a backend is initialised, hence the replacement config keeps the
 * original `setupFunc` (which `cwrap`s the C++ entry point the original kernelFunc needs).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { makeSliceKernel, makeSplitVKernel, makeUnpackKernel } from './wasm-slice-kernels.ts';
import { makeGatherKernel } from './wasm-gather-kernel.ts';

type TensorInfo = tf.TensorInfo;
type KernelFunc = tf.KernelFunc;
type KernelParams = Parameters<KernelFunc>[0];

/** Marker on our kernel configs so that applying twice (even from a second module copy) is a no-op. */
const MARK = Symbol.for('seqserve.wasmFix');

/** Names of the fixes, in the order they are applied. */
export const WASM_FIX_NAMES = ['UnsortedSegmentSum', 'BatchMatMul', '_FusedMatMul', 'Slice', 'Unpack', 'SplitV', 'Identity', 'GatherV2'] as const;

/**
 * Splitting a batched matmul (both operands batched) into batch-1 XNNPACK calls costs, per batch, two
 * copies and an XNNPACK operator (weight packing) - O(MK + KN) - and saves O(MKN) of slow-loop time.
 * It pays when the per-batch work M*K*N is at least this and M (rows reusing each packed weight) is
 * not tiny; below, the shipped kernel is as fast or faster (measured on the 2-core build machine:
 * 8x[32x32x32] 0.59 -> 0.20 ms, 4x[256^3] 87 -> 7 ms, but 64x[8x64x64] 1.9 -> 2.4 ms).
 */
export const PER_BATCH_MIN_WORK = 32 * 1024;
export const PER_BATCH_MIN_ROWS = 16;

interface MatMulOptions {
  /** 'auto' picks the plan that transposes/packs the fewest elements. Tests force each plan. */
  plan: 'auto' | 'direct' | 'swap';
  enabled: boolean;
}
const options: MatMulOptions = { plan: 'auto', enabled: true };

/**
 * Test/bench hook: turn the BatchMatMul/_FusedMatMul rewrite off (calls go straight to the shipped
 * kernels) or force a plan. Does not register or unregister anything.
 */
export function setMatMulFixOptions(o: Partial<MatMulOptions>): void {
  Object.assign(options, o);
}

function isMarked(config: tf.KernelConfig | undefined): boolean {
  return config != null && (config as unknown as Record<symbol, unknown>)[MARK] === true;
}

function mark<T extends object>(config: T): T {
  Object.defineProperty(config, MARK, { value: true });
  return config;
}

function sizeOf(shape: readonly number[]): number {
  let s = 1;
  for (const d of shape) s *= d;
  return s;
}

// ---------------------------------------------------------------------------------------------
// UnsortedSegmentSum

/**
 * out[s, ...inner] = sum over i with segmentIds[i] == s of x[i, ...inner]. segmentIds may have rank r
 * (matching the first r dims of x, as in the cpu kernel); ids outside [0, numSegments) are dropped.
 */
function unsortedSegmentSum({ inputs, backend, attrs }: KernelParams): TensorInfo {
  const wasm = backend as BackendWasm;
  const x = inputs.x as TensorInfo;
  const segmentIds = inputs.segmentIds as TensorInfo;
  const numSegments = (attrs as { numSegments: number }).numSegments;
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new Error(`UnsortedSegmentSum on wasm supports float32 and int32, got ${x.dtype}`);
  }
  if (segmentIds.dtype !== 'int32') {
    throw new Error(`UnsortedSegmentSum on wasm needs int32 segmentIds, got ${segmentIds.dtype}`);
  }
  const r = segmentIds.shape.length;
  for (let i = 0; i < r; i++) {
    if (segmentIds.shape[i] !== x.shape[i]) {
      throw new Error(
        `UnsortedSegmentSum: segmentIds shape [${segmentIds.shape}] must be a prefix of x shape [${x.shape}]`,
      );
    }
  }
  const innerShape = x.shape.slice(r);
  const inner = sizeOf(innerShape);
  const n = sizeOf(segmentIds.shape);

  // Allocate first: makeOutput may grow the wasm memory, which detaches earlier heap views.
  const out = wasm.makeOutput([numSegments, ...innerShape], x.dtype);
  const outVals = wasm.typedArrayFromHeap(out) as Float32Array | Int32Array;
  outVals.fill(0); // makeOutput memory comes straight from malloc, not zeroed
  const xVals = wasm.typedArrayFromHeap(x) as Float32Array | Int32Array;
  const ids = wasm.typedArrayFromHeap(segmentIds) as Int32Array;
  for (let i = 0; i < n; i++) {
    const s = ids[i];
    if (s < 0 || s >= numSegments) continue;
    const src = i * inner;
    const dst = s * inner;
    for (let j = 0; j < inner; j++) outVals[dst + j] += xVals[src + j];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// BatchMatMul / _FusedMatMul

interface Ctx {
  backend: BackendWasm;
  /** The shipped kernel (BatchMatMul or _FusedMatMul); only ever called with no transposes. */
  orig: KernelFunc;
  transpose: KernelFunc;
  temps: TensorInfo[];
}

/** A view of the same data with another shape (no refcount change; never dispose it). */
function view(t: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: t.dataId, dtype: t.dtype, shape };
}

/** Swap the last two dims of a [B, r, c] tensor with the wasm Transpose kernel. */
function transposeLast2(ctx: Ctx, t3: TensorInfo): TensorInfo {
  const out = ctx.transpose({ inputs: { x: t3 }, backend: ctx.backend, attrs: { perm: [0, 2, 1] } }) as TensorInfo;
  ctx.temps.push(out);
  return out;
}

/** Fused-only inputs/attrs forwarded unchanged to the shipped _FusedMatMul. */
interface FusedExtras {
  bias?: TensorInfo;
  preluActivationWeights?: TensorInfo;
  activation: string;
  leakyreluAlpha?: number;
}

/**
 * Shape each buffer was first used with as XNNPACK weights (the right operand), keyed by dataId.
 * The shipped kernel caches one XNNPACK operator per (weights tensor id, bias id, activation) and
 * never looks at the shape again, while `reshape` keeps the id: using a buffer as weights under a
 * second shape silently reuses the operator built for the first one and returns wrong numbers.
 * We hand such calls a private copy instead (test: 'reshaped weights').
 */
const weightShapes = new WeakMap<object, string>();

function copyOf(ctx: Ctx, t: TensorInfo): TensorInfo {
  const c = ctx.backend.makeOutput(t.shape, t.dtype);
  ctx.temps.push(c);
  (ctx.backend.typedArrayFromHeap(c) as Float32Array).set(ctx.backend.typedArrayFromHeap(t) as Float32Array);
  return c;
}

/** Call the shipped kernel with no transposes; a is [1, M, K], b is [1, K, N]. */
function callOrig(ctx: Ctx, a: TensorInfo, b: TensorInfo, fused: FusedExtras | null): TensorInfo {
  const key = `${b.shape[1]}x${b.shape[2]}`;
  const seen = weightShapes.get(b.dataId);
  if (seen === undefined) weightShapes.set(b.dataId, key);
  else if (seen !== key) b = copyOf(ctx, b);
  const inputs: tf.NamedTensorInfoMap = { a, b };
  const attrs: tf.NamedAttrMap = { transposeA: false, transposeB: false };
  if (fused) {
    if (fused.bias) inputs.bias = fused.bias;
    if (fused.preluActivationWeights) inputs.preluActivationWeights = fused.preluActivationWeights;
    attrs.activation = fused.activation;
    attrs.leakyreluAlpha = fused.leakyreluAlpha ?? 0;
  }
  return ctx.orig({ inputs, backend: ctx.backend, attrs }) as TensorInfo;
}

/**
 * One batch-1 product op(a)·op(b) -> [1, M, N] on the XNNPACK path. a is stored [M,K] (or [K,M]
 * when tA), b is stored [K,N] (or [N,K] when tB); both given as rank-3 views with batch 1.
 *
 * Plans (counted in elements copied: transposes + XNNPACK weight packing of the right operand):
 *  direct: transpose the transposed operands, C = A·B.                cost (tA?MK:0)+(tB?KN:0)+KN
 *  swap:   C = (Bᵀ·Aᵀ)ᵀ, where Bᵀ is b itself if tB and Aᵀ is a itself if tA.
 *                                                                     cost (tB?0:KN)+(tA?0:MK)+MK+MN
 * swap wins big for dX = dY·Wᵀ with a large W (LSTM recurrent kernel: 40k vs 520k elements).
 * The fused kernel adds bias/activation per output column, so it always uses direct.
 */
function matMul1(
  ctx: Ctx, a: TensorInfo, b: TensorInfo, tA: boolean, tB: boolean,
  M: number, K: number, N: number, fused: FusedExtras | null,
): TensorInfo {
  let plan = options.plan;
  if (fused || (!tA && !tB)) plan = 'direct';
  if (plan === 'auto') {
    const direct = (tA ? M * K : 0) + (tB ? K * N : 0) + K * N;
    const swap = (tB ? 0 : K * N) + (tA ? 0 : M * K) + M * K + M * N;
    plan = swap < direct ? 'swap' : 'direct';
  }
  if (plan === 'direct') {
    const a2 = tA ? transposeLast2(ctx, a) : a; // [1, M, K]
    const b2 = tB ? transposeLast2(ctx, b) : b; // [1, K, N]
    return callOrig(ctx, a2, b2, fused);
  }
  const bT = tB ? b : transposeLast2(ctx, b); // [1, N, K]
  const aT = tA ? a : transposeLast2(ctx, a); // [1, K, M]
  const cT = callOrig(ctx, bT, aT, null); // [1, N, M]
  ctx.temps.push(cT);
  const c = ctx.transpose({ inputs: { x: view(cT, [1, N, M]) }, backend: ctx.backend, attrs: { perm: [0, 2, 1] } });
  return c as TensorInfo;
}

/** Copy rows [off, off+len) of src's heap data into a fresh [shape] tensor (a temp). */
function copySlice(ctx: Ctx, src: TensorInfo, off: number, shape: number[]): TensorInfo {
  const len = sizeOf(shape);
  const t = ctx.backend.makeOutput(shape, 'float32');
  ctx.temps.push(t);
  // Take the views after allocating (allocation may grow and detach the heap).
  const from = ctx.backend.typedArrayFromHeap(src) as Float32Array;
  const to = ctx.backend.typedArrayFromHeap(t) as Float32Array;
  to.set(from.subarray(off, off + len));
  return t;
}

/**
 * The shared implementation. Returns null when the shipped kernel should handle the call (already
 * fast, or a case we do not rewrite: non-float32, empty, incompatible broadcasting, small batched work,
 * unusual bias/prelu in the fused kernel).
 */
function fastMatMul(ctx: Ctx, params: KernelParams, isFused: boolean): TensorInfo | null {
  const a = params.inputs.a as TensorInfo;
  const b = params.inputs.b as TensorInfo;
  const attrs = (params.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
  const tA = !!attrs.transposeA;
  const tB = !!attrs.transposeB;
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const aRank = a.shape.length;
  const bRank = b.shape.length;
  if (aRank < 2 || bRank < 2) return null;
  const M = tA ? a.shape[aRank - 1] : a.shape[aRank - 2];
  const K = tA ? a.shape[aRank - 2] : a.shape[aRank - 1];
  const Kb = tB ? b.shape[bRank - 1] : b.shape[bRank - 2];
  const N = tB ? b.shape[bRank - 2] : b.shape[bRank - 1];
  if (K !== Kb) return null; // let the shipped kernel raise its error
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = sizeOf(outerA);
  const batchB = sizeOf(outerB);
  if (M === 0 || N === 0 || K === 0) return null;

  let fused: FusedExtras | null = null;
  if (isFused) {
    const fa = params.attrs as unknown as FusedExtras;
    const bias = params.inputs.bias as TensorInfo | undefined;
    const prelu = params.inputs.preluActivationWeights as TensorInfo | undefined;
    // XNNPACK adds a per-output-channel bias of exactly N floats; anything else stays shipped.
    if (bias != null && (bias.shape.length !== 1 || bias.shape[0] !== N)) return null;
    // PReLU weights broadcast against the output shape; only keep them when the shape is unchanged.
    if (prelu != null && (batchA !== 1 || batchB !== 1)) return null;
    fused = { bias, preluActivationWeights: prelu, activation: fa.activation, leakyreluAlpha: fa.leakyreluAlpha };
  }

  // Output batch dims: tf.js broadcasting of the leading dims.
  let outOuter: number[];
  try {
    outOuter = tf.backend_util.assertAndGetBroadcastShape(outerA, outerB);
  } catch {
    return null;
  }
  const outShape = [...outOuter, M, N];
  const a3 = view(a, tA ? [batchA, K, M] : [batchA, M, K]);
  const b3 = view(b, tB ? [batchB, N, K] : [batchB, K, N]);

  if (batchB === 1) {
    // Shared right operand: stack all batches of a into one [batchA*M, K] matrix.
    let aFlat: TensorInfo;
    if (batchA === 1) {
      aFlat = a3;
      const out = matMul1(ctx, aFlat, b3, tA, tB, M, K, N, fused);
      out.shape = outShape;
      return out;
    }
    aFlat = tA ? transposeLast2(ctx, a3) : a3; // [batchA, M, K]
    const out = matMul1(ctx, view(aFlat, [1, batchA * M, K]), b3, false, tB, batchA * M, K, N, fused);
    out.shape = outShape;
    return out;
  }

  // Batched right operand: one XNNPACK call per batch, if each is big enough to pay for the copies.
  if (batchA !== batchB && batchA !== 1) return null;
  if (M * K * N < PER_BATCH_MIN_WORK || M < PER_BATCH_MIN_ROWS) return null;
  const batch = batchB;
  // Transposed operands are transposed once for all batches (one Transpose launch instead of one
  // per batch): aN [batchA, M, K], bN [batch, K, N].
  const aN = tA ? transposeLast2(ctx, a3) : a3;
  const bN = tB ? transposeLast2(ctx, b3) : b3;
  const out = ctx.backend.makeOutput([batch, M, N], 'float32');
  try {
    for (let i = 0; i < batch; i++) {
      const mark0 = ctx.temps.length;
      const ai = batchA === 1 ? aN : copySlice(ctx, aN, i * M * K, [1, M, K]);
      const bi = copySlice(ctx, bN, i * K * N, [1, K, N]);
      const oi = matMul1(ctx, ai, bi, false, false, M, K, N, fused);
      ctx.temps.push(oi);
      const to = ctx.backend.typedArrayFromHeap(out) as Float32Array;
      to.set(ctx.backend.typedArrayFromHeap(oi) as Float32Array, i * M * N);
      // Free this batch's temporaries now rather than at the end (bounded peak memory).
      for (const t of ctx.temps.splice(mark0)) ctx.backend.disposeData(t.dataId);
    }
  } catch (e) {
    ctx.backend.disposeData(out.dataId);
    throw e;
  }
  out.shape = outShape;
  return out;
}

function makeMatMulKernel(original: tf.KernelConfig, isFused: boolean): tf.KernelConfig {
  const orig = original.kernelFunc;
  const kernelFunc: KernelFunc = (params) => {
    if (!options.enabled) return orig(params);
    const transposeCfg = tf.getKernel('Transpose', 'wasm');
    if (transposeCfg == null) return orig(params);
    const ctx: Ctx = { backend: params.backend as BackendWasm, orig, transpose: transposeCfg.kernelFunc, temps: [] };
    try {
      return fastMatMul(ctx, params, isFused) ?? orig(params);
    } finally {
      for (const t of ctx.temps) ctx.backend.disposeData(t.dataId);
    }
  };
  return mark({
    kernelName: original.kernelName,
    backendName: 'wasm',
    kernelFunc,
    // Keep the shipped setup (it cwraps the C++ entry point used by `orig`) so the kernel also works
    // when the fixes are registered before the wasm backend is initialised.
    setupFunc: original.setupFunc,
    disposeFunc: original.disposeFunc,
  });
}

/** Identity that shares the input's buffer (refcount +1) instead of copying it; strings stay shipped. */
function makeIdentityKernel(original: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc: KernelFunc = (params) => {
    const x = params.inputs.x as TensorInfo;
    if (x.dtype === 'string') return original.kernelFunc(params);
    (params.backend as BackendWasm).incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  };
  return { kernelName: original.kernelName, backendName: 'wasm', kernelFunc, setupFunc: original.setupFunc, disposeFunc: original.disposeFunc };
}

function replaceKernel(kernelName: string, make: (original: tf.KernelConfig) => tf.KernelConfig): boolean {
  const original = tf.getKernel(kernelName, 'wasm');
  if (original == null) return false;
  if (isMarked(original)) return true;
  const replacement = make(original);
  tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel(replacement);
  return true;
}

let applied: string[] | undefined;

/**
 * Registers the wasm fixes (once per process; later calls return the same list). Requires
 * `@tensorflow/tfjs-backend-wasm` to have been imported (its kernels are registered at import).
 * Returns the names of the fixes in place.
 */
export function applyWasmFixes(): string[] {
  if (applied) return [...applied];
  if (tf.getKernel('Transpose', 'wasm') == null) {
    throw new Error('applyWasmFixes: the wasm backend is not registered (import @tensorflow/tfjs-backend-wasm first)');
  }
  const done: string[] = [];

  const seg = tf.getKernel('UnsortedSegmentSum', 'wasm');
  if (seg == null) {
    tf.registerKernel(mark({ kernelName: 'UnsortedSegmentSum', backendName: 'wasm', kernelFunc: unsortedSegmentSum }));
    done.push('UnsortedSegmentSum');
  } else if (isMarked(seg)) {
    done.push('UnsortedSegmentSum');
  } // else: a future tfjs ships its own kernel; keep it.

  if (replaceKernel('BatchMatMul', (o) => makeMatMulKernel(o, false))) done.push('BatchMatMul');
  if (replaceKernel('_FusedMatMul', (o) => makeMatMulKernel(o, true))) done.push('_FusedMatMul');
  if (replaceKernel('Slice', (o) => mark(makeSliceKernel(o)))) done.push('Slice');
  if (replaceKernel('Unpack', (o) => mark(makeUnpackKernel(o)))) done.push('Unpack');
  if (replaceKernel('SplitV', (o) => mark(makeSplitVKernel(o)))) done.push('SplitV');
  if (replaceKernel('Identity', (o) => mark(makeIdentityKernel(o)))) done.push('Identity');
  if (replaceKernel('GatherV2', (o) => mark(makeGatherKernel(o)))) done.push('GatherV2');

  applied = done;
  return [...done];
}
