/**
 * Continuous batching for one loaded Seq2Seq model (greedy and sampled requests; beam search runs
 * per request; the loop itself: row-batcher.ts). A request joins at the next step with its encoded
 * source and initial decoder state.
 *
 * Encoded sources live in fixed slots (source-slots.ts: memory [C, S, M], keys [C, S, H], bias
 * [C, S]): a joiner writes only its own slot, a leaver frees its slot, and no other member's rows
 * are re-padded or re-stacked. Row r of the decoder state belongs to `active[r]`, whose source is in
 * slot `active[r].slot`; when the membership changes, the step's source view is the active slots
 * gathered in row order (one gather per tensor; the buffer itself when every slot is active in
 * order). Sources narrower than S are padded with zero memory, a −1e9 attention bias and <pad>
 * source ids (what a copy model's attention scatters onto), so a pad gets attention weight exactly
 * 0 and a request's output does not depend on what it is batched with (tested). The slots are freed
 * as soon as the batch is empty.
 */
import * as tf from '@tensorflow/tfjs';
import { RecurrentLanguageModel, disposeState, type RecurrentState } from '../arch/lm-step.ts';
import type { EncodedSource, Seq2SeqModel } from '../arch/seq2seq.ts';
import { RECURRENT_ROWS, RowBatcher, type BatchMember } from './row-batcher.ts';
import { initialDecoderState } from '../tasks/seq2seq-forward.ts';
import { SourceSlots, type SourceRows } from './source-slots.ts';
import type { Sequence } from './sequence.ts';

interface Member extends BatchMember {
  /** The request's encoded source (1 row); owned by the request, read here while it runs. */
  enc: EncodedSource;
  /** The member's slot in `slots` (set when it joins). */
  slot?: number;
}

export class Seq2SeqBatcher extends RowBatcher<Member> {
  private readonly slots = new SourceSlots();
  /** The active members' sources in row order (owned by `slots`), rebuilt when membership changes. */
  private view: SourceRows | undefined;

  constructor(private readonly model: Seq2SeqModel, maxBatch: number) {
    super(maxBatch, RECURRENT_ROWS);
  }

  /** Runs `seq` against its encoded source to its end. Resolves when the sequence has finished. */
  run(seq: Sequence, enc: EncodedSource): Promise<void> {
    return this.enqueue({ seq, enc });
  }

  protected async joinState(joiners: readonly Member[]): Promise<RecurrentState> {
    for (const j of joiners) j.slot = this.slots.write(j.enc)[0]!;
    const rows = joiners.map((j) => initialDecoderState(j.enc));
    if (rows.length === 1) return rows[0]!;
    const joined = RecurrentLanguageModel.concatRows(rows);
    rows.forEach(disposeState);
    return joined;
  }

  protected async step(ids: Int32Array, state: RecurrentState) {
    // Step weights are the same for every request of this model: borrow the first member's.
    const r = this.model.step(ids, state, { ...this.view!, cells: this.active[0]!.enc.cells, initial: state });
    try {
      return { state: r.state, scores: (await r.logProbs.data()) as Float32Array, vocab: this.model.spec.targetVocab };
    } catch (err) {
      disposeState(r.state);
      throw err;
    } finally {
      r.logProbs.dispose();
    }
  }

  protected override onLeft(members: readonly Member[]): void {
    for (const m of members) if (m.slot !== undefined) this.slots.free(m.slot);
  }

  /** The step's source view: the active members' slots in row order. */
  protected override onRowsChanged(): void {
    this.view = this.slots.view(this.active.map((m) => m.slot!));
  }

  /** Frees the slots (before the last leavers' callers dispose their own sources). */
  protected override onEmpty(): void {
    this.slots.clear();
    this.view = undefined;
  }
}
