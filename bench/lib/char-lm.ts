/**
 * The reference training workload of the training benches (PERFORMANCE-NOTES.md): a char LM
 * Embedding(96→64) → recurrent layer(s) → Dense(96), softmax cross-entropy on every position, Adam,
 * batch 32 × 64 of random ids. Each bench builds its own model variant; this times it.
 */
import * as tf from '@tensorflow/tfjs';

export const V = 96, E = 64, B = 32, T = 64;

export interface TrainingTiming {
  label: string;
  tokensPerSec: number;
  msPerBatch: number;
  loss: number;
}

/** Tokens/s of `batches` Adam steps on `model` after one warm-up step; disposes the model. */
export function timeTraining(label: string, model: tf.LayersModel, batches: number): TrainingTiming {
  const opt = tf.train.adam(2e-3);
  const rand = (n: number) => Int32Array.from({ length: n }, () => Math.floor(Math.random() * V));
  const x = tf.tensor2d(rand(B * T), [B, T], 'int32');
  const y = tf.tidy(() => tf.oneHot(tf.tensor2d(rand(B * T), [B, T], 'int32'), V));
  const step = () => {
    const l = opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x) as tf.Tensor) as tf.Scalar, true);
    const v = l!.dataSync()[0]!;
    l!.dispose();
    return v;
  };
  step(); // warm-up: builds weights, Adam slots, XNNPACK operators
  const before = tf.memory().numTensors;
  let loss = 0;
  const t0 = performance.now();
  for (let i = 0; i < batches; i++) loss = step();
  const ms = performance.now() - t0;
  const leaked = tf.memory().numTensors - before;
  tf.dispose([x, y]);
  opt.dispose();
  model.dispose();
  if (leaked !== 0) console.warn(`${label}: ${leaked} tensors leaked over ${batches} batches`);
  return { label, tokensPerSec: Math.round((batches * B * T) / (ms / 1000)), msPerBatch: Math.round(ms / batches), loss: +loss.toFixed(4) };
}
