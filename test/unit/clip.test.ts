// Gradient clipping by global norm: the applied update has norm ≤ clip_norm, small gradients pass
// unchanged, and a trainer with clip_norm set trains (and is reproducible).
import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/select.ts';
import { optimizerStep } from '../../src/train/loop.ts';
import { normalizeTrainRequest } from '../../src/train/request.ts';
import { trainSeq2Seq } from '../../src/train/train-seq2seq.ts';

await initBackend('wasm');

t.test('optimizerStep clips the global gradient norm', (t) => {
  const a = tf.variable(tf.tensor1d([3, 0]));
  const b = tf.variable(tf.tensor1d([4]));
  // loss = ½(‖a‖² + ‖b‖²): gradient (a, b) = (3, 0, 4), global norm 5.
  const loss = () => tf.mul(0.5, tf.add(tf.sum(tf.square(a)), tf.sum(tf.square(b)))) as tf.Scalar;
  const sgd = tf.train.sgd(1);
  tf.tidy(() => optimizerStep(sgd, loss, [a, b], 1)).dispose();
  const before = tf.memory().numTensors; // after the optimizer's first step (it keeps its learning-rate scalar)
  // update = −g · (1/5) = (−0.6, 0, −0.8)
  t.ok(Math.abs(a.dataSync()[0]! - 2.4) < 1e-6 && Math.abs(b.dataSync()[0]! - 3.2) < 1e-6, `clipped: a=${a.dataSync()}, b=${b.dataSync()}`);
  tf.tidy(() => optimizerStep(sgd, loss, [a, b], 100)).dispose();
  // gradient (2.4, 0, 3.2) has norm 4 < 100: a plain step to 0
  t.ok(Math.abs(a.dataSync()[0]!) < 1e-6 && Math.abs(b.dataSync()[0]!) < 1e-6, 'small gradients pass unchanged');
  t.equal(tf.memory().numTensors, before, 'no tensors left');
  tf.dispose([a, b]);
  sgd.dispose();
  t.end();
});

t.test('a Seq2Seq job with clip_norm trains, reproducibly', async (t) => {
  const rows = Array.from({ length: 60 }, (_, i) => ({ source: `a${i % 7} b${i % 5}`, target: `b${i % 5} a${i % 7}` }));
  const job = normalizeTrainRequest({ name: 'c', task: 'translate', dataset: { rows }, hyperparameters: { units: 16, embedding_dim: 8, epochs: 2, batch_size: 16, learning_rate: 0.01, seed: 2, clip_norm: 0.5 } });
  t.equal(job.hyperparameters.clip_norm, 0.5);
  const hooks = { onProgress: () => undefined, log: () => undefined, shouldStop: () => false };
  const one = await trainSeq2Seq({ ...job, task: 'translate' }, rows, hooks);
  const two = await trainSeq2Seq({ ...job, task: 'translate' }, rows, hooks);
  t.ok(Number.isFinite(one.metrics.val_loss!), `val_loss ${one.metrics.val_loss}`);
  t.equal(one.metrics.val_loss, two.metrics.val_loss, 'same seed, same result');
  one.model.dispose();
  two.model.dispose();
});
