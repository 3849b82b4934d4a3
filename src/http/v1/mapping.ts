/**
 * OpenAI request fields → the service's inputs, with OpenAI's field names in every error `param`.
 *   - prepareBody: before schema validation — `null` means "absent" (OpenAI's convention), and the
 *     fields we cannot honour are refused by name (UNSUPPORTED), never silently ignored;
 *   - planGeneration: sampling fields → GenerationParameters, `n`, seeds, logprobs, streaming;
 *   - toChatMessages: OpenAI messages → ChatMessage[] (text parts joined; roles and order checked).
 * Response shaping lives in responses.ts.
 */
import { randomInt } from 'node:crypto';
import { ServiceError } from '../../errors.ts';
import type { GenerationParameters } from '../../schemas/common.ts';
import { CHAT_ROLES, type ChatMessage, type ChatRole } from '../../schemas/chat.ts';
import { MAX_OPENAI_STOP, type ChatCompletionRequest, type ChatMessageInput, type CompletionRequest } from '../../schemas/openai.ts';


const bad = (param: string, message: string): ServiceError => new ServiceError('invalid_parameter', message, { param });

/**
 * OpenAI fields refused with a reason, and the values that mean "not used" (accepted). Both
 * endpoints; message-level fields are checked per message.
 */
export const UNSUPPORTED: Record<string, { reason: string; noop?: (v: unknown) => boolean }> = {
  tools: { reason: 'tool calling is not supported: these models produce plain text', noop: (v) => Array.isArray(v) && v.length === 0 },
  tool_choice: { reason: 'tool calling is not supported', noop: (v) => v === 'none' },
  parallel_tool_calls: { reason: 'tool calling is not supported' },
  functions: { reason: 'function calling is not supported', noop: (v) => Array.isArray(v) && v.length === 0 },
  function_call: { reason: 'function calling is not supported', noop: (v) => v === 'none' },
  response_format: { reason: 'structured output (json_object, json_schema) is not supported: decoding is not constrained to a grammar', noop: (v) => isObject(v) && v.type === 'text' },
  logit_bias: { reason: 'logit_bias is keyed by OpenAI tokenizer ids, which mean nothing to these models\' own vocabularies', noop: (v) => isObject(v) && Object.keys(v).length === 0 },
  audio: { reason: 'audio output is not supported' },
  modalities: { reason: 'only text output is supported', noop: (v) => Array.isArray(v) && v.length === 1 && v[0] === 'text' },
  prediction: { reason: 'predicted outputs are not supported' },
  web_search_options: { reason: 'web search is not supported: the server reaches no network' },
  store: { reason: 'completions are not stored', noop: (v) => v === false },
  metadata: { reason: 'completions are not stored, so metadata has no use' },
  service_tier: { reason: 'there is one service tier', noop: (v) => v === 'auto' || v === 'default' },
  reasoning_effort: { reason: 'these are not reasoning models' },
  verbosity: { reason: 'these models have no verbosity control' },
  prompt_cache_key: { reason: 'prompt caching is not exposed' },
  safety_identifier: { reason: 'use `user` to identify an end user' },
  echo: { reason: 'echo is not supported', noop: (v) => v === false },
  best_of: { reason: 'best_of is not supported (use n)', noop: (v) => v === 1 },
  suffix: { reason: 'insertion (suffix) is not supported: the models only continue text' },
};

/** Message fields refused with a reason (checked for every message). */
const UNSUPPORTED_IN_MESSAGE: Record<string, string> = {
  tool_calls: 'tool calling is not supported',
  function_call: 'function calling is not supported',
  tool_call_id: 'tool messages are not supported',
  audio: 'audio is not supported',
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Removes `null` fields (OpenAI: null = default), at the top level and in messages. */
function dropNulls(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null));
}

/**
 * Runs before schema validation: nulls dropped, then every unsupported field refused with a 400
 * naming it (unless its value is a no-op such as `response_format: {"type": "text"}`).
 */
export function prepareBody(body: unknown): unknown {
  if (!isObject(body)) return body;
  const out = dropNulls(body);
  for (const [field, rule] of Object.entries(UNSUPPORTED)) {
    if (!(field in out)) continue;
    if (rule.noop?.(out[field])) {
      delete out[field];
      continue;
    }
    throw new ServiceError('unsupported_parameter', `${field} is not supported by this server: ${rule.reason}`, { param: field });
  }
  if (Array.isArray(out.messages)) {
    out.messages = out.messages.map((m, i) => {
      if (!isObject(m)) return m;
      const msg = dropNulls(m);
      if (msg.role === 'assistant' && !('content' in msg) && 'tool_calls' in msg) {
        throw new ServiceError('unsupported_parameter', `messages[${i}].tool_calls is not supported by this server: tool calling is not supported`, { param: `messages[${i}].tool_calls` });
      }
      for (const [field, reason] of Object.entries(UNSUPPORTED_IN_MESSAGE)) {
        if (field in msg) throw new ServiceError('unsupported_parameter', `messages[${i}].${field} is not supported by this server: ${reason}`, { param: `messages[${i}].${field}` });
      }
      delete msg.refusal; // an assistant message's refusal echoed back by a client: carries nothing
      return msg;
    });
  }
  return out;
}


/** OpenAI messages → the chat contract's messages: text parts joined, roles checked, last from the user. */
export function toChatMessages(messages: ChatMessageInput[]): ChatMessage[] {
  if (messages.length === 0) throw bad('messages', 'messages must hold at least one message (the conversation so far, ending with a user message)');
  const out = messages.map((m, i): ChatMessage => {
    if (m.role === 'tool' || m.role === 'function') {
      throw new ServiceError('unsupported_parameter', `messages[${i}].role "${m.role}" is not supported by this server: tool calling is not supported`, { param: `messages[${i}].role` });
    }
    if (!(CHAT_ROLES as readonly string[]).includes(m.role)) throw bad(`messages[${i}].role`, `messages[${i}].role must be one of ${CHAT_ROLES.join(', ')}, got ${JSON.stringify(m.role.slice(0, 40))}`);
    if (m.name !== undefined) {
      throw new ServiceError('unsupported_parameter', `messages[${i}].name is not supported by this server: the chat template has no participant names`, { param: `messages[${i}].name` });
    }
    let content: string;
    if (typeof m.content === 'string') content = m.content;
    else {
      content = m.content
        .map((part, j) => {
          const where = `messages[${i}].content[${j}]`;
          if (part.type !== 'text') {
            throw new ServiceError('unsupported_parameter', `${where}.type "${String(part.type).slice(0, 40)}" is not supported by this server: only text parts ({"type": "text", "text": …}) are accepted`, { param: `${where}.type` });
          }
          if (typeof part.text !== 'string') throw bad(`${where}.text`, `${where}.text is required for a text part`);
          return part.text;
        })
        .join('');
    }
    return { role: m.role as ChatRole, content };
  });
  const last = out.length - 1;
  if (out[last]!.role !== 'user') {
    throw bad(`messages[${last}].role`, `the last message must be from the user (the reply is the assistant's next turn), got messages[${last}].role "${out[last]!.role}"`);
  }
  return out;
}

/** One-string prompts only: `prompt` as a string or an array of exactly one string. */
export function completionPrompt(prompt: CompletionRequest['prompt']): string {
  if (typeof prompt === 'string') return prompt;
  if (prompt.length !== 1) {
    throw new ServiceError('unsupported_parameter', `prompt must be a string or an array of exactly one string (batched prompts are not supported: send one request each), got ${prompt.length} strings`, { param: 'prompt' });
  }
  return prompt[0]!;
}

export interface GenerationPlan {
  /** The parameters of choice 0; choice i runs with `seed: seedOf(i)`. */
  parameters: GenerationParameters;
  n: number;
  seedOf: (choice: number) => number;
  /** null: no logprobs; else alternatives per token (0 = only the chosen token's). */
  logprobs: { top: number } | null;
  stream: boolean;
  includeUsage: boolean;
}

export interface PlanLimits {
  /** The server's MAX_NEW_TOKENS. */
  maxNewTokens: number;
}

/**
 * Sampling fields → GenerationParameters. `seq2seq`: the model decodes greedily unless sampling is
 * asked for (temperature > 0 or top_p < 1), and without max_tokens its own target length applies.
 */
export function planGeneration(req: ChatCompletionRequest | CompletionRequest, limits: PlanLimits, opts: { seq2seq?: boolean } = {}): GenerationPlan {
  const maxField = 'max_completion_tokens' in req && req.max_completion_tokens !== undefined ? 'max_completion_tokens' : 'max_tokens';
  const maxTokens = maxField === 'max_completion_tokens' ? (req as ChatCompletionRequest).max_completion_tokens : req.max_tokens;
  if (maxTokens !== undefined && maxTokens > limits.maxNewTokens) {
    throw bad(maxField, `${maxField} must be ≤ ${limits.maxNewTokens} (MAX_NEW_TOKENS), got ${maxTokens}`);
  }
  const stop = req.stop === undefined ? [] : typeof req.stop === 'string' ? [req.stop] : req.stop;
  if (stop.length > MAX_OPENAI_STOP) throw bad('stop', `stop must hold at most ${MAX_OPENAI_STOP} sequences, got ${stop.length}`);
  stop.forEach((s, i) => {
    if (s.length === 0) throw bad(typeof req.stop === 'string' ? 'stop' : `stop[${i}]`, `stop sequences must not be empty (stop${typeof req.stop === 'string' ? '' : `[${i}]`})`);
  });
  if (stop.some((s) => s.length > 256)) throw bad('stop', 'stop sequences must be at most 256 characters');

  if (req.stream_options !== undefined && req.stream !== true) throw bad('stream_options', 'stream_options is only allowed with stream: true');

  let logprobs: GenerationPlan['logprobs'] = null;
  if ('messages' in req) {
    if (req.top_logprobs !== undefined && req.top_logprobs > 0 && req.logprobs !== true) throw bad('top_logprobs', 'top_logprobs needs logprobs: true');
    if (req.logprobs === true) logprobs = { top: req.top_logprobs ?? 0 };
  } else if (req.logprobs !== undefined) logprobs = { top: req.logprobs };

  const parameters: GenerationParameters = { stop };
  if (maxTokens !== undefined) parameters.max_new_tokens = maxTokens;
  const greedy = req.temperature === 0 || req.top_p === 0;
  if (greedy) parameters.do_sample = false;
  else {
    if (req.temperature !== undefined) parameters.temperature = req.temperature;
    if (req.top_p !== undefined) parameters.top_p = req.top_p;
    if (opts.seq2seq) parameters.do_sample = (req.temperature ?? 0) > 0 || (req.top_p ?? 1) < 1;
  }
  if (req.presence_penalty) parameters.presence_penalty = req.presence_penalty;
  if (req.frequency_penalty) parameters.frequency_penalty = req.frequency_penalty;
  if (logprobs && logprobs.top > 0) parameters.top_logprobs = logprobs.top;
  // Any integer seed is reduced to the uint32 the sampler takes; choice i draws with seed + i.
  const base = req.seed === undefined ? randomInt(0, 2 ** 32) : ((req.seed % 2 ** 32) + 2 ** 32) % 2 ** 32;
  const seedOf = (i: number) => (base + i) % 2 ** 32;
  parameters.seed = seedOf(0);
  return {
    parameters,
    n: req.n ?? 1,
    seedOf,
    logprobs,
    stream: req.stream === true,
    includeUsage: req.stream_options?.include_usage === true,
  };
}

/** `parameters.max_new_tokens` (a service error) → the OpenAI field the client sent. */
export function toOpenAIParam(param: string | null, req: ChatCompletionRequest | CompletionRequest): string | null {
  if (param === null || !param.startsWith('parameters.')) return param;
  const field = param.slice('parameters.'.length);
  if (field === 'max_new_tokens') return 'max_completion_tokens' in req && req.max_completion_tokens !== undefined ? 'max_completion_tokens' : 'max_tokens';
  if (field === 'top_logprobs') return 'messages' in req ? 'top_logprobs' : 'logprobs';
  return field.replace(/^stop\[\d+\]$/, typeof req.stop === 'string' ? 'stop' : field);
}
