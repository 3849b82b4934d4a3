/**
 * The OpenAI-compatible API under /v1: request and response wire types, exactly OpenAI's field
 * names. Requests are checked here for structure (types, ranges); rules that need a precise message
 * (stop lists, content parts, roles, caps from the config, unsupported fields) live in
 * src/http/v1/mapping.ts, which also turns a request into the service's GenerationParameters.
 * Unknown fields are refused (additionalProperties: false), never ignored.
 */
import { Type, type Static } from '@sinclair/typebox';
import { MAX_TOP_LOGPROBS } from '../decode/params.ts';

/** `n`: choices per request, at most this many (each is one row in the model's batch). */
export const MAX_CHOICES = 8;
/** OpenAI's limit on stop sequences. */
export const MAX_OPENAI_STOP = 4;
/** /v1/completions `logprobs`: alternatives per token, at most (OpenAI's limit). */
export const MAX_COMPLETION_LOGPROBS = 5;

const Model = Type.String({ minLength: 1, maxLength: 200, description: 'A model name (latest version) or `name@version`, as listed by GET /v1/models.' });

/** Sampling fields shared by both endpoints (OpenAI names and ranges). */
const SamplingFields = {
  max_tokens: Type.Optional(Type.Integer({ minimum: 1, description: 'Tokens to generate at most (capped by the server\'s MAX_NEW_TOKENS); default: the server\'s default (64).' })),
  temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 2, description: '0 = greedy. Default 1 (language models); Seq2Seq models decode greedily unless temperature > 0 is given.' })),
  top_p: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Nucleus sampling mass; 0 = greedy.' })),
  n: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_CHOICES, description: 'Choices to generate: each an independent sequence (seed + index) in the model\'s batch.' })),
  stop: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())], { description: 'Up to 4 non-empty stop sequences; the output ends before the first one and never contains it.' })),
  seed: Type.Optional(Type.Integer({ description: 'Same seed, model version and parameters → the same output (choice i uses seed + i). Any integer; reduced modulo 2^32.' })),
  presence_penalty: Type.Optional(Type.Number({ minimum: -2, maximum: 2 })),
  frequency_penalty: Type.Optional(Type.Number({ minimum: -2, maximum: 2 })),
  user: Type.Optional(Type.String({ maxLength: 256, description: 'An end-user id; logged with the request.' })),
  stream: Type.Optional(Type.Boolean()),
  stream_options: Type.Optional(Type.Object({ include_usage: Type.Optional(Type.Boolean()) }, { additionalProperties: false })),
};

export const ChatTextPart = Type.Object({ type: Type.String(), text: Type.Optional(Type.String()) }, { description: 'Only `{"type": "text", "text"}` parts are accepted.' });

export const ChatMessageInput = Type.Object(
  {
    role: Type.String({ description: 'system, developer, user or assistant.' }),
    content: Type.Union([Type.String(), Type.Array(ChatTextPart)], { description: 'A string, or an array of text parts (joined).' }),
    name: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type ChatMessageInput = Static<typeof ChatMessageInput>;

export const ChatCompletionRequest = Type.Object(
  {
    model: Model,
    messages: Type.Array(ChatMessageInput, { description: 'The conversation so far, ending with a user message.' }),
    max_completion_tokens: Type.Optional(Type.Integer({ minimum: 1, description: 'Same as max_tokens (takes precedence).' })),
    logprobs: Type.Optional(Type.Boolean()),
    top_logprobs: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_TOP_LOGPROBS, description: 'Needs logprobs: true.' })),
    ...SamplingFields,
  },
  { additionalProperties: false, $id: 'ChatCompletionRequest' },
);
export type ChatCompletionRequest = Static<typeof ChatCompletionRequest>;

export const CompletionRequest = Type.Object(
  {
    model: Model,
    prompt: Type.Union([Type.String(), Type.Array(Type.String())], { description: 'The text to continue (a Seq2Seq model: its input text). An array must hold exactly one string.' }),
    logprobs: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_COMPLETION_LOGPROBS, description: 'Log-probabilities of the chosen tokens and this many alternatives per token.' })),
    ...SamplingFields,
  },
  { additionalProperties: false, $id: 'CompletionRequest' },
);
export type CompletionRequest = Static<typeof CompletionRequest>;

const Nullable = <T extends ReturnType<typeof Type.Object>>(t: T) => Type.Union([t, Type.Null()]);

export const Usage = Type.Object(
  { prompt_tokens: Type.Integer(), completion_tokens: Type.Integer(), total_tokens: Type.Integer() },
  { $id: 'OpenAIUsage', description: 'prompt_tokens: the input\'s tokens (counted once, whatever n); completion_tokens: summed over the choices.' },
);
export type Usage = Static<typeof Usage>;

const TopLogprob = Type.Object({ token: Type.String(), logprob: Type.Number(), bytes: Type.Array(Type.Integer()) });
export const ChatTokenLogprob = Type.Object({ ...TopLogprob.properties, top_logprobs: Type.Array(TopLogprob) });
export const ChatLogprobs = Type.Object({ content: Type.Array(ChatTokenLogprob), refusal: Type.Null() }, { $id: 'ChatLogprobs' });
export type ChatLogprobs = Static<typeof ChatLogprobs>;

const FinishReason = Type.Union([Type.Literal('stop'), Type.Literal('length')]);

export const ChatCompletion = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('chat.completion'),
    created: Type.Integer({ description: 'Unix time in seconds.' }),
    model: Type.String({ description: 'The `name@version` that answered.' }),
    system_fingerprint: Type.String({ description: 'The `name@version` that answered: a new version may change seeded outputs.' }),
    choices: Type.Array(
      Type.Object({
        index: Type.Integer(),
        message: Type.Object({ role: Type.Literal('assistant'), content: Type.String(), refusal: Type.Null() }),
        logprobs: Nullable(ChatLogprobs),
        finish_reason: FinishReason,
      }),
    ),
    usage: Usage,
  },
  { $id: 'ChatCompletion' },
);
export type ChatCompletion = Static<typeof ChatCompletion>;

export const CompletionLogprobs = Type.Object(
  {
    tokens: Type.Array(Type.String()),
    token_logprobs: Type.Array(Type.Number()),
    top_logprobs: Type.Array(Type.Record(Type.String(), Type.Number())),
    text_offset: Type.Array(Type.Integer()),
  },
  { $id: 'CompletionLogprobs' },
);
export type CompletionLogprobs = Static<typeof CompletionLogprobs>;

export const Completion = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('text_completion'),
    created: Type.Integer({ description: 'Unix time in seconds.' }),
    model: Type.String(),
    system_fingerprint: Type.String(),
    choices: Type.Array(Type.Object({ index: Type.Integer(), text: Type.String(), logprobs: Nullable(CompletionLogprobs), finish_reason: FinishReason })),
    usage: Usage,
  },
  { $id: 'Completion' },
);
export type Completion = Static<typeof Completion>;

export const OpenAIModel = Type.Object(
  { id: Type.String(), object: Type.Literal('model'), created: Type.Integer(), owned_by: Type.String() },
  { $id: 'OpenAIModel' },
);
export type OpenAIModel = Static<typeof OpenAIModel>;
export const OpenAIModelList = Type.Object({ object: Type.Literal('list'), data: Type.Array(OpenAIModel) }, { $id: 'OpenAIModelList' });
export const OpenAIModelParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });
