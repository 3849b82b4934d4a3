/**
 * Wire types shared by several endpoints. TypeBox schemas are the one source for request
 * validation (HTTP and WebSocket), response serialisation, the OpenAPI file and TS types.
 */
import { Type, type Static } from '@sinclair/typebox';
import { DEFAULT_SAMPLING_PARAMS as D, MAX_REPETITION_PENALTY, MAX_STOP_LENGTH, MAX_STOP_SEQUENCES, MAX_TEMPERATURE } from '../decode/params.ts';

export const MODEL_NAME_REGEX = '^[a-z0-9][a-z0-9._-]{0,63}$';
/** `name` or `name@version` (version a positive integer). */
export const MODEL_REF_REGEX = '^[a-z0-9][a-z0-9._-]{0,63}(@[1-9][0-9]{0,8})?$';

export const ModelName = Type.String({ pattern: MODEL_NAME_REGEX, description: 'Model name: lowercase letters, digits, ".", "_" and "-", at most 64 characters.' });
export const ModelRef = Type.String({ pattern: MODEL_REF_REGEX, description: '`name` (latest version) or `name@version`.' });

export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable machine-readable code, e.g. model_not_found.' }),
      message: Type.String({ description: 'Human-readable; names the field and the limit.' }),
      type: Type.String({ description: 'Error family, e.g. invalid_request_error.' }),
    }),
  },
  { $id: 'ErrorResponse', description: 'The one error shape (HTTP body, SSE event, WebSocket frame).' },
);
export type ErrorResponse = Static<typeof ErrorResponse>;

/** Sampling parameters; every field optional with a documented default. */
export const GenerationParameters = Type.Object(
  {
    max_new_tokens: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000, default: D.max_new_tokens, description: 'Tokens to generate at most (capped by the server\'s MAX_NEW_TOKENS).' })),
    temperature: Type.Optional(Type.Number({ minimum: 0, maximum: MAX_TEMPERATURE, default: D.temperature, description: 'Softmax temperature; 0 means greedy.' })),
    top_k: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000000, default: D.top_k, description: 'Keep the k most likely tokens; 0 = off.' })),
    top_p: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1, default: D.top_p, description: 'Nucleus sampling mass; 1 = off.' })),
    repetition_penalty: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: MAX_REPETITION_PENALTY, default: D.repetition_penalty, description: 'CTRL-style penalty on tokens already generated or in the prompt; 1 = off.' })),
    stop: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: MAX_STOP_LENGTH }), { maxItems: MAX_STOP_SEQUENCES, default: [], description: 'Stop sequences; generation ends before the first one and it is not returned.' })),
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 4294967295, description: 'Random seed; same seed, same model, same parameters give the same output. Random when absent (returned in details).' })),
    do_sample: Type.Optional(Type.Boolean({ default: D.do_sample, description: 'false = greedy decoding.' })),
  },
  { additionalProperties: false, $id: 'GenerationParameters' },
);
export type GenerationParameters = Static<typeof GenerationParameters>;

export const FinishReason = Type.Union([Type.Literal('length'), Type.Literal('eos'), Type.Literal('stop_sequence'), Type.Literal('cancelled')]);

export const GenerationDetails = Type.Object(
  {
    finish_reason: FinishReason,
    generated_tokens: Type.Integer(),
    input_tokens: Type.Integer(),
    seed: Type.Integer(),
    elapsed_ms: Type.Number(),
    model: Type.String({ description: 'The resolved `name@version` that served the request.' }),
  },
  { $id: 'GenerationDetails' },
);
export type GenerationDetails = Static<typeof GenerationDetails>;
