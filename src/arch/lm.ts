/**
 * Recurrent language model: Embedding(V→E) → N × LSTM|GRU(H, returnSequences) → Dropout → Dense(V).
 * Input ids [batch, time] (int32) → logits [batch, time, V] (no softmax: the loss applies it).
 * Recurrent layers are the fused FusedLSTM/FusedGRU (standard sigmoid gates, not tf.js's
 * hardSigmoid default; models saved with tf.layers.lstm/gru load and step the same) and use the Keras
 * weight layout (kernel [in, G·H], recurrent_kernel [H, G·H], bias [G·H], gate order i,f,c,o for
 * LSTM and z,r,h for GRU), so saved models convert to Keras and `lm-step.ts` can step them.
 */
import * as tf from '@tensorflow/tfjs';
import { fusedLSTM } from './fused-lstm.ts';
import { fusedGRU } from './fused-gru.ts';

export type RecurrentKind = 'lstm' | 'gru';

export interface LanguageModelSpec {
  vocabSize: number;
  architecture: RecurrentKind;
  layers: number;
  units: number;
  embeddingDim: number;
  dropout: number;
  seed: number;
}

export function buildLanguageModel(spec: LanguageModelSpec): tf.LayersModel {
  const { vocabSize, layers, units, embeddingDim, dropout, seed } = spec;
  const input = tf.input({ shape: [null], dtype: 'int32', name: 'ids' });
  // Embeddings N(0, 1) (PyTorch's nn.Embedding default), not Keras' U(−0.05, 0.05): with inputs ~35×
  // smaller the LSTM barely sees its input at first, and a char LM on the KJV (bench/lm-quality.ts,
  // 300 steps) ended 13% worse in held-out nats/char than PyTorch; with N(0, 1), 4% better.
  let x = tf.layers
    .embedding({ inputDim: vocabSize, outputDim: embeddingDim, name: 'embedding', embeddingsInitializer: tf.initializers.randomNormal({ mean: 0, stddev: 1, seed }) })
    .apply(input) as tf.SymbolicTensor;
  for (let i = 0; i < layers; i++) {
    const common = {
      units,
      returnSequences: true,
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 + 2 * i }),
      // Orthogonal (Keras' default) runs a QR decomposition that is slow for large layers in tf.js;
      // a seeded Glorot init trains as well at these sizes.
      recurrentInitializer: tf.initializers.glorotUniform({ seed: seed + 2 + 2 * i }),
      name: `${spec.architecture}_${i}`,
    };
    // Fused layers: same math and weights as tf.layers.lstm/gru with sigmoid gates, one input
    // projection for all steps and a hand-written backward pass (fused-lstm.ts, fused-gru.ts).
    x = (spec.architecture === 'lstm' ? fusedLSTM({ ...common, unitForgetBias: true }) : fusedGRU(common)).apply(x) as tf.SymbolicTensor;
    if (dropout > 0) x = tf.layers.dropout({ rate: dropout, seed: seed + 100 + i, name: `dropout_${i}` }).apply(x) as tf.SymbolicTensor;
  }
  const logits = tf.layers
    .dense({ units: vocabSize, name: 'logits', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 999 }) })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits, name: 'language_model' });
}

/**
 * Mean token cross-entropy of logits [B, T, V] against ids [B, T] (int32). Positions whose target
 * is `ignoreId` (padding) are left out of the mean. Returns a scalar.
 */
export function sequenceCrossEntropy(logits: tf.Tensor, targets: tf.Tensor, ignoreId = -1, labelSmoothing = 0): tf.Scalar {
  return tf.tidy(() => {
    const vocab = logits.shape[logits.shape.length - 1]!;
    const flatLogits = logits.reshape([-1, vocab]);
    const flatTargets = targets.reshape([-1]).toInt();
    const logProbs = tf.logSoftmax(flatLogits);
    let picked = tf.sum(tf.mul(logProbs, tf.oneHot(flatTargets, vocab)), -1);
    // Label smoothing ε (Szegedy et al. 2016): the target distribution is (1 − ε)·one-hot + ε·uniform.
    if (labelSmoothing > 0) picked = tf.add(tf.mul(picked, 1 - labelSmoothing), tf.mul(tf.mean(logProbs, -1), labelSmoothing));
    if (ignoreId < 0) return tf.neg(tf.mean(picked)) as tf.Scalar;
    const mask = tf.notEqual(flatTargets, ignoreId).toFloat();
    return tf.neg(tf.div(tf.sum(tf.mul(picked, mask)), tf.maximum(tf.sum(mask), 1))) as tf.Scalar;
  });
}
