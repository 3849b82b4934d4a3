// Data-parallel training (TRAIN_THREADS > 1, train/data-parallel.ts): the same weights as one thread up
// to float summation order, and no thread or tensor outlives its job (done, cancelled, crashed).
import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/select.ts';
import { normalizeTrainRequest } from '../../src/train/request.ts';
import { trainLanguageModel } from '../../src/train/train-lm.ts';
import { GradientPool, liveGradientThreads } from '../../src/train/grad-pool.ts';
import { availableCores, helperThreads, splitRows, trainThreadsFor } from '../../src/train/data-parallel.ts';
import { startWindowParallel, windowReplica } from '../../src/train/window-replica.ts';
import { buildWindowModel, windowOptimizer } from '../../src/train/window-lm.ts';
import { epochPlan } from '../../src/train/lm-data.ts';
import type { TrainHooks } from '../../src/train/loop.ts';
import { CheckpointDir } from '../../src/train/checkpoint.ts';

await initBackend('wasm');

const TEXT = 'the cat sat on the mat. the dog sat on the log. a bird sang in the tree. '.repeat(30);
const quiet = (stopAfter = Infinity, lines: string[] = []): TrainHooks => {
  let polls = 0;
  return { onProgress: () => undefined, log: (l) => void lines.push(l), shouldStop: () => ++polls > stopAfter };
};

function tinyJob(architecture: 'lstm' | 'gru' | 'transformer', extra: Record<string, number> = {}) {
  const sizes = architecture === 'transformer' ? { layers: 1, heads: 2, embedding_dim: 16, context_length: 16 } : { units: 24, embedding_dim: 8, sequence_length: 16 };
  return normalizeTrainRequest({
    name: 'dp', architecture, dataset: { text: TEXT },
    hyperparameters: { ...sizes, dropout: 0, learning_rate: 0.01, batch_size: 9, epochs: 1, max_steps: 4, seed: 3, weight_decay: 0.01, ...extra },
  });
}

t.test('splitRows: contiguous row blocks, shard 0 keeps the step seed, empty shards are null', async (t) => {
  const b = { rows: 3, seqLen: 2, x: Int32Array.from([0, 1, 2, 3, 4, 5]), y: Int32Array.from([1, 2, 3, 4, 5, 6]) };
  const s = splitRows(b, 2, 99);
  t.same([...s[0]!.x], [0, 1]);
  t.same([...s[1]!.y], [3, 4, 5, 6], "rows 1..2");
  t.equal(s[0]!.seed, 99);
  t.not(s[1]!.seed, 99);
  t.same(splitRows(b, 4, 1).map((r) => r?.rows ?? 0), [0, 1, 1, 1]);
});

t.test('TRAIN_THREADS: 0 = the cores available, gradient threads only on wasm and cpu', async (t) => {
  t.equal(trainThreadsFor(0), availableCores());
  t.ok(availableCores() >= 1);
  t.equal(trainThreadsFor(3), 3);
  t.equal(helperThreads(4, 'wasm'), 3);
  t.equal(helperThreads(2, 'cpu'), 1);
  t.equal(helperThreads(1, 'wasm'), 0);
  t.equal(helperThreads(8, 'tensorflow'), 0, 'tfjs-node threads its own kernels');
});

for (const architecture of ['lstm', 'gru', 'transformer'] as const) {
  t.test(`${architecture}: 4 steps on 2 threads give the weights of 1 thread (dropout 0)`, async (t) => {
    const before = tf.memory().numTensors;
    const one = await trainLanguageModel(tinyJob(architecture), [TEXT], quiet());
    const lines: string[] = [];
    const two = await trainLanguageModel(tinyJob(architecture), [TEXT], quiet(Infinity, lines), { trainThreads: 2 });
    t.ok(lines.some((l) => l.startsWith('data-parallel training on 2 threads')), 'the job ran on 2 threads');
    t.equal(liveGradientThreads(), 0, 'the gradient thread ended with the job');
    t.equal(two.steps, one.steps);
    const a = one.model.getWeights(), b = two.model.getWeights();
    t.equal(a.length, b.length);
    let maxDiff = 0, maxAbs = 0;
    a.forEach((w, i) => {
      maxDiff = Math.max(maxDiff, tf.tidy(() => tf.max(tf.abs(tf.sub(w, b[i]!))).dataSync()[0]!));
      maxAbs = Math.max(maxAbs, tf.tidy(() => tf.max(tf.abs(w)).dataSync()[0]!));
    });
    t.ok(maxDiff < 1e-4, `max |Δw| = ${maxDiff.toExponential(2)} (max |w| ${maxAbs.toFixed(3)})`);
    t.ok(Math.abs(one.metrics.train_loss! - two.metrics.train_loss!) < 1e-4, `train_loss ${one.metrics.train_loss} vs ${two.metrics.train_loss}`);
    one.model.dispose();
    two.model.dispose();
    t.equal(tf.memory().numTensors, before, 'no tensors left behind');
  });
}

t.test('a checkpoint saved on 2 threads resumes on 1 thread to the weights of an uninterrupted run', async (t) => {
  const dir = t.testdir();
  const one = await trainLanguageModel(tinyJob('lstm'), [TEXT], quiet());
  const checkpoint = new CheckpointDir(dir, 'job');
  const first = await trainLanguageModel(tinyJob('lstm'), [TEXT], { ...quiet(2), checkpoint }, { trainThreads: 2 });
  t.ok(first.stopped);
  first.model.dispose();
  const rest = await trainLanguageModel(tinyJob('lstm'), [TEXT], { ...quiet(), checkpoint });
  t.equal(rest.steps, one.steps);
  const a = one.model.getWeights(), b = rest.model.getWeights();
  const maxDiff = Math.max(...a.map((w, i) => tf.tidy(() => tf.max(tf.abs(tf.sub(w, b[i]!))).dataSync()[0]!)));
  t.ok(maxDiff < 1e-4, `max |Δw| = ${maxDiff.toExponential(2)}`);
  one.model.dispose();
  rest.model.dispose();
});

t.test('a cancelled job ends its gradient threads and leaves no tensors', async (t) => {
  const before = tf.memory().numTensors;
  const out = await trainLanguageModel(tinyJob('lstm', { max_steps: 50 }), [TEXT], quiet(2), { trainThreads: 2 });
  t.ok(out.stopped, 'stopped on request');
  t.equal(out.steps, 2);
  t.equal(liveGradientThreads(), 0);
  out.model.dispose();
  t.equal(tf.memory().numTensors, before);
});

t.test('a gradient thread that throws fails the step, and every later one, with its error', async (t) => {
  const before = tf.memory().numTensors;
  const job = tinyJob('lstm');
  const { model, hp } = buildWindowModel(job, 30, 2000);
  const optimizer = windowOptimizer(model, hp);
  const parallel = (await startWindowParallel({ trainThreads: 2, job, model, hp, vocabSize: 30, trainTokens: 2000, ignoreId: -1, optimizer, log: () => undefined }))!;
  // 9 rows × 16: shard 0 (rows 0–3) is whole, shard 1's x is 5 ids short, so only the thread throws.
  const bad = { rows: 9, seqLen: 16, x: new Int32Array(9 * 16 - 5), y: new Int32Array(9 * 16) };
  await t.rejects(parallel.step(bad, 1, { clipNorm: 5 }), /training thread 1 failed: .*/);
  await t.rejects(parallel.step(bad, 2, { clipNorm: 5 }), /training thread 1 failed/, 'the pool stays failed');
  await parallel.close();
  t.equal(liveGradientThreads(), 0);
  optimizer.dispose();
  model.dispose();
  t.equal(tf.memory().numTensors, before, 'the failed step left no tensors');
});

t.test('a gradient thread that dies fails the step with a clear error instead of hanging', async (t) => {
  const before = tf.memory().numTensors;
  const job = tinyJob('lstm');
  const { model, hp } = buildWindowModel(job, 30, 2000);
  const optimizer = windowOptimizer(model, hp);
  const parallel = (await startWindowParallel({ trainThreads: 2, job, model, hp, vocabSize: 30, trainTokens: 2000, ignoreId: -1, optimizer, log: () => undefined }))!;
  t.equal(liveGradientThreads(), 1);
  const ids = Int32Array.from({ length: 2000 }, (_, i) => (i * 7) % 30);
  const batch = epochPlan(ids, 16, 9, 1, 0).batch(0);
  const opts = { clipNorm: 5 };
  t.ok(Number.isFinite(await parallel.step(batch, 1, opts)), 'a step works');
  // Kill the thread from outside, as a crash would.
  await (parallel as unknown as { pool: { helpers: { worker: { terminate(): Promise<number> } }[] } }).pool.helpers[0]!.worker.terminate();
  await t.rejects(parallel.step(batch, 2, opts), /training thread 1 exited/);
  await parallel.close();
  t.equal(liveGradientThreads(), 0);
  optimizer.dispose();
  model.dispose();
  t.equal(tf.memory().numTensors, before);
});

t.test('a step a thread does not answer in time fails as hung', async (t) => {
  const job = tinyJob('lstm');
  const { model, hp } = buildWindowModel(job, 30, 2000);
  const replica = windowReplica(model, hp, -1);
  const pool = await GradientPool.start({
    threads: 1, recipe: { kind: 'window', job, vocabSize: 30, trainTokens: 2000, ignoreId: -1 }, backend: 'wasm',
    weightShapes: replica.weights().map((w) => w.shape), gradShapes: replica.variables().map((v) => v.shape), minStepTimeoutMs: 1,
  });
  pool.writeWeights(replica.weights());
  const shard = { rows: 4, seqLen: 16, x: new Int32Array(64), y: new Int32Array(64), seed: 1 };
  await t.rejects(pool.compute([{ shard, scale: 1 }]), /training thread 1 did not answer step 1 within .* \(hung\)/);
  await pool.close();
  t.equal(liveGradientThreads(), 0);
  model.dispose();
});
