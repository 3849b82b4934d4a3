/**
 * Decoding loops over a Seq2SeqModel: batched greedy decoding (evaluation), and the adapter that lets
 * beam search (decode/beam.ts) drive the decoder. The encoder runs once per source; every generated
 * token costs one decoder step (cell steps + one attention), never a re-run of the prefix.
 */
import * as tf from '@tensorflow/tfjs';
import type { BeamStepper } from '../decode/beam.ts';
import { disposeEncoded, type EncodedSource, type Seq2SeqModel } from '../arch/seq2seq.ts';
import { RecurrentLanguageModel, disposeState, type RecurrentState } from '../arch/lm-step.ts';
import { BOS_ID, EOS_ID, PAD_ID, UNK_ID } from '../tokenize/index.ts';
import { padRows } from '../train/pair-batches.ts';

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

/** Greedy decoding of every row (banned: pad, bos, unk); returns the generated ids without <eos>. */
export async function greedyDecodeBatch(model: Seq2SeqModel, sources: readonly (readonly number[])[], maxNewTokens: number): Promise<number[][]> {
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
        for (let v = 0; v < V; v++) {
          if (v === PAD_ID || v === BOS_ID || v === UNK_ID) continue;
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

/** Beam search's view of a decoder bound to one encoded source (shared by all beams). */
export function beamStepper(model: Seq2SeqModel, enc: EncodedSource): BeamStepper<RecurrentState> {
  return {
    vocabSize: model.spec.targetVocab,
    step: async (ids, state) => {
      const r = model.step(ids, state, enc);
      const logProbs = (await r.logProbs.data()) as Float32Array;
      r.logProbs.dispose();
      return { logProbs, state: r.state };
    },
    select: (state, rows) => RecurrentLanguageModel.selectRows(state, rows),
    dispose: (state) => disposeState(state),
  };
}

/** A copy of the encoded source's initial decoder state (1 row), owned by the caller. */
export function initialDecoderState(enc: EncodedSource): RecurrentState {
  return { h: enc.initial.h.map((t) => tf.keep(t.clone())), c: enc.initial.c.map((t) => tf.keep(t.clone())) };
}
