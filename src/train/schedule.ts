/**
 * Learning-rate schedules (pure): linear warm-up over `warmupSteps` optimizer steps, then
 *   constant  the base rate;
 *   cosine    half a cosine from the base rate down to `COSINE_FLOOR` × base at `totalSteps`
 *             (the run's step bound: max_steps, or max_epochs × steps per epoch);
 *   plateau   the base rate × `plateauScale`, which the loop halves after every held-out evaluation
 *             that does not improve the best loss by min_delta (reduce-on-plateau), down to
 *             PLATEAU_MIN_SCALE.
 * The loop sets the optimizer's rate before every step (`setLearningRate`), so a resumed job
 * continues the same curve (global step and plateau scale are in the checkpoint).
 */
import type * as tf from '@tensorflow/tfjs';

export const LR_SCHEDULES = ['constant', 'cosine', 'plateau'] as const;
export type LrSchedule = (typeof LR_SCHEDULES)[number];

export const COSINE_FLOOR = 0.05;
export const PLATEAU_FACTOR = 0.5;
export const PLATEAU_MIN_SCALE = 1 / 64;

export interface ScheduleSpec {
  kind: LrSchedule;
  baseLr: number;
  warmupSteps: number;
  /** Cosine: the step at which the rate reaches its floor (null = no decay). */
  totalSteps: number | null;
}

/** The learning rate for optimizer step `step` (0-based, counted over the whole run). */
export function learningRateAt(spec: ScheduleSpec, step: number, plateauScale = 1): number {
  const warm = spec.warmupSteps > 0 && step < spec.warmupSteps ? (step + 1) / spec.warmupSteps : 1;
  let lr = spec.baseLr * warm;
  if (spec.kind === 'plateau') lr *= plateauScale;
  if (spec.kind === 'cosine' && spec.totalSteps !== null && step >= spec.warmupSteps) {
    const span = Math.max(1, spec.totalSteps - spec.warmupSteps);
    const p = Math.min(1, (step - spec.warmupSteps) / span);
    lr *= COSINE_FLOOR + (1 - COSINE_FLOOR) * 0.5 * (1 + Math.cos(Math.PI * p));
  }
  return lr;
}

/** The next plateau scale after a held-out evaluation (`improved` = beat the best by min_delta). */
export function nextPlateauScale(scale: number, improved: boolean): number {
  return improved ? scale : Math.max(PLATEAU_MIN_SCALE, scale * PLATEAU_FACTOR);
}

/**
 * tf.js optimizers (Adam included) read their `learningRate` field on every applyGradients, but do
 * not expose a setter; this is the one place that writes it.
 */
export function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  (optimizer as unknown as { learningRate: number }).learningRate = lr;
}

export function getLearningRate(optimizer: tf.Optimizer): number {
  return (optimizer as unknown as { learningRate: number }).learningRate;
}
