/**
 * SQuAD v1.1 extractive-QA metrics: exact match and token-level F1.
 *
 * Contract:
 * - Both strings are normalized with `normalizeAnswer` (tokens.ts): lowercase, punctuation
 *   (\p{P} + ASCII symbols) deleted, articles a/an/the removed, whitespace collapsed.
 * - `exactMatch(pred, gold)` → 1 when the normalized strings are identical, else 0
 *   (so two empty / punctuation-only answers match: 1).
 * - `tokenF1(pred, gold)`: tokens = normalized text split on whitespace; overlap = size of
 *   the multiset (bag) intersection; P = overlap / |pred|, R = overlap / |gold|,
 *   F1 = 2PR / (P + R). Edge cases (SQuAD v2.0 convention): both token lists empty → 1,
 *   exactly one empty → 0; no overlap → 0. (The v1.1 script would give 0 for both empty.)
 *   Whitespace-free scripts (Chinese, Japanese) form one token per space-separated chunk,
 *   so for them F1 degenerates towards exact match.
 * - `corpusQa(preds, golds)` → { exact_match, f1 }: the mean over questions, each in
 *   [0, 1] (not ×100). A gold entry may be a string or a non-empty list of acceptable
 *   answers; with a list, each question scores the maximum over its answers (as SQuAD).
 *   An empty corpus gives { exact_match: 0, f1: 0 }. Throws RangeError on a length
 *   mismatch or an empty answer list.
 */
import { normalizeAnswer } from './tokens.ts';

export function exactMatch(pred: string, gold: string): 0 | 1 {
  return normalizeAnswer(pred) === normalizeAnswer(gold) ? 1 : 0;
}

function splitTokens(normalized: string): string[] {
  return normalized.length === 0 ? [] : normalized.split(' ');
}

export function tokenF1(pred: string, gold: string): number {
  const p = splitTokens(normalizeAnswer(pred));
  const g = splitTokens(normalizeAnswer(gold));
  if (p.length === 0 || g.length === 0) return p.length === g.length ? 1 : 0;
  const goldCounts = new Map<string, number>();
  for (const tok of g) goldCounts.set(tok, (goldCounts.get(tok) ?? 0) + 1);
  let overlap = 0;
  for (const tok of p) {
    const c = goldCounts.get(tok) ?? 0;
    if (c > 0) {
      overlap++;
      goldCounts.set(tok, c - 1);
    }
  }
  if (overlap === 0) return 0;
  const precision = overlap / p.length;
  const recall = overlap / g.length;
  return (2 * precision * recall) / (precision + recall);
}

export function corpusQa(
  preds: string[],
  golds: Array<string | string[]>,
): { exact_match: number; f1: number } {
  if (preds.length !== golds.length) {
    throw new RangeError(`corpusQa: ${preds.length} predictions but ${golds.length} gold answers`);
  }
  if (preds.length === 0) return { exact_match: 0, f1: 0 };
  let em = 0;
  let f1 = 0;
  for (let i = 0; i < preds.length; i++) {
    const answers = typeof golds[i] === 'string' ? [golds[i] as string] : (golds[i] as string[]);
    if (answers.length === 0) throw new RangeError(`corpusQa: question ${i} has no gold answer`);
    em += Math.max(...answers.map((a) => exactMatch(preds[i], a)));
    f1 += Math.max(...answers.map((a) => tokenF1(preds[i], a)));
  }
  return { exact_match: em / preds.length, f1: f1 / preds.length };
}
