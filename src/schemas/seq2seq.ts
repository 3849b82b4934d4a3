/** POST /summarize, /translate, /qa, /classify and /models/:name/evaluate; the WebSocket frames reuse the input fields. */
import { Type, type Static } from '@sinclair/typebox';
import { ModelRef, NullableQualityWarning, Seq2SeqDetails, Seq2SeqParameters } from './common.ts';
import { Columns } from './train.ts';

const InputText = (description: string) => Type.String({ minLength: 1, maxLength: 100000, description: `${description} Capped by MAX_PROMPT_CHARS; longer than the model's max_source_length tokens is truncated (details.truncated_input_tokens).` });
const Stream = Type.Optional(Type.Boolean({ default: false, description: 'true = Server-Sent Events: `token` events, then one `done` event. With num_beams > 1 the tokens of the final hypothesis are sent once it is decided.' }));

export const SummarizeInputFields = { model: ModelRef, text: InputText('Text to summarize.'), parameters: Type.Optional(Seq2SeqParameters) };
export const TranslateInputFields = { model: ModelRef, text: InputText('Text to translate (the model\'s source language, see its manifest `languages`).'), parameters: Type.Optional(Seq2SeqParameters) };
export const QaInputFields = {
  model: ModelRef,
  question: InputText('The question.'),
  context: Type.Optional(Type.String({ maxLength: 100000, description: 'The passage to answer from (the encoder reads `question ⟨sep⟩ context`); omit it for a model trained without contexts.' })),
  parameters: Type.Optional(Seq2SeqParameters),
};

export const SummarizeRequest = Type.Object({ ...SummarizeInputFields, stream: Stream }, { additionalProperties: false, $id: 'SummarizeRequest' });
export const TranslateRequest = Type.Object({ ...TranslateInputFields, stream: Stream }, { additionalProperties: false, $id: 'TranslateRequest' });
export const QaRequest = Type.Object({ ...QaInputFields, stream: Stream }, { additionalProperties: false, $id: 'QaRequest' });
export type SummarizeRequest = Static<typeof SummarizeRequest>;
export type TranslateRequest = Static<typeof TranslateRequest>;
export type QaRequest = Static<typeof QaRequest>;

export const SummarizeResponse = Type.Object({ summary: Type.String(), details: Seq2SeqDetails }, { $id: 'SummarizeResponse' });
export const TranslateResponse = Type.Object({ translation: Type.String(), details: Seq2SeqDetails }, { $id: 'TranslateResponse' });
export const QaResponse = Type.Object({ answer: Type.String(), details: Seq2SeqDetails }, { $id: 'QaResponse' });

export const ClassifyRequest = Type.Object({ model: ModelRef, text: InputText('Text to classify.') }, { additionalProperties: false, $id: 'ClassifyRequest' });
export type ClassifyRequest = Static<typeof ClassifyRequest>;
export const ClassifyResponse = Type.Object(
  {
    label: Type.String({ description: 'The most probable label.' }),
    scores: Type.Record(Type.String(), Type.Number(), { description: 'Probability of every label (they sum to 1).' }),
    details: Type.Object({ input_tokens: Type.Integer(), truncated_input_tokens: Type.Integer(), elapsed_ms: Type.Number(), model: Type.String() }),
  },
  { $id: 'ClassifyResponse' },
);

export const EvaluateRequest = Type.Object(
  {
    dataset: Type.Union(
      [
        Type.Object({ id: Type.String({ pattern: '^ds_[0-9a-f]{24}$', description: 'An uploaded dataset (POST /datasets).' }) }, { additionalProperties: false }),
        Type.Object({ rows: Type.Array(Type.Record(Type.String(), Type.String()), { minItems: 1, maxItems: 100000 }) }, { additionalProperties: false }),
      ],
      { description: 'Rows with the columns of the model\'s task (as for training; `columns` renames them).' },
    ),
    columns: Type.Optional(Columns),
    max_examples: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000, default: 500, description: 'Rows scored at most (the first ones).' })),
  },
  { additionalProperties: false, $id: 'EvaluateRequest' },
);
export type EvaluateRequest = Static<typeof EvaluateRequest>;
export const EvaluateResponse = Type.Object(
  {
    model: Type.String({ description: 'The resolved name@version.' }),
    task: Type.String(),
    examples: Type.Integer(),
    metrics: Type.Record(Type.String(), Type.Number(), {
      description: 'translate: bleu, chrf (character 6-gram F-score, β = 2), exact_match; summarize: rouge1, rouge2, rougeL, exact_match; qa: exact_match, f1 — each with copy_input_* (the input copied as output), lead_* (summarize: the first sentence), retrieval_* (the target of the most similar training example, from the model\'s stored index) and val_loss/perplexity; classify: accuracy, macro_f1, majority_class_*; generate: val_loss, perplexity. All in [0, 1] except losses and perplexities.',
    }),
    quality_warning: NullableQualityWarning,
  },
  { $id: 'EvaluateResponse' },
);
