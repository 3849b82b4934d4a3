/**
 * The adapter that lets beam search (decode/beam.ts) drive a Seq2Seq decoder bound to one encoded
 * source: every generated token costs one decoder step (cell steps + one attention). Source encoding,
 * the initial decoder state and batched greedy decoding are shared with training, in
 * tasks/seq2seq-forward.ts.
 */
import type { BeamStepper } from '../decode/beam.ts';
import type { EncodedSource, Seq2SeqModel } from '../arch/seq2seq.ts';
import { RecurrentLanguageModel, disposeState, type RecurrentState } from '../arch/lm-step.ts';

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
