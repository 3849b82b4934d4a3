/**
 * Service results and token events → OpenAI's response objects and stream chunks, for
 * `chat.completion` / `chat.completion.chunk` and `text_completion`. One `id` and one `created`
 * (Unix seconds) per request, shared by every chunk. Token texts in logprobs are the streamed
 * texts, so they concatenate to the output (a token held back as a possible stop-sequence prefix
 * appears with the next one); alternatives carry each token's own text.
 */
import { randomBytes } from 'node:crypto';
import type { FinishReason as ServiceFinishReason, GenerationResult, TokenEvent } from '../../infer/generate.ts';
import type { ChatCompletion, ChatLogprobs, Completion, CompletionLogprobs, Usage } from '../../schemas/openai.ts';

export type Kind = 'chat' | 'completion';
export type OpenAIFinishReason = 'stop' | 'length';

/** What identifies one request's answer: every chunk repeats it. */
export interface Envelope {
  id: string;
  created: number;
  /** `name@version` once known. */
  model: string;
}

export function newEnvelope(kind: Kind, model: string): Envelope {
  return { id: `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomBytes(12).toString('hex')}`, created: Math.floor(Date.now() / 1000), model };
}

/** eos and stop sequences are OpenAI's `stop`; the token cap is `length`. */
export function finishReason(r: ServiceFinishReason): OpenAIFinishReason {
  return r === 'length' ? 'length' : 'stop';
}

/** prompt_tokens counted once (every choice reads the same input); completion_tokens summed. */
export function usageOf(results: readonly Pick<GenerationResult, 'details'>[]): Usage {
  const prompt = results[0]?.details.input_tokens ?? 0;
  const completion = results.reduce((s, r) => s + r.details.generated_tokens, 0);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

const bytesOf = (s: string): number[] => Array.from(Buffer.from(s, 'utf8'));

export function chatTokenLogprobs(events: readonly TokenEvent[]): ChatLogprobs['content'] {
  return events.map((e) => ({
    token: e.text,
    logprob: e.logprob,
    bytes: bytesOf(e.text),
    top_logprobs: (e.top_logprobs ?? []).map((a) => ({ token: a.text, logprob: a.logprob, bytes: bytesOf(a.text) })),
  }));
}

/** Legacy completions logprobs; `offset` is where the first event's text starts (after the prompt). */
export function completionLogprobs(events: readonly TokenEvent[], offset: number): CompletionLogprobs {
  const out: CompletionLogprobs = { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
  let at = offset;
  for (const e of events) {
    out.tokens.push(e.text);
    out.token_logprobs.push(e.logprob);
    out.top_logprobs.push(Object.fromEntries((e.top_logprobs ?? []).map((a) => [a.text, a.logprob])));
    out.text_offset.push(at);
    at += e.text.length;
  }
  return out;
}

export interface ChoiceResult {
  result: GenerationResult;
  /** The choice's token events, in order (kept only when logprobs were asked for). */
  events: TokenEvent[];
}

export function chatCompletion(env: Envelope, choices: readonly ChoiceResult[], logprobs: boolean): ChatCompletion {
  return {
    id: env.id,
    object: 'chat.completion',
    created: env.created,
    model: env.model,
    system_fingerprint: env.model,
    choices: choices.map((c, index) => ({
      index,
      message: { role: 'assistant', content: c.result.text, refusal: null },
      logprobs: logprobs ? { content: chatTokenLogprobs(c.events), refusal: null } : null,
      finish_reason: finishReason(c.result.details.finish_reason),
    })),
    usage: usageOf(choices.map((c) => c.result)),
  };
}

export function textCompletion(env: Envelope, choices: readonly ChoiceResult[], logprobs: boolean, promptChars: number): Completion {
  return {
    id: env.id,
    object: 'text_completion',
    created: env.created,
    model: env.model,
    system_fingerprint: env.model,
    choices: choices.map((c, index) => ({
      index,
      text: c.result.text,
      logprobs: logprobs ? completionLogprobs(c.events, promptChars) : null,
      finish_reason: finishReason(c.result.details.finish_reason),
    })),
    usage: usageOf(choices.map((c) => c.result)),
  };
}

/**
 * Stream chunks for one request. Chat: the first chunk of a choice carries `role: "assistant"`;
 * content chunks follow; the last chunk of a choice has an empty delta and its finish_reason
 * (null before). With include_usage every chunk has `usage: null` and a final chunk has
 * `choices: []` and the usage. Completions: `text` in place of `delta`, an empty text to finish.
 */
export class ChunkWriter {
  /** Characters streamed so far per choice (completions text_offset). */
  private readonly offsets: number[];

  constructor(
    private readonly kind: Kind,
    private readonly env: Envelope,
    n: number,
    private readonly opts: { logprobs: boolean; includeUsage: boolean; promptChars: number },
  ) {
    this.offsets = new Array<number>(n).fill(opts.promptChars);
  }

  private chunk(choices: object[]): object {
    const base = {
      id: this.env.id,
      object: this.kind === 'chat' ? 'chat.completion.chunk' : 'text_completion',
      created: this.env.created,
      model: this.env.model,
      system_fingerprint: this.env.model,
      choices,
    };
    return this.opts.includeUsage ? { ...base, usage: null } : base;
  }

  /** Chat only: the role chunk that opens choice `index`. */
  role(index: number): object {
    return this.chunk([{ index, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]);
  }

  /** One token event of choice `index`; undefined when it carries nothing to send. */
  token(index: number, e: TokenEvent): object | undefined {
    if (e.text === '' && !this.opts.logprobs) return undefined;
    if (this.kind === 'chat') {
      const logprobs = this.opts.logprobs ? { content: chatTokenLogprobs([e]), refusal: null } : null;
      return this.chunk([{ index, delta: { content: e.text }, logprobs, finish_reason: null }]);
    }
    const logprobs = this.opts.logprobs ? completionLogprobs([e], this.offsets[index]!) : null;
    this.offsets[index]! += e.text.length;
    return this.chunk([{ index, text: e.text, logprobs, finish_reason: null }]);
  }

  /** The closing chunk of choice `index`. */
  finish(index: number, result: GenerationResult): object {
    const reason = finishReason(result.details.finish_reason);
    return this.kind === 'chat'
      ? this.chunk([{ index, delta: {}, logprobs: null, finish_reason: reason }])
      : this.chunk([{ index, text: '', logprobs: null, finish_reason: reason }]);
  }

  /** The usage chunk (only with include_usage). */
  usage(results: readonly GenerationResult[]): object {
    return { ...this.chunk([]), usage: usageOf(results) };
  }
}
