/**
 * Small evaluation metrics for the demo models: corpus BLEU-4 (Papineni et al. 2002; whitespace
 * tokens, no smoothing, one reference per hypothesis), exact match, SQuAD-style token F1, and
 * ROUGE-L F1. Plain functions over strings; no dependencies.
 */

function tokens(s: string): string[] {
  return s.trim().split(/\s+/).filter((t) => t !== '');
}

function ngramCounts(toks: string[], n: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i + n <= toks.length; i++) {
    const k = toks.slice(i, i + n).join('\u0000');
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

/** Corpus BLEU in [0, 1] over whitespace tokens (maxN 4 by default; pass a tokenizer for char BLEU). */
export function corpusBleu(hypotheses: readonly string[], references: readonly string[], maxN = 4, tokenize: (s: string) => string[] = tokens): number {
  if (hypotheses.length !== references.length) throw new RangeError('hypotheses and references differ in length');
  const matches = new Array<number>(maxN).fill(0);
  const totals = new Array<number>(maxN).fill(0);
  let hypLen = 0;
  let refLen = 0;
  for (let i = 0; i < hypotheses.length; i++) {
    const h = tokenize(hypotheses[i]!);
    const r = tokenize(references[i]!);
    hypLen += h.length;
    refLen += r.length;
    for (let n = 1; n <= maxN; n++) {
      const hc = ngramCounts(h, n);
      const rc = ngramCounts(r, n);
      for (const [k, c] of hc) matches[n - 1]! += Math.min(c, rc.get(k) ?? 0);
      totals[n - 1]! += Math.max(0, h.length - n + 1);
    }
  }
  if (hypLen === 0) return 0;
  let logPrecision = 0;
  for (let n = 0; n < maxN; n++) {
    if (matches[n] === 0 || totals[n] === 0) return 0;
    logPrecision += Math.log(matches[n]! / totals[n]!) / maxN;
  }
  const brevity = hypLen >= refLen ? 1 : Math.exp(1 - refLen / hypLen);
  return brevity * Math.exp(logPrecision);
}

/** Lower-cased, punctuation stripped, whitespace-collapsed (SQuAD-style, without English articles). */
export function normalizeAnswer(s: string): string {
  return s.toLowerCase().replace(/[^\p{L}\p{N}\s]/gu, ' ').replace(/\s+/g, ' ').trim();
}

export function exactMatch(prediction: string, answer: string): number {
  return normalizeAnswer(prediction) === normalizeAnswer(answer) ? 1 : 0;
}

/** Token-overlap F1 between a prediction and the answer (SQuAD-style). */
export function tokenF1(prediction: string, answer: string): number {
  const p = tokens(normalizeAnswer(prediction));
  const a = tokens(normalizeAnswer(answer));
  if (p.length === 0 || a.length === 0) return p.length === a.length ? 1 : 0;
  const counts = new Map<string, number>();
  for (const t of a) counts.set(t, (counts.get(t) ?? 0) + 1);
  let common = 0;
  for (const t of p) {
    const c = counts.get(t) ?? 0;
    if (c > 0) {
      common++;
      counts.set(t, c - 1);
    }
  }
  if (common === 0) return 0;
  const precision = common / p.length;
  const recall = common / a.length;
  return (2 * precision * recall) / (precision + recall);
}

/** ROUGE-L F1 (longest common subsequence of whitespace tokens). */
export function rougeL(prediction: string, reference: string): number {
  const p = tokens(prediction);
  const r = tokens(reference);
  if (p.length === 0 || r.length === 0) return 0;
  let prev = new Array<number>(r.length + 1).fill(0);
  for (let i = 1; i <= p.length; i++) {
    const cur = new Array<number>(r.length + 1).fill(0);
    for (let j = 1; j <= r.length; j++) {
      cur[j] = p[i - 1] === r[j - 1] ? prev[j - 1]! + 1 : Math.max(prev[j]!, cur[j - 1]!);
    }
    prev = cur;
  }
  const lcs = prev[r.length]!;
  if (lcs === 0) return 0;
  const precision = lcs / p.length;
  const recall = lcs / r.length;
  return (2 * precision * recall) / (precision + recall);
}

export function mean(xs: readonly number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((s, x) => s + x, 0) / xs.length;
}
