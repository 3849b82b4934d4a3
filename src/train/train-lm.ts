/**
 * The language-model training loop, independent of BullMQ: fits a tokenizer, builds the model,
 * runs seeded epochs of Adam on windows of the corpus, reports progress, checkpoints, resumes,
 * stops on request at the next batch, and evaluates perplexity on the validation split.
 */
import * as tf from '@tensorflow/tfjs';
import { buildLanguageModel, sequenceCrossEntropy } from '../arch/lm.ts';
import { fitTokenizer, loadTokenizer, type Tokenizer } from '../tokenize/index.ts';
import type { TrainJobData, TrainProgressData } from '../queue/contract.ts';
import { assertEnoughTokens, encodeCorpus, epochPlan, splitTrainVal, validationBatches, type Batch } from './lm-data.ts';
import type { CheckpointDir, CheckpointState } from './checkpoint.ts';

export interface TrainHooks {
  onProgress(p: TrainProgressData): void | Promise<void>;
  log(line: string): void | Promise<void>;
  /** Polled between batches; true = stop now (the job was cancelled or the worker is shutting down). */
  shouldStop(): boolean | Promise<boolean>;
  checkpoint?: CheckpointDir;
  /** Seconds between mid-epoch checkpoints (epoch ends always checkpoint). */
  checkpointEverySec?: number;
}

export interface TrainOutcome {
  stopped: boolean;
  model: tf.LayersModel;
  tokenizer: Tokenizer;
  metrics: Record<string, number>;
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
  const tokenizer = resumed ? loadTokenizer(resumed.state.tokenizer) : fitTokenizer(job.tokenizer.type, records, { maxVocab: job.tokenizer.max_vocab });
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
    let epoch = 0;
    let startStep = 0;
    let lastLoss: number | null = null;
    let lastValLoss: number | null = null;
    let trainedTokens = 0;
    if (resumed) {
      model.setWeights(resumed.modelWeights);
      await optimizer.setWeights(resumed.optimizerWeights); // copies them into its own variables
      tf.dispose([...resumed.modelWeights, ...resumed.optimizerWeights.map((w) => w.tensor)]);
      ({ epoch, step: startStep, last_loss: lastLoss, last_val_loss: lastValLoss, trained_tokens: trainedTokens } = resumed.state);
      await hooks.log(`resumed from checkpoint: epoch ${epoch}, step ${startStep}`);
    } else {
      await hooks.log(`tokenizer ${tokenizer.type}: ${tokenizer.vocabSize} tokens; corpus ${ids.length} ids (${train.length} train, ${val.length} validation)`);
    }

    const saveCheckpoint = async (e: number, s: number) => {
      if (!hooks.checkpoint) return;
      const state: CheckpointState = {
        epoch: e, step: s, tokenizer: tokenizer.toJSON(), last_loss: lastLoss, last_val_loss: lastValLoss,
        trained_tokens: trainedTokens, saved_at: new Date().toISOString(),
      };
      await hooks.checkpoint.save(state, model, optimizer);
    };

    const sessionStart = Date.now();
    let sessionTokens = 0;
    let sessionSteps = 0;
    let lastCheckpointAt = Date.now();
    let lastReportAt = 0;
    let stopped = false;
    const checkpointEveryMs = (hooks.checkpointEverySec ?? 60) * 1000;

    while (epoch < hp.epochs && !stopped) {
      const plan = epochPlan(train, hp.sequence_length, hp.batch_size, hp.seed, epoch);
      const steps = hp.max_steps_per_epoch ? Math.min(plan.steps, hp.max_steps_per_epoch) : plan.steps;
      let lossSum = 0;
      let lossCount = 0;
      for (let step = startStep; step < steps; step++) {
        if (await hooks.shouldStop()) {
          stopped = true;
          await saveCheckpoint(epoch, step);
          break;
        }
        const b = plan.batch(step);
        const loss = tf.tidy(() => {
          const { x, y } = toTensors(b);
          return optimizer.minimize(() => sequenceCrossEntropy(model.apply(x, { training: true }) as tf.Tensor, y), true)!;
        });
        const value = (await loss.data())[0]!;
        loss.dispose();
        if (!Number.isFinite(value)) throw new Error(`training diverged: loss is ${value} at epoch ${epoch + 1}, step ${step + 1}; lower hyperparameters.learning_rate`);
        lossSum += value;
        lossCount++;
        lastLoss = lossSum / lossCount;
        trainedTokens += b.rows * b.seqLen;
        sessionTokens += b.rows * b.seqLen;
        sessionSteps++;
        const now = Date.now();
        if (now - lastReportAt > 500 || step === steps - 1) {
          lastReportAt = now;
          const elapsed = (now - sessionStart) / 1000;
          const stepsLeft = (hp.epochs - epoch - 1) * steps + (steps - step - 1);
          await hooks.onProgress({
            epoch, epochs: hp.epochs, step: step + 1, steps, loss: lastLoss, val_loss: lastValLoss,
            tokens_per_sec: elapsed > 0 ? Math.round(sessionTokens / elapsed) : null,
            eta_s: Math.round((stepsLeft * elapsed) / sessionSteps),
          });
        }
        if (now - lastCheckpointAt > checkpointEveryMs && step < steps - 1) {
          await saveCheckpoint(epoch, step + 1);
          lastCheckpointAt = Date.now();
        }
      }
      if (stopped) break;
      lastValLoss = evaluateLoss(model, valBatches);
      epoch++;
      startStep = 0;
      await saveCheckpoint(epoch, 0);
      lastCheckpointAt = Date.now();
      const elapsed = (Date.now() - sessionStart) / 1000;
      await hooks.onProgress({
        epoch, epochs: hp.epochs, step: steps, steps, loss: lastLoss, val_loss: lastValLoss,
        tokens_per_sec: elapsed > 0 ? Math.round(sessionTokens / elapsed) : null,
        eta_s: Math.round(((hp.epochs - epoch) * steps * elapsed) / Math.max(1, sessionSteps)),
      });
      await hooks.log(`epoch ${epoch}/${hp.epochs}: loss ${lastLoss?.toFixed(4)} val_loss ${lastValLoss === null ? 'n/a' : lastValLoss.toFixed(4)}`);
    }

    const metrics: Record<string, number> = {};
    if (lastLoss !== null) metrics.train_loss = lastLoss;
    if (lastValLoss !== null) {
      metrics.val_loss = lastValLoss;
      metrics.perplexity = Math.exp(lastValLoss);
    }
    const elapsed = (Date.now() - sessionStart) / 1000;
    return {
      stopped, model, tokenizer, metrics, epochsCompleted: epoch,
      tokensPerSec: elapsed > 0 && sessionTokens > 0 ? sessionTokens / elapsed : null,
      durationSec: (Date.now() - started) / 1000,
    };
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    optimizer.dispose();
  }
}
