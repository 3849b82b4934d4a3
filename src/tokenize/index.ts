/**
 * Tokenizers are fitted on the training texts, saved as `tokenizer.json` next to the model and
 * loaded with it. Ids 0..3 are always <pad>, <bos>, <eos>, <unk>; nothing here adds them to an
 * encoding — the training and decode loops place BOS/EOS themselves.
 */
import { ServiceError } from '../errors.ts';
import { fitCharTokenizer, loadCharTokenizer } from './char.ts';
import { fitWordTokenizer, loadWordTokenizer } from './word.ts';
import { fitBpeTokenizer, loadBpeTokenizer, MAX_BPE_VOCAB, MIN_BPE_VOCAB } from './bpe.ts';
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
  type PieceTokenizerJSON,
  type TokenizerType,
} from './vocab.ts';
export { CharTokenizer } from './char.ts';
export { WordTokenizer, SEGMENTER_LOCALE } from './word.ts';
export { BpeTokenizer, MIN_BPE_VOCAB, MAX_BPE_VOCAB, type HfBpeTokenizerJSON } from './bpe.ts';

export const TOKENIZER_TYPES: readonly TokenizerType[] = ['char', 'word', 'bpe'];

/**
 * Fits a tokenizer of `type` on `texts`. `opts.maxVocab` counts the 4 specials (and, for bpe, the
 * 256 byte tokens): char/word keep the most frequent pieces (ties by code-unit order), bpe learns
 * merges until the vocabulary is that size or no pair occurs twice. Fitting the same texts always
 * gives the same vocab. Throws ServiceError('invalid_parameter') for an unknown type or a size out
 * of range (char/word: max_vocab ≥ 5; bpe: MIN_BPE_VOCAB ≤ vocab_size ≤ MAX_BPE_VOCAB).
 */
export function fitTokenizer(type: TokenizerType, texts: Iterable<string>, opts: { maxVocab: number }): Tokenizer {
  if (type === 'bpe') {
    if (!Number.isInteger(opts.maxVocab) || opts.maxVocab < MIN_BPE_VOCAB || opts.maxVocab > MAX_BPE_VOCAB) {
      throw new ServiceError(
        'invalid_parameter',
        `tokenizer.vocab_size must be an integer from ${MIN_BPE_VOCAB} to ${MAX_BPE_VOCAB} (4 specials + 256 byte tokens + learned pieces); got ${String(opts.maxVocab)}`,
      );
    }
    return fitBpeTokenizer(texts, { vocabSize: opts.maxVocab });
  }
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
 * Fits the tokenizer a training job asks for (`{type, max_vocab}` for char/word, `{type: 'bpe',
 * vocab_size}`); see fitTokenizer.
 */
export function fitTokenizerFor(spec: { type: TokenizerType; max_vocab?: number; vocab_size?: number }, texts: Iterable<string>): Tokenizer {
  return fitTokenizer(spec.type, texts, { maxVocab: (spec.type === 'bpe' ? spec.vocab_size : spec.max_vocab) ?? Number.NaN });
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
  const model = obj.model as Record<string, unknown> | undefined;
  if (typeof model === 'object' && model !== null) {
    // A Hugging Face tokenizer.json: only the BPE files bpe.ts writes are understood.
    if (model.type !== 'BPE') throw new Error(`tokenizer.json: unsupported model.type ${JSON.stringify(model.type)} (expected BPE)`);
    return loadBpeTokenizer(obj);
  }
  switch (obj.type) {
    case 'char':
      if (obj.version !== 1) throw new Error(`tokenizer.json: unsupported char version ${JSON.stringify(obj.version)} (expected 1)`);
      return loadCharTokenizer({ vocab: obj.vocab });
    case 'word':
      if (obj.version !== 1 && obj.version !== 2) throw new Error(`tokenizer.json: unsupported word version ${JSON.stringify(obj.version)} (expected 1 or 2)`);
      return loadWordTokenizer({ vocab: obj.vocab, version: obj.version });
    default:
      throw new Error(`tokenizer.json: unknown type ${JSON.stringify(obj.type)} (expected char or word, or a Hugging Face BPE file)`);
  }
}
