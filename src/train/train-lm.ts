/**
 * The language-model training loop, independent of BullMQ: fits a tokenizer, builds the model,
 * runs seeded epochs of Adam on windows of the corpus, reports progress, checkpoints, resumes,
 * stops on request at the next batch, and evaluates perplexity on the validation split beside the
 * unigram and bigram perplexities of the same held-out ids (eval/ngram.ts), warning when the model
 * does not beat them (eval/quality.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { buildLanguageModel } from '../arch/lm.ts';
import { fitTokenizerFor, loadTokenizer, type Tokenizer } from '../tokenize/index.ts';
import type { TrainJobData } from '../queue/contract.ts';
import { encodeCorpus } from '../tasks/lm-encoding.ts';
import { ngramPerplexities } from '../eval/ngram.ts';
import type { QualityWarning } from '../eval/quality.ts';
import { checkQuality } from './quality-check.ts';
import { assertEnoughTokens, epochPlan, splitTrainVal, validationBatches, type Batch } from './lm-data.ts';
import { FRESH_START, GradStats, lossMetrics, perEpoch, resumeFromCheckpoint, runTrainingLoop, trainingSummary, type LoopStart, type TrainHooks } from './loop.ts';
import { windowLoss, windowTrainableRun } from './window-lm.ts';

export type { TrainHooks } from './loop.ts';

export interface TrainOutcome {
  stopped: boolean;
  model: tf.LayersModel;
  tokenizer: Tokenizer;
  metrics: Record<string, number>;
  qualityWarning: QualityWarning | null;
  /** Optimizer steps taken (all sessions). */
  steps: number;
  summary: ReturnType<typeof trainingSummary>;
  epochsCompleted: number;
  tokensPerSec: number | null;
  durationSec: number;
}

/** Mean cross-entropy over every target of the given batches, or null when there are none. */
export function evaluateLoss(model: tf.LayersModel, batches: readonly Batch[]): number | null {
  return windowLoss(model, batches);
}

export async function trainLanguageModel(job: TrainJobData, records: readonly string[], hooks: TrainHooks): Promise<TrainOutcome> {
  const hp = job.hyperparameters;
  const started = Date.now();
  const resumed = hooks.checkpoint ? await hooks.checkpoint.load() : null;
  const tokenizer = resumed ? loadTokenizer(resumed.state.tokenizer) : fitTokenizerFor(job.tokenizer, records);
  const ids = encodeCorpus(records, tokenizer);
  const { train, val } = splitTrainVal(ids, hp.validation_split);
  assertEnoughTokens(train.length, hp.sequence_length);
  const valBatches = validationBatches(val, hp.sequence_length, hp.batch_size);

  const model = buildLanguageModel({
    vocabSize: tokenizer.vocabSize, architecture: job.architecture, layers: hp.layers, units: hp.units,
    embeddingDim: hp.embedding_dim, dropout: hp.dropout, seed: hp.seed,
  });
  const optimizer = tf.train.adam(hp.learning_rate);
  // On any failure (divergence, a failed checkpoint write) the model and optimizer are freed:
  // the sandboxed trainer process is reused for the next job.
  try {
    const start: LoopStart = resumed ? await resumeFromCheckpoint(resumed, (w) => model.setWeights(w), optimizer, hooks) : FRESH_START;
    if (!resumed) await hooks.log(`tokenizer ${tokenizer.type}: ${tokenizer.vocabSize} tokens; corpus ${ids.length} ids (${train.length} train, ${val.length} validation)`);
    const planFor = perEpoch((epoch) => epochPlan(train, hp.sequence_length, hp.batch_size, hp.seed, epoch));
    const gradStats = new GradStats();
    const result = await runTrainingLoop(
      windowTrainableRun({
        model, optimizer, hp, planFor, gradStats,
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
      qualityWarning = await checkQuality('generate', metrics, { steps, train_examples: Math.floor(train.length / hp.sequence_length) }, hooks);
    }
    return {
      stopped: result.stopped, model, tokenizer, metrics, qualityWarning, steps, summary: trainingSummary(result), epochsCompleted: result.epochsCompleted,
      tokensPerSec: result.tokensPerSec, durationSec: (Date.now() - started) / 1000,
    };
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    optimizer.dispose();
  }
}
