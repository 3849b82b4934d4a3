/**
 * The Seq2Seq request path (summarize, translate, qa): the source is encoded ONCE, then each output
 * token is one decoder step (cell steps + one attention over the encoded source).
 *   - greedy / sampling (num_beams = 1): a Sequence (sequence.ts) drives the steps — the same
 *     sampler, seeds, stop sequences, repetition penalty and token streaming as /generate — and
 *     its steps are batched with the model's other running requests (seq2seq-batcher.ts);
 *   - beam search (num_beams > 1): decode/beam.ts over the decoder; the winning hypothesis is then
 *     streamed token by token once it is decided (beam search cannot know its output earlier), with
 *     each token's log-probability under the model, and stop sequences cut as usual.
 * Sources longer than the model's max_source_length are truncated (details.truncated_input_tokens).
 * A retrieval-augmented model reads `source ⟨sep⟩ target of the nearest training example` (its
 * stored index, tasks/retrieval.ts), exactly as it was trained. With `known_words_only` (summarize's
 * default), beam search writes only words of the model's training targets and of the input.
 * With `translator: "word_alignment"` (a translate model's default when its job measured it better),
 * the word-alignment translator writes the output (tasks/word-translation.ts); it is streamed like a
 * beam's decided hypothesis, each token with its log-probability under the neural model.
 * Every tensor made for the request is disposed by the time it returns, whatever the outcome.
 */
import { TextStreamer } from '../decode/streamer.ts';
import { encodeSourceIds } from '../tasks/pair-encoding.ts';
import { isRetrievalAugmented, retrievalKey } from '../tasks/retrieval.ts';
import type { Seq2SeqEntry } from './model-cache.ts';
import { sourceLimit } from '../store/manifest.ts';
import type { Seq2SeqParams } from './params.ts';
import { beamDecodeSource } from '../tasks/seq2seq-beam.ts';
import { tokenLogProbs } from '../tasks/seq2seq-forward.ts';
import { knownWordBans } from '../tasks/known-words.ts';
import { translationIds } from '../tasks/word-translation.ts';
import { Sequence, type FinishReason, type GenerateOptions, type GenerationResult, type TokenEvent } from './sequence.ts';

export interface Seq2SeqSource {
  /** The text to summarize or translate, or the question. */
  source: string;
  /** QA: the passage (`question ⟨sep⟩ context`). */
  context?: string;
}

export interface Seq2SeqResult {
  text: string;
  details: GenerationResult['details'] & { truncated_input_tokens: number; num_beams: number };
}

export async function runSeq2Seq(model: Seq2SeqEntry, input: Seq2SeqSource, params: Seq2SeqParams, opts: GenerateOptions = {}): Promise<Seq2SeqResult> {
  const started = performance.now();
  const retrieved = isRetrievalAugmented(model.manifest) ? (await model.retrieval())?.nearestTarget(retrievalKey(input)) ?? '' : undefined;
  const src = encodeSourceIds(model.tokenizer, retrieved === undefined ? input : { ...input, retrieved }, sourceLimit(model.manifest));
  // Beam search also weighs the retrieved target itself as a finished hypothesis (tasks/seq2seq-beam.ts),
  // and with known_words_only writes only words of the training targets and of the input (tasks/known-words.ts).
  const lexicon = params.num_beams > 1 && params.known_words_only ? await model.lexicon() : undefined;
  const words = params.translator === 'word_alignment' ? await model.wordTranslator() : undefined;
  const r = words
    ? alignedDecode(model, src.ids, params, opts, translationIds(words, model.targetTokenizer, input.source, params.max_new_tokens))
    : params.num_beams > 1
    ? await beamDecode(model, src.ids, params, opts, retrieved ? [model.targetTokenizer.encode(retrieved)] : [], lexicon && knownWordBans(model.targetTokenizer, lexicon, input))
    : await stepDecode(model, src.ids, params, opts);
  return {
    text: r.text,
    details: {
      ...r.details,
      input_tokens: src.ids.length,
      truncated_input_tokens: src.truncated,
      num_beams: params.num_beams,
      elapsed_ms: Math.round((performance.now() - started) * 100) / 100,
    },
  };
}

async function stepDecode(model: Seq2SeqEntry, srcIds: number[], params: Seq2SeqParams, opts: GenerateOptions): Promise<GenerationResult> {
  // An empty prompt: the Sequence feeds <bos>, then samples every later position. Its source is
  // encoded, and its steps run, batched with the model's other running greedy/sampled requests
  // (seq2seq-batcher.ts).
  const seq = new Sequence(model.targetTokenizer, model.ref, '', params, opts, params.no_repeat_ngram_size);
  if (seq.done) return seq.result();
  const onAbort = () => seq.cancel();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await model.batcher.run(seq, srcIds);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  return seq.result();
}

async function beamDecode(model: Seq2SeqEntry, srcIds: number[], params: Seq2SeqParams, opts: GenerateOptions, candidates: number[][], bans?: (ids: readonly number[]) => number[]): Promise<GenerationResult> {
  const found = await beamDecodeSource(model.s2s, srcIds, {
    numBeams: params.num_beams, maxNewTokens: params.max_new_tokens, lengthPenalty: params.length_penalty,
    noRepeatNgramSize: params.no_repeat_ngram_size, signal: opts.signal, candidates, ...(bans ? { bans } : {}),
  });
  return streamDecided(model, srcIds, found.best.ids, params, opts, found.cancelled ? 'cancelled' : found.best.finishedByEos ? 'eos' : 'length');
}

/** The word-alignment translator's output (already cut to max_new_tokens), streamed as decided. */
function alignedDecode(model: Seq2SeqEntry, srcIds: number[], params: Seq2SeqParams, opts: GenerateOptions, out: { ids: number[]; truncated: boolean }): GenerationResult {
  return streamDecided(model, srcIds, out.ids, params, opts, opts.signal?.aborted ? 'cancelled' : out.truncated ? 'length' : 'eos');
}

/**
 * Streams a decided output: token texts through the same streamer as step decoding (whole
 * characters, stop sequences), each with its log-probability under the model given the source.
 */
function streamDecided(model: Seq2SeqEntry, srcIds: number[], ids: number[], params: Seq2SeqParams, opts: GenerateOptions, finished: FinishReason): GenerationResult {
  const logprobs = tokenLogProbs(model.s2s, srcIds, ids);
  const streamer = new TextStreamer(params.stop);
  let text = '';
  let finish = finished;
  let pending: TokenEvent | undefined;
  const emit = (e: TokenEvent) => {
    text += e.text;
    opts.onToken?.(e);
  };
  let generated = 0;
  for (let i = 0; i < ids.length; i++) {
    const chunk = streamer.push(model.targetTokenizer.tokenPiece(ids[i]!));
    if (pending) emit(pending);
    pending = { index: i, text: chunk.text, token_id: ids[i]!, logprob: logprobs[i]! };
    generated++;
    if (chunk.stopped) {
      finish = 'stop_sequence';
      break;
    }
  }
  if (finish !== 'stop_sequence' && pending) pending.text += streamer.end();
  if (pending) emit(pending);
  return {
    text,
    details: { finish_reason: finish, generated_tokens: generated, input_tokens: srcIds.length, seed: params.seed, elapsed_ms: 0, model: model.ref },
  };
}
