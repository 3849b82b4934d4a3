/**
 * The continuous-batching loop both decoders share (batcher.ts for language models,
 * seq2seq-batcher.ts for Seq2Seq): every running sequence advances in ONE batched recurrent step per
 * token. A sequence joins at the next step and leaves as soon as it finishes or is cancelled (its row
 * is dropped), so a long generation never holds up a short one; each keeps its own sampler and seed,
 * so its output does not depend on what it was batched with.
 *
 * Row r of the batched state (recurrent: h, c per layer [B, H]; Transformer: the KV cache's row r)
 * belongs to `active[r]`; `RowOps` stack, select and free rows of the state kind. At most `maxBatch`
 * sequences step together; later arrivals wait in `joining` until rows free up. The loop yields to
 * the event loop after every step and owns (and always disposes) the batched state. A subclass says
 * how joiners' rows start (`joinState`), how one batched step runs (`step`), and may keep per-batch
 * tensors in step with the membership (`onLeft`, `onRowsChanged`, `onEmpty`).
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { RecurrentLanguageModel, disposeState, type RecurrentState } from '../arch/lm-step.ts';
import type { Sequence } from './sequence.ts';

/** How rows of a batched state are stacked, picked out and freed (none dispose their inputs). */
export interface RowOps<S> {
  concat(parts: readonly S[]): S;
  select(state: S, rows: readonly number[]): S;
  dispose(state: S): void;
}

export const RECURRENT_ROWS: RowOps<RecurrentState> = {
  concat: (parts) => RecurrentLanguageModel.concatRows(parts),
  select: (state, rows) => RecurrentLanguageModel.selectRows(state, rows),
  dispose: disposeState,
};

export interface BatchMember<S = RecurrentState> {
  seq: Sequence;
  /**
   * Receives the member's own row of the state when it leaves (the state after every id it fed:
   * `seq.fedIds`); the receiver owns and must dispose it. Used by chat sessions.
   */
  keepState?: (state: S) => void;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export abstract class RowBatcher<M extends BatchMember<S>, S = RecurrentState> {
  protected active: M[] = [];
  private joining: M[] = [];
  private state: S | undefined;
  private running = false;
  /** Membership changed since the last step (rows joined or left). */
  private changed = false;
  /** Largest batch stepped so far (for metrics and tests). */
  peakBatch = 0;

  constructor(
    private readonly maxBatch: number,
    private readonly rows: RowOps<S>,
  ) {}

  /** Sequences stepping now plus those waiting for a row. */
  get size(): number {
    return this.active.length + this.joining.length;
  }

  /** The joiners' starting rows [joiners.length, …], in their order (owned by the batcher after). */
  protected abstract joinState(joiners: readonly M[]): Promise<S>;

  /**
   * One batched step: ids [B] → the next state and the scores [B × V] of the next position, or
   * undefined when no row needs them. Must not dispose the input state.
   */
  protected abstract step(ids: Int32Array, state: S): Promise<{ state: S; scores: Float32Array | undefined; vocab: number }>;

  /** When members leave (finished or cancelled), after `active` no longer holds them. */
  protected onLeft(_members: readonly M[]): void {}

  /** Before a step, when the membership changed since the last one (rows of `active`, in order). */
  protected onRowsChanged(): void {}

  /** When no sequence is left: called before the leavers' callers resume, and when the loop ends. */
  protected onEmpty(): void {}

  /** Runs the member's sequence to its end. Resolves when it has finished. */
  protected enqueue(member: Omit<M, 'resolve' | 'reject'>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.joining.push({ ...member, resolve, reject } as M);
      if (!this.running) void this.loop();
    });
  }

  private async admit(): Promise<void> {
    const room = this.maxBatch - this.active.length;
    if (room <= 0 || this.joining.length === 0) return;
    const joiners = this.joining.splice(0, room);
    // Members are active (and rejected with the rest on a failure) from here on.
    this.active.push(...joiners);
    this.changed = true;
    const joined = await this.joinState(joiners);
    const parts = [...(this.state ? [this.state] : []), joined];
    this.state = parts.length === 1 ? joined : this.rows.concat(parts);
    if (parts.length > 1) parts.forEach((p) => this.rows.dispose(p));
  }

  /** Drops the rows of members that finished (resolving them). */
  private retire(keep: number[]): void {
    if (keep.length === this.active.length) return;
    const leaving = this.active.filter((_, r) => !keep.includes(r));
    const old = this.state!;
    this.active.forEach((m, r) => {
      if (m.keepState && !keep.includes(r)) m.keepState(this.rows.select(old, [r]));
    });
    this.state = keep.length > 0 ? this.rows.select(old, keep) : undefined;
    this.rows.dispose(old);
    this.active = keep.map((r) => this.active[r]!);
    this.changed = true;
    this.onLeft(leaving);
    if (keep.length === 0) this.onEmpty();
    leaving.forEach((m) => m.resolve());
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      while (this.active.length > 0 || this.joining.length > 0) {
        await this.admit();
        // Cancelled sequences leave before paying for another step.
        this.retire(this.active.flatMap((m, r) => (m.seq.done ? [] : [r])));
        if (this.active.length === 0) continue;
        if (this.changed) this.onRowsChanged();
        this.changed = false;
        this.peakBatch = Math.max(this.peakBatch, this.active.length);
        const ids = Int32Array.from(this.active, (m) => m.seq.takeInput());
        const next = await this.step(ids, this.state!);
        this.rows.dispose(this.state!);
        this.state = next.state;
        const keep: number[] = [];
        this.active.forEach((m, r) => {
          if (m.seq.accept(next.scores?.subarray(r * next.vocab, (r + 1) * next.vocab))) keep.push(r);
        });
        this.retire(keep);
        await yieldToEventLoop();
      }
    } catch (err) {
      for (const m of [...this.active, ...this.joining]) m.reject(err);
      this.active = [];
      this.joining = [];
    } finally {
      if (this.state) this.rows.dispose(this.state);
      this.state = undefined;
      this.onEmpty();
      this.running = false;
    }
  }
}
