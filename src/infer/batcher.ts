/**
 * Continuous batching for one loaded language model (the loop itself: row-batcher.ts).
 *
 * Prompts: the sequences admitted at one step are prefilled TOGETHER with the fused sequence ops
 * (lm-step.ts prefillRows: one input-projection matmul per layer for all their ids) up to the
 * shortest one's length minus one; the ids left (at least the last, whose logits give the first
 * token) go through the batched steps like generated ids. So a lone 64-character prompt costs one
 * fused pass plus one step before its first token, and a burst of arrivals shares one pass.
 */
import { disposeState, type RecurrentLanguageModel, type RecurrentState } from '../arch/lm-step.ts';
import { RowBatcher, type BatchMember } from './row-batcher.ts';
import type { Sequence } from './sequence.ts';

export class StepBatcher extends RowBatcher<BatchMember> {
  constructor(private readonly lm: RecurrentLanguageModel, maxBatch: number) {
    super(maxBatch);
  }

  /** Runs `seq` (none of its prompt fed yet) to its end. Resolves when the sequence has finished. */
  run(seq: Sequence): Promise<void> {
    return this.enqueue({ seq });
  }

  protected async joinState(joiners: readonly BatchMember[]): Promise<RecurrentState> {
    const shared = Math.min(...joiners.map((j) => j.seq.inputIds.length - 1));
    if (shared < 2) return this.lm.initialState(joiners.length);
    const state = await this.lm.prefillRows(joiners.map((j) => j.seq.inputIds.slice(0, shared)));
    joiners.forEach((j) => j.seq.skipPrompt(shared));
    return state;
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
