/**
 * One generation request's own state, independent of how it is batched: its sampler (own seeded
 * RNG, so its output does not depend on what else runs), history for the repetition penalty, text
 * streamer (stop sequences), and finish reason. `accept(row)` takes the logits [V] of its next
 * position and says whether it wants another step. Token events' texts always concatenate to the
 * final text: a token's event is sent once the next token (or the end) is known, so text held back
 * as a possible stop-sequence prefix can be attached to it.
 */
import { createSampler, type Sampler } from '../decode/sampler.ts';
import { TextStreamer } from '../decode/streamer.ts';
import type { SamplingParams } from '../decode/params.ts';
import { BOS_ID, EOS_ID, PAD_ID, UNK_ID, type Tokenizer } from '../tokenize/index.ts';

export type FinishReason = 'length' | 'eos' | 'stop_sequence' | 'cancelled';

export interface TokenEvent {
  index: number;
  text: string;
  token_id: number;
  logprob: number;
  /** With parameters.top_logprobs > 0: the most likely tokens at this position, most likely first. */
  top_logprobs?: Array<{ token_id: number; text: string; logprob: number }>;
}

export interface GenerationResult {
  text: string;
  details: {
    finish_reason: FinishReason;
    generated_tokens: number;
    input_tokens: number;
    seed: number;
    elapsed_ms: number;
    model: string;
    /** Chat turns with a session: prompt tokens served from the kept state. */
    cached_tokens?: number;
  };
}

export interface GenerateOptions {
  signal?: AbortSignal;
  onToken?: (event: TokenEvent) => void;
}

/**
 * A prompt given as ids (chat turns, infer/chat.ts): `ids` are what this request feeds (for a turn
 * continuing a kept session state, only the new tokens); `context` is the whole conversation's ids
 * (what repetition penalties see, and `input_tokens`); `endIds` end the reply like <eos> does
 * (the chat markers).
 */
export interface PromptIds {
  ids: number[];
  context: number[];
  endIds: readonly number[];
}

export class Sequence {
  /** `<bos>` + the prompt's ids (or the given ids): what prefill runs. */
  readonly inputIds: number[];
  /** Every id fed so far, in order (the ids the row's recurrent state covers). */
  readonly fedIds: number[] = [];
  /** Prompt tokens the request accounts for (the whole conversation for a chat turn). */
  private readonly promptTokens: number;
  private readonly endIds: ReadonlySet<number>;
  /** The last sampled id (the next input once the prompt is consumed). */
  private lastId: number;
  /** Prompt ids fed so far: the prompt is fed one id per batched step, like generated ids. */
  private fed = 0;
  private readonly sampler: Sampler;
  private readonly streamer: TextStreamer;
  private readonly history: number[];
  private readonly started = performance.now();
  private text = '';
  private generated = 0;
  private pending: TokenEvent | undefined;
  private finish: FinishReason | undefined;
  /** Positions this row may feed in all (a Transformer's context left); Infinity = no limit. */
  private maxPositions = Infinity;

  constructor(
    private readonly tokenizer: Tokenizer,
    private readonly modelRef: string,
    prompt: string | PromptIds,
    private readonly params: SamplingParams,
    private readonly opts: GenerateOptions = {},
    /** Seq2Seq: the repetition rule (sampler.ts); 0 = off. */
    noRepeatNgramSize = 0,
  ) {
    if (typeof prompt === 'string') {
      this.inputIds = [BOS_ID, ...tokenizer.encode(prompt)];
      this.history = this.inputIds.slice(1);
      this.endIds = new Set([EOS_ID]);
    } else {
      if (prompt.ids.length === 0) throw new Error('a prompt needs at least one id');
      this.inputIds = [...prompt.ids];
      this.history = prompt.context.filter((id) => id !== BOS_ID);
      this.endIds = new Set([EOS_ID, ...prompt.endIds]);
    }
    this.promptTokens = typeof prompt === 'string' ? this.inputIds.length : prompt.context.length;
    this.lastId = this.inputIds[this.inputIds.length - 1]!;
    this.sampler = createSampler(params, { bannedIds: [PAD_ID, BOS_ID, UNK_ID], noRepeatNgramSize });
    this.streamer = new TextStreamer(params.stop);
    if (params.max_new_tokens < 1) this.finish = 'length';
  }

  /**
   * A Transformer's context rule: the row may feed at most `n` ids. A token sampled when all `n`
   * are fed is still emitted (its logits came from the last position), then the sequence ends with
   * finish_reason "length". The caller refuses prompts of more than `n` ids beforehand.
   */
  limitPositions(n: number): void {
    if (this.inputIds.length > n) throw new Error(`the prompt has ${this.inputIds.length} ids; only ${n} positions are left`);
    this.maxPositions = n;
  }

  get done(): boolean {
    return this.finish !== undefined;
  }

  /** True while prompt ids remain to be fed (their logits are not sampled). */
  get prefilling(): boolean {
    return this.fed < this.inputIds.length;
  }

  /**
   * Marks the first `n` prompt ids as already fed (their state was computed by a prefill outside the
   * batch); at least the last prompt id stays to be fed, so its logits come from the batched step.
   */
  skipPrompt(n: number): void {
    this.fed = Math.max(0, Math.min(n, this.inputIds.length - 1));
    this.fedIds.push(...this.inputIds.slice(0, this.fed));
  }

  /** The id to feed at the next step: the next prompt id, else the last sampled one. */
  takeInput(): number {
    const id = this.fed < this.inputIds.length ? this.inputIds[this.fed++]! : this.lastId;
    this.fedIds.push(id);
    return id;
  }

  /** Consumes the logits [V] after the last fed id; true when the sequence wants another step. */
  accept(row: Float32Array | undefined): boolean {
    if (this.finish) return false;
    if (this.opts.signal?.aborted) return this.end('cancelled');
    if (this.prefilling) return true; // mid-prompt: these logits are not a prediction we sample
    if (!row) throw new Error('a sequence past its prompt needs logits');
    const { id, logprob, top } = this.sampler.next(row, this.history);
    if (this.endIds.has(id)) return this.end('eos');
    this.generated++;
    this.history.push(id);
    const chunk = this.streamer.push(this.tokenizer.tokenPiece(id));
    this.flushPending();
    // Its client may have cancelled (or aborted) from that token's callback: the new token is dropped.
    if (this.finish) return false;
    if (this.opts.signal?.aborted) return this.end('cancelled');
    this.pending = { index: this.generated - 1, text: chunk.text, token_id: id, logprob };
    if (top) this.pending.top_logprobs = top.map((e) => ({ token_id: e.id, text: this.tokenizer.tokenText(e.id), logprob: e.logprob }));
    if (chunk.stopped) return this.end('stop_sequence');
    if (this.generated >= this.params.max_new_tokens || this.fedIds.length >= this.maxPositions) return this.end('length');
    this.lastId = id;
    return true;
  }

  /** Ends the sequence early (cancelled by its client) if it has not ended yet. */
  cancel(): void {
    if (!this.finish) this.end('cancelled');
  }

  result(): GenerationResult {
    return {
      text: this.text,
      details: {
        finish_reason: this.finish ?? 'cancelled',
        generated_tokens: this.generated,
        input_tokens: this.promptTokens,
        seed: this.params.seed,
        elapsed_ms: Math.round((performance.now() - this.started) * 100) / 100,
        model: this.modelRef,
      },
    };
  }

  private end(reason: FinishReason): false {
    this.finish = reason;
    if (reason === 'length' || reason === 'eos') {
      const tail = this.streamer.end();
      if (this.pending) this.pending.text += tail;
    }
    this.flushPending();
    return false;
  }

  /** Emits the held-back token event once: taken out first, so a callback that cancels (re-entering end()) cannot emit it again. */
  private flushPending(): void {
    const event = this.pending;
    this.pending = undefined;
    if (event) this.emit(event);
  }

  private emit(e: TokenEvent): void {
    this.text += e.text;
    this.opts.onToken?.(e);
  }
}
