/** Request parameters → the sampler's fully-resolved parameters, with the server's caps applied. */
import { ServiceError } from '../errors.ts';
import { resolveSamplingParams, type SamplingParams } from '../decode/params.ts';
import type { GenerationParameters } from '../schemas/common.ts';
import type { Seq2SeqDecoding } from '../tasks/seq2seq-forward.ts';
import { TRANSLATORS, type Translator } from '../tasks/word-translation.ts';

export interface ParamLimits {
  maxNewTokens: number;
  maxPromptChars: number;
}

/** Defaults, validation and the server's max_new_tokens cap: see decode/params.ts. */
export function resolveParams(p: GenerationParameters | undefined, limits: ParamLimits): SamplingParams {
  return resolveSamplingParams(p ?? {}, { maxNewTokens: limits.maxNewTokens });
}

export function checkPrompt(prompt: string, limits: ParamLimits, field = 'prompt'): void {
  if (prompt.length > limits.maxPromptChars) {
    throw new ServiceError('invalid_parameter', `${field} must be at most ${limits.maxPromptChars} characters (MAX_PROMPT_CHARS), got ${prompt.length}`, { param: field });
  }
}

/** Beam search bounds (also in the Seq2SeqParameters schema). */
export const MAX_NUM_BEAMS = 16;
export const MAX_NO_REPEAT_NGRAM = 16;
export const LENGTH_PENALTY_RANGE = [-5, 5] as const;

export interface Seq2SeqParams extends SamplingParams {
  num_beams: number;
  length_penalty: number;
  no_repeat_ngram_size: number;
  known_words_only: boolean;
  translator: Translator;
}

export interface Seq2SeqParameterInput extends GenerationParameters {
  num_beams?: number;
  length_penalty?: number;
  no_repeat_ngram_size?: number;
  known_words_only?: boolean;
  translator?: Translator;
}

/** The fields the word-alignment translator reads; any other field asks for the neural model. */
const WORD_ALIGNMENT_FIELDS = new Set(['max_new_tokens', 'stop', 'seed', 'translator']);

/**
 * Fields only greedy or sampled decoding reads, with the value that leaves decoding unchanged: a
 * request setting one gets one hypothesis by default, and explicit beams refuse any other value.
 */
const GREEDY_ONLY_NEUTRAL = { repetition_penalty: 1, presence_penalty: 0, frequency_penalty: 0, top_logprobs: 0 } as const;
const GREEDY_ONLY_FIELDS = Object.keys(GREEDY_ONLY_NEUTRAL) as (keyof typeof GREEDY_ONLY_NEUTRAL)[];

/** No default beam, penalty or repetition rule (the fail-fast check before a model is loaded). */
export const NO_DECODING_RULES: Seq2SeqDecoding = { num_beams: 1, length_penalty: 1, no_repeat_ngram_size: 0, known_words_only: false };

/**
 * Seq2Seq parameters: the sampling ones (greedy by default here: do_sample defaults to false, and
 * max_new_tokens to the model's max_target_length) plus beam search and the repetition rule, whose
 * defaults are the model's (`defaults`: seq2seqDecodingDefaults of its target tokenizer and task). num_beams > 1
 * is deterministic beam search and cannot be combined with do_sample: true. A default beam width
 * (summarize) applies only to a request that sets none of the single-hypothesis fields (do_sample,
 * repetition_penalty, presence_penalty, frequency_penalty, top_logprobs): one that does is decoded
 * greedily or sampled, as it asked.
 * `translator` (translate models): the default is the model's (`defaults.translator`, neural when
 * absent), except that a request setting a field only the neural model reads (anything but
 * max_new_tokens, stop, seed and do_sample: false) gets the neural one; `word_alignment` with such a
 * field is refused.
 * Whether the model HAS a word-alignment translator is the caller's check (it needs the model).
 */
export function resolveSeq2SeqParams(p: Seq2SeqParameterInput | undefined, limits: ParamLimits, modelMaxTarget: number, defaults: Seq2SeqDecoding = NO_DECODING_RULES): Seq2SeqParams {
  const given = (p ?? {}) as Record<string, unknown>;
  // do_sample: false is what greedy decoding does anyway (and what /v1 sends for temperature 0 or none).
  const neuralField = Object.keys(given).find((k) => given[k] !== undefined && !WORD_ALIGNMENT_FIELDS.has(k) && !(k === 'do_sample' && given[k] === false));
  const translator = p?.translator ?? (neuralField === undefined ? defaults.translator ?? 'neural' : 'neural');
  if (!TRANSLATORS.includes(translator)) {
    throw new ServiceError('invalid_parameter', `parameters.translator must be one of ${TRANSLATORS.map((t) => `"${t}"`).join(', ')}; got ${JSON.stringify(translator)}`, { param: 'parameters.translator' });
  }
  if (translator === 'word_alignment' && neuralField !== undefined) {
    throw new ServiceError('invalid_parameter', `parameters.${neuralField} must be absent with translator "word_alignment" (the word-alignment translator reads only max_new_tokens, stop and seed; do_sample may be false)`, { param: `parameters.${neuralField}` });
  }
  const singleHypothesis = p !== undefined && (p.do_sample === true || GREEDY_ONLY_FIELDS.some((k) => p[k] !== undefined));
  const {
    // Sampling and the penalties keep one hypothesis: the default beam width applies to plain deterministic decoding only.
    num_beams = singleHypothesis ? 1 : defaults.num_beams,
    length_penalty = defaults.length_penalty,
    no_repeat_ngram_size = defaults.no_repeat_ngram_size,
    // The word constraint is a beam search rule: its default follows the beam width.
    known_words_only = num_beams > 1 && (defaults.known_words_only ?? false),
    translator: _translator,
    ...sampling
  } = p ?? {};
  const base = resolveSamplingParams(
    { do_sample: false, max_new_tokens: Math.min(modelMaxTarget, limits.maxNewTokens), ...sampling },
    { maxNewTokens: limits.maxNewTokens },
  );
  const bad = (field: string, rule: string, v: unknown): never => {
    throw new ServiceError('invalid_parameter', `parameters.${field} must be ${rule}; got ${JSON.stringify(v)}`, { param: `parameters.${field}` });
  };
  if (!Number.isInteger(num_beams) || num_beams < 1 || num_beams > MAX_NUM_BEAMS) bad('num_beams', `an integer in [1, ${MAX_NUM_BEAMS}]`, num_beams);
  if (typeof length_penalty !== 'number' || !Number.isFinite(length_penalty) || length_penalty < LENGTH_PENALTY_RANGE[0] || length_penalty > LENGTH_PENALTY_RANGE[1]) {
    bad('length_penalty', `a number in [${LENGTH_PENALTY_RANGE.join(', ')}]`, length_penalty);
  }
  if (!Number.isInteger(no_repeat_ngram_size) || no_repeat_ngram_size < 0 || no_repeat_ngram_size > MAX_NO_REPEAT_NGRAM) {
    bad('no_repeat_ngram_size', `an integer in [0, ${MAX_NO_REPEAT_NGRAM}] (0 = off)`, no_repeat_ngram_size);
  }
  if (typeof known_words_only !== 'boolean') bad('known_words_only', 'a boolean', known_words_only);
  if (known_words_only && num_beams === 1) bad('known_words_only', 'false when num_beams is 1 (the word constraint is a beam search rule)', true);
  if (num_beams > 1 && base.do_sample) bad('do_sample', 'false when num_beams > 1 (beam search is deterministic)', true);
  for (const key of GREEDY_ONLY_FIELDS) {
    const neutral = GREEDY_ONLY_NEUTRAL[key];
    if (num_beams > 1 && base[key] !== neutral) bad(key, `${neutral} when num_beams > 1 (greedy and sampled decoding only)`, base[key]);
  }
  return { ...base, num_beams, length_penalty, no_repeat_ngram_size, known_words_only, translator };
}
