/**
 * Byte-fallback BPE tokenizer (SentencePiece-style metaspace, see bpe-pieces.ts for the text
 * conventions). Saved as a Hugging Face `tokenizer.json` (model "BPE", byte_fallback, a Replace
 * normalizer and a Replace/ByteFallback/Fuse decoder), so the Rust `tokenizers` library,
 * Tokenizers.js and transformers read it and produce the same ids and text as this class
 * (test/unit/bpe.test.ts checks that against @huggingface/tokenizers).
 *
 * Encoding: per segment, start from code points (alphabet ids, or byte tokens for the rest), then
 * apply merges lowest rank first, leftmost first among equal ranks — the order Hugging Face uses.
 * Nothing ever encodes to <unk>; the specials 0..3 are never produced from text.
 * Decoding: specials are skipped, "▁" becomes a space, and each run of byte tokens becomes the
 * UTF-8 text it spells (invalid parts as U+FFFD, see decodeByteRun).
 */
import { trainBpe, type BpeModelData, type BpeTrainOptions } from './bpe-train.ts';
import { BYTE_TOKENS, METASPACE, byteToken, parseByteToken, segmentText } from './bpe-pieces.ts';
import { SPECIAL_TOKENS, type Tokenizer } from './vocab.ts';

/** Smallest accepted `tokenizer.vocab_size`: 4 specials + 256 byte tokens + 40 learned pieces. */
export const MIN_BPE_VOCAB = SPECIAL_TOKENS.length + 256 + 40;
/** Largest accepted `tokenizer.vocab_size`. */
export const MAX_BPE_VOCAB = 100_000;
const FIRST_BYTE_ID = SPECIAL_TOKENS.length;

/** The Hugging Face tokenizer.json shape this class writes (and the subset it reads back). */
export interface HfBpeTokenizerJSON {
  version: '1.0';
  truncation: null;
  padding: null;
  added_tokens: Array<{ id: number; content: string; single_word: false; lstrip: false; rstrip: false; normalized: false; special: true }>;
  normalizer: { type: 'Replace'; pattern: { String: ' ' }; content: string };
  pre_tokenizer: null;
  post_processor: null;
  decoder: { type: 'Sequence'; decoders: unknown[] };
  model: {
    type: 'BPE';
    dropout: null;
    unk_token: '<unk>';
    continuing_subword_prefix: null;
    end_of_word_suffix: null;
    fuse_unk: true;
    byte_fallback: true;
    ignore_merges: false;
    vocab: Record<string, number>;
    merges: Array<[string, string]>;
  };
}

const KEY = 1 << 20;
/** Encoded segments kept (words repeat; long CJK runs rarely do, so they are not cached). */
const CACHE_LIMIT = 50_000;
const CACHE_MAX_SEGMENT = 256;

export class BpeTokenizer implements Tokenizer {
  readonly type = 'bpe' as const;
  readonly vocabSize: number;
  private readonly vocab: readonly string[];
  private readonly merges: ReadonlyArray<readonly [string, string]>;
  /** Single-code-point pieces (the alphabet) → id. */
  private readonly charIds = new Map<string, number>();
  /** Pair key a·2^20+b → [rank, merged id]. */
  private readonly ranks = new Map<number, [number, number]>();
  private readonly cache = new Map<string, number[]>();

  /** `data` must be valid (trainBpe output, or checked by loadBpeTokenizer). */
  constructor(data: BpeModelData) {
    this.vocab = data.vocab;
    this.merges = data.merges;
    this.vocabSize = data.vocab.length;
    const ids = new Map<string, number>();
    data.vocab.forEach((piece, id) => ids.set(piece, id));
    for (let id = FIRST_BYTE_ID + 256; id < data.vocab.length; id++) {
      const piece = data.vocab[id];
      if (piece.length <= 2 && [...piece].length === 1) this.charIds.set(piece, id);
    }
    data.merges.forEach(([left, right], rank) => {
      const key = ids.get(left)! * KEY + ids.get(right)!;
      if (!this.ranks.has(key)) this.ranks.set(key, [rank, ids.get(left + right)!]);
    });
  }

  encode(text: string): number[] {
    const out: number[] = [];
    for (const seg of segmentText(text)) {
      let ids = this.cache.get(seg);
      if (!ids) {
        ids = this.encodeSegment(seg);
        if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
        if (seg.length <= CACHE_MAX_SEGMENT) this.cache.set(seg, ids);
      }
      for (const id of ids) out.push(id);
    }
    return out;
  }

  /** BPE on one segment: a linked list of symbols and a min-heap of (rank, position) candidates. */
  private encodeSegment(seg: string): number[] {
    const sym: number[] = [];
    const mergeable: boolean[] = [];
    for (const ch of seg) {
      const id = this.charIds.get(ch);
      if (id !== undefined) {
        sym.push(id);
        mergeable.push(true);
      } else {
        for (const byte of new TextEncoder().encode(ch)) {
          sym.push(FIRST_BYTE_ID + byte);
          mergeable.push(false);
        }
      }
    }
    const n = sym.length;
    if (n < 2 || this.ranks.size === 0) return sym;
    const next = Int32Array.from({ length: n }, (_, i) => (i + 1 < n ? i + 1 : -1));
    const prev = Int32Array.from({ length: n }, (_, i) => i - 1);
    const alive = new Uint8Array(n).fill(1);
    const heap = new MinHeap();
    const consider = (i: number): void => {
      const j = next[i];
      if (j < 0 || !mergeable[i] || !mergeable[j]) return;
      const hit = this.ranks.get(sym[i] * KEY + sym[j]);
      if (hit) heap.push(hit[0] * 2 ** 32 + i);
    };
    for (let i = 0; i + 1 < n; i++) consider(i);
    while (heap.size > 0) {
      const entry = heap.pop();
      const rank = Math.floor(entry / 2 ** 32);
      const i = entry - rank * 2 ** 32;
      const j = next[i];
      if (!alive[i] || j < 0) continue;
      const hit = this.ranks.get(sym[i] * KEY + sym[j]);
      if (!hit || hit[0] !== rank) continue; // stale: one side was merged since
      sym[i] = hit[1];
      alive[j] = 0;
      next[i] = next[j];
      if (next[j] >= 0) prev[next[j]] = i;
      if (prev[i] >= 0) consider(prev[i]);
      consider(i);
    }
    const out: number[] = [];
    for (let i = 0; i >= 0; i = next[i]) out.push(sym[i]);
    return out;
  }

  decode(ids: readonly number[]): string {
    let text = '';
    let bytes: number[] = [];
    for (const id of ids) {
      this.checkId(id);
      if (id < FIRST_BYTE_ID) continue;
      if (id < FIRST_BYTE_ID + 256) {
        bytes.push(id - FIRST_BYTE_ID);
        continue;
      }
      if (bytes.length > 0) text += decodeByteRun(bytes);
      bytes = [];
      text += this.vocab[id].replaceAll(METASPACE, ' ');
    }
    if (bytes.length > 0) text += decodeByteRun(bytes);
    return text;
  }

  /** The token's text; a byte token alone gives its character if ASCII, else U+FFFD (see tokenPiece). */
  tokenText(id: number): string {
    this.checkId(id);
    if (id < FIRST_BYTE_ID) return '';
    return this.decode([id]);
  }

  /**
   * For streaming: a byte token is its byte (the streamer assembles whole characters), a special
   * no bytes (so, as in decode, it does not cut a run of bytes), anything else its text.
   */
  tokenPiece(id: number): string | Uint8Array {
    this.checkId(id);
    if (id < FIRST_BYTE_ID + 256) return id < FIRST_BYTE_ID ? new Uint8Array(0) : Uint8Array.of(id - FIRST_BYTE_ID);
    return this.tokenText(id);
  }

  toJSON(): HfBpeTokenizerJSON {
    const vocab: Record<string, number> = {};
    this.vocab.forEach((piece, id) => (vocab[piece] = id));
    return {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: SPECIAL_TOKENS.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
      normalizer: { type: 'Replace', pattern: { String: ' ' }, content: METASPACE },
      pre_tokenizer: null,
      post_processor: null,
      decoder: {
        type: 'Sequence',
        decoders: [{ type: 'Replace', pattern: { String: METASPACE }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }],
      },
      model: {
        type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null,
        fuse_unk: true, byte_fallback: true, ignore_merges: false, vocab, merges: this.merges.map(([a, b]) => [a, b]),
      },
    };
  }

  private checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      throw new RangeError(`token id ${id} is outside the vocabulary (size ${this.vocabSize})`);
    }
  }
}

/**
 * A run of byte tokens as text: its UTF-8 decoding, each maximal invalid subpart as U+FFFD (the
 * WHATWG rule: what Tokenizers.js and TextStreamer do; the Rust library writes one U+FFFD per byte
 * of a run that is not valid UTF-8 — they differ only on invalid runs, which encode never makes).
 */
function decodeByteRun(bytes: number[]): string {
  return new TextDecoder('utf-8', { ignoreBOM: true }).decode(Uint8Array.from(bytes));
}

/** Min-heap of plain numbers (rank·2^32 + position). */
class MinHeap {
  private a: number[] = [];
  get size(): number {
    return this.a.length;
  }
  push(v: number): void {
    const a = this.a;
    a.push(v);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p] <= v) break;
      a[i] = a[p];
      i = p;
    }
    a[i] = v;
  }
  pop(): number {
    const a = this.a;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const c = l + 1 < a.length && a[l + 1] < a[l] ? l + 1 : l;
        if (a[c] >= last) break;
        a[i] = a[c];
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

/** Trains a BPE tokenizer on `texts` (see bpe-train.ts). */
export function fitBpeTokenizer(texts: Iterable<string>, opts: BpeTrainOptions): BpeTokenizer {
  return new BpeTokenizer(trainBpe(texts, opts));
}

/**
 * Rebuilds a BPE tokenizer from a parsed Hugging Face tokenizer.json written by toJSON(). Checks
 * the parts this class relies on (ids 0..n-1 without gaps, the specials at 0..3, the 256 byte
 * tokens at 4..259, every merge's parts and result in the vocabulary); throws Error naming the
 * first problem.
 */
export function loadBpeTokenizer(json: Record<string, unknown>): BpeTokenizer {
  const model = json.model as Record<string, unknown>;
  const fail = (msg: string): never => {
    throw new Error(`tokenizer.json (BPE): ${msg}`);
  };
  if (model.byte_fallback !== true) fail('byte_fallback must be true');
  const normalizer = json.normalizer as { type?: unknown; content?: unknown } | null;
  if (normalizer?.type !== 'Replace' || normalizer.content !== METASPACE) fail('normalizer must be Replace " " → "▁"');
  if (typeof model.vocab !== 'object' || model.vocab === null || Array.isArray(model.vocab)) fail('model.vocab must be an object');
  const entries = Object.entries(model.vocab as Record<string, unknown>);
  const vocab: string[] = new Array(entries.length);
  for (const [piece, id] of entries) {
    if (!Number.isInteger(id) || (id as number) < 0 || (id as number) >= entries.length || vocab[id as number] !== undefined) {
      fail(`model.vocab ids must be 0..${entries.length - 1} without gaps or repeats (${JSON.stringify(piece)}: ${String(id)})`);
    }
    if (piece === '' || !piece.isWellFormed()) fail(`model.vocab has an empty or malformed piece at id ${String(id)}`);
    vocab[id as number] = piece;
  }
  SPECIAL_TOKENS.forEach((s, id) => vocab[id] !== s && fail(`ids 0..3 must be ${SPECIAL_TOKENS.join(', ')}`));
  BYTE_TOKENS.forEach((s, b) => vocab[FIRST_BYTE_ID + b] !== s && fail(`ids 4..259 must be the byte tokens ${byteToken(0)}..${byteToken(255)}`));
  for (let id = FIRST_BYTE_ID + 256; id < vocab.length; id++) {
    if (parseByteToken(vocab[id]) !== undefined) fail(`byte token ${vocab[id]} outside ids 4..259`);
  }
  if (!Array.isArray(model.merges)) fail('model.merges must be an array');
  const known = new Set(vocab);
  const merges = (model.merges as unknown[]).map((m, i): [string, string] => {
    const pair = typeof m === 'string' ? m.split(' ') : m;
    if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((p) => typeof p === 'string' && known.has(p))) {
      return fail(`model.merges[${i}] must be two vocabulary pieces`);
    }
    if (!known.has(pair[0] + pair[1])) fail(`model.merges[${i}] makes ${JSON.stringify(pair[0] + pair[1])}, which is not in the vocabulary`);
    return [pair[0], pair[1]];
  });
  if (vocab.length < MIN_BPE_VOCAB - 40 + 1) fail('the vocabulary has no text pieces');
  return new BpeTokenizer({ vocab, merges });
}

