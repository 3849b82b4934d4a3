/**
 * Continuous batching for one loaded Seq2Seq model (greedy and sampled requests; beam search runs
 * per request; the loop itself: row-batcher.ts). A request joins at the next step with its source
 * ids; the requests admitted at one step are encoded TOGETHER (one padded encoder batch: at batch 1
 * the encoder costs about as much as the whole decode, so encoding each request alone capped the
 * concurrent speed-up; bench/README.md "Seq2Seq decoding"), and their initial decoder states are
 * the encoder's.
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
import { disposeState, type RecurrentState } from '../arch/lm-step.ts';
import { disposeCellExtras, type CellWeights } from '../arch/cell-step.ts';
import type { Seq2SeqModel } from '../arch/seq2seq.ts';
import { RECURRENT_ROWS, RowBatcher, type BatchMember } from './row-batcher.ts';
import { encodeRows } from '../tasks/seq2seq-forward.ts';
import { SourceSlots, type SourceRows } from './source-slots.ts';
import type { Sequence } from './sequence.ts';

interface Member extends BatchMember {
  /** The request's source ids (≥ 1, already truncated to the model's limit). */
  source: readonly number[];
  /** The member's slot in `slots` (set when it joins). */
  slot?: number;
}

export class Seq2SeqBatcher extends RowBatcher<Member> {
  private readonly slots = new SourceSlots();
  /** The active members' sources in row order (owned by `slots`), rebuilt when membership changes. */
  private view: SourceRows | undefined;
  /** The decoder's step weights (the first encoding's; the same for every request of the model). */
  private cells: CellWeights[] | undefined;

  constructor(private readonly model: Seq2SeqModel, maxBatch: number) {
    super(maxBatch, RECURRENT_ROWS);
  }

  /** Runs `seq` against `source` (ids) to its end. Resolves when the sequence has finished. */
  run(seq: Sequence, source: readonly number[]): Promise<void> {
    return this.enqueue({ seq, source });
  }

  /** Encodes the joiners as one batch, writes their slots; their rows: the encoder's initial state. */
  protected async joinState(joiners: readonly Member[]): Promise<RecurrentState> {
    const enc = encodeRows(this.model, joiners.map((j) => j.source));
    try {
      this.slots.write(enc).forEach((slot, j) => (joiners[j]!.slot = slot));
    } catch (err) {
      disposeState(enc.initial);
      throw err;
    } finally {
      tf.dispose([enc.memory, enc.keys, enc.bias]);
      if (this.cells) enc.cells.forEach(disposeCellExtras);
      this.cells ??= enc.cells;
    }
    return enc.initial;
  }

  protected async step(ids: Int32Array, state: RecurrentState) {
    const r = this.model.step(ids, state, { ...this.view!, cells: this.cells!, initial: state });
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

  /** Frees the slots and step weights once no request is left. */
  protected override onEmpty(): void {
    this.slots.clear();
    this.view = undefined;
    this.cells?.forEach(disposeCellExtras);
    this.cells = undefined;
  }
}
