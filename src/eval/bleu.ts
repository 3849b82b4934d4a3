/**
 * Corpus-level BLEU (Papineni et al. 2002), computed the way sacreBLEU computes it.
 *
 * Contract:
 * - `corpusBleu(hypotheses, references, maxOrder = 4, { smooth })` takes ALREADY-TOKENIZED
 *   segments: `hypotheses[i]` is scored against the single reference `references[i]`.
 *   Tokens are compared exactly (case-sensitive).
 * - For n = 1..maxOrder, clipped n-gram matches (each hypothesis n-gram counts at most as
 *   often as it occurs in its reference) and hypothesis n-gram totals are summed over the
 *   whole corpus; p_n = matches_n / total_n (micro-average, NOT a mean of sentence scores).
 * - BLEU = BP · exp((1/N) Σ log p_n) with N = maxOrder (uniform weights).
 *   Brevity penalty with c = Σ|hyp|, r = Σ|ref|: BP = 1 if c ≥ r, exp(1 − r/c) if
 *   0 < c < r, and 0 if c = 0 (so an empty corpus, or empty hypotheses, score 0).
 * - Without smoothing (default), any p_n = 0 (including total_n = 0, i.e. every
 *   hypothesis shorter than n tokens) makes BLEU exactly 0.
 * - `smooth: true` selects sacreBLEU's 'exp' smoothing (the `smooth_method='exp'`
 *   default of the sacreBLEU CLI / corpus_bleu, from mteval-v13a / NIST): walking n = 1..N,
 *   every order with zero matches but a non-zero total gets p_n = 1 / (2^k · total_n),
 *   where k counts the zero-match orders seen so far (1, 2, ...). As in sacreBLEU (without
 *   effective order), an order with total_n = 0 still yields BLEU 0. When no p_n is zero
 *   the smoothed score equals the unsmoothed one.
 * - Returns `bleu` in [0, 1] (NOT ×100), `precisions` = the p_n actually used in the
 *   geometric mean (smoothed ones when smoothing applied them), `brevityPenalty`,
 *   `hypLength` = c and `refLength` = r.
 * - Throws RangeError when the two lists differ in length or maxOrder is not an
 *   integer ≥ 1.
 *
 * `bleuFromTexts(hyps, refs, lang?, opts?)` tokenizes raw strings with `metricTokens`
 * (sacreBLEU-13a, or one token per character for zh/ja or `chars: true`) and calls
 * `corpusBleu`.
 */
import { metricTokens } from './tokens.ts';

export interface BleuResult {
  bleu: number;
  precisions: number[];
  brevityPenalty: number;
  hypLength: number;
  refLength: number;
}

/** Unambiguous key for an n-gram (length-prefixed, so any token content is safe). */
function ngramKey(tokens: readonly string[], start: number, n: number): string {
  let key = '';
  for (let i = start; i < start + n; i++) key += `${tokens[i].length}:${tokens[i]}`;
  return key;
}

/** Counts of every n-gram of exactly order `n` in `tokens` (empty map when |tokens| < n). */
export function ngramCounts(tokens: readonly string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const key = ngramKey(tokens, i, n);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** Σ over hypothesis n-grams of min(count in hyp, count in ref). */
export function clippedMatches(hypCounts: Map<string, number>, refCounts: Map<string, number>): number {
  let matches = 0;
  for (const [key, c] of hypCounts) matches += Math.min(c, refCounts.get(key) ?? 0);
  return matches;
}

export function corpusBleu(
  hypotheses: string[][],
  references: string[][],
  maxOrder = 4,
  opts?: { smooth?: boolean },
): BleuResult {
  if (hypotheses.length !== references.length) {
    throw new RangeError(
      `corpusBleu: ${hypotheses.length} hypotheses but ${references.length} references`,
    );
  }
  if (!Number.isInteger(maxOrder) || maxOrder < 1) {
    throw new RangeError(`corpusBleu: maxOrder must be an integer >= 1, got ${maxOrder}`);
  }
  const matches = new Array<number>(maxOrder).fill(0);
  const totals = new Array<number>(maxOrder).fill(0);
  let hypLength = 0;
  let refLength = 0;
  for (let s = 0; s < hypotheses.length; s++) {
    const hyp = hypotheses[s];
    const ref = references[s];
    hypLength += hyp.length;
    refLength += ref.length;
    for (let n = 1; n <= maxOrder; n++) {
      if (hyp.length < n) break;
      totals[n - 1] += hyp.length - n + 1;
      if (ref.length < n) continue;
      matches[n - 1] += clippedMatches(ngramCounts(hyp, n), ngramCounts(ref, n));
    }
  }

  const precisions = new Array<number>(maxOrder).fill(0);
  let smoothFactor = 1;
  for (let n = 0; n < maxOrder; n++) {
    if (totals[n] === 0) break; // higher orders have no n-grams either: p stays 0
    if (matches[n] > 0) {
      precisions[n] = matches[n] / totals[n];
    } else if (opts?.smooth) {
      smoothFactor *= 2;
      precisions[n] = 1 / (smoothFactor * totals[n]);
    }
  }

  const brevityPenalty =
    hypLength === 0 ? 0 : hypLength >= refLength ? 1 : Math.exp(1 - refLength / hypLength);
  let bleu = 0;
  if (brevityPenalty > 0 && precisions.every((p) => p > 0)) {
    const meanLog = precisions.reduce((acc, p) => acc + Math.log(p), 0) / maxOrder;
    bleu = brevityPenalty * Math.exp(meanLog);
  }
  return { bleu, precisions, brevityPenalty, hypLength, refLength };
}

/** Corpus BLEU on raw strings, tokenized with `metricTokens` (see tokens.ts). */
export function bleuFromTexts(
  hyps: string[],
  refs: string[],
  lang?: string,
  opts?: { smooth?: boolean; chars?: boolean; maxOrder?: number },
): BleuResult {
  if (hyps.length !== refs.length) {
    throw new RangeError(`bleuFromTexts: ${hyps.length} hypotheses but ${refs.length} references`);
  }
  const tok = (s: string) => metricTokens(s, { lang, chars: opts?.chars });
  return corpusBleu(hyps.map(tok), refs.map(tok), opts?.maxOrder ?? 4, { smooth: opts?.smooth });
}
