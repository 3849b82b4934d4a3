/**
 * Seq2Seq forward passes shared by training and serving: teacher-forced loss (validation, evaluation),
 * batched greedy decoding (held-out metrics, evaluation, benchmarks), and the source encoding and
 * initial decoder state the request path (infer/seq2seq-generate.ts, infer/seq2seq-batcher.ts) also
 * uses. The encoder runs once per source; every generated token costs one decoder step (cell steps +
 * one attention), never a re-run of the prefix.
 */
import type { Translator } from './word-translation.ts';
import * as tf from '@tensorflow/tfjs';
import { disposeState, type RecurrentState } from '../arch/lm-step.ts';
import { disposeEncoded, type EncodedSource, type Seq2SeqModel } from '../arch/seq2seq.ts';
import { BOS_ID, EOS_ID, PAD_ID, UNK_ID, type Tokenizer } from '../tokenize/index.ts';
import { noRepeatNgramBans } from '../decode/logits.ts';
import { encodeSourceIds, encodeTargetIds, inBatches, makePairBatch, padRows, type EncodedPair, type PairBatch } from './pair-encoding.ts';
import type { PairExample } from './task-data.ts';

/** The decoding a Seq2Seq request gets when it sets none of these (measured: docs/training.md). */
export interface Seq2SeqDecoding {
  num_beams: number;
  length_penalty: number;
  /** The repetition rule, for greedy, sampled and beam decoding alike: no n-gram of ids twice. */
  no_repeat_ngram_size: number;
  /**
   * Beam search only: every word of the output is a word of the model's training targets or of the
   * request's input (decode/lexicon.ts). Absent = false.
   */
  known_words_only?: boolean;
  /**
   * Translate models: which translator runs (tasks/word-translation.ts), the model's default being
   * the one its training job measured better. Absent = neural.
   */
  translator?: Translator;
}

/**
 * Default decoding per target tokenizer type and task.
 * - The repetition rule with n = 12 characters, 3 words or 4 subword tokens. Measured on the real
 *   targets (docs/training.md): a repeated character 12-gram occurs in 0.74 % of the de-en and 1.03 %
 *   of the man-page summary references (10-grams: 1.4 / 1.8 %, 6-grams 5.8 / 7.4 %), a repeated word
 *   trigram in 0.77 / 0.46 % — so the rule almost never forbids a correct output, while it stops the
 *   "the the the …" loops of an under-trained model.
 * - Beam search (4 beams) for summarize: on the real man-page summarizers it added ROUGE-L to 8 of
 *   the 9 models measured (+0.004 to +0.018) and tied on the ninth (docs/training.md "Decoding
 *   defaults"); greedy for the other tasks (translate: beam 4 was at or below greedy).
 * - Known words only, for summarize's beams: on the man-page summarizer it lifted held-out ROUGE-L
 *   from 0.289 to 0.305 and the job's own validation rows from 0.318 to 0.342 (docs/training.md).
 */
export function seq2seqDecodingDefaults(tokenizerType: string, task?: string): Seq2SeqDecoding {
  const n = tokenizerType === 'char' ? 12 : tokenizerType === 'word' ? 3 : 4;
  const summarize = task === 'summarize';
  return { num_beams: summarize ? 4 : 1, length_penalty: 1, no_repeat_ngram_size: n, known_words_only: summarize };
}

/** Ids Seq2Seq decoding never emits (pad, bos, unk); greedyDecodeBatch skips the same set. */
export const BANNED_IDS = [PAD_ID, BOS_ID, UNK_ID] as const;

/** Encodes source id rows (each ≥ 1 id) as one padded batch. Caller disposes (disposeEncoded). */
export function encodeRows(model: Seq2SeqModel, rows: readonly (readonly number[])[]): EncodedSource {
  const { ids, lengths, width } = padRows(rows);
  const src = tf.tensor2d(ids, [rows.length, width], 'int32');
  try {
    return model.encodeSource(src, lengths);
  } finally {
    src.dispose();
  }
}

/**
 * Greedy decoding of every row (banned: pad, bos, unk, with `noRepeatNgramSize` n > 0 any id that
 * would repeat an n-gram of the row's output, and <eos> before `minNewTokens` ids); returns the
 * generated ids without <eos>.
 */
export async function greedyDecodeBatch(model: Seq2SeqModel, sources: readonly (readonly number[])[], maxNewTokens: number, noRepeatNgramSize = 0, minNewTokens = 0): Promise<number[][]> {
  const enc = encodeRows(model, sources);
  const out: number[][] = sources.map(() => []);
  const done = new Uint8Array(sources.length);
  let state = initialDecoderState(enc);
  let ids = new Int32Array(sources.length).fill(BOS_ID);
  try {
    for (let t = 0; t < maxNewTokens && done.some((d) => d === 0); t++) {
      const r = model.step(ids, state, enc);
      disposeState(state);
      state = r.state;
      const V = r.logProbs.shape[1];
      const lp = (await r.logProbs.data()) as Float32Array;
      r.logProbs.dispose();
      ids = new Int32Array(sources.length);
      for (let b = 0; b < sources.length; b++) {
        let best = -1;
        let bestV = -Infinity;
        const repeats = noRepeatNgramSize > 0 && !done[b] ? new Set(noRepeatNgramBans(out[b]!, noRepeatNgramSize)) : undefined;
        for (let v = 0; v < V; v++) {
          if (v === PAD_ID || v === BOS_ID || v === UNK_ID || repeats?.has(v) || (v === EOS_ID && t < minNewTokens)) continue;
          const x = lp[b * V + v]!;
          if (x > bestV) {
            bestV = x;
            best = v;
          }
        }
        ids[b] = best;
        if (done[b]) continue;
        if (best === EOS_ID) done[b] = 1;
        else out[b]!.push(best);
      }
    }
    return out;
  } finally {
    disposeState(state);
    disposeEncoded(enc);
  }
}

/**
 * ln P(ids[t] | ids[<t], source) of a given output under the model (one teacher-forced pass over
 * `<bos> ids[0…n−2]`; the model's own distribution, the copy mixture included). srcIds ≥ 1 id.
 */
export function tokenLogProbs(model: Seq2SeqModel, srcIds: readonly number[], ids: readonly number[]): number[] {
  if (ids.length === 0) return [];
  return tf.tidy(() => {
    const src = tf.tensor2d([...srcIds], [1, srcIds.length], 'int32');
    const tgtIn = tf.tensor2d([BOS_ID, ...ids.slice(0, -1)], [1, ids.length], 'int32');
    const lp = model.forwardLogProbs(src, Int32Array.of(srcIds.length), tgtIn).reshape([ids.length, -1]);
    const picked = tf.sum(tf.mul(lp, tf.oneHot(tf.tensor1d([...ids], 'int32'), lp.shape[1]!)), 1);
    return Array.from(picked.dataSync());
  });
}

/** A copy of the encoded source's initial decoder state (1 row), owned by the caller. */
export function initialDecoderState(enc: EncodedSource): RecurrentState {
  return { h: enc.initial.h.map((t) => tf.keep(t.clone())), c: enc.initial.c.map((t) => tf.keep(t.clone())) };
}

export function encodePairs(examples: readonly PairExample[], src: Tokenizer, tgt: Tokenizer, maxSource: number, maxTarget: number): EncodedPair[] {
  return examples.map((e) => ({ src: encodeSourceIds(src, e, maxSource).ids, tgt: encodeTargetIds(tgt, e.target, maxTarget) }));
}

/** A padded pair batch as int32 tensors: src [rows, S], tgtIn and tgtOut [rows, T]. Caller disposes (or tidies). */
export const pairBatchTensors = (b: PairBatch) => ({
  src: tf.tensor2d(b.src, [b.rows, b.srcLen], 'int32'),
  tgtIn: tf.tensor2d(b.tgtIn, [b.rows, b.tgtLen], 'int32'),
  tgtOut: tf.tensor2d(b.tgtOut, [b.rows, b.tgtLen], 'int32'),
});

/** Teacher-forced mean token cross-entropy over `pairs` (pads excluded), or null when empty. */
export function seq2seqLoss(model: Seq2SeqModel, pairs: readonly EncodedPair[], batchSize: number): number | null {
  let total = 0;
  let tokens = 0;
  for (const chunk of inBatches(pairs, batchSize)) {
    const b = makePairBatch(chunk);
    const loss = tf.tidy(() => {
      const t = pairBatchTensors(b);
      return model.loss(t.src, b.srcLengths, t.tgtIn, t.tgtOut);
    });
    total += loss.dataSync()[0]! * b.targetTokens;
    tokens += b.targetTokens;
    loss.dispose();
  }
  return tokens > 0 ? total / tokens : null;
}
