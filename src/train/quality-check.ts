/**
 * The end-of-training quality check every trainer runs after its held-out metrics: the warning of
 * eval/quality.ts (the model does not beat the baselines computed on the same rows), from the
 * metrics' train/held-out losses plus the steps and examples the trainer knows, written to the job
 * log in plain words. Returns the warning (null when the model beats its baselines).
 */
import { qualityWarning, type QualityWarning, type TrainingFacts } from '../eval/quality.ts';
import type { TrainHooks } from './loop.ts';

export async function checkQuality(task: string, metrics: Readonly<Record<string, number>>, facts: Omit<TrainingFacts, 'train_loss' | 'val_loss'>, hooks: Pick<TrainHooks, 'log'>): Promise<QualityWarning | null> {
  const warning = qualityWarning(task, metrics, { ...facts, train_loss: metrics.train_loss, val_loss: metrics.val_loss });
  if (warning) await hooks.log(`QUALITY WARNING (${warning.reason}): ${warning.message}`);
  return warning;
}
