/**
 * The recurrent encoder shared by the Seq2Seq model and the classifier:
 * embedding(Vs → E) → N × LSTM|GRU(H), each optionally bidirectional (forward and backward outputs
 * concatenated, so the memory width M is H or 2H).
 *
 * Padded batches: ids [B, S] with each row's real length in `lengths` (pads at the end). The forward
 * direction never sees a pad before a real token, so its outputs at real positions are exact and the
 * row's final state is its output at position length−1 (gathered, not the state after the pads).
 * The backward direction reverses each row WITHIN its length (pads stay at the end), runs forward,
 * and reverses back, so it too never reads a pad before a real token; its final state is its output
 * at position 0. Outputs at pad positions are garbage and must be masked by the caller (attention
 * and pooling do).
 *
 * Returns memory [B, S, M] and, per layer, the final state [B, M] (forward last ⊕ backward first).
 */
import * as tf from '@tensorflow/tfjs';
import { fusedLstm } from './fused-lstm.ts';
import { fusedGru } from './fused-gru.ts';
import type { RecurrentKind } from './cell-step.ts';
import type { WeightSet } from './weight-set.ts';

export interface EncoderSpec {
  architecture: RecurrentKind;
  vocabSize: number;
  layers: number;
  units: number;
  embeddingDim: number;
  bidirectional: boolean;
}

export interface EncoderOutput {
  /** [B, S, M] */
  memory: tf.Tensor3D;
  /** Per layer: [B, M]. */
  finals: tf.Tensor2D[];
}

export const memoryWidth = (spec: EncoderSpec): number => spec.units * (spec.bidirectional ? 2 : 1);

/** Creates the encoder's weights in `ws` under `prefix/`. */
export function addEncoderWeights(ws: WeightSet, spec: EncoderSpec, prefix = 'encoder'): void {
  const G = (spec.architecture === 'lstm' ? 4 : 3) * spec.units;
  ws.add(`${prefix}/embedding`, [spec.vocabSize, spec.embeddingDim], 'embedding');
  const dirs = spec.bidirectional ? ['', '_backward'] : [''];
  for (let i = 0; i < spec.layers; i++) {
    const inDim = i === 0 ? spec.embeddingDim : memoryWidth(spec);
    for (const d of dirs) {
      const name = `${prefix}/${spec.architecture}_${i}${d}`;
      ws.add(`${name}/kernel`, [inDim, G], 'glorot');
      ws.add(`${name}/recurrent_kernel`, [spec.units, G], 'glorot');
      ws.add(`${name}/bias`, [G], spec.architecture === 'lstm' ? 'forget_bias' : 'zeros', spec.units);
    }
  }
}

/** Runs one direction's fused layer over x [B, S, in]. */
export function runRecurrent(kind: RecurrentKind, ws: WeightSet, name: string, x: tf.Tensor3D, h0?: tf.Tensor2D): tf.Tensor3D {
  const W = ws.get(`${name}/kernel`) as unknown as tf.Tensor2D;
  const U = ws.get(`${name}/recurrent_kernel`) as unknown as tf.Tensor2D;
  const b = ws.get(`${name}/bias`) as unknown as tf.Tensor1D;
  return kind === 'lstm' ? fusedLstm(x, W, U, b, h0 ? { h0 } : {}).output : fusedGru(x, W, U, b, h0 ? { h0 } : {}).output;
}

/** Flat gather indices [B·S] that reverse each row within its length (pads keep their place). */
export function reverseWithinLengths(lengths: Int32Array, seqLen: number): Int32Array {
  const idx = new Int32Array(lengths.length * seqLen);
  lengths.forEach((len, b) => {
    for (let t = 0; t < seqLen; t++) idx[b * seqLen + t] = b * seqLen + (t < len ? len - 1 - t : t);
  });
  return idx;
}

/** Row-wise gather x [B, S, D] → [B, S, D] by flat indices into the B·S rows. */
function gatherRows(x: tf.Tensor3D, flatIdx: tf.Tensor1D): tf.Tensor3D {
  const [B, S, D] = x.shape;
  return tf.gather(x.reshape([B * S, D]), flatIdx).reshape([B, S, D]) as tf.Tensor3D;
}

/**
 * ids [B, S] int32 (pads after each row's `lengths[b]` ≥ 1 real tokens). Call inside tf.tidy (or a
 * gradient function); `dropout` applies to the embeddings and between layers when > 0; `wordDropout`
 * zeroes whole token embeddings (noise shape [B, S, 1]) when > 0.
 */
export function encode(spec: EncoderSpec, ws: WeightSet, ids: tf.Tensor2D, lengths: Int32Array, opts: { dropout?: number; wordDropout?: number; seed?: number; prefix?: string } = {}): EncoderOutput {
  const prefix = opts.prefix ?? 'encoder';
  const [B, S] = ids.shape;
  const drop = (t: tf.Tensor3D, k: number) => (opts.dropout ? (tf.dropout(t, opts.dropout, undefined, (opts.seed ?? 0) + k) as tf.Tensor3D) : t);
  let x = drop(wordDrop(tf.gather(ws.get(`${prefix}/embedding`), ids) as tf.Tensor3D, opts.wordDropout ?? 0, (opts.seed ?? 0) + 201), 0);
  // 1 at each row's position length−1 (built here: tf.oneHot refuses depth 1, i.e. S = 1).
  const lastData = new Float32Array(B * S);
  lengths.forEach((l, b) => {
    if (l >= 1 && l <= S) lastData[b * S + l - 1] = 1;
  });
  const last = tf.tensor3d(lastData, [B, S, 1]);
  const reverse = spec.bidirectional ? tf.tensor1d(reverseWithinLengths(lengths, S), 'int32') : undefined;
  const finals: tf.Tensor2D[] = [];
  for (let i = 0; i < spec.layers; i++) {
    const name = `${prefix}/${spec.architecture}_${i}`;
    const fw = runRecurrent(spec.architecture, ws, name, x);
    const fwLast = tf.sum(tf.mul(fw, last), 1) as tf.Tensor2D;
    if (reverse) {
      const bw = gatherRows(runRecurrent(spec.architecture, ws, `${name}_backward`, gatherRows(x, reverse)), reverse);
      const bwFirst = tf.slice(bw, [0, 0, 0], [B, 1, spec.units]).reshape([B, spec.units]) as tf.Tensor2D;
      finals.push(tf.concat([fwLast, bwFirst], 1) as tf.Tensor2D);
      x = tf.concat([fw, bw], 2) as tf.Tensor3D;
    } else {
      finals.push(fwLast);
      x = fw;
    }
    if (i < spec.layers - 1) x = drop(x, i + 1);
  }
  return { memory: x, finals };
}

/**
 * Token ("word") dropout: each of the B·S token embeddings of x [B, S, D] is zeroed whole with
 * probability `rate` (the survivors scaled by 1/(1 − rate), as tf.dropout does); x itself when rate is 0.
 */
export function wordDrop(x: tf.Tensor3D, rate: number, seed: number): tf.Tensor3D {
  if (!(rate > 0)) return x;
  const [B, S] = x.shape;
  return tf.dropout(x, rate, [B, S, 1], seed) as tf.Tensor3D;
}

/** Mask [B, S] float32: 1 at real positions, 0 at pads. */
export function lengthMask(lengths: Int32Array, seqLen: number): tf.Tensor2D {
  const m = new Float32Array(lengths.length * seqLen);
  lengths.forEach((len, b) => m.fill(1, b * seqLen, b * seqLen + Math.min(len, seqLen)));
  return tf.tensor2d(m, [lengths.length, seqLen]);
}
