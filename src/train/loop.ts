/**
 * The epoch/step loop every trainer shares (language model, Seq2Seq, classifier): seeded epochs of
 * optimizer steps, progress reports (≤ 2/s and at each epoch end), a checkpoint at every epoch end
 * and every `checkpointEverySec` mid-epoch, resumption at the saved (epoch, step), a stop at the next
 * batch when `shouldStop` says so (checkpointing first), divergence detection, and convergence:
 *
 * - the held-out loss is evaluated after every epoch (and every `evalEverySteps` steps when set);
 *   an evaluation "improves" when it beats the best so far by more than `minDelta`;
 * - the weights of the best evaluation are kept (an in-memory copy, saved beside the checkpoint as
 *   best.bin so a resumed job keeps them) and restored at the end: the best checkpoint is published,
 *   never merely the last;
 * - training stops at the first of: `patience` evaluations in a row without improvement
 *   (`converged`; null = never), `maxEpochs`, `maxSteps` optimizer steps, `timeBudgetS` seconds of
 *   training (counted across resumes), or a stop request (`cancelled`); the reason is returned,
 *   reported in the last progress and logged;
 * - the learning rate follows the schedule (schedule.ts) and is set before every step.
 * What a step does is the trainer's business (`TrainableRun`).
 */
import * as tf from '@tensorflow/tfjs';
import type { StopReason, TrainJobData, TrainProgressData } from '../queue/contract.ts';
import type { CheckpointDir, CheckpointState, LoadedCheckpoint } from './checkpoint.ts';
import { getLearningRate, learningRateAt, nextPlateauScale, setLearningRate, type ScheduleSpec } from './schedule.ts';

export interface TrainHooks {
  onProgress(p: TrainProgressData): void | Promise<void>;
  log(line: string): void | Promise<void>;
  /** Polled between batches; true = stop now (the job was cancelled or the worker is shutting down). */
  shouldStop(): boolean | Promise<boolean>;
  checkpoint?: CheckpointDir;
  /** Seconds between mid-epoch checkpoints (epoch ends always checkpoint). */
  checkpointEverySec?: number;
}

/** When to evaluate and stop, and the learning-rate curve (see `loopRules`). */
export interface LoopRules {
  maxEpochs: number;
  maxSteps: number | null;
  timeBudgetS: number | null;
  /** Evaluations without improvement before stopping; null = no early stopping. */
  patience: number | null;
  minDelta: number;
  /** Also evaluate every this many optimizer steps (null = at epoch ends only). */
  evalEverySteps: number | null;
  /** warmupSteps null = auto (`autoWarmup`). */
  schedule: Omit<ScheduleSpec, 'totalSteps' | 'warmupSteps'> & { warmupSteps: number | null };
}

/** The default warm-up: 5% of the run's step bound, at most 100 steps. */
export const autoWarmup = (totalSteps: number): number => Math.min(100, Math.ceil(0.05 * totalSteps));

/** The loop's rules from a job's hyperparameters (one mapping for every trainer). */
export function loopRules(hp: TrainJobData['hyperparameters']): LoopRules {
  return {
    maxEpochs: hp.max_epochs, maxSteps: hp.max_steps, timeBudgetS: hp.time_budget_s, patience: hp.patience, minDelta: hp.min_delta,
    evalEverySteps: hp.eval_every_steps, schedule: { kind: hp.lr_schedule, baseLr: hp.learning_rate, warmupSteps: hp.warmup_steps },
  };
}

/** Gradient-norm statistics of one epoch (filled by `optimizerStep`, logged and reset by the loop). */
export class GradStats {
  steps = 0;
  clipped = 0;
  normSum = 0;
  add(norm: number, clipped: boolean): void {
    this.steps++;
    this.normSum += norm;
    if (clipped) this.clipped++;
  }
  /** "grad norm mean 1.83, clipped 12%", or '' when nothing was recorded; then resets. */
  drain(): string {
    const line = this.steps === 0 ? '' : `grad norm mean ${(this.normSum / this.steps).toFixed(2)}, clipped ${Math.round((100 * this.clipped) / this.steps)}% of steps`;
    this.steps = this.clipped = this.normSum = 0;
    return line;
  }
}

export interface TrainableRun {
  rules: LoopRules;
  /** Steps of epoch `epoch` (after any max_steps_per_epoch cap). */
  stepsIn(epoch: number): number;
  /** Runs one optimizer step; returns its mean loss and the tokens it trained on. */
  trainStep(epoch: number, step: number): Promise<{ loss: number; tokens: number }>;
  /** Held-out loss (plain cross-entropy, no smoothing), or null without a validation split. */
  validate(): number | null;
  /** The model's weights in a fixed order (read, not owned, by the loop and the checkpoint). */
  weights(): tf.Tensor[];
  /** Copies `weights` (same order as weights()) into the model; the caller keeps ownership. */
  setWeights(weights: tf.Tensor[]): void;
  /** The trainer's own part of the checkpoint state (tokenizers, labels…). */
  checkpointExtra(): Pick<CheckpointState, 'tokenizer'> & Partial<CheckpointState>;
  gradStats?: GradStats;
}

export interface BestSoFar {
  valLoss: number;
  /** Epochs (fractional for mid-epoch evaluations) trained when it was reached. */
  epoch: number;
  trainLoss: number | null;
  /** Owned by the loop (kept tensors); null only when it is the model's current state. */
  weights: tf.Tensor[] | null;
}

export interface LoopStart {
  epoch: number;
  step: number;
  lastLoss: number | null;
  lastValLoss: number | null;
  trainedTokens: number;
  globalStep: number;
  elapsedS: number;
  best: BestSoFar | null;
  badEvals: number;
  plateauScale: number;
}

export interface LoopResult {
  stopped: boolean;
  stopReason: StopReason;
  epochsCompleted: number;
  steps: number;
  lastLoss: number | null;
  lastValLoss: number | null;
  /** The published (best) evaluation, or null without a validation split. */
  best: { valLoss: number; epoch: number; trainLoss: number | null } | null;
  tokensPerSec: number | null;
}

export const FRESH_START: LoopStart = {
  epoch: 0, step: 0, lastLoss: null, lastValLoss: null, trainedTokens: 0, globalStep: 0, elapsedS: 0, best: null, badEvals: 0, plateauScale: 1,
};

const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

export async function runTrainingLoop(run: TrainableRun, optimizer: tf.Optimizer, hooks: TrainHooks, start: LoopStart = FRESH_START): Promise<LoopResult> {
  const rules = run.rules;
  let { epoch, step: startStep, lastLoss, lastValLoss, trainedTokens, globalStep, best, badEvals, plateauScale } = start;
  const totalSteps = rules.maxSteps ?? rules.maxEpochs * Math.max(1, run.stepsIn(0));
  const schedule: ScheduleSpec = { ...rules.schedule, totalSteps, warmupSteps: rules.schedule.warmupSteps ?? autoWarmup(totalSteps) };
  let stopReason: StopReason | null = null;
  let lastEvalStep = -1;
  const sessionStart = Date.now();
  const elapsed = () => start.elapsedS + (Date.now() - sessionStart) / 1000;

  const saveCheckpoint = async (e: number, s: number) => {
    if (!hooks.checkpoint) return;
    const state: CheckpointState = {
      ...run.checkpointExtra(), epoch: e, step: s, last_loss: lastLoss, last_val_loss: lastValLoss,
      trained_tokens: trainedTokens, saved_at: new Date().toISOString(),
      global_step: globalStep, elapsed_s: elapsed(), bad_evals: badEvals, plateau_scale: plateauScale,
      best: best ? { val_loss: best.valLoss, epoch: best.epoch, train_loss: best.trainLoss } : null,
    };
    await hooks.checkpoint.save(state, run.weights(), optimizer, best ? (best.weights ?? run.weights()) : undefined);
  };

  /** Held-out evaluation at `at` epochs: best tracking, plateau scale, patience. */
  const evaluate = async (at: number) => {
    lastEvalStep = globalStep;
    lastValLoss = run.validate();
    if (lastValLoss === null) return;
    if (!Number.isFinite(lastValLoss)) throw new Error(`training diverged: validation loss is ${lastValLoss} after ${at} epochs; lower hyperparameters.learning_rate`);
    const improved = best === null || lastValLoss < best.valLoss - rules.minDelta;
    if (improved) {
      best?.weights?.forEach((w) => w.dispose());
      best = { valLoss: lastValLoss, epoch: at, trainLoss: lastLoss, weights: run.weights().map((w) => tf.keep(w.clone())) };
      badEvals = 0;
    } else {
      badEvals++;
    }
    if (rules.schedule.kind === 'plateau') plateauScale = nextPlateauScale(plateauScale, improved);
    if (rules.patience !== null && badEvals >= rules.patience) stopReason = 'converged';
  };

  let sessionTokens = 0;
  let sessionSteps = 0;
  let lastCheckpointAt = Date.now();
  let lastReportAt = 0;
  let stopped = false;
  const checkpointEveryMs = (hooks.checkpointEverySec ?? 60) * 1000;
  const rate = () => {
    const s = (Date.now() - sessionStart) / 1000;
    return s > 0 && sessionTokens > 0 ? Math.round(sessionTokens / s) : null;
  };
  const progress = (step: number, steps: number): TrainProgressData => {
    const stepsLeft = Math.min((rules.maxEpochs - epoch - 1) * steps + (steps - step), rules.maxSteps === null ? Infinity : rules.maxSteps - globalStep);
    let eta = sessionSteps > 0 ? (stepsLeft * (Date.now() - sessionStart)) / 1000 / sessionSteps : null;
    if (eta !== null && rules.timeBudgetS !== null) eta = Math.min(eta, Math.max(0, rules.timeBudgetS - elapsed()));
    return {
      epoch, epochs: rules.maxEpochs, step, steps, loss: lastLoss, val_loss: lastValLoss, best_val_loss: best?.valLoss ?? null,
      learning_rate: learningRateAt(schedule, globalStep, plateauScale), tokens_per_sec: rate(), eta_s: eta === null ? null : Math.round(eta), stop_reason: stopReason,
    };
  };

  while (epoch < rules.maxEpochs && stopReason === null) {
    const steps = run.stepsIn(epoch);
    let lossSum = 0;
    let lossCount = 0;
    let step = startStep;
    for (; step < steps; step++) {
      if (await hooks.shouldStop()) {
        stopped = true;
        stopReason = 'cancelled';
        await saveCheckpoint(epoch, step);
        break;
      }
      if (rules.maxSteps !== null && globalStep >= rules.maxSteps) stopReason = 'max_steps';
      else if (rules.timeBudgetS !== null && elapsed() >= rules.timeBudgetS) stopReason = 'time_budget';
      if (stopReason) break;
      setLearningRate(optimizer, learningRateAt(schedule, globalStep, plateauScale));
      const { loss, tokens } = await run.trainStep(epoch, step);
      if (!Number.isFinite(loss)) throw new Error(`training diverged: loss is ${loss} at epoch ${epoch + 1}, step ${step + 1}; lower hyperparameters.learning_rate`);
      lossSum += loss;
      lossCount++;
      lastLoss = lossSum / lossCount;
      trainedTokens += tokens;
      sessionTokens += tokens;
      sessionSteps++;
      globalStep++;
      const now = Date.now();
      if (now - lastReportAt > 500 || step === steps - 1) {
        lastReportAt = now;
        await hooks.onProgress(progress(step + 1, steps));
      }
      if (rules.evalEverySteps !== null && globalStep % rules.evalEverySteps === 0 && step < steps - 1) {
        await evaluate(round4(epoch + (step + 1) / steps));
        await hooks.log(`step ${globalStep} (epoch ${epoch + 1}, ${step + 1}/${steps}): loss ${lastLoss.toFixed(4)} val_loss ${lastValLoss === null ? 'n/a' : (lastValLoss as number).toFixed(4)}`);
        if (stopReason) {
          step++;
          break;
        }
      }
      if (now - lastCheckpointAt > checkpointEveryMs && step < steps - 1) {
        await saveCheckpoint(epoch, step + 1);
        lastCheckpointAt = Date.now();
      }
    }
    if (stopped) break;
    if (stopReason !== null && step < steps) {
      // A bound hit mid-epoch: the partial epoch still gets its evaluation (unless it just had one).
      if (lastEvalStep !== globalStep) await evaluate(round4(epoch + step / steps));
      break;
    }
    await evaluate(epoch + 1);
    epoch++;
    startStep = 0;
    await saveCheckpoint(epoch, 0);
    lastCheckpointAt = Date.now();
    // `epoch` now counts the finished epoch: 0 steps into the next (epoch + step/steps stays monotonic).
    await hooks.onProgress(progress(0, steps));
    const grads = run.gradStats?.drain();
    const bestText = best === null ? '' : ` (best ${(best as BestSoFar).valLoss.toFixed(4)} at epoch ${(best as BestSoFar).epoch})`;
    await hooks.log(
      `epoch ${epoch}/${rules.maxEpochs}: loss ${lastLoss?.toFixed(4)} val_loss ${lastValLoss === null ? 'n/a' : (lastValLoss as number).toFixed(4)}${bestText}; lr ${learningRateAt(schedule, globalStep, plateauScale).toPrecision(3)}${grads ? `; ${grads}` : ''}`,
    );
  }
  if (stopReason === null) stopReason = epoch >= rules.maxEpochs ? 'max_epochs' : 'cancelled';
  const finalBest = best as BestSoFar | null;
  try {
    // Publish the best evaluation's weights, not the last step's.
    if (!stopped && finalBest?.weights && finalBest.valLoss !== lastValLoss) run.setWeights(finalBest.weights);
  } finally {
    finalBest?.weights?.forEach((w) => w.dispose());
  }
  if (!stopped) {
    await hooks.onProgress({ ...progress(0, run.stepsIn(Math.min(epoch, rules.maxEpochs - 1))), step: 0, eta_s: 0, stop_reason: stopReason });
    await hooks.log(`stopped: ${describeStop(stopReason, rules)}; ${finalBest ? `best val_loss ${finalBest.valLoss.toFixed(4)} at epoch ${finalBest.epoch} (the weights published)` : 'no validation split: the last weights are published'}; ${globalStep} steps, ${Math.round(elapsed())} s`);
  }
  const sessionS = (Date.now() - sessionStart) / 1000;
  return {
    stopped, stopReason, epochsCompleted: epoch, steps: globalStep, lastLoss, lastValLoss,
    best: finalBest ? { valLoss: finalBest.valLoss, epoch: finalBest.epoch, trainLoss: finalBest.trainLoss } : null,
    tokensPerSec: sessionS > 0 && sessionTokens > 0 ? sessionTokens / sessionS : null,
  };
}

export function describeStop(reason: StopReason, rules: LoopRules): string {
  switch (reason) {
    case 'converged': return `converged (held-out loss did not improve by more than min_delta ${rules.minDelta} for ${rules.patience} evaluations)`;
    case 'max_epochs': return `max_epochs (${rules.maxEpochs}) reached`;
    case 'max_steps': return `max_steps (${rules.maxSteps}) reached`;
    case 'time_budget': return `time_budget_s (${rules.timeBudgetS}) reached`;
    case 'cancelled': return 'cancelled';
  }
}

/**
 * Restores a checkpoint into a trainer's model (`assign` copies the weights in) and optimizer, frees
 * the loaded tensors (the best weights become the loop's), logs the resume, and returns where the
 * loop continues — early-stopping state (best, patience counter, plateau scale, elapsed time) included.
 */
export async function resumeFromCheckpoint(resumed: LoadedCheckpoint, assign: (weights: tf.Tensor[]) => void, optimizer: tf.Optimizer, hooks: TrainHooks): Promise<LoopStart> {
  try {
    assign(resumed.modelWeights);
    await optimizer.setWeights(resumed.optimizerWeights); // copies them into its own variables
  } finally {
    for (const t of [...resumed.modelWeights, ...resumed.optimizerWeights.map((w) => w.tensor)]) t.dispose();
  }
  const st = resumed.state;
  const best = st.best && resumed.bestWeights ? { valLoss: st.best.val_loss, epoch: st.best.epoch, trainLoss: st.best.train_loss, weights: resumed.bestWeights.map((w) => tf.keep(w)) } : null;
  if (!best) resumed.bestWeights?.forEach((w) => w.dispose());
  await hooks.log(`resumed from checkpoint: epoch ${st.epoch}, step ${st.step}${best ? `; best val_loss ${best.valLoss.toFixed(4)} at epoch ${best.epoch}, ${st.bad_evals ?? 0} evaluations without improvement` : ''}`);
  return {
    epoch: st.epoch, step: st.step, lastLoss: st.last_loss, lastValLoss: st.last_val_loss, trainedTokens: st.trained_tokens,
    globalStep: st.global_step ?? 0, elapsedS: st.elapsed_s ?? 0, best, badEvals: st.bad_evals ?? 0, plateauScale: st.plateau_scale ?? 1,
  };
}

/** Memoises one value per epoch (the epoch's batch plan): built once, dropped when the epoch changes. */
export function perEpoch<T>(build: (epoch: number) => T): (epoch: number) => T {
  let cached: { epoch: number; value: T } | undefined;
  return (epoch) => {
    if (cached?.epoch !== epoch) cached = { epoch, value: build(epoch) };
    return cached.value;
  };
}

/**
 * train_loss, val_loss and (for generators, `withPerplexity`) perplexity = exp(val_loss), of the
 * published weights: the best evaluation's when there was one (train_loss = the running epoch mean
 * when it was reached), else the last.
 */
export function lossMetrics(result: LoopResult, withPerplexity: boolean): Record<string, number> {
  const metrics: Record<string, number> = {};
  const trainLoss = result.best ? result.best.trainLoss : result.lastLoss;
  const valLoss = result.best ? result.best.valLoss : result.lastValLoss;
  if (trainLoss !== null) metrics.train_loss = trainLoss;
  if (valLoss !== null) {
    metrics.val_loss = valLoss;
    if (withPerplexity) metrics.perplexity = Math.exp(valLoss);
  }
  return metrics;
}

/** What the manifest's `training` and the job result record about how training ended. */
export function trainingSummary(result: LoopResult): { stop_reason: StopReason; steps: number; best_epoch?: number } {
  return { stop_reason: result.stopReason, steps: result.steps, ...(result.best ? { best_epoch: result.best.epoch } : {}) };
}

export interface StepOptions {
  /** Global-norm clipping threshold (> 0), or null = off. */
  clipNorm: number | null;
  /** Decoupled weight decay (AdamW, Loshchilov & Hutter 2019) on matrices (rank ≥ 2); 0 = off. */
  weightDecay?: number;
  stats?: GradStats;
}

/**
 * One optimizer step on `loss` (call inside tf.tidy); returns the loss. The gradients of `vars`
 * (undefined = every trainable variable the loss touches) have global norm ‖g‖₂; with `clipNorm`
 * they are first scaled by min(1, clipNorm / ‖g‖₂) (Pascanu et al. 2013) — the usual guard against
 * exploding gradients in recurrent nets. With `weightDecay` > 0 every matrix w (embeddings and
 * kernels, not biases) then shrinks by lr · weightDecay · w, decoupled from Adam's moments.
 */
export function optimizerStep(optimizer: tf.Optimizer, loss: () => tf.Scalar, vars: tf.Variable[] | undefined, opts: StepOptions | number | null): tf.Scalar {
  const { clipNorm, weightDecay = 0, stats } = typeof opts === 'object' && opts !== null ? opts : { clipNorm: opts as number | null };
  if (!clipNorm && !weightDecay && !stats) return optimizer.minimize(loss, true, vars)!;
  const { value, grads } = tf.variableGrads(loss, vars);
  applyGradientStep(optimizer, grads, { clipNorm, weightDecay, stats });
  return value;
}

/**
 * The second half of an optimizer step, on gradients already computed (by `optimizerStep`, or
 * summed over the shards of a data-parallel step, train/data-parallel.ts): global-norm clipping,
 * `applyGradients`, decoupled weight decay — see `optimizerStep`. `grads` is keyed by variable name
 * in the engine's registration order (Adam keeps its moments by position in that order); call inside
 * tf.tidy.
 */
export function applyGradientStep(optimizer: tf.Optimizer, grads: tf.NamedTensorMap, opts: StepOptions): void {
  const { clipNorm, weightDecay = 0, stats } = opts;
  const names = Object.keys(grads);
  const norm = tf.tidy(() => tf.sqrt(tf.addN(names.map((n) => tf.sum(tf.square(grads[n]!))))).dataSync()[0]!);
  const scale = clipNorm && norm > clipNorm ? clipNorm / norm : 1;
  stats?.add(norm, scale < 1);
  const clipped: Record<string, tf.Tensor> = {};
  for (const n of names) clipped[n] = scale === 1 ? grads[n]! : tf.mul(grads[n]!, scale);
  optimizer.applyGradients(clipped);
  if (weightDecay > 0) {
    const shrink = 1 - getLearningRate(optimizer) * weightDecay;
    const registered = tf.engine().registeredVariables;
    for (const n of names) {
      const v = registered[n];
      if (v && v.rank >= 2) v.assign(tf.mul(v, shrink));
    }
  }
}
