/**
 * Tokenizers are fitted on the training texts, saved as `tokenizer.json` next to the model and
 * loaded with it. Ids 0..3 are always <pad>, <bos>, <eos>, <unk>; nothing here adds them to an
 * encoding — the training and decode loops place BOS/EOS themselves.
 */
import { ServiceError } from '../errors.ts';
import { fitCharTokenizer, loadCharTokenizer } from './char.ts';
import { fitWordTokenizer, loadWordTokenizer } from './word.ts';
import { checkMaxVocab, type Tokenizer, type TokenizerType } from './vocab.ts';

export {
  SPECIAL_TOKENS,
  PAD_ID,
  BOS_ID,
  EOS_ID,
  UNK_ID,
  MIN_VOCAB,
  type Tokenizer,
  type TokenizerJSON,
  type TokenizerType,
} from './vocab.ts';
export { CharTokenizer } from './char.ts';
export { WordTokenizer, SEGMENTER_LOCALE } from './word.ts';

export const TOKENIZER_TYPES: readonly TokenizerType[] = ['char', 'word'];

/**
 * Fits a tokenizer of `type` on `texts`. `opts.maxVocab` counts the 4 specials; the most frequent
 * pieces are kept (ties by code-unit order), so fitting the same texts always gives the same vocab.
 * Throws ServiceError('invalid_parameter') for an unknown type or max_vocab < 5.
 */
export function fitTokenizer(type: TokenizerType, texts: Iterable<string>, opts: { maxVocab: number }): Tokenizer {
  checkMaxVocab(opts.maxVocab);
  switch (type) {
    case 'char':
      return fitCharTokenizer(texts, opts.maxVocab);
    case 'word':
      return fitWordTokenizer(texts, opts.maxVocab);
    default:
      throw new ServiceError(
        'invalid_parameter',
        `tokenizer.type must be one of ${TOKENIZER_TYPES.join(', ')}; got ${JSON.stringify(type)}`,
      );
  }
}

/**
 * Rebuilds a tokenizer from a parsed `tokenizer.json` (the value of Tokenizer.toJSON()).
 * Validates everything; throws a plain Error naming the problem for a malformed file (a corrupt
 * model on disk is a server fault, not a client one).
 */
export function loadTokenizer(json: unknown): Tokenizer {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new Error('tokenizer.json: expected a JSON object');
  }
  const obj = json as Record<string, unknown>;
  if (obj.version !== 1) {
    throw new Error(`tokenizer.json: unsupported version ${JSON.stringify(obj.version)} (expected 1)`);
  }
  switch (obj.type) {
    case 'char':
      return loadCharTokenizer({ vocab: obj.vocab });
    case 'word':
      return loadWordTokenizer({ vocab: obj.vocab });
    default:
      throw new Error(`tokenizer.json: unknown type ${JSON.stringify(obj.type)} (expected char or word)`);
  }
}
