/**
 * Continuous batching for one loaded Seq2Seq model (greedy and sampled requests; beam search runs
 * per request; the loop itself: row-batcher.ts). A request joins at the next step with its encoded
 * source and initial decoder state.
 *
 * Row r of the batched source (memory [B, S_max, M], keys [B, S_max, H], attention bias [B, S_max])
 * belongs to `active[r]`, like row r of the decoder state. Sources of different lengths are padded
 * to the longest with zero memory, a −1e9 attention bias and <pad> source ids (what a copy model's
 * attention scatters onto), so a pad gets attention weight exactly 0
 * and a request's output does not depend on what it is batched with (tested). The batched source is
 * rebuilt only when membership changes, and freed as soon as the batch is empty.
 */
import * as tf from '@tensorflow/tfjs';
import { RecurrentLanguageModel, disposeState, type RecurrentState } from '../arch/lm-step.ts';
import type { EncodedSource, Seq2SeqModel } from '../arch/seq2seq.ts';
import { RECURRENT_ROWS, RowBatcher, type BatchMember } from './row-batcher.ts';
import { initialDecoderState } from '../tasks/seq2seq-forward.ts';
import type { Sequence } from './sequence.ts';

interface Member extends BatchMember {
  /** The request's encoded source (1 row); owned by the request, read here while it runs. */
  enc: EncodedSource;
}

type BatchedSource = Pick<EncodedSource, 'memory' | 'keys' | 'bias' | 'cells' | 'sourceIds'>;

export class Seq2SeqBatcher extends RowBatcher<Member> {
  private source: BatchedSource | undefined;

  constructor(private readonly model: Seq2SeqModel, maxBatch: number) {
    super(maxBatch, RECURRENT_ROWS);
  }

  /** Runs `seq` against its encoded source to its end. Resolves when the sequence has finished. */
  run(seq: Sequence, enc: EncodedSource): Promise<void> {
    return this.enqueue({ seq, enc });
  }

  protected async joinState(joiners: readonly Member[]): Promise<RecurrentState> {
    const rows = joiners.map((j) => initialDecoderState(j.enc));
    if (rows.length === 1) return rows[0]!;
    const joined = RecurrentLanguageModel.concatRows(rows);
    rows.forEach(disposeState);
    return joined;
  }

  protected async step(ids: Int32Array, state: RecurrentState) {
    const r = this.model.step(ids, state, { ...this.source!, initial: state });
    try {
      return { state: r.state, scores: (await r.logProbs.data()) as Float32Array, vocab: this.model.spec.targetVocab };
    } catch (err) {
      disposeState(r.state);
      throw err;
    } finally {
      r.logProbs.dispose();
    }
  }

  /** Pads every active member's source to the longest and stacks them (row order = active). */
  protected override onRowsChanged(): void {
    this.onEmpty();
    const encs = this.active.map((m) => m.enc);
    const S = Math.max(...encs.map((e) => e.memory.shape[1]));
    const stacked = tf.tidy(() => {
      const pad3 = (t: tf.Tensor3D) => (t.shape[1] === S ? t : tf.pad(t, [[0, 0], [0, S - t.shape[1]], [0, 0]]));
      const pad2 = (t: tf.Tensor2D) => (t.shape[1] === S ? t : tf.pad(t, [[0, 0], [0, S - t.shape[1]]], -1e9));
      return {
        memory: tf.concat(encs.map((e) => pad3(e.memory)), 0),
        keys: tf.concat(encs.map((e) => pad3(e.keys)), 0),
        bias: tf.concat(encs.map((e) => pad2(e.bias)), 0),
      } as unknown as tf.TensorContainer;
    }) as unknown as { memory: tf.Tensor3D; keys: tf.Tensor3D; bias: tf.Tensor2D };
    const sourceIds = new Int32Array(encs.length * S); // <pad> = 0 past each row's source
    encs.forEach((e, r) => {
      const n = e.memory.shape[1];
      for (let s = 0; s < n; s++) sourceIds[r * S + s] = e.sourceIds[s]!;
    });
    // Step weights are the same for every request of this model: borrow the first member's.
    this.source = { ...stacked, cells: encs[0]!.cells, sourceIds };
  }

  /** Frees the batched source (before the last leavers' callers dispose their own sources). */
  protected override onEmpty(): void {
    if (this.source) tf.dispose([this.source.memory, this.source.keys, this.source.bias]);
    this.source = undefined;
  }
}
