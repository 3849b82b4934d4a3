/**
 * A row-copying replacement for the tf.js 4.22 wasm `GatherV2` kernel (registered by applyWasmFixes
 * in wasm-fixes.ts).
 *
 * The shipped kernel computes every output ELEMENT's source offset from strides in C++ (~50 ns per
 * element here), so gathering rows is as slow as the rows are wide: a Seq2Seq encoder's embedding
 * lookup and the backward direction's within-length reversals ([B·S, D] rows) took 7.3 of the 40 ms
 * of encoding 31 sources together, and 20 rows of [46, 256] took 13 ms (bench/README.md "Seq2Seq
 * decoding"). This kernel copies each gathered slice x[o, idx[i], …] as one contiguous run.
 *
 * Contract: x of any rank, `axis` any (negative counted from the end), `batchDims` 0, indices int32
 * of any shape; output shape x.shape[:axis] + indices.shape + x.shape[axis+1:]; float32, int32 and
 * bool. Anything else (batchDims > 0, string dtype) goes to the shipped kernel. An index outside
 * [0, x.shape[axis]) throws the shipped kernel's message.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { HEAP_DTYPES, copyRun, makeKernel, sizeOf, type HeapArray } from './wasm-slice-kernels.ts';

type TensorInfo = tf.TensorInfo;

export function makeGatherKernel(original: tf.KernelConfig): tf.KernelConfig {
  return makeKernel(original, gatherRows);
}

function gatherRows({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): TensorInfo | null {
  const x = inputs.x as TensorInfo;
  const indices = inputs.indices as TensorInfo;
  const a = attrs as unknown as { axis: number; batchDims?: number };
  if (!HEAP_DTYPES.has(x.dtype) || indices.dtype !== 'int32' || (a.batchDims ?? 0) !== 0) return null;
  const axis = tf.util.parseAxisParam(a.axis, x.shape)[0]!;
  const dim = x.shape[axis]!;
  const outer = sizeOf(x.shape.slice(0, axis));
  const inner = sizeOf(x.shape.slice(axis + 1));
  const wasm = backend as BackendWasm;
  const n = sizeOf(indices.shape);
  for (const i of wasm.typedArrayFromHeap(indices) as Int32Array) {
    tf.util.assert(i >= 0 && i <= dim - 1, () => `GatherV2: the index value ${i} is not in [0, ${dim - 1}]`);
  }
  const out = wasm.makeOutput([...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)], x.dtype);
  if (n === 0 || outer * inner === 0) return out;
  // Views only after makeOutput (it may grow the wasm memory, detaching earlier views).
  const idx = wasm.typedArrayFromHeap(indices) as Int32Array;
  const src = wasm.typedArrayFromHeap(x) as HeapArray;
  const dst = wasm.typedArrayFromHeap(out) as HeapArray;
  for (let o = 0; o < outer; o++) {
    const from = o * dim * inner;
    const to = o * n * inner;
    for (let i = 0; i < n; i++) copyRun(dst, to + i * inner, src, from + idx[i]! * inner, inner);
  }
  return out;
}
