/**
 * Continuous batching for one loaded language model (the loop itself: row-batcher.ts).
 *
 * Prompts: the sequences admitted at one step are prefilled TOGETHER with the fused sequence ops
 * (lm-step.ts prefillRows: one input-projection matmul per layer for all their ids) up to the
 * shortest one's length minus one; the ids left (at least the last, whose logits give the first
 * token) go through the batched steps like generated ids. So a lone 64-character prompt costs one
 * fused pass plus one step before its first token, and a burst of arrivals shares one pass.
 */
import { RecurrentLanguageModel, disposeState, type RecurrentState } from '../arch/lm-step.ts';
import { isKvState, type ModelState } from '../arch/model-state.ts';
import { RECURRENT_ROWS, RowBatcher, type BatchMember } from './row-batcher.ts';
import type { Sequence } from './sequence.ts';

/**
 * A chat turn may start from a kept state (`start`: one row, still owned by the caller, which must
 * keep it alive until run() resolves) and ask for its final state back (`keepState`).
 */
export interface LmMember extends BatchMember {
  start?: RecurrentState;
}

export class StepBatcher extends RowBatcher<LmMember> {
  constructor(private readonly lm: RecurrentLanguageModel, maxBatch: number) {
    super(maxBatch, RECURRENT_ROWS);
  }

  /** Runs `seq` (none of its prompt fed yet) to its end. Resolves when the sequence has finished. */
  run(seq: Sequence, opts: { start?: ModelState; keepState?: (state: ModelState) => void } = {}): Promise<void> {
    if (opts.start && isKvState(opts.start)) throw new Error('a recurrent model continues only from a recurrent state');
    return this.enqueue({ seq, start: opts.start as RecurrentState | undefined, keepState: opts.keepState });
  }

  /**
   * The joiners' rows: each starts from its kept state or zeros; their common prompt prefix (all but
   * at least one id each) is then run together in one fused pass from those rows.
   */
  protected async joinState(joiners: readonly LmMember[]): Promise<RecurrentState> {
    const shared = Math.min(...joiners.map((j) => j.seq.inputIds.length - 1));
    const starts = joiners.some((j) => j.start) ? this.startRows(joiners) : undefined;
    if (shared < 2) return starts ?? this.lm.initialState(joiners.length);
    try {
      const state = await this.lm.prefillRows(joiners.map((j) => j.seq.inputIds.slice(0, shared)), undefined, starts);
      joiners.forEach((j) => j.seq.skipPrompt(shared));
      return state;
    } finally {
      if (starts) disposeState(starts);
    }
  }

  /** [joiners.length, H] rows: each joiner's kept state, or zeros. */
  private startRows(joiners: readonly LmMember[]): RecurrentState {
    const zero = joiners.some((j) => !j.start) ? this.lm.initialState(1) : undefined;
    try {
      return RecurrentLanguageModel.concatRows(joiners.map((j) => j.start ?? zero!));
    } finally {
      if (zero) disposeState(zero);
    }
  }

  protected async step(ids: Int32Array, state: RecurrentState) {
    const next = this.lm.advance(ids, state);
    // Rows still inside their prompt need no logits; skip the projection when none needs it.
    let scores: Float32Array | undefined;
    if (this.active.some((m) => !m.seq.prefilling)) {
      const logits = this.lm.logits(next);
      try {
        scores = (await logits.data()) as Float32Array;
      } catch (err) {
        disposeState(next);
        throw err;
      } finally {
        logits.dispose();
      }
    }
    return { state: next, scores, vocab: this.lm.vocabSize };
  }
}
