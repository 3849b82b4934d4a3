/** Request parameters → the sampler's fully-resolved parameters, with the server's caps applied. */
import { ServiceError } from '../errors.ts';
import { resolveSamplingParams, type SamplingParams } from '../decode/params.ts';
import type { GenerationParameters } from '../schemas/common.ts';

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
    throw new ServiceError('invalid_parameter', `${field} must be at most ${limits.maxPromptChars} characters (MAX_PROMPT_CHARS), got ${prompt.length}`);
  }
}
