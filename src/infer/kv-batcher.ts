/**
 * Continuous batching for one loaded Transformer LM (the loop itself: row-batcher.ts), with a KV
 * cache (arch/transformer.ts): a joining sequence's prompt — all but its last id — is prefilled in
 * ONE pass (after its chat session's kept cache, if any), then its row joins the batch and every
 * further id (the last prompt id, then each generated token) costs one position against the cached
 * keys and values. Rows of different lengths share each step: their caches are right-aligned and
 * the padding is masked, so a request's output is the one it gets alone (tested).
 *
 * The context rule: a row never goes past the model's context_length — the Sequence is told its
 * room (`limitPositions`) and ends with finish_reason "length" when the context is full, and a
 * prompt that does not fit is refused before it gets here (infer/service.ts).
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { concatKv, disposeKv, emptyKv, selectKv, type KvState, type TransformerLM } from '../arch/transformer.ts';
import { isKvState, type ModelState } from '../arch/model-state.ts';
import { RowBatcher, type BatchMember, type RowOps } from './row-batcher.ts';
import type { Sequence } from './sequence.ts';

export const KV_ROWS: RowOps<KvState> = { concat: concatKv, select: selectKv, dispose: disposeKv };

export interface KvMember extends BatchMember<KvState> {
  /** A chat session's kept cache (one row, owned by the caller until run() resolves). */
  start?: KvState;
}

export class KvBatcher extends RowBatcher<KvMember, KvState> {
  constructor(private readonly lm: TransformerLM, maxBatch: number) {
    super(maxBatch, KV_ROWS);
  }

  /** Runs `seq` (none of its prompt fed yet) to its end, from a kept cache when given. */
  run(seq: Sequence, opts: { start?: ModelState; keepState?: (state: ModelState) => void } = {}): Promise<void> {
    if (opts.start && !isKvState(opts.start)) throw new Error('a Transformer continues only from a KV cache');
    return this.enqueue({ seq, start: opts.start as KvState | undefined, keepState: opts.keepState });
  }

  protected async joinState(joiners: readonly KvMember[]): Promise<KvState> {
    const rows: KvState[] = [];
    try {
      for (const j of joiners) {
        const n = j.seq.inputIds.length - 1;
        if (n < 1) {
          rows.push(j.start ? selectKv(j.start, [0]) : emptyKv(this.lm.spec, 1));
          continue;
        }
        const r = this.lm.extend(j.seq.inputIds.slice(0, n), j.start);
        r.logits.dispose();
        rows.push(r.state);
        j.seq.skipPrompt(n);
        if (joiners.length > 1) await yieldToEventLoop();
      }
    } catch (err) {
      rows.forEach(disposeKv);
      throw err;
    }
    if (rows.length === 1) return rows[0]!;
    try {
      return concatKv(rows);
    } finally {
      rows.forEach(disposeKv);
    }
  }

  protected async step(ids: Int32Array, state: KvState) {
    const r = this.lm.step(ids, state);
    try {
      return { state: r.state, scores: (await r.logits.data()) as Float32Array, vocab: this.lm.vocabSize };
    } catch (err) {
      disposeKv(r.state);
      throw err;
    } finally {
      r.logits.dispose();
    }
  }
}
