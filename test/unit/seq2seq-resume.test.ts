// A Seq2Seq or classifier job stopped mid-epoch and resumed from its checkpoint ends exactly where an
// uninterrupted run ends (same weights → same validation loss): checkpoints carry the weights, the
// Adam slots, the tokenizers/labels and the position in the seeded batch order.
import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/select.ts';
import { CheckpointDir } from '../../src/train/checkpoint.ts';
import { normalizeTrainRequest } from '../../src/train/request.ts';
import { trainSeq2Seq } from '../../src/train/train-seq2seq.ts';
import { trainClassifier } from '../../src/train/train-classifier.ts';
import type { TrainHooks } from '../../src/train/loop.ts';

await initBackend('wasm');

let s = 7;
const rnd = () => ((s = (s * 48271) % 2147483647) / 2147483647);
const word = () => Array.from({ length: 3 + Math.floor(rnd() * 3) }, () => 'abcdef'[Math.floor(rnd() * 6)]).join(' ');
const pairs = Array.from({ length: 120 }, () => {
  const w = word();
  return { source: w, target: w.split(' ').reverse().join(' ') };
});
const texts = Array.from({ length: 120 }, (_, i) => ({ text: `${word()} ${['x', 'y', 'z'][i % 3]}`, label: ['ex', 'why', 'zed'][i % 3]! }));
const hp = { units: 16, embedding_dim: 8, epochs: 2, batch_size: 16, learning_rate: 0.01, seed: 3, dropout: 0.1 };

/** Hooks that ask to stop once `stopAfter` batches ran (Infinity = never). */
function hooks(checkpoint: CheckpointDir | undefined, stopAfter = Infinity): TrainHooks & { logs: string[] } {
  let polls = 0;
  const logs: string[] = [];
  return { onProgress: () => undefined, log: (l) => void logs.push(l), shouldStop: () => polls++ >= stopAfter, checkpoint, logs };
}

t.test('seq2seq: stop mid-epoch, resume, same result as uninterrupted', async (t) => {
  const job = normalizeTrainRequest({ name: 'r', task: 'translate', dataset: { rows: pairs }, hyperparameters: hp });
  const whole = await trainSeq2Seq({ ...job, task: 'translate' }, pairs, hooks(undefined));
  const ckpt = new CheckpointDir(t.testdir(), 'job1');
  const first = await trainSeq2Seq({ ...job, task: 'translate' }, pairs, hooks(ckpt, 4));
  t.ok(first.stopped, 'the first attempt stopped');
  first.model.dispose();
  const before = tf.memory().numTensors;
  const h = hooks(ckpt);
  const second = await trainSeq2Seq({ ...job, task: 'translate' }, pairs, h);
  t.ok(h.logs.some((l) => /resumed from checkpoint: epoch 0, step 4/.test(l)), 'resumed at epoch 0, step 4');
  t.equal(second.sourceTokenizer.vocabSize, whole.sourceTokenizer.vocabSize);
  t.ok(Math.abs(second.metrics.val_loss! - whole.metrics.val_loss!) < 1e-5, `val_loss ${second.metrics.val_loss} = ${whole.metrics.val_loss}`);
  t.equal(second.metrics.exact_match, whole.metrics.exact_match);
  second.model.dispose();
  t.equal(tf.memory().numTensors, before, 'resuming leaves no tensors behind once its model is disposed');
  whole.model.dispose();
});

t.test('classifier: stop mid-epoch, resume, same result as uninterrupted', async (t) => {
  const job = normalizeTrainRequest({ name: 'c', task: 'classify', dataset: { rows: texts }, hyperparameters: hp });
  const whole = await trainClassifier(job, texts, hooks(undefined));
  const ckpt = new CheckpointDir(t.testdir(), 'job2');
  const first = await trainClassifier(job, texts, hooks(ckpt, 9));
  t.ok(first.stopped);
  first.model.dispose();
  const second = await trainClassifier(job, texts, hooks(ckpt));
  t.same(second.labels, whole.labels);
  t.ok(Math.abs(second.metrics.val_loss! - whole.metrics.val_loss!) < 1e-5, `val_loss ${second.metrics.val_loss} = ${whole.metrics.val_loss}`);
  t.equal(second.metrics.accuracy, whole.metrics.accuracy);
  second.model.dispose();
  whole.model.dispose();
});

t.test('seq2seq with early stopping: a resume keeps best, patience and schedule — same stop, same best epoch, same weights', async (t) => {
  const job = normalizeTrainRequest({ name: 'e', task: 'translate', dataset: { rows: pairs }, hyperparameters: { ...hp, epochs: undefined, max_epochs: 40, patience: 2, min_delta: 0.05, warmup_steps: 5 } });
  const whole = await trainSeq2Seq({ ...job, task: 'translate' }, pairs, hooks(undefined));
  t.equal(whole.summary.stop_reason, 'converged', `converged (best epoch ${whole.summary.best_epoch} of ${whole.epochsCompleted})`);
  t.ok(whole.summary.best_epoch! < whole.epochsCompleted, 'the best epoch is earlier than the last');
  const ckpt = new CheckpointDir(t.testdir(), 'job3');
  const stopAt = Math.floor((whole.summary.steps * (whole.summary.best_epoch! + 1)) / whole.epochsCompleted); // after the best epoch, before the stop
  const first = await trainSeq2Seq({ ...job, task: 'translate' }, pairs, hooks(ckpt, stopAt));
  t.ok(first.stopped, `the first attempt stopped after ${stopAt} steps`);
  first.model.dispose();
  const h = hooks(ckpt);
  const second = await trainSeq2Seq({ ...job, task: 'translate' }, pairs, h);
  t.ok(h.logs.some((l) => /resumed from checkpoint: .*best val_loss/.test(l)), 'resumed with a best so far');
  t.same(second.summary, whole.summary, 'same stop reason, steps and best epoch');
  t.ok(Math.abs(second.metrics.val_loss! - whole.metrics.val_loss!) < 1e-5, `val_loss ${second.metrics.val_loss} = ${whole.metrics.val_loss}`);
  const a = second.model.ws.variables().map((v) => v.dataSync());
  const b = whole.model.ws.variables().map((v) => v.dataSync());
  t.ok(a.every((x, i) => x.every((y, j) => Math.abs(y - b[i]![j]!) < 1e-5)), 'the published (best) weights are identical');
  second.model.dispose();
  whole.model.dispose();
});
