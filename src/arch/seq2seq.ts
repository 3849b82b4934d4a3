/**
 * Seq2Seq encoder–decoder with Luong attention (see attention.ts for the choice):
 *   encoder: embedding → N × LSTM|GRU (optionally bidirectional) → memory [B, S, M]   (encoder.ts)
 *   bridge:  decoder layer i starts from h0_i = tanh(final_i W_b,i + b_b,i) (c0 = 0 for an LSTM), so
 *            the decoder is initialised from the encoder's final state whatever M is
 *   decoder: embedding(Vt → E) → N × LSTM|GRU(H) → attention over the memory → h̃ [.., H]
 *            → logits over the target vocabulary (Vt, which may differ from the source's Vs)
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
import { addEncoderWeights, encode, lengthMask, memoryWidth, runRecurrent, type EncoderSpec } from './encoder.ts';
import { disposeState, type RecurrentState } from './lm-step.ts';
import { WeightSet } from './weight-set.ts';

export interface Seq2SeqSpec {
  architecture: RecurrentKind;
  sourceVocab: number;
  targetVocab: number;
  layers: number;
  units: number;
  embeddingDim: number;
  bidirectional: boolean;
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
  }

  private w(name: string): tf.Tensor {
    return this.ws.get(name);
  }

  /** Encoder + bridge + attention keys (inside a tidy or gradient function). */
  private encodeAll(src: tf.Tensor2D, lengths: Int32Array, dropout = 0, seed = 0) {
    const [B, S] = src.shape;
    const { memory, finals } = encode(this.enc, this.ws, src, lengths, { dropout, seed });
    const M = memory.shape[2];
    const keys = tf.matMul(memory.reshape([B * S, M]), this.w('attention/kernel') as tf.Tensor2D).reshape([B, S, this.spec.units]) as tf.Tensor3D;
    const h0 = finals.map((f, i) => tf.tanh(tf.add(tf.matMul(f, this.w(`bridge_${i}/kernel`) as tf.Tensor2D), this.w(`bridge_${i}/bias`))) as tf.Tensor2D);
    return { memory, keys, bias: attentionBias(lengthMask(lengths, S)), h0 };
  }

  /** h̃ → logits, for [N, H] rows. */
  private project(attentional: tf.Tensor2D): tf.Tensor2D {
    return tf.add(tf.matMul(attentional, this.w('output/kernel') as tf.Tensor2D), this.w('output/bias')) as tf.Tensor2D;
  }

  /**
   * Teacher-forced logits [B, T, Vt]. src [B, S] int32 with `srcLengths`; tgtIn [B, T] int32.
   * Call inside tf.tidy or an optimizer's loss function.
   */
  forward(src: tf.Tensor2D, srcLengths: Int32Array, tgtIn: tf.Tensor2D, opts: { dropout?: number; seed?: number } = {}): tf.Tensor3D {
    const dropout = opts.dropout ?? 0;
    const seed = opts.seed ?? 0;
    const { memory, keys, bias, h0 } = this.encodeAll(src, srcLengths, dropout, seed);
    const [B, T] = tgtIn.shape;
    const H = this.spec.units;
    let x = tf.gather(this.w('decoder/embedding'), tgtIn) as tf.Tensor3D;
    if (dropout > 0) x = tf.dropout(x, dropout, undefined, seed + 101) as tf.Tensor3D;
    for (let i = 0; i < this.spec.layers; i++) {
      x = runRecurrent(this.spec.architecture, this.ws, `decoder/${this.spec.architecture}_${i}`, x, h0[i]);
    }
    const { context } = attendSequence(x, keys, memory, bias);
    const M = memory.shape[2];
    let att = tf.tanh(tf.matMul(tf.concat([x, context], 2).reshape([B * T, H + M]), this.w('attention/combine_kernel') as tf.Tensor2D)) as tf.Tensor2D;
    if (dropout > 0) att = tf.dropout(att, dropout, undefined, seed + 102) as tf.Tensor2D;
    return this.project(att).reshape([B, T, this.spec.targetVocab]) as tf.Tensor3D;
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
    return { memory: out.memory, keys: out.keys, bias: out.bias, initial: { h: out.h, c: out.c }, cells };
  }

  /**
   * One decoder step for R rows: ids [R] → log-probabilities [R, Vt] and the next state (the input
   * state is not disposed). `enc` has R rows, or 1 row shared by all (beams of one request).
   */
  step(ids: Int32Array, state: RecurrentState, enc: EncodedSource): { logProbs: tf.Tensor2D; state: RecurrentState } {
    const h: tf.Tensor2D[] = [];
    const c: tf.Tensor2D[] = [];
    const logProbs = tf.tidy(() => {
      let x = tf.gather(this.w('decoder/embedding'), tf.tensor1d(ids, 'int32')) as tf.Tensor2D;
      enc.cells.forEach((w, i) => {
        const next = cellStep(w, x, state.h[i]!, state.c[i]);
        h.push(tf.keep(next.h));
        if (next.c) c.push(tf.keep(next.c));
        x = next.h;
      });
      const { context } = attendStep(x, enc.keys, enc.memory, enc.bias);
      const att = tf.tanh(tf.matMul(tf.concat([x, context as tf.Tensor2D], 1), this.w('attention/combine_kernel') as tf.Tensor2D)) as tf.Tensor2D;
      return tf.logSoftmax(this.project(att)) as tf.Tensor2D;
    });
    return { logProbs, state: { h, c } };
  }

  dispose(): void {
    this.ws.dispose();
  }
}
