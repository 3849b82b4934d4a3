/**
 * What the two window-LM trainers share (generate: train-lm.ts; chat: train-chat.ts): window
 * batches as tensors, the held-out loss over windows, and the loop's run spec — one optimizer step
 * per batch of windows on their cross-entropy. `ignoreId` is a target id the loss skips (PAD_ID for
 * chat, whose non-assistant targets are masked to it; -1 = none, every target counts).
 *
 * The model is a recurrent LayersModel (arch/lm.ts) or a Transformer (arch/transformer.ts): both
 * map ids [B, T] to logits [B, T, V]; `buildWindowModel` makes the job's one, the Transformer's size
 * from the auto-size policy (train/auto-size.ts) for what the request left unset.
 */
import * as tf from '@tensorflow/tfjs';
import { buildLanguageModel, sequenceCrossEntropy } from '../arch/lm.ts';
import { TransformerLM } from '../arch/transformer.ts';
import type { TrainJobData } from '../queue/contract.ts';
import type { Batch, EpochPlan } from './lm-data.ts';
import { loopRules, optimizerStep, type GradStats, type TrainableRun } from './loop.ts';
import { applyTransformerAutoSize } from './auto-size.ts';
import type { DataParallelStep } from './data-parallel.ts';

export type WindowModel = tf.LayersModel | TransformerLM;

/**
 * The job's language model over `vocabSize` ids and the hyperparameters it trains with (the
 * Transformer's auto-sized from `trainTokens`; `chosen` = what the policy picked).
 */
export function buildWindowModel(job: TrainJobData, vocabSize: number, trainTokens: number): { model: WindowModel; hp: TrainJobData['hyperparameters']; chosen: Record<string, number | string> } {
  if (job.architecture === 'transformer') {
    const { hyperparameters: hp, chosen } = applyTransformerAutoSize(job, trainTokens);
    const model = new TransformerLM({ vocabSize, layers: hp.layers, heads: hp.heads, embeddingDim: hp.embedding_dim, contextLength: hp.context_length }, hp.seed);
    return { model, hp, chosen };
  }
  const hp = job.hyperparameters;
  const model = buildLanguageModel({ vocabSize, architecture: job.architecture, layers: hp.layers, units: hp.units, embeddingDim: hp.embedding_dim, dropout: hp.dropout, seed: hp.seed });
  return { model, hp, chosen: {} };
}

/**
 * Adam for the job: the Transformer with β₂ = 0.99 and ε = 1e-8 (nanoGPT's character-level
 * settings; AdamW's decoupled decay is applied by optimizerStep from hp.weight_decay), recurrent
 * models with tf.js's defaults.
 */
export function windowOptimizer(model: WindowModel, hp: TrainJobData['hyperparameters']): tf.Optimizer {
  return model instanceof TransformerLM ? tf.train.adam(hp.learning_rate, 0.9, 0.99, 1e-8) : tf.train.adam(hp.learning_rate);
}

/** The training window: context_length for a Transformer, sequence_length for a recurrent model. */
export const windowOf = (model: WindowModel, hp: TrainJobData['hyperparameters']): number => (model instanceof TransformerLM ? hp.context_length : hp.sequence_length);

/** Logits [B, T, V] of ids x [B, T]; `dropout` > 0 with `seed` = a training pass (recurrent models use their own dropout layers). */
export function windowLogits(model: WindowModel, x: tf.Tensor2D, training: boolean, dropout = 0, seed = 0): tf.Tensor {
  if (model instanceof TransformerLM) return model.forward(x, training ? { dropout, seed } : {});
  return model.apply(x, { training }) as tf.Tensor;
}

/** A batch of windows → x [rows, seqLen] and y [rows, seqLen] (int32). */
export const windowTensors = (b: Batch) => ({ x: tf.tensor2d(b.x, [b.rows, b.seqLen], 'int32'), y: tf.tensor2d(b.y, [b.rows, b.seqLen], 'int32') });

/** Mean cross-entropy over the counted targets (≠ ignoreId) of `batches`, or null when none count. */
export function windowLoss(model: WindowModel, batches: readonly Batch[], ignoreId = -1): number | null {
  let total = 0;
  let tokens = 0;
  for (const b of batches) {
    const n = b.y.reduce((k, id) => k + (id === ignoreId ? 0 : 1), 0);
    if (n === 0) continue;
    const loss = tf.tidy(() => {
      const { x, y } = windowTensors(b);
      return sequenceCrossEntropy(windowLogits(model, x, false), y, ignoreId);
    });
    total += loss.dataSync()[0]! * n;
    tokens += n;
    loss.dispose();
  }
  return tokens > 0 ? total / tokens : null;
}

export interface WindowRunSpec {
  model: WindowModel;
  optimizer: tf.Optimizer;
  hp: TrainJobData['hyperparameters'];
  /** The seeded plan of window batches of each epoch (memoised by the caller). */
  planFor: (epoch: number) => EpochPlan;
  gradStats: GradStats;
  validate: () => number | null;
  checkpointExtra: TrainableRun['checkpointExtra'];
  ignoreId?: number;
  /** TRAIN_THREADS > 1: each step's batch is split over these threads (data-parallel.ts); absent = one thread. */
  parallel?: DataParallelStep | null;
}

/** The loop's run spec for a window LM: steps capped by max_steps_per_epoch, clipping and weight decay from `hp`. */
export function windowTrainableRun(spec: WindowRunSpec): TrainableRun {
  const { model, optimizer, hp, planFor, gradStats, ignoreId = -1, parallel } = spec;
  return {
    rules: loopRules(hp),
    gradStats,
    stepsIn: (epoch) => (hp.max_steps_per_epoch ? Math.min(planFor(epoch).steps, hp.max_steps_per_epoch) : planFor(epoch).steps),
    trainStep: async (epoch, step) => {
      const b = planFor(epoch).batch(step);
      const seed = (hp.seed + epoch * 100003 + step * 7) >>> 0;
      const stepOptions = { clipNorm: hp.clip_norm, weightDecay: hp.weight_decay, stats: gradStats };
      if (parallel) return { loss: await parallel.step(b, seed, stepOptions), tokens: b.rows * b.seqLen };
      const loss = tf.tidy(() => {
        const { x, y } = windowTensors(b);
        return optimizerStep(optimizer, () => sequenceCrossEntropy(windowLogits(model, x, true, hp.dropout, seed), y, ignoreId), undefined, stepOptions);
      });
      const value = (await loss.data())[0]!;
      loss.dispose();
      return { loss: value, tokens: b.rows * b.seqLen };
    },
    validate: spec.validate,
    weights: () => model.getWeights(),
    setWeights: (w) => model.setWeights(w),
    checkpointExtra: spec.checkpointExtra,
  };
}
