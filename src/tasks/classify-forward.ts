/**
 * The classifier's inference forward pass, shared by training (held-out scores), evaluation and the
 * classify route: id rows → padded [rows, width] batches → encoder + pooling + softmax → one
 * probability vector [K] per row.
 */
import * as tf from '@tensorflow/tfjs';
import type { TextClassifier } from '../arch/classifier.ts';
import { inBatches, padRows } from './pair-encoding.ts';

/** Class probabilities [rows][K] for id rows (each ≥ 1 id), in batches. */
export async function classifyIds(model: TextClassifier, rows: readonly (readonly number[])[], batchSize = 64): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  const K = model.spec.numClasses;
  for (const chunk of inBatches(rows, batchSize)) {
    const { ids, lengths, width } = padRows(chunk);
    const probs = tf.tidy(() => tf.softmax(model.logits(tf.tensor2d(ids, [chunk.length, width], 'int32'), lengths)));
    const flat = (await probs.data()) as Float32Array;
    probs.dispose();
    for (let r = 0; r < chunk.length; r++) out.push(flat.slice(r * K, (r + 1) * K));
  }
  return out;
}

/** Index of the largest entry (the first one on ties). */
export const argmaxIndex = (p: Float32Array): number => p.reduce((best, v, i) => (v > p[best]! ? i : best), 0);
