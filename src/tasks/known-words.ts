/**
 * The word constraint of a Seq2Seq request (decoding `known_words_only`, beam search): the outputs may
 * hold only words of the model's training targets (`lexicon`, from its retrieval index) and of the
 * request's own input (source, QA context). Binds decode/lexicon.ts to a target tokenizer.
 */
import { unionLexicon, WordLexicon, wordBans } from '../decode/lexicon.ts';
import { EOS_ID, type Tokenizer } from '../tokenize/index.ts';

/** tokenText of every id, per tokenizer (computed once; tokenizers are immutable once fitted). */
const piecesOf = new WeakMap<Tokenizer, string[]>();

function pieces(tokenizer: Tokenizer): string[] {
  let p = piecesOf.get(tokenizer);
  if (!p) {
    p = Array.from({ length: tokenizer.vocabSize }, (_, id) => tokenizer.tokenText(id));
    piecesOf.set(tokenizer, p);
  }
  return p;
}

/** Beam search `bans` for one request: ids that would write a word neither the lexicon nor the input has. */
export function knownWordBans(target: Tokenizer, lexicon: WordLexicon, input: { source: string; context?: string }): (ids: readonly number[]) => number[] {
  const own = WordLexicon.fromTexts(input.context === undefined ? [input.source] : [input.source, input.context]);
  return wordBans(pieces(target), unionLexicon(lexicon, own), EOS_ID);
}
