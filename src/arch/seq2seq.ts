/**
 * Seq2Seq encoder–decoder with Luong attention (see attention.ts for the choice):
 *   encoder: embedding → N × LSTM|GRU (optionally bidirectional) → memory [B, S, M]   (encoder.ts)
 *   bridge:  decoder layer i starts from h0_i = tanh(final_i W_b,i + b_b,i) (c0 = 0 for an LSTM), so
 *            the decoder is initialised from the encoder's final state whatever M is
 *   decoder: embedding(Vt → E) → N × LSTM|GRU(H) → attention over the memory → h̃ [.., H]
 *            → logits over the target vocabulary (Vt, which may differ from the source's Vs)
 *   copy (spec.copy; pointer-generator, See et al. 2017; needs ONE vocabulary, Vs = Vt):
 *            p_gen = σ([ctx_t ; h_t ; e(y_{t−1})] w_g + b_g)     (weights copy/kernel [M+H+E, 1], copy/bias [1])
 *            P(w) = p_gen · softmax(logits)_w + (1 − p_gen) · Σ_{s: x_s = w} α_ts
 *            (α: the attention weights; source positions scatter onto their own token ids, so a
 *            word of the source — a name, a number, a phrase of the retrieved target — can be
 *            produced even when the generator has not learned it)
 * Training uses teacher forcing (tgtIn = <bos> y₁…y_{T−1}, tgtOut = y₁…y_T <eos>); pads are masked out
 * of the loss and of the attention. Inference: `encodeSource` once per request, then `step` per
 * generated token (one cell step per layer plus one attention; no prefix is ever re-run).
 *
 * Weights live in a WeightSet (Keras-style names: encoder/…, bridge_i/…, decoder/…, attention/…,
 * output/…) and are saved in the tf.io weights format by seq2seq-io.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { attendSequence, attendStep, attentionBias } from './attention.ts';
import { cellStep, disposeCellExtras, prepareCell, type CellWeights, type RecurrentKind } from './cell-step.ts';
import { addEncoderWeights, encode, lengthMask, memoryWidth, runRecurrent, wordDrop, type EncoderSpec } from './encoder.ts';
import { disposeState, type RecurrentState } from './lm-step.ts';
import { WeightSet } from './weight-set.ts';
import { sequenceCrossEntropy } from './lm.ts';
import { PAD_ID } from '../tokenize/vocab.ts';

export interface Seq2SeqSpec {
  architecture: RecurrentKind;
  sourceVocab: number;
  targetVocab: number;
  layers: number;
  units: number;
  embeddingDim: number;
  bidirectional: boolean;
  /** Pointer-generator copy over the shared vocabulary (sourceVocab must equal targetVocab). Absent = off. */
  copy?: boolean;
}

/** What a request keeps between decoder steps: the encoded source and the step weights. */
export interface EncodedSource {
  /** [B, S, M] */
  memory: tf.Tensor3D;
  /** [B, S, H]: memory · W_a, computed once. */
  keys: tf.Tensor3D;
  /** [B, S]: 0 / −1e9. */
  bias: tf.Tensor2D;
  /** The decoder's initial state (B rows). */
  initial: RecurrentState;
  cells: CellWeights[];
  /** [B·S] the source ids, row-major, <pad> past each row's length (the copy distribution's targets). */
  sourceIds: Int32Array;
}

/** What the decoder computes for N = B·T positions (training) or N = R rows (one step). */
interface DecoderOutput {
  /** [N, V] generator logits. */
  logits: tf.Tensor2D;
  /** [N] the copy gate's logit z (p_gen = σ(z)); only with spec.copy. */
  gate?: tf.Tensor1D;
  /** [N, S] attention weights (0 at source padding). */
  weights: tf.Tensor2D;
}

export function disposeEncoded(e: EncodedSource): void {
  e.cells.forEach(disposeCellExtras);
  tf.dispose([e.memory, e.keys, e.bias]);
  disposeState(e.initial);
}

export class Seq2SeqModel {
  readonly ws: WeightSet;
  private readonly enc: EncoderSpec;

  constructor(readonly spec: Seq2SeqSpec, seed: number) {
    this.enc = { architecture: spec.architecture, vocabSize: spec.sourceVocab, layers: spec.layers, units: spec.units, embeddingDim: spec.embeddingDim, bidirectional: spec.bidirectional };
    this.ws = new WeightSet(seed);
    const { architecture: kind, units: H, layers, embeddingDim: E } = spec;
    const M = memoryWidth(this.enc);
    const G = (kind === 'lstm' ? 4 : 3) * H;
    addEncoderWeights(this.ws, this.enc);
    for (let i = 0; i < layers; i++) {
      this.ws.add(`bridge_${i}/kernel`, [M, H], 'glorot');
      this.ws.add(`bridge_${i}/bias`, [H], 'zeros');
    }
    this.ws.add('decoder/embedding', [spec.targetVocab, E], 'embedding');
    for (let i = 0; i < layers; i++) {
      this.ws.add(`decoder/${kind}_${i}/kernel`, [i === 0 ? E : H, G], 'glorot');
      this.ws.add(`decoder/${kind}_${i}/recurrent_kernel`, [H, G], 'glorot');
      this.ws.add(`decoder/${kind}_${i}/bias`, [G], kind === 'lstm' ? 'forget_bias' : 'zeros', H);
    }
    this.ws.add('attention/kernel', [M, H], 'glorot');
    this.ws.add('attention/combine_kernel', [H + M, H], 'glorot');
    this.ws.add('output/kernel', [H, spec.targetVocab], 'glorot');
    this.ws.add('output/bias', [spec.targetVocab], 'zeros');
    if (spec.copy) {
      if (spec.sourceVocab !== spec.targetVocab) throw new Error(`copy needs one shared vocabulary (source ${spec.sourceVocab} ids, target ${spec.targetVocab})`);
      this.ws.add('copy/kernel', [M + H + E, 1], 'glorot');
      this.ws.add('copy/bias', [1], 'zeros');
    }
  }

  private w(name: string): tf.Tensor {
    return this.ws.get(name);
  }

  /** Encoder + bridge + attention keys (inside a tidy or gradient function). */
  private encodeAll(src: tf.Tensor2D, lengths: Int32Array, dropout = 0, seed = 0, wordDropout = 0) {
    const [B, S] = src.shape;
    const { memory, finals } = encode(this.enc, this.ws, src, lengths, { dropout, seed, wordDropout });
    const M = memory.shape[2];
    const keys = tf.matMul(memory.reshape([B * S, M]), this.w('attention/kernel') as tf.Tensor2D).reshape([B, S, this.spec.units]) as tf.Tensor3D;
    const h0 = finals.map((f, i) => tf.tanh(tf.add(tf.matMul(f, this.w(`bridge_${i}/kernel`) as tf.Tensor2D), this.w(`bridge_${i}/bias`))) as tf.Tensor2D);
    return { memory, keys, bias: attentionBias(lengthMask(lengths, S)), h0 };
  }

  /** h̃ → logits, for [N, H] rows. */
  private project(attentional: tf.Tensor2D): tf.Tensor2D {
    return tf.add(tf.matMul(attentional, this.w('output/kernel') as tf.Tensor2D), this.w('output/bias')) as tf.Tensor2D;
  }

  /** The copy gate's logit z [N] from context [N, M], decoder output [N, H] and input embedding [N, E]. */
  private copyGate(context: tf.Tensor2D, h: tf.Tensor2D, emb: tf.Tensor2D): tf.Tensor1D {
    const z = tf.add(tf.matMul(tf.concat([context, h, emb], 1), this.w('copy/kernel') as tf.Tensor2D), this.w('copy/bias'));
    return z.reshape([-1]) as tf.Tensor1D;
  }

  /** Teacher-forced decoder over all positions: N = B·T rows (row b·T + t). */
  private decodeAll(src: tf.Tensor2D, srcLengths: Int32Array, tgtIn: tf.Tensor2D, dropout: number, seed: number, wordDropout = 0): DecoderOutput {
    const { memory, keys, bias, h0 } = this.encodeAll(src, srcLengths, dropout, seed, wordDropout);
    const [B, T] = tgtIn.shape;
    const [, S, M] = memory.shape;
    const { units: H, embeddingDim: E } = this.spec;
    const emb = tf.gather(this.w('decoder/embedding'), tgtIn) as tf.Tensor3D;
    const embIn = wordDrop(emb, wordDropout, seed + 103);
    let x = dropout > 0 ? (tf.dropout(embIn, dropout, undefined, seed + 101) as tf.Tensor3D) : embIn;
    for (let i = 0; i < this.spec.layers; i++) {
      x = runRecurrent(this.spec.architecture, this.ws, `decoder/${this.spec.architecture}_${i}`, x, h0[i]);
    }
    const { context, weights } = attendSequence(x, keys, memory, bias);
    const ctx2 = context.reshape([B * T, M]) as tf.Tensor2D;
    const x2 = x.reshape([B * T, H]) as tf.Tensor2D;
    let att = tf.tanh(tf.matMul(tf.concat([x2, ctx2], 1), this.w('attention/combine_kernel') as tf.Tensor2D)) as tf.Tensor2D;
    if (dropout > 0) att = tf.dropout(att, dropout, undefined, seed + 102) as tf.Tensor2D;
    const gate = this.spec.copy ? this.copyGate(ctx2, x2, emb.reshape([B * T, E]) as tf.Tensor2D) : undefined;
    return { logits: this.project(att), gate, weights: weights.reshape([B * T, S]) as tf.Tensor2D };
  }

  /**
   * Teacher-forced generator logits [B, T, Vt] (for a copy model: the generator's part only; use
   * forwardLogProbs or loss for the model's distribution). src [B, S] int32 with `srcLengths`;
   * tgtIn [B, T] int32. Call inside tf.tidy or an optimizer's loss function.
   */
  forward(src: tf.Tensor2D, srcLengths: Int32Array, tgtIn: tf.Tensor2D, opts: { dropout?: number; seed?: number } = {}): tf.Tensor3D {
    const [B, T] = tgtIn.shape;
    return this.decodeAll(src, srcLengths, tgtIn, opts.dropout ?? 0, opts.seed ?? 0).logits.reshape([B, T, this.spec.targetVocab]) as tf.Tensor3D;
  }

  /**
   * Teacher-forced log-probabilities of the model's output distribution [B, T, Vt] (with copy: the
   * mixed distribution, the copy part as attention [B, T, S] × one-hot(source) [B, S, V]; no gradient
   * needed, so the batched product is fine). Inside a tidy.
   */
  forwardLogProbs(src: tf.Tensor2D, srcLengths: Int32Array, tgtIn: tf.Tensor2D): tf.Tensor3D {
    const [B, T] = tgtIn.shape;
    const V = this.spec.targetVocab;
    const d = this.decodeAll(src, srcLengths, tgtIn, 0, 0);
    if (!d.gate) return tf.logSoftmax(d.logits).reshape([B, T, V]) as tf.Tensor3D;
    const S = src.shape[1];
    const copyDist = tf.matMul(d.weights.reshape([B, T, S]) as tf.Tensor3D, tf.oneHot(src, V).toFloat() as tf.Tensor3D).reshape([B * T, V]) as tf.Tensor2D;
    return mixCopy(d.logits, d.gate, copyDist).reshape([B, T, V]) as tf.Tensor3D;
  }

  /**
   * Mean token cross-entropy of tgtOut [B, T] (pads excluded) under teacher forcing, with label
   * smoothing ε on the training loss. Without copy: exactly sequenceCrossEntropy of the logits. With
   * copy: −log P(y) of the mixed distribution, where P(y) = p_gen·P_vocab(y) + (1−p_gen)·Σ_s α_s[x_s = y]
   * is computed per target position only (a [B·T, S] equality mask of target vs source ids times α,
   * elementwise: no scatter, no batched matMul in the gradient path), in log space
   * (logSumExp of log σ(z) + log P_vocab(y) and log σ(−z) + log copy(y)); smoothing's ε part is
   * −mean_v log P_vocab(v) (the generator's distribution: the full mixed one would need a [B·T, V]
   * scatter per step). Call inside an optimizer's loss function or a tidy.
   */
  loss(src: tf.Tensor2D, srcLengths: Int32Array, tgtIn: tf.Tensor2D, tgtOut: tf.Tensor2D, opts: { dropout?: number; wordDropout?: number; seed?: number; labelSmoothing?: number } = {}): tf.Scalar {
    const [B, T] = tgtIn.shape;
    const V = this.spec.targetVocab;
    const eps = opts.labelSmoothing ?? 0;
    const d = this.decodeAll(src, srcLengths, tgtIn, opts.dropout ?? 0, opts.seed ?? 0, opts.wordDropout ?? 0);
    if (!d.gate) return sequenceCrossEntropy(d.logits, tgtOut, PAD_ID, eps);
    const S = src.shape[1];
    const flatT = tgtOut.reshape([B * T]).toInt();
    const logp = tf.logSoftmax(d.logits);
    const pickedVocab = tf.sum(tf.mul(logp, tf.oneHot(flatT, V)), -1);
    const match = tf.equal(tf.expandDims(tgtOut, 2), tf.expandDims(src, 1)).toFloat().reshape([B * T, S]);
    const copyP = tf.sum(tf.mul(d.weights, match), -1);
    const logGen = tf.neg(tf.softplus(tf.neg(d.gate)));
    const logCopy = tf.neg(tf.softplus(d.gate));
    let picked: tf.Tensor = tf.logSumExp(tf.stack([tf.add(logGen, pickedVocab), tf.add(logCopy, tf.log(tf.add(copyP, 1e-30)))], 1), 1);
    if (eps > 0) picked = tf.add(tf.mul(picked, 1 - eps), tf.mul(tf.mean(logp, -1), eps));
    const mask = tf.notEqual(flatT, PAD_ID).toFloat();
    return tf.neg(tf.div(tf.sum(tf.mul(picked, mask)), tf.maximum(tf.sum(mask), 1))) as tf.Scalar;
  }

  /** Encodes a batch of sources once for decoding. The result's tensors belong to the caller (disposeEncoded). */
  encodeSource(src: tf.Tensor2D, lengths: Int32Array): EncodedSource {
    const kind = this.spec.architecture;
    const out = tf.tidy(() => {
      const { memory, keys, bias, h0 } = this.encodeAll(src, lengths);
      const c = kind === 'lstm' ? h0.map((h) => tf.zerosLike(h) as tf.Tensor2D) : [];
      return { memory, keys, bias, h: h0, c } as unknown as tf.TensorContainer;
    }) as unknown as { memory: tf.Tensor3D; keys: tf.Tensor3D; bias: tf.Tensor2D; h: tf.Tensor2D[]; c: tf.Tensor2D[] };
    const cells = Array.from({ length: this.spec.layers }, (_, i) => {
      const name = `decoder/${kind}_${i}`;
      return prepareCell(kind, this.w(`${name}/kernel`) as tf.Tensor2D, this.w(`${name}/recurrent_kernel`) as tf.Tensor2D, this.w(`${name}/bias`) as tf.Tensor1D);
    });
    return { memory: out.memory, keys: out.keys, bias: out.bias, initial: { h: out.h, c: out.c }, cells, sourceIds: Int32Array.from(src.dataSync()) };
  }

  /**
   * One decoder step for R rows: ids [R] → log-probabilities [R, Vt] and the next state (the input
   * state is not disposed). `enc` has R rows, or 1 row shared by all (beams of one request).
   */
  step(ids: Int32Array, state: RecurrentState, enc: EncodedSource): { logProbs: tf.Tensor2D; state: RecurrentState } {
    const h: tf.Tensor2D[] = [];
    const c: tf.Tensor2D[] = [];
    const logProbs = tf.tidy(() => {
      const emb = tf.gather(this.w('decoder/embedding'), tf.tensor1d(ids, 'int32')) as tf.Tensor2D;
      let x = emb;
      enc.cells.forEach((w, i) => {
        const next = cellStep(w, x, state.h[i]!, state.c[i]);
        h.push(tf.keep(next.h));
        if (next.c) c.push(tf.keep(next.c));
        x = next.h;
      });
      const { context, weights } = attendStep(x, enc.keys, enc.memory, enc.bias);
      const att = tf.tanh(tf.matMul(tf.concat([x, context as tf.Tensor2D], 1), this.w('attention/combine_kernel') as tf.Tensor2D)) as tf.Tensor2D;
      const logits = this.project(att);
      if (!this.spec.copy) return tf.logSoftmax(logits) as tf.Tensor2D;
      const gate = this.copyGate(context as tf.Tensor2D, x, emb);
      const R = ids.length;
      const S = enc.memory.shape[1];
      const copyDist = tf.scatterND(copyIndices(enc.sourceIds, enc.memory.shape[0], S, R), weights.reshape([R * S]), [R, this.spec.targetVocab]) as tf.Tensor2D;
      return mixCopy(logits, gate, copyDist);
    });
    return { logProbs, state: { h, c } };
  }

  dispose(): void {
    this.ws.dispose();
  }
}

/**
 * log(p_gen · softmax(logits) + (1 − p_gen) · copyDist) for [N, V] rows, p_gen = σ(gate) [N]; floored
 * at 1e−30 so an id neither side gives any mass reads −69, not −∞.
 */
function mixCopy(logits: tf.Tensor2D, gate: tf.Tensor1D, copyDist: tf.Tensor2D): tf.Tensor2D {
  const pGen = tf.sigmoid(gate).expandDims(1);
  const mixed = tf.add(tf.mul(pGen, tf.softmax(logits)), tf.mul(tf.sub(1, pGen), copyDist));
  return tf.log(tf.maximum(mixed, 1e-30)) as tf.Tensor2D;
}

/**
 * scatterND indices [R·S, 2] = (row r, source id at (r, s)): row r reads source row r when the
 * encoded source has R rows, or the one shared source (B = 1, beams of one request). Duplicate ids
 * accumulate (scatterND sums them), so a token twice in the source gets both attention weights.
 */
function copyIndices(sourceIds: Int32Array, B: number, S: number, R: number): tf.Tensor2D {
  const out = new Int32Array(R * S * 2);
  for (let r = 0; r < R; r++) {
    const row = B === 1 ? 0 : r;
    for (let s = 0; s < S; s++) {
      out[(r * S + s) * 2] = r;
      out[(r * S + s) * 2 + 1] = sourceIds[row * S + s]!;
    }
  }
  return tf.tensor2d(out, [R * S, 2], 'int32');
}
