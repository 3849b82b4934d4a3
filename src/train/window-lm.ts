/**
 * What the two window-LM trainers share (generate: train-lm.ts; chat: train-chat.ts): window
 * batches as tensors, the held-out loss over windows, and the loop's run spec — one optimizer step
 * per batch of windows on their cross-entropy. `ignoreId` is a target id the loss skips (PAD_ID for
 * chat, whose non-assistant targets are masked to it; -1 = none, every target counts).
 */
import * as tf from '@tensorflow/tfjs';
import { sequenceCrossEntropy } from '../arch/lm.ts';
import type { TrainJobData } from '../queue/contract.ts';
import type { Batch, EpochPlan } from './lm-data.ts';
import { loopRules, optimizerStep, type GradStats, type TrainableRun } from './loop.ts';

/** A batch of windows → x [rows, seqLen] and y [rows, seqLen] (int32). */
export const windowTensors = (b: Batch) => ({ x: tf.tensor2d(b.x, [b.rows, b.seqLen], 'int32'), y: tf.tensor2d(b.y, [b.rows, b.seqLen], 'int32') });

/** Mean cross-entropy over the counted targets (≠ ignoreId) of `batches`, or null when none count. */
export function windowLoss(model: tf.LayersModel, batches: readonly Batch[], ignoreId = -1): number | null {
  let total = 0;
  let tokens = 0;
  for (const b of batches) {
    const n = b.y.reduce((k, id) => k + (id === ignoreId ? 0 : 1), 0);
    if (n === 0) continue;
    const loss = tf.tidy(() => {
      const { x, y } = windowTensors(b);
      return sequenceCrossEntropy(model.apply(x, { training: false }) as tf.Tensor, y, ignoreId);
    });
    total += loss.dataSync()[0]! * n;
    tokens += n;
    loss.dispose();
  }
  return tokens > 0 ? total / tokens : null;
}

export interface WindowRunSpec {
  model: tf.LayersModel;
  optimizer: tf.Optimizer;
  hp: TrainJobData['hyperparameters'];
  /** The seeded plan of window batches of each epoch (memoised by the caller). */
  planFor: (epoch: number) => EpochPlan;
  gradStats: GradStats;
  validate: () => number | null;
  checkpointExtra: TrainableRun['checkpointExtra'];
  ignoreId?: number;
}

/** The loop's run spec for a window LM: steps capped by max_steps_per_epoch, clipping and weight decay from `hp`. */
export function windowTrainableRun(spec: WindowRunSpec): TrainableRun {
  const { model, optimizer, hp, planFor, gradStats, ignoreId = -1 } = spec;
  return {
    rules: loopRules(hp),
    gradStats,
    stepsIn: (epoch) => (hp.max_steps_per_epoch ? Math.min(planFor(epoch).steps, hp.max_steps_per_epoch) : planFor(epoch).steps),
    trainStep: async (epoch, step) => {
      const b = planFor(epoch).batch(step);
      const loss = tf.tidy(() => {
        const { x, y } = windowTensors(b);
        return optimizerStep(optimizer, () => sequenceCrossEntropy(model.apply(x, { training: true }) as tf.Tensor, y, ignoreId), undefined, { clipNorm: hp.clip_norm, weightDecay: hp.weight_decay, stats: gradStats });
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
