/**
 * Continuous batching for one loaded Seq2Seq model (greedy and sampled requests; beam search runs
 * per request): every running request advances in ONE batched decoder step per token. A request joins
 * at the next step with its encoded source and initial decoder state, and leaves as soon as it
 * finishes or is cancelled, so a long output never holds up a short one.
 *
 * Row r of the batched decoder state (h, c per layer: [B, H]) and of the batched source
 * (memory [B, S_max, M], keys [B, S_max, H], attention bias [B, S_max]) belongs to `active[r]`.
 * Sources of different lengths are padded to the longest with zero memory and a −1e9 attention bias,
 * so a pad gets attention weight exactly 0 and a request's output does not depend on what it is
 * batched with (tested). The batched source is rebuilt only when membership changes. At most
 * `maxBatch` requests step together; later arrivals wait for a row. The loop yields to the event loop
 * after every step and owns (and always disposes) the batched tensors.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import * as tf from '@tensorflow/tfjs';
import { RecurrentLanguageModel, disposeState, type RecurrentState } from '../arch/lm-step.ts';
import type { EncodedSource, Seq2SeqModel } from '../arch/seq2seq.ts';
import type { Sequence } from './sequence.ts';
import { initialDecoderState } from './seq2seq-decode.ts';

interface Member {
  seq: Sequence;
  /** The request's encoded source (1 row); owned by the request, read here while it runs. */
  enc: EncodedSource;
  resolve: () => void;
  reject: (err: unknown) => void;
}

type BatchedSource = Pick<EncodedSource, 'memory' | 'keys' | 'bias' | 'cells'>;

export class Seq2SeqBatcher {
  private active: Member[] = [];
  private joining: Member[] = [];
  private state: RecurrentState | undefined;
  private source: BatchedSource | undefined;
  private running = false;
  /** Largest batch stepped so far (for tests). */
  peakBatch = 0;

  constructor(private readonly model: Seq2SeqModel, private readonly maxBatch: number) {}

  /** Runs `seq` against its encoded source to its end. Resolves when the sequence has finished. */
  run(seq: Sequence, enc: EncodedSource): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.joining.push({ seq, enc, resolve, reject });
      if (!this.running) void this.loop();
    });
  }

  private admit(): boolean {
    const room = this.maxBatch - this.active.length;
    if (room <= 0 || this.joining.length === 0) return false;
    const joiners = this.joining.splice(0, room);
    this.active.push(...joiners);
    const parts = [...(this.state ? [this.state] : []), ...joiners.map((j) => initialDecoderState(j.enc))];
    const merged = parts.length === 1 ? parts[0]! : RecurrentLanguageModel.concatRows(parts);
    if (parts.length > 1) parts.forEach(disposeState);
    this.state = merged;
    return true;
  }

  /** Drops the rows of members that finished (resolving them); true when membership changed. */
  private retire(keep: number[]): boolean {
    if (keep.length === this.active.length) return false;
    const leaving = this.active.filter((_, r) => !keep.includes(r));
    const old = this.state!;
    this.state = keep.length > 0 ? RecurrentLanguageModel.selectRows(old, keep) : undefined;
    disposeState(old);
    this.active = keep.map((r) => this.active[r]!);
    // Nobody left: free the batched source now, before the leavers' callers resume.
    if (keep.length === 0) this.disposeSource();
    leaving.forEach((m) => m.resolve());
    return true;
  }

  /** Pads every active member's source to the longest and stacks them (row order = active). */
  private rebuildSource(): void {
    this.disposeSource();
    if (this.active.length === 0) return;
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
    // Step weights are the same for every request of this model: borrow the first member's.
    this.source = { ...stacked, cells: encs[0]!.cells };
  }

  private disposeSource(): void {
    if (this.source) tf.dispose([this.source.memory, this.source.keys, this.source.bias]);
    this.source = undefined;
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      while (this.active.length > 0 || this.joining.length > 0) {
        let changed = this.admit();
        // Cancelled sequences leave before paying for another step.
        changed = this.retire(this.active.flatMap((m, r) => (m.seq.done ? [] : [r]))) || changed;
        if (this.active.length === 0) {
          this.disposeSource();
          continue;
        }
        if (changed || !this.source) this.rebuildSource();
        this.peakBatch = Math.max(this.peakBatch, this.active.length);
        const ids = Int32Array.from(this.active, (m) => m.seq.takeInput());
        const r = this.model.step(ids, this.state!, { ...this.source!, initial: this.state! });
        disposeState(this.state!);
        this.state = r.state;
        let data: Float32Array;
        try {
          data = (await r.logProbs.data()) as Float32Array;
        } finally {
          r.logProbs.dispose();
        }
        const vocab = this.model.spec.targetVocab;
        const keep: number[] = [];
        this.active.forEach((m, row) => {
          if (m.seq.accept(data.subarray(row * vocab, (row + 1) * vocab))) keep.push(row);
        });
        if (this.retire(keep) && this.active.length > 0) this.rebuildSource();
        await yieldToEventLoop();
      }
    } catch (err) {
      for (const m of [...this.active, ...this.joining]) m.reject(err);
      this.active = [];
      this.joining = [];
    } finally {
      if (this.state) disposeState(this.state);
      this.state = undefined;
      this.disposeSource();
      this.running = false;
    }
  }
}
