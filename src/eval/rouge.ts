/**
 * ROUGE-1, ROUGE-2 and ROUGE-L (Lin 2004), F1 variants, as Google's `rouge_score`
 * computes them (without stemming), but with a Unicode-aware tokenizer.
 *
 * Contract:
 * - Text is tokenized with `wordTokens` (tokens.ts): lowercase, runs of letters/digits,
 *   one token per Han/Hiragana/Katakana character, punctuation dropped.
 * - ROUGE-N (n = 1, 2): overlap = Σ over n-grams of min(count in hyp, count in ref)
 *   (clipped counts); precision = overlap / #hyp n-grams, recall = overlap / #ref n-grams,
 *   F1 = 2PR / (P + R).
 * - ROUGE-L: L = length of the longest common subsequence of the two token sequences
 *   (whole text as one sequence, i.e. rouge_score's `rougeL`, not `rougeLsum`);
 *   P = L / |hyp|, R = L / |ref|, F1 = 2PR / (P + R) (F-measure with beta = 1).
 * - Edge cases (as rouge_score): when the hypothesis or the reference has no n-grams of the
 *   order (empty text, punctuation only, or a single token for ROUGE-2), precision, recall
 *   and F1 are 0 — this includes BOTH being empty (→ 0, not 1). Any zero P + R → F1 = 0.
 * - `corpusRouge(hyps, refs)` returns the unweighted mean of the per-pair F1 scores
 *   ({ rouge1, rouge2, rougeL }, each in [0, 1]); an empty corpus gives all zeros.
 *   Throws RangeError when the lists differ in length.
 */
import { clippedMatches, ngramCounts } from './bleu.ts';
import { wordTokens } from './tokens.ts';

export interface PRF {
  precision: number;
  recall: number;
  f1: number;
}

export interface RougeScores {
  rouge1: number;
  rouge2: number;
  rougeL: number;
}

function prf(overlap: number, hypTotal: number, refTotal: number): PRF {
  const precision = hypTotal > 0 ? overlap / hypTotal : 0;
  const recall = refTotal > 0 ? overlap / refTotal : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1 };
}

/** ROUGE-N on token arrays. */
export function rougeNTokens(hyp: readonly string[], ref: readonly string[], n: number): PRF {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`rougeN: n must be an integer >= 1, got ${n}`);
  const hypTotal = Math.max(0, hyp.length - n + 1);
  const refTotal = Math.max(0, ref.length - n + 1);
  if (hypTotal === 0 || refTotal === 0) return { precision: 0, recall: 0, f1: 0 };
  return prf(clippedMatches(ngramCounts(hyp, n), ngramCounts(ref, n)), hypTotal, refTotal);
}

/** Length of the longest common subsequence (O(|a|·|b|) time, O(min) memory). */
export function lcsLength(a: readonly string[], b: readonly string[]): number {
  if (a.length < b.length) [a, b] = [b, a];
  let prev = new Array<number>(b.length + 1).fill(0);
  let cur = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      cur[j] = a[i - 1] === b[j - 1] ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length];
}

/** ROUGE-L on token arrays. */
export function rougeLTokens(hyp: readonly string[], ref: readonly string[]): PRF {
  if (hyp.length === 0 || ref.length === 0) return { precision: 0, recall: 0, f1: 0 };
  return prf(lcsLength(hyp, ref), hyp.length, ref.length);
}

/** ROUGE-N of one hypothesis/reference pair of raw strings. */
export function rougeN(hyp: string, ref: string, n: number): PRF {
  return rougeNTokens(wordTokens(hyp), wordTokens(ref), n);
}

/** ROUGE-L of one hypothesis/reference pair of raw strings. */
export function rougeL(hyp: string, ref: string): PRF {
  return rougeLTokens(wordTokens(hyp), wordTokens(ref));
}

/** ROUGE-1/2/L F1 of one pair of raw strings. */
export function rougeScores(hyp: string, ref: string): RougeScores {
  const h = wordTokens(hyp);
  const r = wordTokens(ref);
  return {
    rouge1: rougeNTokens(h, r, 1).f1,
    rouge2: rougeNTokens(h, r, 2).f1,
    rougeL: rougeLTokens(h, r).f1,
  };
}

/** Mean per-pair ROUGE-1/2/L F1 over a corpus. */
export function corpusRouge(hyps: string[], refs: string[]): RougeScores {
  if (hyps.length !== refs.length) {
    throw new RangeError(`corpusRouge: ${hyps.length} hypotheses but ${refs.length} references`);
  }
  const sum: RougeScores = { rouge1: 0, rouge2: 0, rougeL: 0 };
  if (hyps.length === 0) return sum;
  for (let i = 0; i < hyps.length; i++) {
    const s = rougeScores(hyps[i], refs[i]);
    sum.rouge1 += s.rouge1;
    sum.rouge2 += s.rouge2;
    sum.rougeL += s.rougeL;
  }
  return {
    rouge1: sum.rouge1 / hyps.length,
    rouge2: sum.rouge2 / hyps.length,
    rougeL: sum.rougeL / hyps.length,
  };
}
