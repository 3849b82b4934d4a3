/**
 * The language-model training loop, independent of BullMQ: fits a tokenizer, builds the model,
 * runs seeded epochs of Adam on windows of the corpus, reports progress, checkpoints, resumes,
 * stops on request at the next batch, and evaluates perplexity on the validation split beside the
 * unigram and bigram perplexities of the same held-out ids (eval/ngram.ts), warning when the model
 * does not beat them (eval/quality.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { buildLanguageModel, sequenceCrossEntropy } from '../arch/lm.ts';
import { fitTokenizerFor, loadTokenizer, type Tokenizer } from '../tokenize/index.ts';
import type { TrainJobData } from '../queue/contract.ts';
import { encodeCorpus } from '../tasks/lm-encoding.ts';
import { ngramPerplexities } from '../eval/ngram.ts';
import type { QualityWarning } from '../eval/quality.ts';
import { checkQuality } from './quality-check.ts';
import { assertEnoughTokens, epochPlan, splitTrainVal, validationBatches, type Batch } from './lm-data.ts';
import { FRESH_START, GradStats, lossMetrics, loopRules, optimizerStep, perEpoch, resumeFromCheckpoint, runTrainingLoop, trainingSummary, type LoopStart, type TrainHooks } from './loop.ts';

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

const toTensors = (b: Batch) => ({ x: tf.tensor2d(b.x, [b.rows, b.seqLen], 'int32'), y: tf.tensor2d(b.y, [b.rows, b.seqLen], 'int32') });

/** Mean cross-entropy over the given batches (weighted by tokens), or null when there are none. */
export function evaluateLoss(model: tf.LayersModel, batches: readonly Batch[]): number | null {
  let total = 0;
  let tokens = 0;
  for (const b of batches) {
    const loss = tf.tidy(() => {
      const { x, y } = toTensors(b);
      return sequenceCrossEntropy(model.apply(x, { training: false }) as tf.Tensor, y);
    });
    total += loss.dataSync()[0]! * b.rows * b.seqLen;
    tokens += b.rows * b.seqLen;
    loss.dispose();
  }
  return tokens > 0 ? total / tokens : null;
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
      {
        rules: loopRules(hp),
        gradStats,
        stepsIn: (epoch) => (hp.max_steps_per_epoch ? Math.min(planFor(epoch).steps, hp.max_steps_per_epoch) : planFor(epoch).steps),
        trainStep: async (epoch, step) => {
          const b = planFor(epoch).batch(step);
          const loss = tf.tidy(() => {
            const { x, y } = toTensors(b);
            return optimizerStep(optimizer, () => sequenceCrossEntropy(model.apply(x, { training: true }) as tf.Tensor, y), undefined, { clipNorm: hp.clip_norm, weightDecay: hp.weight_decay, stats: gradStats });
          });
          const value = (await loss.data())[0]!;
          loss.dispose();
          return { loss: value, tokens: b.rows * b.seqLen };
        },
        validate: () => evaluateLoss(model, valBatches),
        weights: () => model.getWeights(),
        setWeights: (w) => model.setWeights(w),
        checkpointExtra: () => ({ tokenizer: tokenizer.toJSON() }),
      },
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
