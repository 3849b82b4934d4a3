/**
 * Continuous batching for one loaded model: every running sequence advances in ONE batched
 * recurrent step per token. A sequence joins at the next step and leaves as soon as it finishes or
 * is cancelled (its row is dropped), so a long generation never holds up a short one.
 *
 * Prompts: the sequences admitted at one step are prefilled TOGETHER with the fused sequence ops
 * (lm-step.ts prefillRows: one input-projection matmul per layer for all their ids) up to the
 * shortest one's length minus one; the ids left (at least the last, whose logits give the first
 * token) go through the batched steps like generated ids. So a lone 64-character prompt costs one
 * fused pass plus one step before its first token, and a burst of arrivals shares one pass.
 *
 * Row r of the batched state (h, c per layer: [B, H]) belongs to `active[r]`. At most `maxBatch`
 * sequences step together; later arrivals wait in `joining` until rows free up. The loop yields to
 * the event loop after every step, and owns (and always disposes) the batched state.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { RecurrentLanguageModel, disposeState, type RecurrentState } from '../arch/lm-step.ts';
import type { Sequence } from './sequence.ts';

interface Member {
  seq: Sequence;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class StepBatcher {
  private active: Member[] = [];
  private joining: Member[] = [];
  private state: RecurrentState | undefined;
  private running = false;
  /** Largest batch stepped so far (for metrics and tests). */
  peakBatch = 0;

  constructor(private readonly lm: RecurrentLanguageModel, private readonly maxBatch: number) {}

  /** Sequences stepping now plus those waiting for a row. */
  get size(): number {
    return this.active.length + this.joining.length;
  }

  /** Runs `seq` (none of its prompt fed yet) to its end. Resolves when the sequence has finished. */
  run(seq: Sequence): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.joining.push({ seq, resolve, reject });
      if (!this.running) void this.loop();
    });
  }

  private async admit(): Promise<void> {
    const room = this.maxBatch - this.active.length;
    if (room <= 0 || this.joining.length === 0) return;
    const joiners = this.joining.splice(0, room);
    // Members are active (and rejected with the rest on a failure) from here on.
    this.active.push(...joiners);
    const shared = Math.min(...joiners.map((j) => j.seq.inputIds.length - 1));
    let joined: RecurrentState;
    if (shared >= 2) {
      joined = await this.lm.prefillRows(joiners.map((j) => j.seq.inputIds.slice(0, shared)));
      joiners.forEach((j) => j.seq.skipPrompt(shared));
    } else {
      joined = this.lm.initialState(joiners.length);
    }
    const parts = [...(this.state ? [this.state] : []), joined];
    this.state = parts.length === 1 ? joined : RecurrentLanguageModel.concatRows(parts);
    if (parts.length > 1) parts.forEach(disposeState);
  }

  /** Drops the rows of members that finished (resolving them). */
  private retire(keep: number[]): void {
    if (keep.length === this.active.length) return;
    const leaving = this.active.filter((_, r) => !keep.includes(r));
    const old = this.state!;
    this.state = keep.length > 0 ? RecurrentLanguageModel.selectRows(old, keep) : undefined;
    disposeState(old);
    this.active = keep.map((r) => this.active[r]!);
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
        this.peakBatch = Math.max(this.peakBatch, this.active.length);
        const ids = Int32Array.from(this.active, (m) => m.seq.takeInput());
        const next = this.lm.advance(ids, this.state!);
        disposeState(this.state!);
        this.state = next;
        // Rows still inside their prompt need no logits; skip the projection when none needs it.
        let data: Float32Array | undefined;
        if (this.active.some((m) => !m.seq.prefilling)) {
          const logits = this.lm.logits(next);
          try {
            data = (await logits.data()) as Float32Array;
          } finally {
            logits.dispose();
          }
        }
        const vocab = this.lm.vocabSize;
        const keep: number[] = [];
        this.active.forEach((m, r) => {
          if (m.seq.accept(data?.subarray(r * vocab, (r + 1) * vocab))) keep.push(r);
        });
        this.retire(keep);
        await yieldToEventLoop();
      }
    } catch (err) {
      for (const m of [...this.active, ...this.joining]) m.reject(err);
      this.active = [];
      this.joining = [];
    } finally {
      if (this.state) disposeState(this.state);
      this.state = undefined;
      this.running = false;
    }
  }
}
