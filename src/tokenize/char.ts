/**
 * Character tokenizer: one token per Unicode code point. Iterating a string with for..of walks
 * code points, so a surrogate pair (emoji, rare CJK) is one token and is never split. Grapheme
 * clusters made of several code points (👋🏽 = 👋 + skin tone, ZWJ families, e + combining accent)
 * are several tokens; decoding concatenates them back exactly. No Unicode normalisation is applied:
 * 'é' (U+00E9) and 'e' + U+0301 are different inputs and stay different.
 */
import { PieceTokenizer, buildVocab, validateVocab } from './vocab.ts';

/** Yields the code points of `text` in order; their concatenation is `text`. */
export function* splitCodePoints(text: string): Generator<string> {
  for (const ch of text) yield ch;
}

export class CharTokenizer extends PieceTokenizer {
  readonly type = 'char' as const;

  /** `vocab` must already be valid (see validateVocab); use fitCharTokenizer / loadCharTokenizer. */
  constructor(vocab: readonly string[]) {
    super(vocab);
  }

  protected split(text: string): Iterable<string> {
    return splitCodePoints(text);
  }
}

/** Fits a char vocabulary on `texts`, keeping the `maxVocab - 4` most frequent code points. */
export function fitCharTokenizer(texts: Iterable<string>, maxVocab: number): CharTokenizer {
  function* pieces(): Generator<string> {
    for (const text of texts) yield* splitCodePoints(text);
  }
  return new CharTokenizer(buildVocab(pieces(), maxVocab));
}

/** Rebuilds a char tokenizer from a parsed tokenizer.json whose `type` is 'char'. */
export function loadCharTokenizer(json: { vocab: unknown }): CharTokenizer {
  const vocab = validateVocab(json.vocab);
  vocab.forEach((piece, id) => {
    if (id >= 4 && [...piece].length !== 1) {
      throw new Error(`tokenizer.json: char vocab[${id}] must be a single code point`);
    }
  });
  return new CharTokenizer(vocab);
}
