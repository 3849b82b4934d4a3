/**
 * WebSocket protocol frames (`GET /ws`). Client frames are validated against these schemas exactly
 * like HTTP bodies (same validator, same error messages). `id` is chosen by the client and names a
 * request within one socket.
 */
import { Type, type Static } from '@sinclair/typebox';
import { ErrorResponse, GenerationDetails, Seq2SeqDetails } from './common.ts';
import { GenerateInputFields } from './generate.ts';
import { ChatInputFields } from './chat.ts';
import { QaInputFields, SummarizeInputFields, TranslateInputFields } from './seq2seq.ts';

const RequestId = Type.String({ minLength: 1, maxLength: 128, description: 'Client-chosen request id, unique among the socket\'s open requests.' });

export const WsGenerateFrame = Type.Object(
  { type: Type.Literal('generate'), id: RequestId, ...GenerateInputFields },
  { additionalProperties: false, $id: 'WsGenerateFrame' },
);
export const WsSummarizeFrame = Type.Object({ type: Type.Literal('summarize'), id: RequestId, ...SummarizeInputFields }, { additionalProperties: false, $id: 'WsSummarizeFrame' });
export const WsTranslateFrame = Type.Object({ type: Type.Literal('translate'), id: RequestId, ...TranslateInputFields }, { additionalProperties: false, $id: 'WsTranslateFrame' });
export const WsQaFrame = Type.Object({ type: Type.Literal('qa'), id: RequestId, ...QaInputFields }, { additionalProperties: false, $id: 'WsQaFrame' });
export const WsChatFrame = Type.Object(
  { type: Type.Literal('chat'), id: RequestId, ...ChatInputFields },
  { additionalProperties: false, $id: 'WsChatFrame', description: 'One chat turn: `messages` (the conversation so far, ending with a user message) or, with `session`, `message` (the next user message). Answered with token frames and a done frame, like generate.' },
);
export const WsCancelFrame = Type.Object({ type: Type.Literal('cancel'), id: RequestId }, { additionalProperties: false, $id: 'WsCancelFrame' });
export const WsSubscribeFrame = Type.Object(
  { type: Type.Literal('subscribe'), job_id: Type.String({ pattern: '^[0-9]{1,18}$' }) },
  { additionalProperties: false, $id: 'WsSubscribeFrame' },
);
/** Frame schemas by `type`; a frame is dispatched on `type` first, then validated with its schema. */
export const WsAuthFrame = Type.Object(
  { type: Type.Literal('auth'), api_key: Type.String({ minLength: 1, maxLength: 256, description: 'An API key (docs/auth.md).' }) },
  {
    additionalProperties: false,
    $id: 'WsAuthFrame',
    description: 'Authenticates the socket when keys are configured and the upgrade request carried none (browsers cannot set upgrade headers): send it first. Answered with an authenticated frame, or an invalid_api_key error frame and close 1008.',
  },
);
export const WS_CLIENT_FRAMES = {
  auth: WsAuthFrame,
  generate: WsGenerateFrame, summarize: WsSummarizeFrame, translate: WsTranslateFrame, qa: WsQaFrame, cancel: WsCancelFrame, subscribe: WsSubscribeFrame, chat: WsChatFrame,
} as const;
export type WsGenerateFrame = Static<typeof WsGenerateFrame>;
export type WsSummarizeFrame = Static<typeof WsSummarizeFrame>;
export type WsTranslateFrame = Static<typeof WsTranslateFrame>;
export type WsQaFrame = Static<typeof WsQaFrame>;
export type WsCancelFrame = Static<typeof WsCancelFrame>;
export type WsChatFrame = Static<typeof WsChatFrame>;
export type WsSubscribeFrame = Static<typeof WsSubscribeFrame>;
export type WsAuthFrame = Static<typeof WsAuthFrame>;

export const WsTokenFrame = Type.Object(
  { type: Type.Literal('token'), id: Type.String(), index: Type.Integer(), text: Type.String(), token_id: Type.Integer(), logprob: Type.Number(),
    top_logprobs: Type.Optional(Type.Array(Type.Object({ token_id: Type.Integer(), text: Type.String(), logprob: Type.Number() }), { description: 'With parameters.top_logprobs > 0: the most likely tokens at this position.' })) },
  { $id: 'WsTokenFrame' },
);
export const WsDoneFrame = Type.Object(
  { type: Type.Literal('done'), id: Type.String(), text: Type.String(), details: Type.Union([Seq2SeqDetails, GenerationDetails], { description: 'GenerationDetails for generate; Seq2SeqDetails for summarize, translate and qa.' }) },
  { $id: 'WsDoneFrame' },
);
export const WsProgressFrame = Type.Object(
  { type: Type.Literal('progress'), job_id: Type.String(), status: Type.String(), progress: Type.Unknown(), error: Type.Optional(Type.String()), result: Type.Optional(Type.Unknown()) },
  { $id: 'WsProgressFrame' },
);
export const WsAuthenticatedFrame = Type.Object(
  {
    type: Type.Literal('authenticated'),
    key: Type.Union([Type.Object({ name: Type.String(), scopes: Type.Array(Type.String()) }), Type.Null()], { description: 'The key the socket now acts as; null when auth is off.' }),
  },
  { $id: 'WsAuthenticatedFrame' },
);
export const WsErrorFrame = Type.Object(
  { type: Type.Literal('error'), id: Type.Optional(Type.String()), job_id: Type.Optional(Type.String()), error: ErrorResponse.properties.error },
  { $id: 'WsErrorFrame' },
);
