/**
 * The inference front door used by HTTP routes and the WebSocket: admission control (a cap on
 * requests in flight → 429 `overloaded` with Retry-After), model lookup and task check
 * (model_task_mismatch), parameter resolution, and the request paths (generate, Seq2Seq, classify,
 * evaluate). Route handlers stay thin by calling only this.
 */
import { ServiceError } from '../errors.ts';
import type { GenerationParameters } from '../schemas/common.ts';
import type { ModelTask } from '../store/manifest.ts';
import type { TrainJobData } from '../queue/contract.ts';
import { classifyText, type ClassifyResult } from './classify.ts';
import { evaluateModel, type Evaluation } from './evaluate.ts';
import { checkContext, generateText, promptIdCount, type GenerateOptions, type GenerationResult } from './generate.ts';
import type { EntryFor, ModelCache } from './model-cache.ts';
import { checkPrompt, resolveParams, resolveSeq2SeqParams, type ParamLimits, type Seq2SeqParameterInput } from './params.ts';
import { runSeq2Seq, type Seq2SeqResult, type Seq2SeqSource } from './seq2seq-generate.ts';
import { targetLimit } from '../store/manifest.ts';
import type { ChatMessage } from '../schemas/chat.ts';
import { chatTurn } from './chat.ts';
import { disposeModelState } from '../arch/model-state.ts';
import { SessionStore, type KeptState } from './sessions.ts';
import { parseModelRef } from '../store/model-ref.ts';
import { seq2seqDecodingDefaults } from '../tasks/seq2seq-forward.ts';
import { defaultTranslator } from '../tasks/word-translation.ts';

export interface GenerateInput {
  model: string;
  prompt: string;
  parameters?: GenerationParameters;
}

export type Seq2SeqTask = 'summarize' | 'translate' | 'qa';

export interface Seq2SeqInput extends Seq2SeqSource {
  model: string;
  parameters?: Seq2SeqParameterInput;
}

/**
 * A chat turn: `messages` is the whole conversation so far, ending with a user message; or, with a
 * `session`, `message` alone (the next user message; the session supplies the history).
 */
export interface ChatInput {
  model: string;
  messages?: ChatMessage[];
  message?: string;
  session?: string;
  /** The API key name whose session namespace `session` lives in (null/absent: auth off). */
  owner?: string | null;
  parameters?: GenerationParameters;
}

export type RunOptions = GenerateOptions & { onStart?: () => void };

export class InferenceService {
  private inflight = 0;
  /** Chat sessions (kept conversation + model state between turns). */
  readonly sessions: SessionStore;

  constructor(
    private readonly cache: ModelCache,
    private readonly limits: ParamLimits & { maxConcurrentGenerations: number; maxSessions?: number; sessionTtlS?: number; sessionMemoryMb?: number },
    private readonly observer?: { observeGeneration(result: GenerationResult, firstTokenMs: number | null): void },
  ) {
    this.sessions = new SessionStore({
      maxSessions: limits.maxSessions ?? 1000,
      ttlMs: (limits.sessionTtlS ?? 1800) * 1000,
      maxBytes: (limits.sessionMemoryMb ?? 256) * 1024 * 1024,
    });
  }

  get inFlight(): number {
    return this.inflight;
  }

  /** Admits a request (or 429), holds its model for `task` while `fn` runs. */
  private async admit<T extends ModelTask, R>(ref: string, task: T, fn: (model: EntryFor<T>) => Promise<R>): Promise<R> {
    if (this.inflight >= this.limits.maxConcurrentGenerations) {
      throw new ServiceError('overloaded', `the server is running ${this.inflight} requests (MAX_CONCURRENT_GENERATIONS = ${this.limits.maxConcurrentGenerations}); retry shortly`, { headers: { 'retry-after': '1' } });
    }
    this.inflight++;
    try {
      const lease = await this.cache.acquire(ref, task);
      try {
        return await fn(lease.model);
      } finally {
        lease.release();
      }
    } finally {
      this.inflight--;
    }
  }

  /** Streams through onToken and measures time to first token for the metrics. */
  private observed<R extends { text: string; details: GenerationResult['details'] }>(opts: RunOptions, run: (o: GenerateOptions) => Promise<R>): Promise<R> {
    opts.onStart?.();
    const admitted = performance.now();
    let firstTokenMs: number | null = null;
    return run({
      signal: opts.signal,
      onToken: (e) => {
        firstTokenMs ??= performance.now() - admitted;
        opts.onToken?.(e);
      },
    }).then((result) => {
      this.observer?.observeGeneration(result, firstTokenMs);
      return result;
    });
  }

  /**
   * Validates everything that can fail before the first token (so HTTP can still answer with a
   * status code), then runs. `onStart` fires once the request is admitted and its model loaded.
   */
  async generate(input: GenerateInput, opts: RunOptions = {}): Promise<GenerationResult> {
    checkPrompt(input.prompt, this.limits);
    const params = resolveParams(input.parameters, this.limits);
    return this.admit(input.model, 'generate', (model) => {
      checkContext(model, promptIdCount(model, input.prompt), 'prompt'); // before onStart: still a 400 on SSE
      return this.observed(opts, (o) => generateText(model, input.prompt, params, o));
    });
  }

  /**
   * One chat turn (see ChatInput). With `session`, the server reuses the state kept at the end of
   * the session's last turn when it covers a prefix of this conversation (same model version), so
   * only the new tokens run; else it re-reads the history. A `message`-only turn on a session the
   * server does not have (expired, evicted, restarted) is refused with session_expired.
   */
  async chat(input: ChatInput, opts: RunOptions = {}): Promise<GenerationResult> {
    const params = resolveParams(input.parameters, this.limits);
    if (input.messages !== undefined && input.message !== undefined) {
      throw new ServiceError('invalid_parameter', 'message: send either `messages` (the whole conversation) or `message` (with `session`: the next user message), not both', { param: 'message' });
    }
    if (input.messages === undefined && input.message === undefined) {
      throw new ServiceError('invalid_parameter', 'messages is required (the conversation so far, ending with a user message)', { param: 'messages' });
    }
    if (input.message !== undefined && input.session === undefined) {
      throw new ServiceError('invalid_parameter', 'message: a single `message` needs a `session` (which holds the history); without one send `messages`', { param: 'message' });
    }
    if (input.messages) checkMessages(input.messages, this.limits.maxPromptChars);
    else checkPrompt(input.message!, this.limits, 'message');
    const sessionId = input.session !== undefined && this.sessions.enabled ? input.session : undefined;
    const name = parseModelRef(input.model, 'model').name;
    const owner = input.owner ?? null;
    return this.admit(input.model, 'chat', async (model) => {
      const held = sessionId === undefined ? undefined : this.sessions.checkout(sessionId, name, owner);
      let messages = input.messages;
      if (messages === undefined) {
        if (!held) {
          throw new ServiceError('session_expired', `session: "${input.session}" is not kept by the server (expired after SESSION_TTL_S, evicted, or never created); send the whole conversation in \`messages\` to rebuild it`, { param: 'session' });
        }
        messages = [...held.messages, { role: 'user', content: input.message! }];
        try {
          checkMessages(messages, this.limits.maxPromptChars);
        } catch (err) {
          this.sessions.release(sessionId!, owner);
          held.kept && disposeKept(held.kept);
          throw err;
        }
      }
      let next: KeptState | undefined;
      try {
        checkContext(model, model.chat.renderPrompt(messages).length, input.messages ? 'messages' : 'message');
        const result = await this.observed(opts, (o) =>
          chatTurn(model, messages, params, o, sessionId === undefined ? {} : { kept: held?.kept, onKeep: (k) => (next = k) }),
        );
        if (sessionId !== undefined) {
          this.sessions.commit(sessionId, name, model.ref, [...messages, { role: 'assistant', content: result.text }], next, held !== undefined, owner);
          next = undefined;
        }
        const { cachedTokens, ...rest } = result;
        return { ...rest, details: { ...rest.details, ...(sessionId === undefined ? {} : { cached_tokens: cachedTokens }) } };
      } finally {
        if (next) disposeKept(next);
        if (held?.kept) disposeKept(held.kept);
        if (sessionId !== undefined) this.sessions.release(sessionId, owner);
      }
    });
  }

  /** summarize / translate / qa: encode once, then greedy, sampled or beam decoding. */
  async seq2seq(task: Seq2SeqTask, input: Seq2SeqInput, opts: RunOptions = {}): Promise<Seq2SeqResult> {
    checkPrompt(input.source, this.limits, task === 'qa' ? 'question' : 'text');
    if (input.context !== undefined) checkPrompt(input.context, this.limits, 'context');
    resolveSeq2SeqParams(input.parameters, this.limits, this.limits.maxNewTokens); // fail fast, before a model load
    return this.admit(input.model, task, async (model) => {
      const defaults = { ...seq2seqDecodingDefaults(model.targetTokenizer.type, model.manifest.task), translator: defaultTranslator(model.manifest) };
      const params = resolveSeq2SeqParams(input.parameters, this.limits, targetLimit(model.manifest), defaults);
      if (params.translator === 'word_alignment' && !(await model.wordTranslator())) {
        throw new ServiceError('invalid_parameter', `parameters.translator: ${model.ref} has no word-alignment translator (translate models trained by this version have one); use "neural"`, { param: 'parameters.translator' });
      }
      return this.observed(opts, (o) => runSeq2Seq(model, input, params, o));
    });
  }

  async classify(input: { model: string; text: string }): Promise<ClassifyResult> {
    checkPrompt(input.text, this.limits, 'text');
    return this.admit(input.model, 'classify', (model) => classifyText(model, input.text));
  }

  /** Scores a model on rows (any task: the model's own); counted as one request in flight. */
  async evaluate(ref: string, rows: Record<string, string>[], columns: TrainJobData['columns'], maxExamples: number): Promise<Evaluation> {
    const { task } = await this.cache.peekTask(ref);
    return this.admit(ref, task, (model) => evaluateModel(model, rows, columns, maxExamples));
  }
}

function disposeKept(k: KeptState): void {
  disposeModelState(k.state);
}

/** A conversation a reply can follow: non-empty, known roles, ending with a user message, within MAX_PROMPT_CHARS. */
export function checkMessages(messages: readonly ChatMessage[], maxChars: number): void {
  if (messages.length === 0) throw new ServiceError('invalid_parameter', 'messages must not be empty: send the conversation so far, ending with a user message', { param: 'messages' });
  messages.forEach((m, i) => {
    if (!['system', 'developer', 'user', 'assistant'].includes(m.role)) {
      throw new ServiceError('invalid_parameter', `messages[${i}].role must be one of system, developer, user, assistant; got ${JSON.stringify(m.role)}`, { param: `messages[${i}].role` });
    }
    if (typeof m.content !== 'string') throw new ServiceError('invalid_parameter', `messages[${i}].content must be a string`, { param: `messages[${i}].content` });
  });
  const last = messages.length - 1;
  if (messages[last]!.role !== 'user') {
    throw new ServiceError('invalid_parameter', `messages[${last}].role must be "user": the reply follows the last user message; got ${JSON.stringify(messages[last]!.role)}`, { param: `messages[${last}].role` });
  }
  const chars = messages.reduce((n, m) => n + m.content.length, 0);
  if (chars > maxChars) throw new ServiceError('invalid_parameter', `messages: the conversation has ${chars} characters; the limit is ${maxChars} (MAX_PROMPT_CHARS)`, { param: 'messages' });
}
