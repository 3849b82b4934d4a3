/**
 * Encoding and padding of Seq2Seq pairs and classification examples, shared by training and serving
 * (the seeded split and epoch order, which only training needs, live in train/epoch-order.ts).
 *
 * Source ids: encode(source), and for QA with a passage `question ⟨sep⟩ context` where ⟨sep⟩ is the
 * <eos> id (it never occurs inside a source otherwise). Sources longer than `maxSource` ids are
 * truncated (a QA passage loses its tail, the question is kept whole when it fits) and the count of
 * dropped ids is reported. A retrieval-augmented model's input is `input ⟨sep⟩ retrieved target` (the
 * target of the nearest training example, tasks/retrieval.ts), the retrieved part at most half of
 * maxSource. Targets are truncated to maxTarget − 1 ids so <eos> always fits.
 *
 * Batches are padded with <pad> (id 0) to the longest row: src [rows, S] with real lengths, and for
 * teacher forcing tgtIn = <bos> y₁…y_n and tgtOut = y₁…y_n <eos> [rows, T] (pads in tgtOut are
 * masked out of the loss).
 */
import { BOS_ID, EOS_ID, PAD_ID, type Tokenizer } from '../tokenize/index.ts';

export const SEP_ID = EOS_ID;

export interface SourceIds {
  ids: number[];
  /** Ids dropped by truncation (0 when the source fit). */
  truncated: number;
}

export function encodeSourceIds(tokenizer: Tokenizer, ex: { source: string; context?: string; retrieved?: string }, maxSource: number): SourceIds {
  const q = tokenizer.encode(ex.source);
  let ids = ex.context === undefined ? q : [...q, SEP_ID, ...tokenizer.encode(ex.context)];
  // Retrieval-augmented models: `input ⟨sep⟩ retrieved target`. The retrieved part keeps at most half
  // of maxSource; the input gives up its tail first so the match always fits.
  const extra = ex.retrieved === undefined ? [] : [SEP_ID, ...tokenizer.encode(ex.retrieved).slice(0, Math.max(0, Math.floor(maxSource / 2) - 1))];
  const room = Math.max(1, maxSource - extra.length);
  const truncated = Math.max(0, ids.length - room);
  if (truncated > 0) ids = ids.slice(0, room);
  if (ids.length === 0) ids = [SEP_ID]; // an input with no known piece still gets one position
  if (extra.length > 0) ids = [...ids, ...extra];
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

/** Consecutive batches in the given order (validation / evaluation). */
export function inBatches<T>(items: readonly T[], batchSize: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += batchSize) out.push(items.slice(i, i + batchSize));
  return out;
}
