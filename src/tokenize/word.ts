/**
 * Word tokenizer built on Intl.Segmenter (ICU word boundaries). Version 2 (what fitting makes):
 * whitespace belongs to the token after it — " the", "\n\nThe", "," — so no token is bare
 * whitespace except whitespace at the very end of a text, and a model cannot fill an output with
 * runs of space tokens. Version 1 files (every segment a token, whitespace runs included) still
 * load and encode as they were trained. Either split is lossless: decode(encode(text)) === text
 * whenever every piece is in the vocabulary. CJK text without
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

/** Yields the word-break segments of `text` in order; their concatenation is `text` (version 1). */
export function* splitWords(text: string): Generator<string> {
  for (const { segment } of segmenter.segment(text)) yield segment;
}

const WHITESPACE = /^\s+$/u;

/** Like splitWords, but each whitespace run is glued to the segment after it (version 2). */
export function* splitWordsAttached(text: string): Generator<string> {
  let pending = '';
  for (const { segment } of segmenter.segment(text)) {
    if (WHITESPACE.test(segment)) {
      pending += segment;
      continue;
    }
    yield pending + segment;
    pending = '';
  }
  if (pending) yield pending;
}

export class WordTokenizer extends PieceTokenizer {
  readonly type = 'word' as const;

  /** `vocab` must already be valid (see validateVocab); use fitWordTokenizer / loadWordTokenizer. */
  constructor(
    vocab: readonly string[],
    readonly version: 1 | 2 = 2,
  ) {
    super(vocab);
  }

  protected split(text: string): Iterable<string> {
    return this.version === 1 ? splitWords(text) : splitWordsAttached(text);
  }

  protected override get fileVersion(): 1 | 2 {
    return this.version;
  }
}

/** Fits a word vocabulary on `texts`, keeping the `maxVocab - 4` most frequent segments. */
export function fitWordTokenizer(texts: Iterable<string>, maxVocab: number): WordTokenizer {
  function* pieces(): Generator<string> {
    for (const text of texts) yield* splitWordsAttached(text);
  }
  return new WordTokenizer(buildVocab(pieces(), maxVocab), 2);
}

/** Rebuilds a word tokenizer from a parsed tokenizer.json whose `type` is 'word' (version 1 or 2). */
export function loadWordTokenizer(json: { vocab: unknown; version: 1 | 2 }): WordTokenizer {
  return new WordTokenizer(validateVocab(json.vocab), json.version);
}
