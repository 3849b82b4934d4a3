/** Request parameters → the sampler's fully-resolved parameters, with the server's caps applied. */
import { randomInt } from 'node:crypto';
import { ServiceError } from '../errors.ts';
import type { SamplingParams } from '../decode/params.ts';
import type { GenerationParameters } from '../schemas/common.ts';

export interface ParamLimits {
  maxNewTokens: number;
  maxPromptChars: number;
}

export const PARAM_DEFAULTS = { max_new_tokens: 64, temperature: 1, top_k: 0, top_p: 1, repetition_penalty: 1, do_sample: true } as const;

export function resolveParams(p: GenerationParameters | undefined, limits: ParamLimits, field = 'parameters'): SamplingParams {
  const max = p?.max_new_tokens ?? Math.min(PARAM_DEFAULTS.max_new_tokens, limits.maxNewTokens);
  if (max > limits.maxNewTokens) {
    throw new ServiceError('invalid_parameter', `${field}.max_new_tokens must be ≤ ${limits.maxNewTokens} (the server's MAX_NEW_TOKENS), got ${max}`);
  }
  return {
    max_new_tokens: max,
    temperature: p?.temperature ?? PARAM_DEFAULTS.temperature,
    top_k: p?.top_k ?? PARAM_DEFAULTS.top_k,
    top_p: p?.top_p ?? PARAM_DEFAULTS.top_p,
    repetition_penalty: p?.repetition_penalty ?? PARAM_DEFAULTS.repetition_penalty,
    stop: p?.stop ?? [],
    seed: p?.seed ?? randomInt(0, 2 ** 32 - 1),
    do_sample: p?.do_sample ?? PARAM_DEFAULTS.do_sample,
  };
}

export function checkPrompt(prompt: string, limits: ParamLimits, field = 'prompt'): void {
  if (prompt.length > limits.maxPromptChars) {
    throw new ServiceError('invalid_parameter', `${field} must be at most ${limits.maxPromptChars} characters (MAX_PROMPT_CHARS), got ${prompt.length}`);
  }
}
