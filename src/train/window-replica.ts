/**
 * The window language model (window-lm.ts: recurrent LayersModel or Transformer) as a
 * GradientReplica, and the recipe a gradient thread rebuilds it from.
 */
import * as tf from '@tensorflow/tfjs';
import { sequenceCrossEntropy } from '../arch/lm.ts';
import { TransformerLM } from '../arch/transformer.ts';
import type { TrainJobData } from '../queue/contract.ts';
import { inRegistrationOrder, type GradientReplica, type ShardInput, type WindowRecipe } from './replica.ts';
import { startDataParallel, type DataParallelStep } from './data-parallel.ts';
import { buildWindowModel, windowLogits, type WindowModel } from './window-lm.ts';

export function windowReplica(model: WindowModel, hp: TrainJobData['hyperparameters'], ignoreId: number): GradientReplica {
  return {
    weights: () => model.getWeights(),
    setWeights: (w) => model.setWeights(w),
    variables: () =>
      inRegistrationOrder(model instanceof TransformerLM ? (model.getWeights() as tf.Variable[]) : model.trainableWeights.map((w) => w.read() as tf.Variable)),
    loss: (s: ShardInput) => {
      const x = tf.tensor2d(s.x, [s.rows, s.seqLen], 'int32');
      const y = tf.tensor2d(s.y, [s.rows, s.seqLen], 'int32');
      return sequenceCrossEntropy(windowLogits(model, x, true, hp.dropout, s.seed), y, ignoreId);
    },
    counted: (y) => (ignoreId < 0 ? y.length : y.reduce((k, id) => k + (id === ignoreId ? 0 : 1), 0)),
    dispose: () => model.dispose(),
  };
}

/**
 * Shard `shard`'s replica built from `recipe` (in a gradient thread). Its initial weights do not
 * matter (the main thread's are copied in before every step); a recurrent model's dropout layers
 * take their seeds from the build, so each shard builds with its own seed for distinct masks.
 */
export function buildWindowReplica(recipe: WindowRecipe, shard: number): GradientReplica {
  const job = { ...recipe.job, hyperparameters: { ...recipe.job.hyperparameters, seed: recipe.job.hyperparameters.seed + 7919 * shard } };
  const { model, hp } = buildWindowModel(job, recipe.vocabSize, recipe.trainTokens);
  return windowReplica(model, hp, recipe.ignoreId);
}

/**
 * The data-parallel step of a window-LM job on `trainThreads` threads (at most one per batch row), or
 * null for the one-thread path; the caller closes it when the job ends, however it ends.
 */
export function startWindowParallel(opts: {
  trainThreads: number;
  job: TrainJobData;
  model: WindowModel;
  hp: TrainJobData['hyperparameters'];
  vocabSize: number;
  trainTokens: number;
  ignoreId: number;
  optimizer: tf.Optimizer;
  log: (line: string) => void | Promise<void>;
}): Promise<DataParallelStep | null> {
  const { job, model, hp, vocabSize, trainTokens, ignoreId } = opts;
  return startDataParallel({
    trainThreads: Math.min(opts.trainThreads, hp.batch_size),
    replica: windowReplica(model, hp, ignoreId),
    recipe: { kind: 'window', job, vocabSize, trainTokens, ignoreId },
    optimizer: opts.optimizer,
    log: opts.log,
  });
}
