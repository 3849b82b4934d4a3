/** POST /generate and the WebSocket `generate` frame share these fields. */
import { Type, type Static } from '@sinclair/typebox';
import { GenerationDetails, GenerationParameters, ModelRef } from './common.ts';

export const GenerateInputFields = {
  model: ModelRef,
  prompt: Type.String({ maxLength: 100000, description: 'Text to continue (may be empty: generation starts from <bos>). Capped by MAX_PROMPT_CHARS.' }),
  parameters: Type.Optional(GenerationParameters),
};

export const GenerateRequest = Type.Object(
  { ...GenerateInputFields, stream: Type.Optional(Type.Boolean({ default: false, description: 'true = Server-Sent Events: `token` events, then one `done` event.' })) },
  { additionalProperties: false, $id: 'GenerateRequest' },
);
export type GenerateRequest = Static<typeof GenerateRequest>;

export const GenerateResponse = Type.Object(
  { generated_text: Type.String(), details: GenerationDetails },
  { $id: 'GenerateResponse' },
);
export type GenerateResponse = Static<typeof GenerateResponse>;
