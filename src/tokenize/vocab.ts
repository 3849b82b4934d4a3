/**
 * Shared tokenizer machinery: the special tokens, the saved-file shape, vocabulary fitting
 * (frequency count → cap → specials first) and a base class that turns any "split text into
 * pieces" rule into a full Tokenizer. char.ts and word.ts only supply the split rule.
 *
 * Id layout of every vocabulary: ids 0..3 are SPECIAL_TOKENS, ids ≥ 4 are text pieces ordered by
 * descending training frequency (ties: lower code-unit order first). A piece never equals a special
 * token's string, so text containing "<eos>" can never produce the EOS id.
 */
import { ServiceError } from '../errors.ts';
import type { HfBpeTokenizerJSON } from './bpe.ts';

export type TokenizerType = 'char' | 'word' | 'bpe';

export const SPECIAL_TOKENS = ['<pad>', '<bos>', '<eos>', '<unk>'] as const;
export const PAD_ID = 0;
export const BOS_ID = 1;
export const EOS_ID = 2;
export const UNK_ID = 3;

/** Smallest accepted `tokenizer.max_vocab`: the 4 specials plus at least one text piece. */
export const MIN_VOCAB = SPECIAL_TOKENS.length + 1;

/**
 * On-disk shape of a char or word `tokenizer.json`: `vocab[id]` is the token's text; the first 4
 * are the specials. Word files of version 1 split whitespace into tokens of its own; version 2
 * attaches it to the following word (word.ts). BPE tokenizers are saved in Hugging Face's format
 * instead (bpe.ts).
 */
export interface PieceTokenizerJSON {
  type: 'char' | 'word';
  version: 1 | 2;
  vocab: string[];
}

/** What Tokenizer.toJSON() returns and loadTokenizer() reads. */
export type TokenizerJSON = PieceTokenizerJSON | HfBpeTokenizerJSON;

export interface Tokenizer {
  readonly type: TokenizerType;
  /** Number of ids, including the 4 specials; valid ids are 0 .. vocabSize-1. */
  readonly vocabSize: number;
  /** Text → ids. No specials are added; pieces not in the vocabulary map to UNK_ID. */
  encode(text: string): number[];
  /** Ids → text. Special ids are skipped; decode(encode(t)) === t when every piece of t is known. */
  decode(ids: readonly number[]): string;
  /** Text of one token; '' for the specials. Throws RangeError for an id outside the vocabulary. */
  tokenText(id: number): string;
  /**
   * What a streamer appends for this token: its text, or for a byte-fallback token (BPE) the one
   * UTF-8 byte it stands for — the streamer holds bytes until they make a whole character.
   */
  tokenPiece(id: number): string | Uint8Array;
  toJSON(): TokenizerJSON;
}

const SPECIAL_SET: ReadonlySet<string> = new Set(SPECIAL_TOKENS);
/** True when `s` contains no unpaired UTF-16 surrogate (i.e. it encodes to valid UTF-8). */
export function isWellFormed(s: string): boolean {
  return s.isWellFormed();
}

/** Throws the client-facing error for a bad `tokenizer.max_vocab`. */
export function checkMaxVocab(maxVocab: number): void {
  if (!Number.isInteger(maxVocab) || maxVocab < MIN_VOCAB) {
    throw new ServiceError(
      'invalid_parameter',
      `tokenizer.max_vocab must be an integer ≥ ${MIN_VOCAB} (4 special tokens + at least 1 piece); got ${String(maxVocab)}`,
    );
  }
}

/**
 * Builds a vocabulary from a stream of pieces: specials first, then the `maxVocab - 4` most
 * frequent pieces. Ties are broken by code-unit order of the piece, so the result depends only on
 * the multiset of pieces, not on the order of the training texts. Empty pieces, pieces equal to a
 * special token and pieces with unpaired surrogates are never admitted (they encode to <unk>).
 */
export function buildVocab(pieces: Iterable<string>, maxVocab: number): string[] {
  checkMaxVocab(maxVocab);
  const counts = new Map<string, number>();
  for (const piece of pieces) {
    counts.set(piece, (counts.get(piece) ?? 0) + 1);
  }
  const ranked: Array<[string, number]> = [];
  for (const entry of counts) {
    const piece = entry[0];
    if (piece === '' || SPECIAL_SET.has(piece) || !isWellFormed(piece)) continue;
    ranked.push(entry);
  }
  ranked.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const kept = ranked.slice(0, maxVocab - SPECIAL_TOKENS.length).map(([piece]) => piece);
  return [...SPECIAL_TOKENS, ...kept];
}

/**
 * Checks a vocabulary read from disk: an array of distinct, non-empty, well-formed strings whose
 * first 4 entries are exactly SPECIAL_TOKENS. Throws Error naming the first problem.
 */
export function validateVocab(vocab: unknown): string[] {
  if (!Array.isArray(vocab)) throw new Error('tokenizer.json: "vocab" must be an array of strings');
  if (vocab.length < MIN_VOCAB) {
    throw new Error(`tokenizer.json: "vocab" must have at least ${MIN_VOCAB} entries; got ${vocab.length}`);
  }
  const seen = new Set<string>();
  vocab.forEach((entry: unknown, id) => {
    if (typeof entry !== 'string' || entry === '') {
      throw new Error(`tokenizer.json: vocab[${id}] must be a non-empty string`);
    }
    if (id < SPECIAL_TOKENS.length ? entry !== SPECIAL_TOKENS[id] : SPECIAL_SET.has(entry)) {
      throw new Error(`tokenizer.json: special tokens must be exactly ids 0..3 = ${SPECIAL_TOKENS.join(', ')}`);
    }
    if (!isWellFormed(entry)) throw new Error(`tokenizer.json: vocab[${id}] contains an unpaired surrogate`);
    if (seen.has(entry)) throw new Error(`tokenizer.json: vocab[${id}] duplicates an earlier entry`);
    seen.add(entry);
  });
  return vocab as string[];
}

/**
 * A Tokenizer defined by a vocabulary and a split rule. Subclasses implement `split`, which must
 * be lossless: concatenating the pieces it yields gives back the input exactly.
 */
export abstract class PieceTokenizer implements Tokenizer {
  abstract readonly type: 'char' | 'word';
  readonly vocabSize: number;
  private readonly vocab: readonly string[];
  /** Piece → id for ids ≥ 4 only: special strings inside user text are ordinary (unknown) text. */
  private readonly ids: Map<string, number>;

  protected constructor(vocab: readonly string[]) {
    this.vocab = vocab;
    this.vocabSize = vocab.length;
    this.ids = new Map();
    for (let id = SPECIAL_TOKENS.length; id < vocab.length; id++) this.ids.set(vocab[id], id);
  }

  /** Lossless split of `text` into pieces (code points, word segments, …). */
  protected abstract split(text: string): Iterable<string>;

  encode(text: string): number[] {
    const out: number[] = [];
    for (const piece of this.split(text)) out.push(this.ids.get(piece) ?? UNK_ID);
    return out;
  }

  decode(ids: readonly number[]): string {
    let text = '';
    for (const id of ids) text += this.tokenText(id);
    return text;
  }

  tokenText(id: number): string {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      throw new RangeError(`token id ${id} is outside the vocabulary (size ${this.vocabSize})`);
    }
    return id < SPECIAL_TOKENS.length ? '' : this.vocab[id];
  }

  tokenPiece(id: number): string {
    return this.tokenText(id);
  }

  /** The file version of this split rule (word.ts: 2). */
  protected get fileVersion(): 1 | 2 {
    return 1;
  }

  toJSON(): PieceTokenizerJSON {
    return { type: this.type, version: this.fileVersion, vocab: [...this.vocab] };
  }
}
