/**
 * The inference front door used by HTTP routes and the WebSocket: admission control (a cap on
 * requests in flight → 429 `overloaded` with Retry-After), model lookup and task check
 * (model_task_mismatch), parameter resolution, and the request paths (generate, Seq2Seq, classify,
 * evaluate). Route handlers stay thin by calling only this.
 */
import { ServiceError } from '../errors.ts';
import type { GenerationParameters } from '../schemas/common.ts';
import type { ModelTask } from '../store/manifest.ts';
import type { TrainJobData } from '../queue/contract.ts';
import { classifyText, type ClassifyResult } from './classify.ts';
import { evaluateModel, type Evaluation } from './evaluate.ts';
import { generateText, type GenerateOptions, type GenerationResult } from './generate.ts';
import type { EntryFor, ModelCache } from './model-cache.ts';
import { checkPrompt, resolveParams, resolveSeq2SeqParams, type ParamLimits, type Seq2SeqParameterInput } from './params.ts';
import { runSeq2Seq, type Seq2SeqResult, type Seq2SeqSource } from './seq2seq-generate.ts';
import { targetLimit } from '../store/manifest.ts';

export interface GenerateInput {
  model: string;
  prompt: string;
  parameters?: GenerationParameters;
}

export type Seq2SeqTask = 'summarize' | 'translate' | 'qa';

export interface Seq2SeqInput extends Seq2SeqSource {
  model: string;
  parameters?: Seq2SeqParameterInput;
}

type RunOptions = GenerateOptions & { onStart?: () => void };

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

  /** Admits a request (or 429), holds its model for `task` while `fn` runs. */
  private async admit<T extends ModelTask, R>(ref: string, task: T, fn: (model: EntryFor<T>) => Promise<R>): Promise<R> {
    if (this.inflight >= this.limits.maxConcurrentGenerations) {
      throw new ServiceError('overloaded', `the server is running ${this.inflight} requests (MAX_CONCURRENT_GENERATIONS = ${this.limits.maxConcurrentGenerations}); retry shortly`, { headers: { 'retry-after': '1' } });
    }
    this.inflight++;
    try {
      const lease = await this.cache.acquire(ref, task);
      try {
        return await fn(lease.model);
      } finally {
        lease.release();
      }
    } finally {
      this.inflight--;
    }
  }

  /** Streams through onToken and measures time to first token for the metrics. */
  private observed<R extends { text: string; details: GenerationResult['details'] }>(opts: RunOptions, run: (o: GenerateOptions) => Promise<R>): Promise<R> {
    opts.onStart?.();
    const admitted = performance.now();
    let firstTokenMs: number | null = null;
    return run({
      signal: opts.signal,
      onToken: (e) => {
        firstTokenMs ??= performance.now() - admitted;
        opts.onToken?.(e);
      },
    }).then((result) => {
      this.observer?.observeGeneration(result, firstTokenMs);
      return result;
    });
  }

  /**
   * Validates everything that can fail before the first token (so HTTP can still answer with a
   * status code), then runs. `onStart` fires once the request is admitted and its model loaded.
   */
  async generate(input: GenerateInput, opts: RunOptions = {}): Promise<GenerationResult> {
    checkPrompt(input.prompt, this.limits);
    const params = resolveParams(input.parameters, this.limits);
    return this.admit(input.model, 'generate', (model) => this.observed(opts, (o) => generateText(model, input.prompt, params, o)));
  }

  /** summarize / translate / qa: encode once, then greedy, sampled or beam decoding. */
  async seq2seq(task: Seq2SeqTask, input: Seq2SeqInput, opts: RunOptions = {}): Promise<Seq2SeqResult> {
    checkPrompt(input.source, this.limits, task === 'qa' ? 'question' : 'text');
    if (input.context !== undefined) checkPrompt(input.context, this.limits, 'context');
    resolveSeq2SeqParams(input.parameters, this.limits, this.limits.maxNewTokens); // fail fast, before a model load
    return this.admit(input.model, task, (model) => {
      const params = resolveSeq2SeqParams(input.parameters, this.limits, targetLimit(model.manifest));
      return this.observed(opts, (o) => runSeq2Seq(model, input, params, o));
    });
  }

  async classify(input: { model: string; text: string }): Promise<ClassifyResult> {
    checkPrompt(input.text, this.limits, 'text');
    return this.admit(input.model, 'classify', (model) => classifyText(model, input.text));
  }

  /** Scores a model on rows (any task: the model's own); counted as one request in flight. */
  async evaluate(ref: string, rows: Record<string, string>[], columns: TrainJobData['columns'], maxExamples: number): Promise<Evaluation> {
    const { task } = await this.cache.peekTask(ref);
    return this.admit(ref, task, (model) => evaluateModel(model, rows, columns, maxExamples));
  }
}
