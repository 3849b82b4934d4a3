/**
 * Word tokenizer built on Intl.Segmenter (ICU word boundaries). Every segment is a token — words,
 * runs of spaces, newlines and punctuation alike — so the split is lossless and
 * decode(encode(text)) === text whenever every segment is in the vocabulary. CJK text without
 * spaces is split into dictionary words by ICU ('我们今天去北京' → 我们 / 今天 / 去 / 北京), which
 * needs a Node built with full ICU (the default since Node 13).
 *
 * The segmenter locale is fixed to SEGMENTER_LOCALE rather than the process default, so the same
 * text splits the same way on every machine whatever its LANG; ICU's word rules and CJK
 * dictionaries apply to all scripts under it.
 */
import { PieceTokenizer, buildVocab, validateVocab } from './vocab.ts';

export const SEGMENTER_LOCALE = 'en';

const segmenter = new Intl.Segmenter(SEGMENTER_LOCALE, { granularity: 'word' });

/** Yields the word-break segments of `text` in order; their concatenation is `text`. */
export function* splitWords(text: string): Generator<string> {
  for (const { segment } of segmenter.segment(text)) yield segment;
}

export class WordTokenizer extends PieceTokenizer {
  readonly type = 'word' as const;

  /** `vocab` must already be valid (see validateVocab); use fitWordTokenizer / loadWordTokenizer. */
  constructor(vocab: readonly string[]) {
    super(vocab);
  }

  protected split(text: string): Iterable<string> {
    return splitWords(text);
  }
}

/** Fits a word vocabulary on `texts`, keeping the `maxVocab - 4` most frequent segments. */
export function fitWordTokenizer(texts: Iterable<string>, maxVocab: number): WordTokenizer {
  function* pieces(): Generator<string> {
    for (const text of texts) yield* splitWords(text);
  }
  return new WordTokenizer(buildVocab(pieces(), maxVocab));
}

/** Rebuilds a word tokenizer from a parsed tokenizer.json whose `type` is 'word'. */
export function loadWordTokenizer(json: { vocab: unknown }): WordTokenizer {
  return new WordTokenizer(validateVocab(json.vocab));
}
