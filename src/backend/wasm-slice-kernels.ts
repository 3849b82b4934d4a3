/**
 * Copy-free replacements for the tf.js 4.22 wasm `Slice`, `Unpack` and `SplitV` kernels (registered
 * by applyWasmFixes in wasm-fixes.ts).
 *
 * The shipped `Slice` is a JS kernel that starts with `backend.readSync(x.dataId)`, which on wasm is
 * `HEAPU8.slice(...)` of the whole input: every call copies all of x out of the heap, however small
 * the slice. The shipped `Unpack` and `SplitV` call that `slice` function directly (not through the
 * kernel registry) once per output, so unstacking [B, T, F] into T steps copies the input T times
 * (O(T²·B·F)); tf.layers.lstm/gru do that every forward pass (`unstack` over time) and backward pass
 * (the gradients of `stack` and of `concat` are `unstack` and `split`), and every cell step runs a
 * `split` of the gate pre-activations.
 *
 * These kernels allocate the outputs first (`makeOutput` may grow the wasm memory, which detaches
 * every earlier view of the heap), then take views of the input and outputs with
 * `typedArrayFromHeap` and copy only the selected runs. Dims are collapsed first (a dim the slice
 * covers entirely merges into its left neighbour), so the copy works for any rank and axis with the
 * longest possible contiguous runs. float32, int32 and bool (1 byte per element) are handled; any
 * other dtype (string) goes to the shipped kernel.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type TensorInfo = tf.TensorInfo;
type KernelFunc = tf.KernelFunc;
type KernelParams = Parameters<KernelFunc>[0];
export type HeapArray = Float32Array | Int32Array | Uint8Array;

/** Dtypes whose heap views the copy kernels handle (bool: 1 byte per element). */
export const HEAP_DTYPES: ReadonlySet<string> = new Set(['float32', 'int32', 'bool']);

interface SliceKernelOptions {
  /** false: every call goes to the shipped kernel (bench/test hook). */
  enabled: boolean;
}
const options: SliceKernelOptions = { enabled: true };

/** Test/bench hook: route Slice/Unpack/SplitV back to the shipped kernels. Registers nothing. */
export function setSliceKernelOptions(o: Partial<SliceKernelOptions>): void {
  Object.assign(options, o);
}

/**
 * Runs shorter than this are copied element by element: a `set(subarray(...))` pair costs a fixed
 * ~35-70 ns (it allocates a view), about as much as 32 scalar float copies (Node 20, measured on the
 * build machine), which matters for slices along the last axis (unstack along the last axis, gate
 * splits of narrow tensors).
 */
const MIN_SET_RUN = 32;

export function copyRun(dst: HeapArray, dstOff: number, src: HeapArray, srcOff: number, len: number): void {
  if (len >= MIN_SET_RUN) {
    dst.set(src.subarray(srcOff, srcOff + len), dstOff);
  } else {
    for (let k = 0; k < len; k++) dst[dstOff + k] = src[srcOff + k];
  }
}

export function sizeOf(shape: readonly number[]): number {
  let s = 1;
  for (const d of shape) s *= d;
  return s;
}

/**
 * Copy the box x[begin .. begin+size) (row-major, x of `shape`) into dst starting at dstOff.
 * Adjacent dims are merged whenever the right one is covered entirely, so a slice that is one
 * contiguous block costs one copy, and in general the innermost run is as long as possible.
 */
function copyBox(
  dst: HeapArray, dstOff: number, src: HeapArray,
  shape: readonly number[], begin: readonly number[], size: readonly number[],
): void {
  // Collapse: a dim the box covers entirely (begin 0, full size) merges into the collapsed dim on its left.
  const cShape: number[] = [];
  const cBegin: number[] = [];
  const cSize: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    const last = cShape.length - 1;
    const full = begin[d] === 0 && size[d] === shape[d];
    if (last >= 0 && full) {
      cShape[last] *= shape[d];
      cBegin[last] *= shape[d];
      cSize[last] *= shape[d];
    } else {
      cShape.push(shape[d]);
      cBegin.push(begin[d]);
      cSize.push(size[d]);
    }
  }
  const rank = cShape.length;
  if (rank === 0) {
    copyRun(dst, dstOff, src, 0, 1);
    return;
  }
  const run = cSize[rank - 1];
  if (run === 0 || sizeOf(cSize) === 0) return;
  // Strides of the collapsed input.
  const strides = new Array<number>(rank);
  strides[rank - 1] = 1;
  for (let d = rank - 2; d >= 0; d--) strides[d] = strides[d + 1] * cShape[d + 1];
  let srcOff = 0;
  for (let d = 0; d < rank; d++) srcOff += cBegin[d] * strides[d];
  if (rank === 1) {
    copyRun(dst, dstOff, src, srcOff, run);
    return;
  }
  if (rank === 2) {
    const s0 = strides[0];
    for (let i = 0; i < cSize[0]; i++) {
      copyRun(dst, dstOff, src, srcOff + i * s0, run);
      dstOff += run;
    }
    return;
  }
  // Odometer over the outer rank-1 collapsed dims.
  const idx = new Array<number>(rank - 1).fill(0);
  const outer = sizeOf(cSize.slice(0, rank - 1));
  for (let n = 0; n < outer; n++) {
    copyRun(dst, dstOff, src, srcOff, run);
    dstOff += run;
    for (let d = rank - 2; d >= 0; d--) {
      srcOff += strides[d];
      if (++idx[d] < cSize[d]) break;
      srcOff -= cSize[d] * strides[d];
      idx[d] = 0;
    }
  }
}

/**
 * Split x along `axis` into consecutive pieces of the given sizes (summing to shape[axis]), each
 * output of shape `outShapes[j]` (the piece's shape, possibly with the axis squeezed out).
 */
function splitAlong(
  backend: BackendWasm, x: TensorInfo, axis: number, sizes: readonly number[], outShapes: number[][],
): TensorInfo[] {
  const outs: TensorInfo[] = [];
  try {
    // Allocate everything before taking any heap view (makeOutput may grow and detach the heap).
    for (const s of outShapes) outs.push(backend.makeOutput(s, x.dtype));
  } catch (e) {
    for (const o of outs) backend.disposeData(o.dataId);
    throw e;
  }
  const outer = sizeOf(x.shape.slice(0, axis));
  const n = x.shape[axis];
  const inner = sizeOf(x.shape.slice(axis + 1));
  const xVals = backend.typedArrayFromHeap(x) as HeapArray;
  const views = outs.map((o) => backend.typedArrayFromHeap(o) as HeapArray);
  // Read x sequentially: for each outer index, hand its consecutive pieces to the outputs.
  const offsets: number[] = [];
  let acc = 0;
  for (const s of sizes) {
    offsets.push(acc);
    acc += s;
  }
  if (outer === 1) {
    for (let j = 0; j < sizes.length; j++) copyRun(views[j], 0, xVals, offsets[j] * inner, sizes[j] * inner);
    return outs;
  }
  for (let o = 0; o < outer; o++) {
    const base = o * n * inner;
    for (let j = 0; j < sizes.length; j++) {
      const len = sizes[j] * inner;
      copyRun(views[j], o * len, xVals, base + offsets[j] * inner, len);
    }
  }
  return outs;
}

function handles(x: TensorInfo): boolean {
  return options.enabled && HEAP_DTYPES.has(x.dtype);
}

/** The shipped kernel's config with `fast` in front: whatever `fast` declines (returns null) goes to the shipped kernelFunc. */
export function makeKernel(original: tf.KernelConfig, fast: (params: KernelParams) => TensorInfo | TensorInfo[] | null): tf.KernelConfig {
  const orig = original.kernelFunc;
  return {
    kernelName: original.kernelName,
    backendName: 'wasm',
    kernelFunc: (params) => fast(params) ?? orig(params),
    setupFunc: original.setupFunc,
    disposeFunc: original.disposeFunc,
  };
}

/** `Slice` without the whole-input readSync. */
export function makeSliceKernel(original: tf.KernelConfig): tf.KernelConfig {
  return makeKernel(original, ({ inputs, backend, attrs }) => {
    const x = inputs.x as TensorInfo;
    if (!handles(x)) return null;
    const a = attrs as unknown as { begin: number | number[]; size?: number | number[] };
    const [begin, size] = tf.slice_util.parseSliceParams(x, a.begin, a.size);
    // Out-of-range boxes (the op validates, direct kernel calls may not): shipped behaviour.
    for (let d = 0; d < x.shape.length; d++) {
      if (!(begin[d] >= 0 && size[d] >= 0 && begin[d] + size[d] <= x.shape[d])) return null;
    }
    const wasm = backend as BackendWasm;
    const out = wasm.makeOutput(size, x.dtype);
    if (sizeOf(size) === 0) return out;
    copyBox(wasm.typedArrayFromHeap(out) as HeapArray, 0, wasm.typedArrayFromHeap(x) as HeapArray, x.shape, begin, size);
    return out;
  });
}

/** `Unpack` (tf.unstack): one pass over the input, every output allocated up front. */
export function makeUnpackKernel(original: tf.KernelConfig): tf.KernelConfig {
  return makeKernel(original, ({ inputs, backend, attrs }) => {
    const value = inputs.value as TensorInfo;
    if (!handles(value)) return null;
    const rank = value.shape.length;
    let axis = (attrs as unknown as { axis: number }).axis;
    if (axis < 0) axis += rank;
    if (!(axis >= 0 && axis < rank)) return null; // let the shipped kernel deal with it
    const num = value.shape[axis];
    const outShape = value.shape.filter((_, i) => i !== axis);
    return splitAlong(backend as BackendWasm, value, axis, new Array<number>(num).fill(1), new Array(num).fill(0).map(() => [...outShape]));
  });
}

/** `SplitV` (tf.split, equal parts or explicit sizes incl. one -1). */
export function makeSplitVKernel(original: tf.KernelConfig): tf.KernelConfig {
  return makeKernel(original, ({ inputs, backend, attrs }) => {
    const x = inputs.x as TensorInfo;
    if (!handles(x)) return null;
    const a = attrs as unknown as { numOrSizeSplits: number | number[]; axis: number | number[] };
    const axis = tf.util.parseAxisParam(a.axis, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x, a.numOrSizeSplits, axis);
    let total = 0;
    for (const s of sizes) {
      if (!(s >= 0)) return null;
      total += s;
    }
    if (total !== x.shape[axis]) return null; // inconsistent sizes: shipped behaviour
    const shapes = sizes.map((s) => {
      const sh = [...x.shape];
      sh[axis] = s;
      return sh;
    });
    return splitAlong(backend as BackendWasm, x, axis, sizes, shapes);
  });
}
