/**
 * columnSum(x [N, M]) → [M], the sum over rows: the bias gradient of every dense and recurrent
 * layer (db = Σ_rows dZ). On wasm a JS kernel on the heap with float64 accumulation: wasm's Sum over
 * axis 0 transposes x first, which cost ~4 ms per [2048, 1024] call (11% of an LSTM(256) training
 * step, measured with tf.profile on the build machine). Elsewhere `tf.sum(x, 0)`.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type TensorInfo = tf.TensorInfo;
type KernelParams = Parameters<tf.KernelFunc>[0];

const COL_SUM = 'SeqserveColumnSum';

function columnSumKernel({ inputs, backend }: KernelParams): TensorInfo {
  const b = backend as BackendWasm;
  const x = inputs.x as TensorInfo;
  const [N, M] = x.shape as [number, number];
  const out = b.makeOutput([M], 'float32');
  const X = b.typedArrayFromHeap(x) as Float32Array;
  const O = b.typedArrayFromHeap(out) as Float32Array;
  const acc = new Float64Array(M);
  for (let n = 0, o = 0; n < N; n++, o += M) for (let m = 0; m < M; m++) acc[m] += X[o + m]!;
  O.set(acc);
  return out;
}

/** Σ over the rows of a 2-D float32 tensor (not differentiable: use it inside gradient functions). */
export function columnSum(x: tf.Tensor2D): tf.Tensor1D {
  if (tf.getBackend() !== 'wasm' || x.dtype !== 'float32') return tf.sum(x, 0);
  if (tf.getKernel(COL_SUM, 'wasm') == null) tf.registerKernel({ kernelName: COL_SUM, backendName: 'wasm', kernelFunc: columnSumKernel as tf.KernelFunc });
  return tf.engine().runKernel(COL_SUM, { x }, {}) as tf.Tensor1D;
}
