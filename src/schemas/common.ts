/**
 * Wire types shared by several endpoints. TypeBox schemas are the one source for request
 * validation (HTTP and WebSocket), response serialisation, the OpenAPI file and TS types.
 */
import { Type, type Static } from '@sinclair/typebox';
import { LENGTH_PENALTY_RANGE, MAX_NO_REPEAT_NGRAM, MAX_NUM_BEAMS } from '../infer/params.ts';
import { DEFAULT_SAMPLING_PARAMS as D, MAX_ADDITIVE_PENALTY, MAX_TOP_LOGPROBS, MAX_REPETITION_PENALTY, MAX_STOP_LENGTH, MAX_STOP_SEQUENCES, MAX_TEMPERATURE } from '../decode/params.ts';

export const MODEL_NAME_REGEX = '^[a-z0-9][a-z0-9._-]{0,63}$';
/** `name` or `name@version` (version a positive integer). */
export const MODEL_REF_REGEX = '^[a-z0-9][a-z0-9._-]{0,63}(@[1-9][0-9]{0,8})?$';

export const ModelName = Type.String({ pattern: MODEL_NAME_REGEX, description: 'Model name: lowercase letters, digits, ".", "_" and "-", at most 64 characters.' });
export const ModelRef = Type.String({ pattern: MODEL_REF_REGEX, description: '`name` (latest version) or `name@version`.' });

/** The querystring of a route that takes no query parameters: any parameter is refused by name. */
export const NoQuery = Type.Object({}, { additionalProperties: false });

export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable machine-readable code, e.g. model_not_found.' }),
      message: Type.String({ description: 'Human-readable; names the field and the limit.' }),
      type: Type.String({ description: 'Error family, e.g. invalid_request_error.' }),
      param: Type.Union([Type.String(), Type.Null()], { description: 'The offending request field (`parameters.top_p`, `messages[2].role`), or null.' }),
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
    presence_penalty: Type.Optional(Type.Number({ minimum: -MAX_ADDITIVE_PENALTY, maximum: MAX_ADDITIVE_PENALTY, default: D.presence_penalty, description: 'OpenAI-style: subtracted once from the logit of every token already generated; 0 = off.' })),
    frequency_penalty: Type.Optional(Type.Number({ minimum: -MAX_ADDITIVE_PENALTY, maximum: MAX_ADDITIVE_PENALTY, default: D.frequency_penalty, description: 'OpenAI-style: subtracted from a token\'s logit once per time it was generated; 0 = off.' })),
    top_logprobs: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_TOP_LOGPROBS, default: D.top_logprobs, description: 'Each token event lists this many most likely alternatives with their logprobs (`top_logprobs`); 0 = none. Greedy and sampled decoding only.' })),
  },
  { additionalProperties: false, $id: 'GenerationParameters' },
);
export type GenerationParameters = Static<typeof GenerationParameters>;

/** Seq2Seq endpoints: the sampling parameters (greedy by default) plus beam search. */
export const Seq2SeqParameters = Type.Object(
  {
    ...GenerationParameters.properties,
    max_new_tokens: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000, description: 'Tokens to generate at most; default: the model\'s max_target_length (capped by MAX_NEW_TOKENS).' })),
    do_sample: Type.Optional(Type.Boolean({ default: false, description: 'true = sample (temperature, top_k, top_p); false = greedy, or beam search with num_beams > 1.' })),
    num_beams: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_NUM_BEAMS, description: 'Beam width; > 1 = beam search (do_sample must be false). Default 1, except for summarize models: 4 unless the request samples or sets repetition_penalty, presence_penalty, frequency_penalty or top_logprobs. With streaming, the final hypothesis is sent once decided.' })),
    length_penalty: Type.Optional(Type.Number({ minimum: LENGTH_PENALTY_RANGE[0], maximum: LENGTH_PENALTY_RANGE[1], default: 1, description: 'Beam score = sum of log-probs / length^length_penalty (> 0 favours longer outputs, < 0 shorter).' })),
    no_repeat_ngram_size: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_NO_REPEAT_NGRAM, description: 'The repetition rule (greedy, sampling and beam search): no n-gram of this many tokens appears twice in an output; 0 = off. Default: the model\'s target tokenizer — 12 for characters, 3 for words, 4 for BPE (docs/training.md).' })),
    known_words_only: Type.Optional(Type.Boolean({ description: 'Beam search only: every word of the output (a run of letters and digits, compared lowercased) is a word of the model\'s training targets or of the request\'s input, so a subword model cannot spell new words out of pieces. Default: true for summarize models when beam search runs, false otherwise; true with num_beams 1 is an error (docs/training.md).' })),
    translator: Type.Optional(Type.Union([Type.Literal('neural'), Type.Literal('word_alignment')], { description: 'Translate models: "neural" = the Seq2Seq network; "word_alignment" = the word-alignment translator (IBM Model 1 lexicon + trigram language model) its training job fitted on the same rows, which reads only max_new_tokens, stop and seed (do_sample may be false). Default: the one the job measured better on its held-out rows (the manifest\'s decoding.translator), except that a request setting any other field gets the neural one (docs/training.md).' })),
  },
  { additionalProperties: false, $id: 'Seq2SeqParameters' },
);
export type Seq2SeqParameters = Static<typeof Seq2SeqParameters>;

export const FinishReason = Type.Union([Type.Literal('length'), Type.Literal('eos'), Type.Literal('stop_sequence'), Type.Literal('cancelled')]);

export const GenerationDetails = Type.Object(
  {
    finish_reason: FinishReason,
    generated_tokens: Type.Integer(),
    input_tokens: Type.Integer(),
    seed: Type.Integer(),
    elapsed_ms: Type.Number(),
    model: Type.String({ description: 'The resolved `name@version` that served the request.' }),
    cached_tokens: Type.Optional(Type.Integer({ description: 'Chat turns with a session: prompt tokens served from the state kept at the end of the last turn (not run again).' })),
  },
  { $id: 'GenerationDetails' },
);
export type GenerationDetails = Static<typeof GenerationDetails>;

/** Seq2Seq answers add what happened to the input and the beam width. */
export const Seq2SeqDetails = Type.Object(
  {
    ...GenerationDetails.properties,
    input_tokens: Type.Integer({ description: 'Source tokens the encoder read (after truncation).' }),
    truncated_input_tokens: Type.Integer({ description: 'Source tokens dropped because the input exceeded the model\'s max_source_length (its tail is cut; for QA, the context\'s tail).' }),
    num_beams: Type.Integer(),
  },
  { $id: 'Seq2SeqDetails' },
);
export type Seq2SeqDetails = Static<typeof Seq2SeqDetails>;

/** eval/quality.ts's QualityWarning: the model does not beat a baseline computed on the same rows. */
export const QualityWarningSchema = Type.Object(
  {
    message: Type.String({ description: 'One plain sentence: both figures, the most likely reason and what to try.' }),
    reason: Type.Union(['too_few_steps', 'too_little_data', 'underfitting', 'overfitting'].map((r) => Type.Literal(r)), {
      description: 'From the train/held-out losses and the optimizer steps: overfitting (held-out loss >10% above training loss; too_little_data when that happens with under 2,000 training examples), too_few_steps (losses close, under 1,000 steps), underfitting (losses close after more).',
    }),
    metric: Type.String({ description: 'The headline metric (bleu, rougeL, f1, macro_f1, perplexity).' }),
    value: Type.Number(),
    baseline: Type.String({ description: 'The strongest baseline\'s metric key, e.g. retrieval_bleu, lead_rougeL, bigram_perplexity, majority_class_macro_f1.' }),
    baseline_value: Type.Number(),
  },
  { description: 'Present (non-null) when the model does not beat its strongest baseline on the held-out rows.' },
);
export const NullableQualityWarning = Type.Union([QualityWarningSchema, Type.Null()]);
