/**
 * Held-out predictions (decoded text) of a Seq2Seq model for examples — the metrics at the end of a
 * training job and `POST /models/:name/evaluate` — decoded the way a request with default parameters
 * is (seq2seqDecodingDefaults of the target tokenizer and task): greedy in batches of rows, or beam
 * search one source at a time when the decoding asks for beams (with the word constraint when the
 * decoding asks for it and a lexicon is given), or — a translate model whose default translator is
 * word alignment, given as `wordTranslator` — by the word-alignment translator.
 */
import type { Seq2SeqModel } from '../arch/seq2seq.ts';
import type { Tokenizer } from '../tokenize/index.ts';
import { encodeSourceIds, inBatches } from './pair-encoding.ts';
import { beamDecodeSource } from './seq2seq-beam.ts';
import { greedyDecodeBatch, seq2seqDecodingDefaults, type Seq2SeqDecoding } from './seq2seq-forward.ts';
import type { PairExample } from './task-data.ts';
import type { WordLexicon } from '../decode/lexicon.ts';
import { knownWordBans } from './known-words.ts';
import { translationText, type WordTranslator } from './word-translation.ts';

export interface PredictOptions {
  /** Default: seq2seqDecodingDefaults(target tokenizer type, `task`). */
  decoding?: Seq2SeqDecoding;
  /** The task whose default decoding applies when `decoding` is absent. */
  task?: string;
  /** Rows per greedy batch (64). */
  batchSize?: number;
  /** Greedy only: <eos> is banned before this many ids (0). */
  minNewTokens?: number;
  /**
   * The training targets' words, for a decoding with `known_words_only` (beam search): outputs hold
   * only these and the example's own input words. Absent: no word constraint.
   */
  lexicon?: WordLexicon;
  /** Given: the outputs are this word-alignment translator's (the model's default translator). */
  wordTranslator?: WordTranslator;
}

export async function predictTexts(model: Seq2SeqModel, examples: readonly PairExample[], src: Tokenizer, tgt: Tokenizer, maxSource: number, maxTarget: number, opts: PredictOptions = {}): Promise<string[]> {
  const words = opts.wordTranslator;
  if (words) return examples.map((e) => translationText(words, tgt, e.source, maxTarget));
  const decoding = opts.decoding ?? seq2seqDecodingDefaults(tgt.type, opts.task);
  const out: string[] = [];
  if (decoding.num_beams > 1) {
    const lexicon = decoding.known_words_only ? opts.lexicon : undefined;
    for (const e of examples) {
      // A retrieval-augmented example's retrieved target is weighed as serving weighs it (seq2seq-beam.ts).
      const found = await beamDecodeSource(model, encodeSourceIds(src, e, maxSource).ids, {
        numBeams: decoding.num_beams, maxNewTokens: maxTarget, lengthPenalty: decoding.length_penalty, noRepeatNgramSize: decoding.no_repeat_ngram_size,
        candidates: e.retrieved ? [tgt.encode(e.retrieved)] : [],
        ...(lexicon ? { bans: knownWordBans(tgt, lexicon, e) } : {}),
      });
      out.push(tgt.decode(found.best.ids));
    }
    return out;
  }
  for (const chunk of inBatches(examples, opts.batchSize ?? 64)) {
    const ids = await greedyDecodeBatch(model, chunk.map((e) => encodeSourceIds(src, e, maxSource).ids), maxTarget, decoding.no_repeat_ngram_size, opts.minNewTokens ?? 0);
    out.push(...ids.map((row) => tgt.decode(row)));
  }
  return out;
}
