/**
 * Sampling parameters as the decode loop consumes them: every field present, every value checked.
 * The wire schemas (src/schemas) describe the same fields for clients; resolveSamplingParams is the
 * one place that fills defaults and enforces the ranges the sampler relies on, so the sampler itself
 * never sees an out-of-range value.
 */
import { ServiceError } from '../errors.ts';
import { MAX_SEED, randomSeed } from './rng.ts';

export interface SamplingParams {
  /** Upper bound on generated tokens (EOS or a stop sequence may end generation earlier); ≥ 1. */
  max_new_tokens: number;
  /** Softmax temperature; 0 means greedy. Range [0, MAX_TEMPERATURE]. */
  temperature: number;
  /** Keep only the k most likely tokens; 0 = off. */
  top_k: number;
  /** Nucleus sampling: keep the smallest set of tokens with cumulative probability ≥ top_p; 1 = off. Range (0, 1]. */
  top_p: number;
  /** CTRL-style penalty on tokens already in the history; 1 = off. Range (0, MAX_REPETITION_PENALTY]. */
  repetition_penalty: number;
  /** Generation stops when the text contains one of these; the stop text is not returned. */
  stop: string[];
  /** uint32 seed of the sampling RNG; same seed + same model + same input → same output. */
  seed: number;
  /** false → greedy decoding (argmax), whatever temperature / top_k / top_p say. */
  do_sample: boolean;
  /**
   * OpenAI-style additive penalties on tokens this request has GENERATED so far (not the prompt):
   * logit[j] -= count[j] · frequency_penalty + (count[j] > 0) · presence_penalty. 0 = off.
   * Range [-MAX_ADDITIVE_PENALTY, MAX_ADDITIVE_PENALTY].
   */
  presence_penalty: number;
  frequency_penalty: number;
  /** Alternatives to report with each token (most likely first, with their logprobs); 0 = none. */
  top_logprobs: number;
}

export const MAX_TEMPERATURE = 100;
export const MAX_REPETITION_PENALTY = 10;
export const MAX_STOP_SEQUENCES = 16;
export const MAX_STOP_LENGTH = 256;
/** Default cap on max_new_tokens when the caller passes no limit (config may pass a tighter one). */
export const DEFAULT_MAX_NEW_TOKENS_LIMIT = 4096;
export const MAX_ADDITIVE_PENALTY = 2;
export const MAX_TOP_LOGPROBS = 20;

/** Defaults for every field except `seed`, which defaults to a fresh random uint32 per request. */
export const DEFAULT_SAMPLING_PARAMS: Readonly<Omit<SamplingParams, 'seed'>> = Object.freeze({
  max_new_tokens: 64,
  temperature: 1,
  top_k: 0,
  top_p: 1,
  repetition_penalty: 1,
  stop: [],
  do_sample: true,
  presence_penalty: 0,
  frequency_penalty: 0,
  top_logprobs: 0,
});

function invalid(field: string, rule: string, value: unknown): never {
  throw new ServiceError('invalid_parameter', `parameters.${field} must be ${rule}; got ${JSON.stringify(value)}`, { param: `parameters.${field}` });
}

function isNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/**
 * Fills defaults and validates. Throws ServiceError('invalid_parameter') naming the field and its
 * limit. `limits.maxNewTokens` is the server's cap on max_new_tokens (the default is lowered to it).
 * Only SamplingParams fields are read from `input`; other keys (num_beams, …) are not copied.
 */
export function resolveSamplingParams(
  input: Partial<SamplingParams> = {},
  limits: { maxNewTokens?: number } = {},
): SamplingParams {
  const maxNew = limits.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS_LIMIT;
  const p = {
    ...DEFAULT_SAMPLING_PARAMS,
    max_new_tokens: Math.min(DEFAULT_SAMPLING_PARAMS.max_new_tokens, maxNew),
    seed: undefined as number | undefined,
  };
  for (const key of Object.keys(p) as Array<keyof SamplingParams>) {
    if (input[key] !== undefined) (p as Record<string, unknown>)[key] = input[key];
  }
  if (!Number.isInteger(p.max_new_tokens) || p.max_new_tokens < 1 || p.max_new_tokens > maxNew) {
    invalid('max_new_tokens', `an integer in [1, ${maxNew}]`, p.max_new_tokens);
  }
  if (!isNumber(p.temperature) || p.temperature < 0 || p.temperature > MAX_TEMPERATURE) {
    invalid('temperature', `a number in [0, ${MAX_TEMPERATURE}] (0 = greedy)`, p.temperature);
  }
  if (!Number.isInteger(p.top_k) || p.top_k < 0) {
    invalid('top_k', 'an integer ≥ 0 (0 = off)', p.top_k);
  }
  if (!isNumber(p.top_p) || p.top_p <= 0 || p.top_p > 1) {
    invalid('top_p', 'a number in (0, 1] (1 = off)', p.top_p);
  }
  if (!isNumber(p.repetition_penalty) || p.repetition_penalty <= 0 || p.repetition_penalty > MAX_REPETITION_PENALTY) {
    invalid('repetition_penalty', `a number in (0, ${MAX_REPETITION_PENALTY}] (1 = off)`, p.repetition_penalty);
  }
  if (!Array.isArray(p.stop) || p.stop.length > MAX_STOP_SEQUENCES) {
    invalid('stop', `an array of at most ${MAX_STOP_SEQUENCES} strings`, p.stop);
  }
  p.stop.forEach((s: unknown, i) => {
    if (typeof s !== 'string' || s.length === 0 || s.length > MAX_STOP_LENGTH || !s.isWellFormed()) {
      invalid(`stop[${i}]`, `a non-empty string of at most ${MAX_STOP_LENGTH} UTF-16 units`, s);
    }
  });
  if (typeof p.do_sample !== 'boolean') invalid('do_sample', 'a boolean', p.do_sample);
  for (const key of ['presence_penalty', 'frequency_penalty'] as const) {
    const v = p[key];
    if (!isNumber(v) || Math.abs(v) > MAX_ADDITIVE_PENALTY) invalid(key, `a number in [-${MAX_ADDITIVE_PENALTY}, ${MAX_ADDITIVE_PENALTY}] (0 = off)`, v);
  }
  if (!Number.isInteger(p.top_logprobs) || p.top_logprobs < 0 || p.top_logprobs > MAX_TOP_LOGPROBS) {
    invalid('top_logprobs', `an integer in [0, ${MAX_TOP_LOGPROBS}] (0 = none)`, p.top_logprobs);
  }
  const seed = p.seed ?? randomSeed();
  if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
    invalid('seed', `an integer in [0, ${MAX_SEED}]`, seed);
  }
  return { ...p, stop: [...p.stop], seed };
}

/** True when greedy decoding applies: sampling is off or the temperature is 0. */
export function isGreedy(p: Pick<SamplingParams, 'do_sample' | 'temperature'>): boolean {
  return !p.do_sample || p.temperature === 0;
}

