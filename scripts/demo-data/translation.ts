/**
 * Translation demo data: numbers written out in English (en-US) → the same number written out in
 * French (fr-FR), both produced by the npm package n2words (MIT). A random number is drawn, written
 * in both languages, and becomes one pair:
 *
 *   "three hundred seventy-one"      → "trois cent soixante et onze"
 *   "nine thousand eighty-first"     → "neuf mille quatre-vingt-unième"   (with ordinalFraction > 0)
 *
 * This is a real, compositional translation task (vigesimal 70–99, "et un", plural "-s" on
 * "quatre-vingts"/"deux cents" only at the end, elision of "un" before "cent"/"mille", ordinal
 * "-ième" with cinq→cinquième, neuf→neuvième …), small enough for a char-level LSTM encoder–decoder.
 * Every pair has a distinct number, so any split of the rows holds out numbers never seen in training;
 * `group` is the number (as a string) for splitByGroup.
 */
import { toCardinal as enCardinal, toOrdinal as enOrdinal } from 'n2words/en-US';
import { toCardinal as frCardinal, toOrdinal as frOrdinal } from 'n2words/fr-FR';
import { createRng } from './rng.ts';

export { splitByGroup } from './split.ts';

export const TRANSLATION_DATA = {
  package: 'n2words (npm)',
  version: '4.0.0',
  license: 'MIT (Copyright (c) 2018-2026 Wael TELLAT; see node_modules/n2words/LICENSE)',
  install: 'npm install --save-dev --save-exact n2words@4.0.0',
  source_language: 'en',
  target_language: 'fr',
  description:
    'Numbers written out in words, English (n2words/en-US) → French (n2words/fr-FR): cardinals, and ordinals ' +
    'when ordinalFraction > 0. Each row is a distinct random number; held-out rows are numbers unseen in training.',
} as const;

export const MAX_SOURCE_CHARS = 120;
export const MAX_TARGET_CHARS = 60;
/** Above this, French number words run past MAX_TARGET_CHARS too often to be worth drawing. */
export const MAX_VALUE_LIMIT = 999_999;

export interface TranslationOptions {
  seed: number;
  count: number;
  /** Largest number drawn (default 9999). Numbers are drawn so each digit count is about equally likely. */
  maxValue?: number;
  /** Fraction of rows written as ordinals ("twenty-first" → "vingt et unième"); default 0. */
  ordinalFraction?: number;
}

export interface TranslationPair {
  source: string;
  target: string;
  /** The number, as a string: the key for a held-out split. */
  group: string;
  value: number;
  form: 'cardinal' | 'ordinal';
}

export function translationPairs(opts: TranslationOptions): TranslationPair[] {
  const maxValue = opts.maxValue ?? 9999;
  const ordinalFraction = opts.ordinalFraction ?? 0;
  if (!Number.isInteger(maxValue) || maxValue < 9 || maxValue > MAX_VALUE_LIMIT) {
    throw new RangeError(`maxValue must be an integer in [9, ${MAX_VALUE_LIMIT}]; got ${maxValue}`);
  }
  if (!(ordinalFraction >= 0 && ordinalFraction <= 1)) {
    throw new RangeError(`ordinalFraction must be in [0, 1]; got ${ordinalFraction}`);
  }
  if (!Number.isInteger(opts.count) || opts.count < 0 || opts.count > maxValue + 1) {
    throw new RangeError(`count must be an integer in [0, ${maxValue + 1}] (each row is a distinct number); got ${opts.count}`);
  }
  const rng = createRng(opts.seed);

  // Buckets by digit count: [0, 9], [10, 99], [100, 999], … capped at maxValue. A bucket's values are
  // shuffled when it is first drawn from and then taken in order, so no number is drawn twice.
  const buckets: { lo: number; hi: number; order: Int32Array | null; next: number }[] = [];
  for (let lo = 0, hi = 9; lo <= maxValue; lo = hi + 1, hi = hi * 10 + 9) {
    buckets.push({ lo, hi: Math.min(hi, maxValue), order: null, next: 0 });
  }
  const drawValue = (): number | null => {
    const open = buckets.filter((b) => b.next <= b.hi - b.lo);
    if (open.length === 0) return null;
    const b = rng.pick(open);
    if (b.order === null) {
      const n = b.hi - b.lo + 1;
      b.order = new Int32Array(n);
      for (let i = 0; i < n; i++) b.order[i] = b.lo + i;
      for (let i = n - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        const t = b.order[i]!;
        b.order[i] = b.order[j]!;
        b.order[j] = t;
      }
    }
    return b.order[b.next++]!;
  };

  const pairs: TranslationPair[] = [];
  while (pairs.length < opts.count) {
    const value = drawValue();
    if (value === null) break; // every number up to maxValue was used (some were too long)
    const form = value > 0 && rng.next() < ordinalFraction ? 'ordinal' : 'cardinal';
    const source = form === 'ordinal' ? enOrdinal(value) : enCardinal(value);
    const target = form === 'ordinal' ? frOrdinal(value) : frCardinal(value);
    if (source.length > MAX_SOURCE_CHARS || target.length > MAX_TARGET_CHARS) continue;
    pairs.push({ source, target, group: String(value), value, form });
  }
  return pairs;
}
