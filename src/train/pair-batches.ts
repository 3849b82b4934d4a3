/**
 * Encoding and batching of Seq2Seq pairs and classification examples.
 *
 * Source ids: encode(source), and for QA with a passage `question ⟨sep⟩ context` where ⟨sep⟩ is the
 * <eos> id (it never occurs inside a source otherwise). Sources longer than `maxSource` ids are
 * truncated (a QA passage loses its tail, the question is kept whole when it fits) and the count of
 * dropped ids is reported. Targets are truncated to maxTarget − 1 ids so <eos> always fits.
 *
 * Batches are padded with <pad> (id 0) to the longest row: src [rows, S] with real lengths, and for
 * teacher forcing tgtIn = <bos> y₁…y_n and tgtOut = y₁…y_n <eos> [rows, T] (pads in tgtOut are
 * masked out of the loss). Epoch order is seeded: a shuffle, then rows of similar source length are
 * grouped (less padding), then the batch order is shuffled again.
 */
import { createRng } from '../decode/rng.ts';
import { BOS_ID, EOS_ID, PAD_ID, type Tokenizer } from '../tokenize/index.ts';

export const SEP_ID = EOS_ID;

export interface SourceIds {
  ids: number[];
  /** Ids dropped by truncation (0 when the source fit). */
  truncated: number;
}

export function encodeSourceIds(tokenizer: Tokenizer, ex: { source: string; context?: string }, maxSource: number): SourceIds {
  const q = tokenizer.encode(ex.source);
  let ids = ex.context === undefined ? q : [...q, SEP_ID, ...tokenizer.encode(ex.context)];
  const truncated = Math.max(0, ids.length - maxSource);
  if (truncated > 0) ids = ids.slice(0, maxSource);
  if (ids.length === 0) ids = [SEP_ID]; // an input with no known piece still gets one position
  return { ids, truncated };
}

export function encodeTargetIds(tokenizer: Tokenizer, text: string, maxTarget: number): number[] {
  return tokenizer.encode(text).slice(0, Math.max(0, maxTarget - 1));
}

export interface EncodedPair {
  src: number[];
  tgt: number[];
}

export interface PairBatch {
  rows: number;
  srcLen: number;
  tgtLen: number;
  /** [rows, srcLen] */
  src: Int32Array;
  srcLengths: Int32Array;
  /** [rows, tgtLen] */
  tgtIn: Int32Array;
  tgtOut: Int32Array;
  /** Target positions that count in the loss (incl. each <eos>). */
  targetTokens: number;
}

/** Pads rows into [rows, width] with PAD_ID; returns the ids and each row's length. */
export function padRows(rows: readonly (readonly number[])[], width = Math.max(1, ...rows.map((r) => r.length))): { ids: Int32Array; lengths: Int32Array; width: number } {
  const ids = new Int32Array(rows.length * width).fill(PAD_ID);
  const lengths = new Int32Array(rows.length);
  rows.forEach((r, i) => {
    const n = Math.min(r.length, width);
    for (let j = 0; j < n; j++) ids[i * width + j] = r[j]!;
    lengths[i] = n;
  });
  return { ids, lengths, width };
}

export function makePairBatch(pairs: readonly EncodedPair[]): PairBatch {
  const src = padRows(pairs.map((p) => p.src));
  const tin = padRows(pairs.map((p) => [BOS_ID, ...p.tgt]));
  const tout = padRows(pairs.map((p) => [...p.tgt, EOS_ID]));
  return {
    rows: pairs.length, srcLen: src.width, tgtLen: tin.width, src: src.ids, srcLengths: src.lengths,
    tgtIn: tin.ids, tgtOut: tout.ids, targetTokens: pairs.reduce((n, p) => n + p.tgt.length + 1, 0),
  };
}

function shuffled(n: number, rng: () => number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/**
 * A seeded train/validation split: the same (examples, share, seed) always gives the same split.
 * When examples carry a `group`, whole groups are held out (shuffled groups are taken until the
 * share is reached), so no group is on both sides; otherwise single examples are.
 */
export function splitExamples<T extends { group?: string }>(examples: readonly T[], share: number, seed: number): { train: T[]; val: T[] } {
  const rng = createRng((seed ^ 0x5eed) >>> 0);
  const target = Math.min(examples.length - 1, Math.max(share > 0 && examples.length >= 2 ? 1 : 0, Math.round(examples.length * share)));
  if (examples.some((e) => e.group !== undefined)) {
    const groups = [...new Set(examples.map((e) => e.group ?? ''))].sort();
    const held = new Set<string>();
    let count = 0;
    for (const gi of shuffled(groups.length, rng)) {
      if (count >= target || held.size === groups.length - 1) break;
      const g = groups[gi]!;
      held.add(g);
      count += examples.filter((e) => (e.group ?? '') === g).length;
    }
    return { val: examples.filter((e) => held.has(e.group ?? '')), train: examples.filter((e) => !held.has(e.group ?? '')) };
  }
  const order = shuffled(examples.length, rng);
  return { val: order.slice(0, target).map((i) => examples[i]!), train: order.slice(target).map((i) => examples[i]!) };
}

/**
 * One epoch's batches of `items` (any row type with a source length), in an order that depends
 * only on (seed, epoch). Rows are grouped by length in windows of 16 batches to limit padding.
 */
export function bucketedEpoch<T>(items: readonly T[], lengthOf: (t: T) => number, batchSize: number, seed: number, epoch: number): T[][] {
  const rng = createRng((seed * 1000003 + epoch * 7919 + 17) >>> 0);
  const order = shuffled(items.length, rng);
  const window = batchSize * 16;
  const batches: T[][] = [];
  for (let start = 0; start < order.length; start += window) {
    const chunk = order.slice(start, start + window).sort((a, b) => lengthOf(items[a]!) - lengthOf(items[b]!) || a - b);
    for (let i = 0; i < chunk.length; i += batchSize) batches.push(chunk.slice(i, i + batchSize).map((k) => items[k]!));
  }
  return shuffled(batches.length, rng).map((i) => batches[i]!);
}

/** Consecutive batches in the given order (validation / evaluation). */
export function inBatches<T>(items: readonly T[], batchSize: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += batchSize) out.push(items.slice(i, i + batchSize));
  return out;
}
