/**
 * Unigram and bigram baselines for bench/lm-quality.ts: counts from the training ids, add-½
 * (Jeffreys) smoothing over the vocabulary, mean NLL (nats) of the held-out batches' targets. The
 * bigram conditions y[t] on x[t] (the previous id), which every held-out position has.
 */
import type { Batch } from '../../src/train/lm-data.ts';

export function ngramBaselines(train: Int32Array, held: readonly Batch[], vocab: number): { unigram: number; bigram: number; tokens: number } {
  const alpha = 0.5;
  const uni = new Float64Array(vocab);
  const bi = new Float64Array(vocab * vocab);
  const rowTotal = new Float64Array(vocab);
  for (let i = 0; i < train.length; i++) {
    uni[train[i]!]++;
    if (i > 0) {
      bi[train[i - 1]! * vocab + train[i]!]++;
      rowTotal[train[i - 1]!]++;
    }
  }
  const uniDen = train.length + alpha * vocab;
  let uniNll = 0;
  let biNll = 0;
  let tokens = 0;
  for (const b of held) {
    for (let k = 0; k < b.x.length; k++) {
      const prev = b.x[k]!;
      const y = b.y[k]!;
      uniNll -= Math.log((uni[y]! + alpha) / uniDen);
      biNll -= Math.log((bi[prev * vocab + y]! + alpha) / (rowTotal[prev]! + alpha * vocab));
      tokens++;
    }
  }
  return { unigram: uniNll / tokens, bigram: biNll / tokens, tokens };
}
