/**
 * The epoch/step loop every trainer shares (language model, Seq2Seq, classifier): seeded epochs of
 * optimizer steps, progress reports (≤ 2/s and at each epoch end), a checkpoint at every epoch end
 * and every `checkpointEverySec` mid-epoch, resumption at the saved (epoch, step), a stop at the next
 * batch when `shouldStop` says so (checkpointing first), divergence detection, and validation loss
 * after each epoch. What a step does is the trainer's business (`TrainableRun`).
 */
import * as tf from '@tensorflow/tfjs';
import type { TrainProgressData } from '../queue/contract.ts';
import type { CheckpointDir, CheckpointState, LoadedCheckpoint } from './checkpoint.ts';

export interface TrainHooks {
  onProgress(p: TrainProgressData): void | Promise<void>;
  log(line: string): void | Promise<void>;
  /** Polled between batches; true = stop now (the job was cancelled or the worker is shutting down). */
  shouldStop(): boolean | Promise<boolean>;
  checkpoint?: CheckpointDir;
  /** Seconds between mid-epoch checkpoints (epoch ends always checkpoint). */
  checkpointEverySec?: number;
}

export interface TrainableRun {
  epochs: number;
  /** Steps of epoch `epoch` (after any max_steps_per_epoch cap). */
  stepsIn(epoch: number): number;
  /** Runs one optimizer step; returns its mean loss and the tokens it trained on. */
  trainStep(epoch: number, step: number): Promise<{ loss: number; tokens: number }>;
  /** Validation loss after an epoch, or null without a validation split. */
  validate(): number | null;
  /** The model's weights in a fixed order (read, not owned, by the checkpoint). */
  weights(): tf.Tensor[];
  /** The trainer's own part of the checkpoint state (tokenizers, labels…). */
  checkpointExtra(): Pick<CheckpointState, 'tokenizer'> & Partial<CheckpointState>;
}

export interface LoopStart {
  epoch: number;
  step: number;
  lastLoss: number | null;
  lastValLoss: number | null;
  trainedTokens: number;
}

export interface LoopResult {
  stopped: boolean;
  epochsCompleted: number;
  lastLoss: number | null;
  lastValLoss: number | null;
  tokensPerSec: number | null;
}

export const FRESH_START: LoopStart = { epoch: 0, step: 0, lastLoss: null, lastValLoss: null, trainedTokens: 0 };

export async function runTrainingLoop(run: TrainableRun, optimizer: tf.Optimizer, hooks: TrainHooks, start: LoopStart = FRESH_START): Promise<LoopResult> {
  let { epoch, step: startStep, lastLoss, lastValLoss, trainedTokens } = start;
  const saveCheckpoint = async (e: number, s: number) => {
    if (!hooks.checkpoint) return;
    const state: CheckpointState = {
      ...run.checkpointExtra(), epoch: e, step: s, last_loss: lastLoss, last_val_loss: lastValLoss,
      trained_tokens: trainedTokens, saved_at: new Date().toISOString(),
    };
    await hooks.checkpoint.save(state, run.weights(), optimizer);
  };

  const sessionStart = Date.now();
  let sessionTokens = 0;
  let sessionSteps = 0;
  let lastCheckpointAt = Date.now();
  let lastReportAt = 0;
  let stopped = false;
  const checkpointEveryMs = (hooks.checkpointEverySec ?? 60) * 1000;
  const rate = () => {
    const elapsed = (Date.now() - sessionStart) / 1000;
    return elapsed > 0 && sessionTokens > 0 ? Math.round(sessionTokens / elapsed) : null;
  };

  while (epoch < run.epochs && !stopped) {
    const steps = run.stepsIn(epoch);
    let lossSum = 0;
    let lossCount = 0;
    for (let step = startStep; step < steps; step++) {
      if (await hooks.shouldStop()) {
        stopped = true;
        await saveCheckpoint(epoch, step);
        break;
      }
      const { loss, tokens } = await run.trainStep(epoch, step);
      if (!Number.isFinite(loss)) throw new Error(`training diverged: loss is ${loss} at epoch ${epoch + 1}, step ${step + 1}; lower hyperparameters.learning_rate`);
      lossSum += loss;
      lossCount++;
      lastLoss = lossSum / lossCount;
      trainedTokens += tokens;
      sessionTokens += tokens;
      sessionSteps++;
      const now = Date.now();
      if (now - lastReportAt > 500 || step === steps - 1) {
        lastReportAt = now;
        const elapsed = (now - sessionStart) / 1000;
        const stepsLeft = (run.epochs - epoch - 1) * steps + (steps - step - 1);
        await hooks.onProgress({
          epoch, epochs: run.epochs, step: step + 1, steps, loss: lastLoss, val_loss: lastValLoss,
          tokens_per_sec: rate(), eta_s: Math.round((stepsLeft * elapsed) / sessionSteps),
        });
      }
      if (now - lastCheckpointAt > checkpointEveryMs && step < steps - 1) {
        await saveCheckpoint(epoch, step + 1);
        lastCheckpointAt = Date.now();
      }
    }
    if (stopped) break;
    lastValLoss = run.validate();
    epoch++;
    startStep = 0;
    await saveCheckpoint(epoch, 0);
    lastCheckpointAt = Date.now();
    const elapsed = (Date.now() - sessionStart) / 1000;
    await hooks.onProgress({
      epoch, epochs: run.epochs, step: steps, steps, loss: lastLoss, val_loss: lastValLoss,
      tokens_per_sec: rate(), eta_s: Math.round(((run.epochs - epoch) * steps * elapsed) / Math.max(1, sessionSteps)),
    });
    await hooks.log(`epoch ${epoch}/${run.epochs}: loss ${lastLoss?.toFixed(4)} val_loss ${lastValLoss === null ? 'n/a' : lastValLoss.toFixed(4)}`);
  }
  const elapsed = (Date.now() - sessionStart) / 1000;
  return { stopped, epochsCompleted: epoch, lastLoss, lastValLoss, tokensPerSec: elapsed > 0 && sessionTokens > 0 ? sessionTokens / elapsed : null };
}

/**
 * Restores a checkpoint into a trainer's model (`assign` copies the weights in) and optimizer, frees
 * the loaded tensors, logs the resume, and returns where the loop continues.
 */
export async function resumeFromCheckpoint(resumed: LoadedCheckpoint, assign: (weights: tf.Tensor[]) => void, optimizer: tf.Optimizer, hooks: TrainHooks): Promise<LoopStart> {
  try {
    assign(resumed.modelWeights);
    await optimizer.setWeights(resumed.optimizerWeights); // copies them into its own variables
  } finally {
    for (const t of [...resumed.modelWeights, ...resumed.optimizerWeights.map((w) => w.tensor)]) t.dispose();
  }
  const st = resumed.state;
  await hooks.log(`resumed from checkpoint: epoch ${st.epoch}, step ${st.step}`);
  return { epoch: st.epoch, step: st.step, lastLoss: st.last_loss, lastValLoss: st.last_val_loss, trainedTokens: st.trained_tokens };
}

/** Memoises one value per epoch (the epoch's batch plan): built once, dropped when the epoch changes. */
export function perEpoch<T>(build: (epoch: number) => T): (epoch: number) => T {
  let cached: { epoch: number; value: T } | undefined;
  return (epoch) => {
    if (cached?.epoch !== epoch) cached = { epoch, value: build(epoch) };
    return cached.value;
  };
}

/** train_loss, val_loss and (for generators, `withPerplexity`) perplexity = exp(val_loss). */
export function lossMetrics(result: LoopResult, withPerplexity: boolean): Record<string, number> {
  const metrics: Record<string, number> = {};
  if (result.lastLoss !== null) metrics.train_loss = result.lastLoss;
  if (result.lastValLoss !== null) {
    metrics.val_loss = result.lastValLoss;
    if (withPerplexity) metrics.perplexity = Math.exp(result.lastValLoss);
  }
  return metrics;
}

/**
 * One optimizer step on `loss` (call inside tf.tidy); returns the loss. With `clipNorm` (> 0), the
 * gradients of `vars` are first scaled by min(1, clipNorm / ‖g‖₂) where ‖g‖₂ is their global norm
 * (Pascanu et al. 2013) — the usual guard against exploding gradients in recurrent nets. Without it,
 * a plain `optimizer.minimize`. `vars` undefined = every trainable variable the loss touches.
 */
export function optimizerStep(optimizer: tf.Optimizer, loss: () => tf.Scalar, vars: tf.Variable[] | undefined, clipNorm: number | null): tf.Scalar {
  if (!clipNorm) return optimizer.minimize(loss, true, vars)!;
  const { value, grads } = tf.variableGrads(loss, vars);
  const names = Object.keys(grads);
  const norm = tf.tidy(() => tf.sqrt(tf.addN(names.map((n) => tf.sum(tf.square(grads[n]!))))).dataSync()[0]!);
  const scale = norm > clipNorm ? clipNorm / norm : 1;
  const clipped: Record<string, tf.Tensor> = {};
  for (const n of names) clipped[n] = scale === 1 ? grads[n]! : tf.mul(grads[n]!, scale);
  optimizer.applyGradients(clipped);
  return value;
}
