/**
 * Luong "general" (multiplicative) attention, without input feeding:
 *   score(h_t, m_s) = h_t · (m_s W_a)        keys K = M W_a are computed once per source
 *   α_t = softmax_s(score + bias_s)          bias_s = 0 at real positions, −1e9 at padding
 *   ctx_t = Σ_s α_ts m_s
 *   h̃_t = tanh([h_t ; ctx_t] W_c)            the attentional hidden state, projected to the vocabulary
 * Why Luong and no input feeding: the decoder's recurrence never depends on attention, so training
 * runs the decoder over the whole target as ONE fused recurrent op and attention as two batched
 * matmuls for all positions; at inference a step is one cell step plus one attention over the
 * source. (Bahdanau's additive score needs a [T, S, H] tanh per step and feeds the context into the
 * recurrence, which forces a step-by-step loop in training.)
 *
 * Shapes: memory [B, S, M]; keys [B, S, H]; bias [B, S]; queries [B, T, H] (training) or [R, H]
 * (one decoder step for R rows: R = B, or B = 1 when all rows attend to the same source, as beams
 * of one request do).
 */
import * as tf from '@tensorflow/tfjs';

/** Additive mask [B, S]: 0 where mask is 1, −1e9 where it is 0 (softmax weight exactly 0 after exp). */
export function attentionBias(mask: tf.Tensor2D): tf.Tensor2D {
  return tf.mul(tf.sub(mask, 1), 1e9) as tf.Tensor2D;
}

export interface AttentionResult {
  context: tf.Tensor;
  weights: tf.Tensor;
}

/** All target positions at once: queries [B, T, H] → context [B, T, M], weights [B, T, S]. */
export function attendSequence(queries: tf.Tensor3D, keys: tf.Tensor3D, memory: tf.Tensor3D, bias: tf.Tensor2D): AttentionResult {
  const scores = tf.add(tf.matMul(queries, keys, false, true), tf.expandDims(bias, 1));
  const weights = tf.softmax(scores, -1);
  return { context: tf.matMul(weights, memory), weights };
}

/** One step for R rows: query [R, H] → context [R, M], weights [R, S]. */
export function attendStep(query: tf.Tensor2D, keys: tf.Tensor3D, memory: tf.Tensor3D, bias: tf.Tensor2D): AttentionResult {
  const [R, H] = query.shape;
  const [B, S, M] = memory.shape;
  if (B === R) {
    const r = attendSequence(query.reshape([R, 1, H]) as tf.Tensor3D, keys, memory, bias);
    return { context: r.context.reshape([R, M]), weights: r.weights.reshape([R, S]) };
  }
  if (B !== 1) throw new Error(`attendStep: ${R} query rows against ${B} sources (need equal, or one shared source)`);
  // One source shared by every row: a single [1, R, H] × [1, H, S] product.
  const r = attendSequence(query.reshape([1, R, H]) as tf.Tensor3D, keys, memory, bias);
  return { context: r.context.reshape([R, M]), weights: r.weights.reshape([R, S]) };
}
