/** Presence / frequency penalties (OpenAI semantics) and top_logprobs from the sampler. */
import t from 'tap';
import { ServiceError } from '../../src/errors.ts';
import { applyPresenceFrequencyPenalty, logSoftmax, topEntries } from '../../src/decode/logits.ts';
import { DEFAULT_SAMPLING_PARAMS, resolveSamplingParams, type SamplingParams } from '../../src/decode/params.ts';
import { createSampler } from '../../src/decode/sampler.ts';
import { createRng } from '../../src/decode/rng.ts';
import { resolveSeq2SeqParams } from '../../src/infer/params.ts';
import { seq2seqDecodingDefaults } from '../../src/tasks/seq2seq-forward.ts';

function paramOf(fn: () => unknown): string | null | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof ServiceError ? err.param : undefined;
  }
  return undefined;
}

const params = (over: Partial<SamplingParams> = {}): SamplingParams => ({ ...DEFAULT_SAMPLING_PARAMS, stop: [], seed: 99, ...over });

t.test('applyPresenceFrequencyPenalty: logit[j] -= c·frequency + presence for generated ids only', async (t) => {
  const row = Float32Array.of(1, 2, 3, -Infinity, 0.5);
  applyPresenceFrequencyPenalty(row, new Map([[1, 3], [2, 1], [3, 2], [7, 4], [4, 0]]), 0.5, 0.25);
  t.same(Array.from(row), [1, 2 - (3 * 0.25 + 0.5), 3 - (0.25 + 0.5), -Infinity, 0.5], 'counts scale frequency; presence once; -Inf, absent, zero-count and out-of-range ids untouched');
  const neg = Float32Array.of(0, 0);
  applyPresenceFrequencyPenalty(neg, new Map([[0, 2]]), -1, -0.5);
  t.same(Array.from(neg), [2, 0], 'negative values make repeats more likely');
  const same = Float32Array.of(1, 2);
  applyPresenceFrequencyPenalty(same, new Map([[0, 5]]), 0, 0);
  t.same(Array.from(same), [1, 2], '0, 0 is a no-op');
  t.throws(() => applyPresenceFrequencyPenalty(same, new Map(), NaN, 0), RangeError);
});

t.test('greedy with a presence penalty stops repeating the best token; without it, it repeats', async (t) => {
  const row = Float32Array.of(0, 3, 2.5, 1); // id 1 best by 0.5
  const run = (over: Partial<SamplingParams>) => {
    const s = createSampler(params({ do_sample: false, ...over }));
    return Array.from({ length: 4 }, () => s.next(row, []).id);
  };
  t.same(run({}), [1, 1, 1, 1]);
  t.same(run({ presence_penalty: 1 }), [1, 2, 1, 1], 'each generated id loses 1 once (3→2, 2.5→1.5), not per repeat');
  t.same(run({ frequency_penalty: 0.4 }), [1, 1, 2, 1], 'frequency grows with the count: 3, 2.6, 2.2 < 2.5, then 2.1 vs 2.2');
  t.same(run({ presence_penalty: -5 }), [1, 1, 1, 1], 'a negative penalty keeps the repeat');
});

t.test('sampled: penalties change the distribution deterministically per seed', async (t) => {
  const rng = createRng(5);
  const rows = Array.from({ length: 30 }, () => Float32Array.from({ length: 12 }, () => rng() * 4));
  const run = (over: Partial<SamplingParams>) => {
    const s = createSampler(params({ seed: 3, ...over }));
    return rows.map((r) => s.next(r, []).id);
  };
  t.same(run({ frequency_penalty: 1.5 }), run({ frequency_penalty: 1.5 }), 'same seed, same ids');
  const distinct = (ids: number[]) => new Set(ids).size;
  t.ok(distinct(run({ frequency_penalty: 2 })) >= distinct(run({ frequency_penalty: -2 })), 'positive frequency penalty spreads the ids at least as much as a negative one');
  t.not(JSON.stringify(run({ frequency_penalty: 2 })), JSON.stringify(run({})), 'the penalty changes the output');
});

t.test('topEntries: the n largest finite entries, most likely first, lower id on ties', async (t) => {
  t.same(topEntries(Float32Array.of(0.5, 2, -Infinity, 2, 1), 3), [{ id: 1, logprob: 2 }, { id: 3, logprob: 2 }, { id: 4, logprob: 1 }]);
  t.same(topEntries(Float32Array.of(-Infinity, 1), 5), [{ id: 1, logprob: 1 }], 'removed tokens are never listed');
  t.same(topEntries(Float32Array.of(1, 2), 0), []);
  const rng = createRng(11);
  const big = Float32Array.from({ length: 500 }, () => rng());
  const ref = Array.from(big.keys()).sort((a, b) => big[b]! - big[a]! || a - b).slice(0, 20);
  t.same(topEntries(big, 20).map((e) => e.id), ref, 'matches a full sort');
});

t.test('sampler top_logprobs: log-probabilities of the distribution the token came from', async (t) => {
  const row = Float32Array.of(0, 2, 1, 3, -1);
  const greedy = createSampler(params({ do_sample: false, top_logprobs: 3 })).next(row, []);
  const lsm = logSoftmax(row);
  t.equal(greedy.id, 3);
  t.same(greedy.top!.map((e) => e.id), [3, 1, 2]);
  greedy.top!.forEach((e) => t.ok(Math.abs(e.logprob - lsm[e.id]!) < 1e-6, `id ${e.id} logprob`));
  t.ok(Math.abs(greedy.logprob - greedy.top![0]!.logprob) < 1e-9, 'the chosen id has the same logprob in the list');

  // top_k = 2: only two tokens survive, so at most two are listed, and their probabilities sum to 1.
  const s = createSampler(params({ top_k: 2, top_logprobs: 5, seed: 4 }));
  const r = s.next(row, []);
  t.equal(r.top!.length, 2);
  t.same(r.top!.map((e) => e.id).sort(), [1, 3]);
  t.ok(Math.abs(Math.exp(r.top![0]!.logprob) + Math.exp(r.top![1]!.logprob) - 1) < 1e-6);
  const hit = r.top!.find((e) => e.id === r.id)!;
  t.ok(Math.abs(hit.logprob - r.logprob) < 1e-9, 'chosen logprob equals its entry');
  t.equal(createSampler(params()).next(row, []).top, undefined, 'absent unless asked for');
});

t.test('resolve: ranges of the new parameters, named in the error', async (t) => {
  const p = resolveSamplingParams({});
  t.equal(p.presence_penalty, 0);
  t.equal(p.frequency_penalty, 0);
  t.equal(p.top_logprobs, 0);
  for (const [bad, param] of [[{ presence_penalty: 2.5 }, 'parameters.presence_penalty'], [{ frequency_penalty: -3 }, 'parameters.frequency_penalty'], [{ top_logprobs: 21 }, 'parameters.top_logprobs'], [{ top_logprobs: 1.5 }, 'parameters.top_logprobs']] as const) {
    t.equal(paramOf(() => resolveSamplingParams(bad as Partial<SamplingParams>)), param, JSON.stringify(bad));
  }
  t.equal(paramOf(() => resolveSeq2SeqParams({ num_beams: 2, top_logprobs: 2 }, { maxNewTokens: 10, maxPromptChars: 10 }, 10)), 'parameters.top_logprobs', 'beam search refuses what it cannot do');
});

t.test('summarize decodes with 4 beams by default; a request asking for one hypothesis gets one', async (t) => {
  const limits = { maxNewTokens: 10, maxPromptChars: 10 };
  t.same(seq2seqDecodingDefaults('bpe', 'summarize'), { num_beams: 4, length_penalty: 1, no_repeat_ngram_size: 4, known_words_only: true });
  for (const task of ['translate', 'qa', undefined]) t.equal(seq2seqDecodingDefaults('char', task).num_beams, 1, `${task ?? 'no task'}: greedy`);
  const summarize = seq2seqDecodingDefaults('bpe', 'summarize');
  t.equal(resolveSeq2SeqParams(undefined, limits, 10, summarize).num_beams, 4, 'no parameters: the default beams');
  t.equal(resolveSeq2SeqParams({ max_new_tokens: 5, length_penalty: 0.8 }, limits, 10, summarize).num_beams, 4, 'beam-compatible parameters keep them');
  t.equal(resolveSeq2SeqParams({ num_beams: 1 }, limits, 10, summarize).num_beams, 1, 'an explicit num_beams wins');
  for (const p of [{ do_sample: true }, { repetition_penalty: 1.3 }, { presence_penalty: 0.5 }, { frequency_penalty: 0.5 }, { top_logprobs: 2 }]) {
    const r = resolveSeq2SeqParams(p, limits, 10, summarize);
    t.equal(r.num_beams, 1, `${JSON.stringify(p)}: one hypothesis, no error`);
  }
  t.equal(paramOf(() => resolveSeq2SeqParams({ num_beams: 4, frequency_penalty: 0.5, top_logprobs: 1 }, limits, 10, summarize)), 'parameters.frequency_penalty', 'explicit beams with a greedy-only field are still refused');
  t.equal(paramOf(() => resolveSeq2SeqParams({ num_beams: 4, repetition_penalty: 1.3 }, limits, 10, summarize)), 'parameters.repetition_penalty', 'beam search never applies repetition_penalty: refused, not ignored');
  t.equal(resolveSeq2SeqParams({ num_beams: 4, repetition_penalty: 1, presence_penalty: 0 }, limits, 10, summarize).num_beams, 4, 'neutral values are accepted with beams');
});

t.test('known_words_only: on with summarize\'s default beams, off with one hypothesis, refused with num_beams 1', async (t) => {
  const limits = { maxNewTokens: 10, maxPromptChars: 10 };
  const summarize = seq2seqDecodingDefaults('bpe', 'summarize');
  const translate = seq2seqDecodingDefaults('char', 'translate');
  t.equal(translate.known_words_only, false);
  t.equal(resolveSeq2SeqParams(undefined, limits, 10, summarize).known_words_only, true, 'summarize defaults');
  t.equal(resolveSeq2SeqParams({ known_words_only: false }, limits, 10, summarize).known_words_only, false, 'a request turns it off');
  t.equal(resolveSeq2SeqParams({ num_beams: 1 }, limits, 10, summarize).known_words_only, false, 'greedy: off by default');
  t.equal(resolveSeq2SeqParams({ do_sample: true }, limits, 10, summarize).known_words_only, false, 'sampling: off by default');
  t.equal(resolveSeq2SeqParams({ num_beams: 3 }, limits, 10, translate).known_words_only, false, 'translate beams: off by default');
  t.equal(resolveSeq2SeqParams({ num_beams: 3, known_words_only: true }, limits, 10, translate).known_words_only, true, 'a request turns it on');
  t.equal(paramOf(() => resolveSeq2SeqParams({ known_words_only: true }, limits, 10, translate)), 'parameters.known_words_only', 'with one beam it is an error');
  t.equal(paramOf(() => resolveSeq2SeqParams({ num_beams: 1, known_words_only: true }, limits, 10, summarize)), 'parameters.known_words_only');
  t.equal(paramOf(() => resolveSeq2SeqParams({ num_beams: 2, known_words_only: 'yes' as unknown as boolean }, limits, 10, summarize)), 'parameters.known_words_only', 'not a boolean');
});
