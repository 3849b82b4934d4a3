/**
 * The language-model training loop, independent of BullMQ: fits a tokenizer, builds the model,
 * runs seeded epochs of Adam on windows of the corpus, reports progress, checkpoints, resumes,
 * stops on request at the next batch, and evaluates perplexity on the validation split beside the
 * unigram and bigram perplexities of the same held-out ids (eval/ngram.ts), warning when the model
 * does not beat them (eval/quality.ts).
 */
import { fitTokenizerFor, loadTokenizer, type Tokenizer } from '../tokenize/index.ts';
import type { TrainJobData } from '../queue/contract.ts';
import { encodeCorpus } from '../tasks/lm-encoding.ts';
import { ngramPerplexities } from '../eval/ngram.ts';
import type { QualityWarning } from '../eval/quality.ts';
import { checkQuality } from './quality-check.ts';
import { assertEnoughTokens, epochPlan, splitTrainVal, validationBatches, type Batch } from './lm-data.ts';
import { FRESH_START, GradStats, lossMetrics, perEpoch, resumeFromCheckpoint, runTrainingLoop, trainingSummary, type LoopStart, type TrainHooks } from './loop.ts';
import type { DataParallelStep, ParallelOptions } from './data-parallel.ts';
import { startWindowParallel } from './window-replica.ts';
import { buildWindowModel, windowOptimizer, windowLoss, windowOf, windowTrainableRun, type WindowModel } from './window-lm.ts';

export type { TrainHooks } from './loop.ts';

export interface TrainOutcome {
  stopped: boolean;
  /** A recurrent LayersModel, or a Transformer (architecture transformer). */
  model: WindowModel;
  tokenizer: Tokenizer;
  metrics: Record<string, number>;
  qualityWarning: QualityWarning | null;
  /** Optimizer steps taken (all sessions). */
  steps: number;
  summary: ReturnType<typeof trainingSummary>;
  epochsCompleted: number;
  tokensPerSec: number | null;
  durationSec: number;
  /** The hyperparameters trained with (the Transformer's auto-sized ones filled in) and what the policy chose. */
  hyperparameters: TrainJobData['hyperparameters'];
  autoSized: Record<string, number | string>;
}

/** Mean cross-entropy over every target of the given batches, or null when there are none. */
export function evaluateLoss(model: WindowModel, batches: readonly Batch[]): number | null {
  return windowLoss(model, batches);
}

export async function trainLanguageModel(job: TrainJobData, records: readonly string[], hooks: TrainHooks, parallelism: ParallelOptions = {}): Promise<TrainOutcome> {
  const started = Date.now();
  const resumed = hooks.checkpoint ? await hooks.checkpoint.load() : null;
  const tokenizer = resumed ? loadTokenizer(resumed.state.tokenizer) : fitTokenizerFor(job.tokenizer, records);
  const ids = encodeCorpus(records, tokenizer);
  const { train, val } = splitTrainVal(ids, job.hyperparameters.validation_split);
  const { model, hp, chosen } = buildWindowModel(job, tokenizer.vocabSize, train.length);
  const window = windowOf(model, hp);
  try {
    assertEnoughTokens(train.length, window, job.architecture === 'transformer' ? 'context_length' : 'sequence_length');
  } catch (err) {
    model.dispose();
    throw err;
  }
  const valBatches = validationBatches(val, window, hp.batch_size);
  const optimizer = windowOptimizer(model, hp);
  let parallel: DataParallelStep | null = null;
  // On any failure (divergence, a failed checkpoint write) the model and optimizer are freed:
  // the sandboxed trainer process is reused for the next job.
  try {
    const start: LoopStart = resumed ? await resumeFromCheckpoint(resumed, (w) => model.setWeights(w), optimizer, hooks) : FRESH_START;
    if (!resumed) await hooks.log(`tokenizer ${tokenizer.type}: ${tokenizer.vocabSize} tokens; corpus ${ids.length} ids (${train.length} train, ${val.length} validation)`);
    if (Object.keys(chosen).length > 0) await hooks.log(describeTransformerSize(train.length, chosen));
    const planFor = perEpoch((epoch) => epochPlan(train, window, hp.batch_size, hp.seed, epoch));
    const gradStats = new GradStats();
    parallel = await startWindowParallel({
      trainThreads: parallelism.trainThreads ?? 1, job, model, hp, vocabSize: tokenizer.vocabSize, trainTokens: train.length, ignoreId: -1, optimizer, log: hooks.log,
    });
    const result = await runTrainingLoop(
      windowTrainableRun({
        model, optimizer, hp, planFor, gradStats, parallel,
        validate: () => evaluateLoss(model, valBatches),
        checkpointExtra: () => ({ tokenizer: tokenizer.toJSON() }),
      }),
      optimizer,
      hooks,
      start,
    );

    const steps = result.steps; // optimizer steps over all sessions (the loop counts them)
    const metrics = lossMetrics(result, true);
    let qualityWarning: QualityWarning | null = null;
    const ngram = result.stopped ? null : ngramPerplexities(train, val, tokenizer.vocabSize);
    if (ngram && metrics.perplexity !== undefined) {
      Object.assign(metrics, ngram);
      qualityWarning = await checkQuality('generate', metrics, { steps, train_examples: Math.floor(train.length / window) }, hooks);
    }
    return {
      stopped: result.stopped, model, tokenizer, metrics, qualityWarning, steps, summary: trainingSummary(result), epochsCompleted: result.epochsCompleted,
      tokensPerSec: result.tokensPerSec, durationSec: (Date.now() - started) / 1000, hyperparameters: hp, autoSized: chosen,
    };
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    optimizer.dispose();
    await parallel?.close(); // every exit (done, cancelled, failed) ends the gradient threads
  }
}

/** "auto-size (Transformer, 1003854 training tokens): embedding_dim 128, heads 4, …" for the job's log. */
export function describeTransformerSize(tokens: number, chosen: Record<string, number | string>): string {
  return `auto-size (Transformer, ${tokens} training tokens): ${Object.entries(chosen).map(([k, v]) => `${k} ${v}`).join(', ')}`;
}
