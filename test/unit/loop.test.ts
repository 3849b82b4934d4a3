// The shared training loop's convergence rules: early stopping (patience, min_delta), the best
// evaluation's weights restored at the end, max_epochs / max_steps / time_budget bounds, the
// stop reason, the learning-rate schedule applied per step, and a resume that keeps the
// early-stopping state. The run is a real one-variable model trained by Adam; only its held-out
// loss is scripted, so which evaluation is best is known in advance.
import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/select.ts';
import { CheckpointDir } from '../../src/train/checkpoint.ts';
import { FRESH_START, GradStats, optimizerStep, resumeFromCheckpoint, runTrainingLoop, type LoopRules, type TrainableRun, type TrainHooks } from '../../src/train/loop.ts';
import { getLearningRate } from '../../src/train/schedule.ts';
import type { TrainProgressData } from '../../src/queue/contract.ts';

await initBackend('wasm');

const rules = (r: Partial<LoopRules> = {}): LoopRules => ({
  maxEpochs: 20, maxSteps: null, timeBudgetS: null, patience: 3, minDelta: 0.01, evalEverySteps: null,
  schedule: { kind: 'constant', baseLr: 0.1, warmupSteps: 0 }, ...r,
});

/** w starts at 0 and is pulled towards 10; validation losses come from `vals` in order (then the last repeats). */
function makeRun(r: LoopRules, vals: number[], stepsPerEpoch = 4) {
  const w = tf.tidy(() => tf.variable(tf.scalar(0)));
  let evals = 0;
  const wAtEval: number[] = [];
  const lrs: number[] = [];
  const optimizer = tf.train.adam(0.1);
  const run: TrainableRun = {
    rules: r,
    gradStats: new GradStats(),
    stepsIn: () => stepsPerEpoch,
    trainStep: async () => {
      lrs.push(getLearningRate(optimizer));
      const loss = tf.tidy(() => optimizerStep(optimizer, () => tf.square(tf.sub(w, 10)) as tf.Scalar, [w], { clipNorm: 5, stats: run.gradStats }));
      const v = (await loss.data())[0]!;
      loss.dispose();
      return { loss: v, tokens: 1 };
    },
    validate: () => {
      wAtEval.push(w.dataSync()[0]!);
      return vals[Math.min(evals++, vals.length - 1)]!;
    },
    weights: () => [w],
    setWeights: (ws) => w.assign(ws[0] as tf.Scalar),
    checkpointExtra: () => ({ tokenizer: { type: 'char', vocab: [] } as never }),
  };
  return { run, w, optimizer, wAtEval, lrs, dispose: () => (w.dispose(), optimizer.dispose()) };
}

function hooks(stopAfter = Infinity, checkpoint?: CheckpointDir): TrainHooks & { logs: string[]; progress: TrainProgressData[] } {
  let polls = 0;
  const logs: string[] = [];
  const progress: TrainProgressData[] = [];
  return { onProgress: (p) => void progress.push(p), log: (l) => void logs.push(l), shouldStop: () => polls++ >= stopAfter, checkpoint, logs, progress };
}

t.test('early stopping: converged after `patience` evaluations without improvement; the best weights are restored', async (t) => {
  const before = tf.memory().numTensors;
  const m = makeRun(rules(), [3, 2, 1.5, 1.495, 1.6, 1.7, 1.8, 0.1]);
  const h = hooks();
  const result = await runTrainingLoop(m.run, m.optimizer, h);
  t.equal(result.stopReason, 'converged');
  t.equal(result.epochsCompleted, 6, 'best at epoch 3 (1.495 is within min_delta), then 3 evaluations without improvement');
  t.same(result.best && { valLoss: result.best.valLoss, epoch: result.best.epoch }, { valLoss: 1.5, epoch: 3 });
  t.equal(m.w.dataSync()[0], m.wAtEval[2], 'the weights of epoch 3 are the model\'s at the end');
  t.not(m.wAtEval[2], m.wAtEval[5], 'and they differ from the last epoch\'s');
  const last = h.progress.at(-1)!;
  t.equal(last.stop_reason, 'converged', 'the last progress says why training stopped');
  t.equal(last.best_val_loss, 1.5);
  t.match(h.logs.at(-1), /stopped: converged .* best val_loss 1\.5000 at epoch 3/);
  t.match(h.logs.find((l) => l.startsWith('epoch 1/')), /grad norm mean [0-9.]+, clipped \d+% of steps/);
  m.dispose();
  t.equal(tf.memory().numTensors, before, 'no tensors left behind (best copies freed)');
});

t.test('patience null: runs to max_epochs and still publishes the best', async (t) => {
  const m = makeRun(rules({ patience: null, maxEpochs: 5 }), [3, 1, 2, 2, 2]);
  const result = await runTrainingLoop(m.run, m.optimizer, hooks());
  t.equal(result.stopReason, 'max_epochs');
  t.equal(result.epochsCompleted, 5);
  t.equal(result.best?.epoch, 2);
  t.equal(m.w.dataSync()[0], m.wAtEval[1]);
  m.dispose();
});

t.test('progress reports move forward: epoch + step/steps never decreases, the ETA never grows by an epoch', async (t) => {
  const m = makeRun(rules({ patience: null, maxEpochs: 3 }), [3, 2, 1]);
  const h = hooks();
  await runTrainingLoop(m.run, m.optimizer, h);
  const xs = h.progress.map((p) => p.epoch + p.step / p.steps);
  t.ok(xs.every((x, i) => i === 0 || x >= xs[i - 1]!), `positions in epochs: ${xs.join(', ')}`);
  t.equal(xs.at(-1), 3, 'ends at the epochs completed');
  const epochEnds = h.progress.filter((p) => p.step === 0 && p.stop_reason === null);
  t.same(epochEnds.map((p) => p.epoch), [1, 2, 3], 'an epoch-end report counts the finished epoch, 0 steps into the next');
  m.dispose();
});

t.test('max_steps stops mid-epoch and evaluates the partial epoch', async (t) => {
  const m = makeRun(rules({ maxSteps: 6 }), [3, 2, 1]);
  const result = await runTrainingLoop(m.run, m.optimizer, hooks());
  t.equal(result.stopReason, 'max_steps');
  t.equal(result.steps, 6);
  t.equal(m.wAtEval.length, 2, 'one evaluation after epoch 1, one after the 2 steps of epoch 2');
  t.equal(result.best?.epoch, 1.5);
  m.dispose();
});

t.test('time_budget stops training', async (t) => {
  const m = makeRun(rules({ timeBudgetS: 0.000001 }), [3]);
  const result = await runTrainingLoop(m.run, m.optimizer, hooks(), { ...FRESH_START, elapsedS: 1 });
  t.equal(result.stopReason, 'time_budget');
  t.equal(result.steps, 0);
  m.dispose();
});

t.test('evaluations every N steps count towards patience', async (t) => {
  const m = makeRun(rules({ evalEverySteps: 2, patience: 2 }), [3, 2, 2.5, 2.6, 1]);
  const result = await runTrainingLoop(m.run, m.optimizer, hooks());
  t.equal(result.stopReason, 'converged');
  t.equal(result.steps, 8, 'evaluations at steps 2, 4 (epoch end), 6, 8');
  t.equal(result.best?.epoch, 1);
  m.dispose();
});

t.test('schedule: warm-up then plateau halving, set before every step', async (t) => {
  const m = makeRun(rules({ patience: null, maxEpochs: 3, schedule: { kind: 'plateau', baseLr: 0.1, warmupSteps: 2 } }), [3, 4, 5]);
  await runTrainingLoop(m.run, m.optimizer, hooks());
  t.same(m.lrs.map((x) => +x.toFixed(4)), [0.05, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05]);
  m.dispose();
});

t.test('resume keeps the early-stopping state: same stop, same best, same weights as uninterrupted', async (t) => {
  const vals = [3, 2, 1.5, 1.6, 1.7, 1.8];
  const whole = makeRun(rules({ schedule: { kind: 'plateau', baseLr: 0.1, warmupSteps: 0 } }), vals);
  const ref = await runTrainingLoop(whole.run, whole.optimizer, hooks());
  const dir = new CheckpointDir(t.testdir(), 'loop1');
  // Stop after 4.5 epochs (18 polls): epochs 1–4 evaluated, best at 3, one evaluation without improvement.
  const first = makeRun(rules({ schedule: { kind: 'plateau', baseLr: 0.1, warmupSteps: 0 } }), vals);
  const r1 = await runTrainingLoop(first.run, first.optimizer, hooks(18, dir));
  t.equal(r1.stopReason, 'cancelled');
  t.ok(r1.stopped);
  first.dispose();

  const second = makeRun(rules({ schedule: { kind: 'plateau', baseLr: 0.1, warmupSteps: 0 } }), vals.slice(4));
  const loaded = (await dir.load())!;
  t.ok(loaded.bestWeights, 'the checkpoint holds the best weights');
  const h = hooks(Infinity, dir);
  const start = await resumeFromCheckpoint(loaded, (w) => second.w.assign(w[0] as tf.Scalar), second.optimizer, h);
  t.same({ badEvals: start.badEvals, best: start.best?.valLoss, plateauScale: start.plateauScale, step: start.step, globalStep: start.globalStep }, { badEvals: 1, best: 1.5, plateauScale: 0.5, step: 2, globalStep: 18 });
  const r2 = await runTrainingLoop(second.run, second.optimizer, h, start);
  t.equal(r2.stopReason, ref.stopReason);
  t.equal(r2.epochsCompleted, ref.epochsCompleted);
  t.same(r2.best, ref.best);
  t.equal(second.w.dataSync()[0], whole.w.dataSync()[0], 'the same (best) weights at the end');
  whole.dispose();
  second.dispose();
});
