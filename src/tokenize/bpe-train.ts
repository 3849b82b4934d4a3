/**
 * BPE training: learns a character alphabet and merges from texts, deterministically (the result
 * depends only on the multiset of texts, not their order) and fast (pair counts are updated
 * incrementally per merge, never recounted: ~5 MB of text to 8,000 tokens in seconds on one core).
 *
 * Text is first normalised and cut into segments by the rules in bpe-pieces.ts (a space becomes
 * "▁" and belongs to the word after it); merges are learned inside segments only, weighted by how
 * often each distinct segment occurs. Characters outside the alphabet are left out of every merge:
 * at encoding time they become byte-fallback tokens <0xNN>, so nothing is ever <unk>.
 *
 * Vocabulary layout of the result: ids 0..3 the specials, 4..259 the 256 byte tokens, then the
 * alphabet (most frequent character first, ties by code point; the characters covering `coverage`
 * of all occurrences, at most 3/4 of the ids left after the bytes), then one id per merge in the order
 * learned. A merge whose text equals an existing token reuses its id (as Hugging Face's trainer
 * does); one whose text would equal a special or byte token is never taken.
 */
import { BYTE_TOKENS, RESERVED_PIECES, segmentText } from './bpe-pieces.ts';
import { SPECIAL_TOKENS } from './vocab.ts';

export interface BpeTrainOptions {
  /** Upper bound on the vocabulary, specials and byte tokens included (≥ MIN_BPE_VOCAB). */
  vocabSize: number;
  /** A pair seen fewer times than this is never merged (default 2). */
  minFrequency?: number;
  /** Share of character occurrences the alphabet must cover; rarer characters fall back to bytes (default 0.9999). */
  coverage?: number;
}

export interface BpeModelData {
  /** id → piece text; ids 0..3 specials, 4..259 byte tokens. */
  vocab: string[];
  /** Merges in priority order (rank 0 first): [left piece, right piece]. */
  merges: Array<[string, string]>;
}

/** Pair key: a·2^20 + b (ids stay below 2^20, so keys are exact doubles). */
const KEY = 1 << 20;

/**
 * Max-heap of (count, key): highest count first, ties by lowest key (lowest left id, then right id).
 * Entries go stale when counts change; the trainer re-checks each popped entry (lazy deletion).
 */
class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];

  get size(): number {
    return this.keys.length;
  }

  private above(i: number, j: number): boolean {
    return this.counts[i] > this.counts[j] || (this.counts[i] === this.counts[j] && this.keys[i] < this.keys[j]);
  }

  private swap(i: number, j: number): void {
    [this.counts[i], this.counts[j]] = [this.counts[j], this.counts[i]];
    [this.keys[i], this.keys[j]] = [this.keys[j], this.keys[i]];
  }

  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.keys.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.above(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** Removes and returns the top entry as [count, key]. */
  pop(): [number, number] {
    const top: [number, number] = [this.counts[0], this.keys[0]];
    const lastCount = this.counts.pop()!;
    const lastKey = this.keys.pop()!;
    if (this.keys.length > 0) {
      this.counts[0] = lastCount;
      this.keys[0] = lastKey;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < this.keys.length && this.above(l, best)) best = l;
        if (r < this.keys.length && this.above(r, best)) best = r;
        if (best === i) break;
        this.swap(i, best);
        i = best;
      }
    }
    return top;
  }
}

/** Picks the alphabet: most frequent characters until `coverage` of occurrences, at most `cap`. */
function chooseAlphabet(charCounts: Map<string, number>, coverage: number, cap: number): string[] {
  const ranked = [...charCounts].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  const total = ranked.reduce((sum, [, c]) => sum + c, 0);
  const alphabet: string[] = [];
  let covered = 0;
  for (const [ch, count] of ranked) {
    if (alphabet.length >= cap || covered >= coverage * total) break;
    alphabet.push(ch);
    covered += count;
  }
  return alphabet;
}

/** Learns a BPE vocabulary and merges from `texts`. */
export function trainBpe(texts: Iterable<string>, opts: BpeTrainOptions): BpeModelData {
  const minFrequency = opts.minFrequency ?? 2;
  const coverage = opts.coverage ?? 0.9999;
  if (opts.vocabSize >= KEY) throw new RangeError(`vocabSize must be below ${KEY}`);

  // 1. Distinct segments with their counts, and character counts weighted by them.
  const segCounts = new Map<string, number>();
  for (const text of texts) {
    for (const seg of segmentText(text)) segCounts.set(seg, (segCounts.get(seg) ?? 0) + 1);
  }
  const charCounts = new Map<string, number>();
  for (const [seg, n] of segCounts) {
    for (const ch of seg) charCounts.set(ch, (charCounts.get(ch) ?? 0) + n);
  }
  // Lone surrogates can never be a vocabulary entry: they always take the byte path (as U+FFFD).
  for (const ch of charCounts.keys()) if (!ch.isWellFormed()) charCounts.delete(ch);

  const vocab: string[] = [...SPECIAL_TOKENS, ...BYTE_TOKENS];
  const ids = new Map<string, number>();
  vocab.forEach((piece, id) => ids.set(piece, id));
  // The alphabet may take at most 3/4 of the learned ids, so a small vocabulary still gets merges.
  const learned = Math.max(0, opts.vocabSize - vocab.length);
  for (const ch of chooseAlphabet(charCounts, coverage, Math.ceil((learned * 3) / 4))) {
    ids.set(ch, vocab.length);
    vocab.push(ch);
  }

  // 2. Words as symbol-id arrays (-1 = a character outside the alphabet: never part of a pair).
  const words: number[][] = [];
  const freqs: number[] = [];
  for (const [seg, n] of segCounts) {
    const word = Array.from(seg, (ch) => ids.get(ch) ?? -1);
    if (word.length < 2) continue;
    words.push(word);
    freqs.push(n);
  }

  // 3. Initial pair counts and, per pair, the words it occurs in (may hold duplicates/stale entries).
  const pairCounts = new Map<number, number>();
  const pairWords = new Map<number, number[]>();
  const touched = new Set<number>();
  const change = (a: number, b: number, delta: number, w: number): void => {
    if (a < 0 || b < 0) return;
    const key = a * KEY + b;
    pairCounts.set(key, (pairCounts.get(key) ?? 0) + delta);
    if (delta > 0) {
      let list = pairWords.get(key);
      if (!list) pairWords.set(key, (list = []));
      list.push(w);
      touched.add(key);
    }
  };
  words.forEach((word, w) => {
    for (let i = 0; i + 1 < word.length; i++) change(word[i], word[i + 1], freqs[w], w);
  });
  const heap = new PairHeap();
  const flush = (): void => {
    for (const key of touched) {
      const count = pairCounts.get(key)!;
      if (count > 0) heap.push(count, key);
    }
    touched.clear();
  };
  flush();

  // 4. Merge the most frequent pair until the vocabulary is full or no pair is frequent enough.
  const merges: Array<[string, string]> = [];
  const seen = new Int32Array(words.length).fill(-1);
  while (vocab.length < opts.vocabSize && heap.size > 0) {
    const [count, key] = heap.pop();
    const current = pairCounts.get(key) ?? 0;
    if (current !== count) {
      if (current > 0 && current < count) heap.push(current, key); // stale entry: re-queue at its true count
      continue;
    }
    if (count < minFrequency) break;
    const a = Math.floor(key / KEY);
    const b = key % KEY;
    const text = vocab[a] + vocab[b];
    if (RESERVED_PIECES.has(text)) {
      pairCounts.set(key, 0); // never merged; its occurrences simply stay as two symbols
      continue;
    }
    let merged = ids.get(text);
    if (merged === undefined) {
      merged = vocab.length;
      ids.set(text, merged);
      vocab.push(text);
    }
    merges.push([vocab[a], vocab[b]]);
    const stamp = merges.length;
    for (const w of pairWords.get(key) ?? []) {
      if (seen[w] === stamp) continue;
      seen[w] = stamp;
      words[w] = mergeWord(words[w], a, b, merged, freqs[w], w, change);
    }
    pairWords.delete(key);
    pairCounts.delete(key);
    flush();
  }
  return { vocab, merges };
}

/**
 * Replaces every non-overlapping (a, b) in `word`, left to right, by `merged`, reporting the pair
 * count changes: the merged pair and its neighbours' pairs lose `freq`, the new neighbour pairs
 * gain it. `out`'s last symbol is the (possibly just merged) left neighbour, so runs like a b a b
 * and a a a come out right.
 */
function mergeWord(
  word: number[],
  a: number,
  b: number,
  merged: number,
  freq: number,
  w: number,
  change: (x: number, y: number, delta: number, w: number) => void,
): number[] {
  const out: number[] = [];
  let i = 0;
  while (i < word.length) {
    if (i + 1 < word.length && word[i] === a && word[i + 1] === b) {
      const prev = out.length > 0 ? out[out.length - 1] : -1;
      const next = i + 2 < word.length ? word[i + 2] : -1;
      change(a, b, -freq, w);
      if (prev >= 0) {
        change(prev, a, -freq, w);
        change(prev, merged, freq, w);
      }
      if (next >= 0) {
        change(b, next, -freq, w);
        change(merged, next, freq, w);
      }
      out.push(merged);
      i += 2;
    } else {
      out.push(word[i]);
      i++;
    }
  }
  return out;
}
