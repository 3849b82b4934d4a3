/**
 * Beam search (decode/beam.ts) over a Seq2Seq decoder bound to one encoded source: every generated
 * token costs one decoder step (cell steps + one attention), all beams of a request sharing the one
 * encoded source. Used by serving (infer/seq2seq-generate.ts, `num_beams` > 1) and by the held-out
 * predictions at the end of training (predictTexts), so both decode the same way.
 */
import type { BeamResult, BeamStepper } from '../decode/beam.ts';
import { beamSearch } from '../decode/beam.ts';
import { disposeEncoded, type EncodedSource, type Seq2SeqModel } from '../arch/seq2seq.ts';
import { RecurrentLanguageModel, disposeState, type RecurrentState } from '../arch/lm-step.ts';
import { BOS_ID, EOS_ID } from '../tokenize/index.ts';
import { BANNED_IDS, encodeRows, initialDecoderState } from './seq2seq-forward.ts';

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

export interface Seq2SeqBeamOptions {
  numBeams: number;
  maxNewTokens: number;
  lengthPenalty: number;
  noRepeatNgramSize: number;
  signal?: AbortSignal;
}

/**
 * Beam search for one source (ids ≥ 1): encodes it, searches (pad, bos and unk banned, as greedy
 * decoding bans them) and disposes every tensor it made, whatever the outcome.
 */
export async function beamDecodeSource(model: Seq2SeqModel, srcIds: readonly number[], opts: Seq2SeqBeamOptions): Promise<BeamResult> {
  const enc = encodeRows(model, [srcIds]);
  const initial = initialDecoderState(enc);
  try {
    return await beamSearch(beamStepper(model, enc), initial, {
      numBeams: opts.numBeams, maxNewTokens: opts.maxNewTokens, lengthPenalty: opts.lengthPenalty,
      noRepeatNgramSize: opts.noRepeatNgramSize, bosId: BOS_ID, eosId: EOS_ID, bannedIds: BANNED_IDS, signal: opts.signal,
    });
  } finally {
    disposeState(initial);
    disposeEncoded(enc);
  }
}
