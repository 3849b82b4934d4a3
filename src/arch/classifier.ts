/**
 * Text classifier: the recurrent encoder (encoder.ts) → pooling → softmax over K classes.
 * Pooling concatenates the masked mean of the top layer's outputs over real positions and the top
 * layer's final state, giving [B, 2M]; the head is one dense layer [2M, K].
 * Loss: class-weighted cross-entropy (weights from the training label counts, so rare classes are
 * not drowned out by frequent ones), normalised by the summed weights of the batch.
 */
import * as tf from '@tensorflow/tfjs';
import { addEncoderWeights, encode, lengthMask, memoryWidth, type EncoderSpec } from './encoder.ts';
import { WeightSet } from './weight-set.ts';

/** The encoder's spec plus the number of classes (saved as classifier.json's `spec`). */
export interface ClassifierSpec extends EncoderSpec {
  numClasses: number;
}

export class TextClassifier {
  readonly ws: WeightSet;
  private readonly enc: EncoderSpec;

  constructor(readonly spec: ClassifierSpec, seed: number) {
    this.enc = spec;
    this.ws = new WeightSet(seed);
    addEncoderWeights(this.ws, this.enc);
    this.ws.add('classifier/kernel', [2 * memoryWidth(this.enc), spec.numClasses], 'glorot');
    this.ws.add('classifier/bias', [spec.numClasses], 'zeros');
  }

  /** ids [B, S] int32 with real lengths → logits [B, K]. Call inside tf.tidy or a loss function. */
  logits(ids: tf.Tensor2D, lengths: Int32Array, opts: { dropout?: number; seed?: number } = {}): tf.Tensor2D {
    const [B, S] = ids.shape;
    const { memory, finals } = encode(this.enc, this.ws, ids, lengths, opts);
    const mask = lengthMask(lengths, S).reshape([B, S, 1]);
    const mean = tf.div(tf.sum(tf.mul(memory, mask), 1), tf.maximum(tf.sum(mask, 1), 1));
    let pooled = tf.concat([mean, finals[finals.length - 1]!], 1) as tf.Tensor2D;
    if (opts.dropout) pooled = tf.dropout(pooled, opts.dropout, undefined, (opts.seed ?? 0) + 201) as tf.Tensor2D;
    return tf.add(tf.matMul(pooled, this.ws.get('classifier/kernel') as unknown as tf.Tensor2D), this.ws.get('classifier/bias')) as tf.Tensor2D;
  }

  dispose(): void {
    this.ws.dispose();
  }
}

/** Class-weighted mean cross-entropy: logits [B, K], labels [B] int32, classWeights [K]. */
export function weightedCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, classWeights: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const K = logits.shape[1];
    const picked = tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(labels, K)), 1);
    const w = tf.gather(classWeights, labels);
    return tf.neg(tf.div(tf.sum(tf.mul(picked, w)), tf.maximum(tf.sum(w), 1e-12))) as tf.Scalar;
  });
}

/** Balanced class weights n / (K · count_k) (sklearn's "balanced"); a class never seen gets 0. */
export function balancedClassWeights(labels: readonly number[], numClasses: number): Float32Array {
  const counts = new Float32Array(numClasses);
  for (const l of labels) counts[l]!++;
  return counts.map((c) => (c > 0 ? labels.length / (numClasses * c) : 0));
}
