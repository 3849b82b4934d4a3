/**
 * The inference front door used by HTTP routes and the WebSocket: admission control (a cap on
 * generations in flight → 429 `overloaded` with Retry-After), model lookup and task check,
 * parameter resolution, and the generate loop. Route handlers stay thin by calling only this.
 */
import { ServiceError } from '../errors.ts';
import type { GenerationParameters } from '../schemas/common.ts';
import { generateText, type GenerateOptions, type GenerationResult } from './generate.ts';
import type { ModelCache } from './model-cache.ts';
import { checkPrompt, resolveParams, type ParamLimits } from './params.ts';

export interface GenerateInput {
  model: string;
  prompt: string;
  parameters?: GenerationParameters;
}

export class InferenceService {
  private inflight = 0;

  constructor(
    private readonly cache: ModelCache,
    private readonly limits: ParamLimits & { maxConcurrentGenerations: number },
    private readonly observer?: { observeGeneration(result: GenerationResult, firstTokenMs: number | null): void },
  ) {}

  get inFlight(): number {
    return this.inflight;
  }

  /**
   * Validates everything that can fail before the first token (so HTTP can still answer with a
   * status code), then runs. `onStart` fires once the request is admitted and its model loaded.
   */
  async generate(input: GenerateInput, opts: GenerateOptions & { onStart?: () => void } = {}): Promise<GenerationResult> {
    checkPrompt(input.prompt, this.limits);
    const params = resolveParams(input.parameters, this.limits);
    if (this.inflight >= this.limits.maxConcurrentGenerations) {
      throw new ServiceError('overloaded', `the server is generating for ${this.inflight} requests (MAX_CONCURRENT_GENERATIONS = ${this.limits.maxConcurrentGenerations}); retry shortly`, { 'retry-after': '1' });
    }
    this.inflight++;
    try {
      const lease = await this.cache.acquire(input.model);
      try {
        opts.onStart?.();
        const admitted = performance.now();
        let firstTokenMs: number | null = null;
        const result = await generateText(lease.model, input.prompt, params, {
          signal: opts.signal,
          onToken: (e) => {
            firstTokenMs ??= performance.now() - admitted;
            opts.onToken?.(e);
          },
        });
        this.observer?.observeGeneration(result, firstTokenMs);
        return result;
      } finally {
        lease.release();
      }
    } finally {
      this.inflight--;
    }
  }
}
