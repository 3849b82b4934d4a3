/**
 * Chat wire types, shared by the WebSocket `chat` frame, the service (InferenceService.chat) and the
 * OpenAI-compatible /v1 routes (which flatten OpenAI's content parts to a string first).
 */
import { Type, type Static } from '@sinclair/typebox';
import { GenerationParameters, ModelRef } from './common.ts';

export const CHAT_ROLES = ['system', 'developer', 'user', 'assistant'] as const;
export type ChatRole = (typeof CHAT_ROLES)[number];

/** Limits (also in the schemas below). */
export const MAX_CHAT_MESSAGES = 256;
export const MAX_SESSION_ID_LENGTH = 64;
export const SESSION_ID_REGEX = '^[A-Za-z0-9_-]{1,64}$';

export const ChatMessage = Type.Object(
  {
    role: Type.Union(CHAT_ROLES.map((r) => Type.Literal(r)), { description: '`developer` is treated as `system`.' }),
    content: Type.String({ maxLength: 100000, description: 'The message text (capped by MAX_PROMPT_CHARS for the whole conversation).' }),
  },
  { additionalProperties: false, $id: 'ChatMessage' },
);
export type ChatMessage = Static<typeof ChatMessage>;

export const SessionId = Type.String({
  pattern: SESSION_ID_REGEX,
  description: 'Client-chosen session id (letters, digits, "_" and "-", at most 64): the server keeps the model state at the end of each assistant turn under it, so the next turn runs only its new tokens.',
});

/** Fields of a chat request (WS `chat` frame). Exactly one of `messages` and `message`. */
export const ChatInputFields = {
  model: ModelRef,
  messages: Type.Optional(
    Type.Array(ChatMessage, {
      minItems: 1,
      maxItems: MAX_CHAT_MESSAGES,
      description: 'The whole conversation so far, ending with a user message; the reply is the assistant\'s next turn.',
    }),
  ),
  message: Type.Optional(Type.String({ maxLength: 100000, description: 'With `session` only: the next user message; the session supplies the history.' })),
  session: Type.Optional(SessionId),
  parameters: Type.Optional(GenerationParameters),
};

export const ChatSessionInfo = Type.Object(
  {
    id: Type.String(),
    model: Type.String({ description: 'The `name@version` whose state the session keeps.' }),
    messages: Type.Integer({ description: 'Messages in the kept conversation (including the last reply).' }),
    tokens: Type.Integer({ description: 'Tokens the kept state covers.' }),
    state_bytes: Type.Integer({ description: 'Bytes of model state kept for the session (0 when only the text is kept).' }),
    created_at: Type.String(),
    last_used_at: Type.String(),
    expires_at: Type.String({ description: 'When the session is dropped if unused (SESSION_TTL_S after its last use).' }),
  },
  { $id: 'ChatSessionInfo' },
);
export type ChatSessionInfo = Static<typeof ChatSessionInfo>;

export const SessionParams = Type.Object({ id: SessionId }, { $id: 'SessionParams' });
export const SessionDeleted = Type.Object({ deleted: Type.String() }, { $id: 'SessionDeleted' });
