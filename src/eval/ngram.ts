/**
 * N-gram baselines for language models: held-out perplexity of an add-k smoothed unigram and bigram
 * model fitted on the training ids, over the same token ids (same tokenizer) the neural model is
 * scored on — the "retrieval" baseline of a language model.
 *
 * Contract:
 * - unigram: P(w) = (c(w) + k₁) / (N + k₁·V), k₁ = 1 (Laplace).
 * - bigram:  P(w | u) = (c(u w) + k₂) / (c(u ·) + k₂·V), k₂ = 0.1, where c(u ·) counts the bigrams
 *   starting with u in the training ids.
 * - perplexity = exp(−(1/M) Σ ln P) over the M predicted held-out positions: every val id for the
 *   unigram; every val id after the first for the bigram (its history is the previous val id).
 *   So both are per-token perplexities comparable with the model's exp(val_loss).
 * - V = vocabSize (every id must be < V). Fewer than 2 val ids (or V < 1) → null.
 */

export const UNIGRAM_K = 1;
export const BIGRAM_K = 0.1;

export function ngramPerplexities(train: ArrayLike<number>, val: ArrayLike<number>, vocabSize: number): { unigram_perplexity: number; bigram_perplexity: number } | null {
  if (val.length < 2 || vocabSize < 1) return null;
  const V = vocabSize;
  const uni = new Float64Array(V);
  const starts = new Float64Array(V);
  const bi = new Map<number, number>();
  for (let i = 0; i < train.length; i++) {
    const w = train[i]!;
    uni[w]! += 1;
    if (i + 1 < train.length) {
      starts[w]! += 1;
      const key = w * V + train[i + 1]!;
      bi.set(key, (bi.get(key) ?? 0) + 1);
    }
  }
  const n = train.length;
  let uniNll = 0;
  for (let i = 0; i < val.length; i++) uniNll -= Math.log((uni[val[i]!]! + UNIGRAM_K) / (n + UNIGRAM_K * V));
  let biNll = 0;
  for (let i = 1; i < val.length; i++) {
    const u = val[i - 1]!;
    const w = val[i]!;
    biNll -= Math.log(((bi.get(u * V + w) ?? 0) + BIGRAM_K) / (starts[u]! + BIGRAM_K * V));
  }
  return { unigram_perplexity: Math.exp(uniNll / val.length), bigram_perplexity: Math.exp(biNll / (val.length - 1)) };
}
