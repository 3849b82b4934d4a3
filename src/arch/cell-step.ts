/**
 * One recurrent cell step, shared by every decoder (the language model's stateful generation and the
 * Seq2Seq decoder): `(x_t, state) → state`, the same math as the fused sequence layers
 * (fused-lstm.ts, fused-gru.ts) and tf.layers.lstm/gru with sigmoid gates, on Keras-layout weights.
 *
 * Shapes: x [B, in]; h, c [B, H]; kernel [in, G·H]; recurrent [H, G·H]; bias [G·H]; gate order
 * i, f, c, o (LSTM) and z, r, h (GRU, reset applied before the recurrent matmul as in Keras'
 * reset_after=false). Call inside tf.tidy: intermediates are not disposed here; only the returned
 * tensors are meant to outlive the step. On wasm a step is its recurrent matmul(s) plus one gate
 * kernel per matmul (rnn-kernels.ts): 2 ops for an LSTM, 4 for a GRU (with many rows, an Add and a
 * Sigmoid op more per matmul), against ~11 and ~14 tf ops.
 */
import * as tf from '@tensorflow/tfjs';
import { GRU_SIG_MIN_CELLS, LSTM_CELL_MIN_CELLS, gruGates, gruOut, gruStepSig, lstmCell, lstmStep, rnnKernelsActive } from './rnn-kernels.ts';

export type RecurrentKind = 'lstm' | 'gru';

export interface CellWeights {
  kind: RecurrentKind;
  units: number;
  kernel: tf.Tensor2D;
  recurrent: tf.Tensor2D;
  bias: tf.Tensor1D;
  /** GRU only: the recurrent kernel split into [H, 2H] (z, r) and [H, H] (candidate). */
  recurrentZR?: tf.Tensor2D;
  recurrentH?: tf.Tensor2D;
}

/**
 * Wraps a layer's weights for stepping. For a GRU it makes two new tensors (the split recurrent
 * kernel) that `disposeCellExtras` frees; the three given tensors stay owned by the caller.
 */
export function prepareCell(kind: RecurrentKind, kernel: tf.Tensor2D, recurrent: tf.Tensor2D, bias: tf.Tensor1D): CellWeights {
  const units = recurrent.shape[0];
  const w: CellWeights = { kind, units, kernel, recurrent, bias };
  if (kind === 'gru') [w.recurrentZR, w.recurrentH] = tf.split(recurrent, [2 * units, units], 1) as [tf.Tensor2D, tf.Tensor2D];
  return w;
}

export function disposeCellExtras(w: CellWeights): void {
  tf.dispose([w.recurrentZR ?? [], w.recurrentH ?? []]);
}

/** x [B, in] → x·kernel + bias [B, G·H]: the input's part of a step (computable for many steps at once). */
export function projectInput(w: CellWeights, x: tf.Tensor2D): tf.Tensor2D {
  return tf.add(tf.matMul(x, w.kernel), w.bias) as tf.Tensor2D;
}

/** One step: returns the next h (and c for an LSTM). `c` is required for an LSTM. */
export function cellStep(w: CellWeights, x: tf.Tensor2D, h: tf.Tensor2D, c?: tf.Tensor2D): { h: tf.Tensor2D; c?: tf.Tensor2D } {
  return cellStepProjected(w, projectInput(w, x), h, c);
}

/**
 * One step from the already projected input: `xw` holds x·kernel + bias of step `t` in its rows
 * [t·B, (t+1)·B) (so a prefill passes the projection of every step, [T·B, G·H], without slicing it;
 * a single step passes [B, G·H] and t = 0).
 */
export function cellStepProjected(w: CellWeights, xw: tf.Tensor2D, h: tf.Tensor2D, c?: tf.Tensor2D, t = 0): { h: tf.Tensor2D; c?: tf.Tensor2D } {
  const B = h.shape[0];
  const stepRows = () => (xw.shape[0] === B ? xw : tf.slice(xw, [t * B, 0], [B, xw.shape[1]]));
  if (rnnKernelsActive()) {
    if (w.kind === 'lstm') {
      const [hn, cn] = B * w.units >= LSTM_CELL_MIN_CELLS
        ? lstmCell(tf.add(stepRows(), tf.matMul(h, w.recurrent)), c!, false)
        : lstmStep(xw, tf.matMul(h, w.recurrent), c!, t);
      return { h: hn!, c: cn! };
    }
    if (B * w.units >= GRU_SIG_MIN_CELLS) {
      const [xzr, xh] = tf.split(stepRows(), [2 * w.units, w.units], 1) as [tf.Tensor2D, tf.Tensor2D];
      return { h: gruStepSig(xzr, xh, h, w.recurrentZR!, w.recurrentH!)[0] };
    }
    const [zr, rh] = gruGates(xw, tf.matMul(h, w.recurrentZR!), h, t);
    return { h: gruOut(xw, tf.matMul(rh, w.recurrentH!), zr, h, t)[0] };
  }
  const xwt = stepRows();
  if (w.kind === 'lstm') {
    const z = tf.add(xwt, tf.matMul(h, w.recurrent));
    const [gi, gf, gc, go] = tf.split(z, 4, 1);
    const cNext = tf.add(tf.mul(tf.sigmoid(gf!), c!), tf.mul(tf.sigmoid(gi!), tf.tanh(gc!))) as tf.Tensor2D;
    return { h: tf.mul(tf.sigmoid(go!), tf.tanh(cNext)) as tf.Tensor2D, c: cNext };
  }
  const [xz, xr, xh] = tf.split(xwt, 3, 1);
  const [hz, hr] = tf.split(tf.matMul(h, w.recurrentZR!), 2, 1);
  const zg = tf.sigmoid(tf.add(xz!, hz!));
  const rg = tf.sigmoid(tf.add(xr!, hr!));
  const cand = tf.tanh(tf.add(xh!, tf.matMul(tf.mul(rg, h), w.recurrentH!)));
  return { h: tf.add(tf.mul(zg, h), tf.mul(tf.sub(1, zg), cand)) as tf.Tensor2D };
}
