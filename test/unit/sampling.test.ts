import t from 'tap';
import { ServiceError } from '../../src/errors.ts';
import {
  applyRepetitionPenalty,
  applyTemperature,
  applyTopK,
  applyTopP,
  argmax,
  logSoftmax,
} from '../../src/decode/logits.ts';
import { DEFAULT_SAMPLING_PARAMS, resolveSamplingParams, type SamplingParams } from '../../src/decode/params.ts';
import { createRng } from '../../src/decode/rng.ts';
import { createSampler } from '../../src/decode/sampler.ts';

const params = (over: Partial<SamplingParams> = {}): SamplingParams => ({
  ...DEFAULT_SAMPLING_PARAMS,
  stop: [],
  seed: 1234,
  ...over,
});

/** Logits whose softmax is exactly `probs` (up to float32 rounding). */
const logitsOf = (probs: number[]): Float32Array => Float32Array.from(probs, (p) => Math.log(p));

const softmax = (logits: Float32Array): number[] => Array.from(logSoftmax(logits), (x) => Math.exp(x));

const kept = (logits: Float32Array): number[] =>
  Array.from(logits.keys()).filter((i) => logits[i] !== -Infinity);

/** Deterministic pseudo-random logits rows for sequence tests. */
function rows(n: number, V: number, seed: number): Float32Array[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => Float32Array.from({ length: V }, () => rng() * 6 - 3));
}

t.test('rng: deterministic, in [0,1), seeds differ, rejects non-uint32 seeds', async (t) => {
  const a = createRng(42);
  const b = createRng(42);
  const c = createRng(43);
  const xs = Array.from({ length: 1000 }, () => a());
  t.same(Array.from({ length: 1000 }, () => b()), xs);
  t.notSame(Array.from({ length: 1000 }, () => c()), xs);
  t.ok(xs.every((x) => x >= 0 && x < 1));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  t.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean} ≈ 0.5`);
  for (const bad of [-1, 1.5, 2 ** 32, Number.NaN]) t.throws(() => createRng(bad), RangeError);
  t.doesNotThrow(() => createRng(0xffffffff));
});

t.test('sampler: same seed + same logits sequence → same ids; other seeds differ', async (t) => {
  const seq = rows(200, 50, 7);
  const run = (seed: number, over: Partial<SamplingParams> = {}) => {
    const s = createSampler(params({ seed, ...over }));
    const history: number[] = [];
    return seq.map((row) => {
      const { id } = s.next(row, history);
      history.push(id);
      return id;
    });
  };
  t.same(run(1), run(1));
  t.same(run(1, { top_k: 10, top_p: 0.9, temperature: 0.7, repetition_penalty: 1.3 }),
    run(1, { top_k: 10, top_p: 0.9, temperature: 0.7, repetition_penalty: 1.3 }));
  t.notSame(run(1), run(2));
});

t.test('sampler does not modify the caller\'s logits', async (t) => {
  const row = Float32Array.from([1, 2, 3, Number.NaN, 0.5]);
  const copy = Float32Array.from(row);
  createSampler(params({ top_k: 2, top_p: 0.5, temperature: 0.5, repetition_penalty: 2 })).next(row, [2, 1]);
  createSampler(params({ do_sample: false, repetition_penalty: 2 })).next(row, [2]);
  t.same(Array.from(row), Array.from(copy));
});

t.test('greedy picks the argmax with its log-softmax as logprob', async (t) => {
  const row = Float32Array.from([0.1, 2.5, -1, 2.4, 0]);
  const expected = logSoftmax(row)[1];
  for (const p of [params({ do_sample: false }), params({ temperature: 0 }), params({ do_sample: false, temperature: 5, top_k: 1 })]) {
    const s = createSampler(p);
    for (let i = 0; i < 20; i++) {
      const { id, logprob } = s.next(row, []);
      t.equal(id, 1);
      t.ok(Math.abs(logprob - expected) < 1e-6);
    }
  }
  t.equal(argmax(Float32Array.from([3, 5, 5, 1])), 1, 'ties → lowest id');
  t.equal(createSampler(params({ do_sample: false })).next(Float32Array.from([3, 5, 5, 1]), []).id, 1);
});

t.test('banned ids are never chosen', async (t) => {
  const row = Float32Array.from([10, 9, 0, 0]);
  t.equal(createSampler(params({ do_sample: false }), { bannedIds: [0] }).next(row, []).id, 1);
  const s = createSampler(params(), { bannedIds: [0, 1, 99] });
  for (let i = 0; i < 200; i++) t.ok(s.next(row, []).id >= 2);
  t.throws(() => createSampler(params(), { bannedIds: [0, 1, 2, 3] }).next(row, []), /no token/);
});

t.test('top-k = 2 only ever yields the 2 largest', async (t) => {
  const row = Float32Array.from([0.5, 1.0, 3.0, 0.9, 2.8, -1, 2.7]);
  const s = createSampler(params({ top_k: 2, seed: 99 }));
  const seen = new Set<number>();
  for (let i = 0; i < 2000; i++) seen.add(s.next(row, []).id);
  t.same([...seen].sort(), [2, 4]);

  const tie = Float32Array.from([1, 5, 5, 5, 0]);
  applyTopK(tie, 2);
  t.same(kept(tie), [1, 2], 'ties at the cut-off keep lower ids');
  const big = rows(1, 1000, 3)[0];
  const sorted = Array.from(big.keys()).sort((a, b) => big[b] - big[a] || a - b).slice(0, 37).sort((a, b) => a - b);
  applyTopK(big, 37, new Float32Array(1000));
  t.same(kept(big), sorted, 'quickselect agrees with a full sort');
  const noop = Float32Array.from([1, 2, 3]);
  applyTopK(noop, 0);
  applyTopK(noop, 3);
  t.same(kept(noop), [0, 1, 2]);
});

t.test('top-p keeps exactly the nucleus', async (t) => {
  const probs = [0.5, 0.3, 0.15, 0.05];
  const at = (p: number, order?: number[]) => {
    const base = order ? order.map((i) => probs[i]) : probs;
    const row = logitsOf(base);
    applyTopP(row, p);
    return kept(row).map((i) => (order ? order[i] : i)).sort();
  };
  t.same(at(0.8), [0, 1]);
  t.same(at(0.81), [0, 1, 2]);
  t.same(at(0.5), [0]);
  t.same(at(0.1), [0], 'always at least one token');
  t.same(at(0.96), [0, 1, 2, 3]);
  t.same(at(1), [0, 1, 2, 3]);
  t.same(at(0.8, [3, 1, 0, 2]), [0, 1], 'independent of id order');
  const nucleus = (probs2: number[], p: number) => {
    const row = logitsOf(probs2);
    applyTopP(row, p, new Float32Array(probs2.length));
    return kept(row);
  };
  // float32 logits put the first cumulative sum at 0.39999999838 < 0.4: the tolerance must absorb it
  t.same(nucleus([0.4, 0.3, 0.2, 0.1], 0.4), [0], 'float32 rounding does not add a token');
  t.same(nucleus([0.25, 0.25, 0.25, 0.25], 0.5), [0, 1], 'equal probabilities: lower ids first');
  t.same(nucleus([0.1, 0.3, 0.3, 0.3], 0.6), [1, 2], 'equal probabilities: lower ids first');

  // reference: full sort by (probability desc, id asc), smallest prefix reaching p
  for (const [i, row] of rows(40, 300, 17).entries()) {
    const p = [0.05, 0.3, 0.5, 0.9, 0.99][i % 5];
    const scaled = row.map((x) => x * (1 + (i % 4))); // sharper rows
    const probs2 = softmax(scaled);
    const order = Array.from(scaled.keys()).sort((a, b) => scaled[b] - scaled[a] || a - b);
    let cum = 0;
    let n = 0;
    while (n < order.length && cum < p - 1e-6) cum += probs2[order[n++]];
    const expected = order.slice(0, n).sort((a, b) => a - b);
    applyTopP(scaled, p);
    t.same(kept(scaled), expected, `random row ${i}, p=${p}: ${expected.length} kept`);
  }

  const s = createSampler(params({ top_p: 0.8, seed: 5 }));
  const seen = new Set<number>();
  for (let i = 0; i < 2000; i++) seen.add(s.next(logitsOf(probs), []).id);
  t.same([...seen].sort(), [0, 1]);
});

t.test('sampled logprob is the log-probability under the final distribution', async (t) => {
  const probs = [0.5, 0.3, 0.15, 0.05];
  const s = createSampler(params({ top_p: 0.8, seed: 11 }));
  for (let i = 0; i < 50; i++) {
    const { id, logprob } = s.next(logitsOf(probs), []);
    t.ok(Math.abs(logprob - Math.log(probs[id] / 0.8)) < 1e-5, `id ${id}`);
  }
});

t.test('temperature → 0 is greedy-like, high temperature flattens', async (t) => {
  const row = Float32Array.from([1, 1.2, 0.9, 1.1]);
  for (const temperature of [1e-3, 1e-20, 1e-40]) {
    const s = createSampler(params({ temperature, seed: 3 }));
    for (let i = 0; i < 300; i++) t.equal(s.next(row, []).id, 1, `t=${temperature}`);
  }
  const hot = Float32Array.from(row);
  applyTemperature(hot, 100);
  const p = softmax(hot);
  t.ok(Math.max(...p) - Math.min(...p) < 0.002, 'nearly uniform at t=100');
  const cold = Float32Array.from(row);
  applyTemperature(cold, 0.5);
  t.ok(softmax(cold)[1] > softmax(row)[1], 'sharper at t=0.5');
  t.throws(() => applyTemperature(Float32Array.from(row), 0), RangeError);
});

t.test('repetition penalty lowers repeated tokens, positive and negative logits', async (t) => {
  const row = Float32Array.from([2, -1, 0.5, 1]);
  applyRepetitionPenalty(row, [0, 1, 0, 1, 0], 2);
  t.same(Array.from(row), [1, -2, 0.5, 1], 'once per distinct token: 2/2 and -1*2');
  const before = softmax(Float32Array.from([2, -1, 0.5, 1]));
  const after = softmax(row);
  t.ok(after[0] < before[0] && after[1] < before[1], 'both repeated tokens lose probability');
  t.ok(after[2] > before[2] && after[3] > before[3]);

  const scratch = new Uint8Array(4);
  const again = Float32Array.from([2, -1, 0.5, 1]);
  applyRepetitionPenalty(again, [3, 3, 7, -1], 4, scratch);
  t.same(Array.from(again), [2, -1, 0.5, 0.25], 'out-of-range ids ignored');
  t.same(Array.from(scratch), [0, 0, 0, 0], 'scratch left zeroed');
  applyRepetitionPenalty(again, [3], 1);
  t.equal(again[3], 0.25, 'penalty 1 is a no-op');

  const g = createSampler(params({ do_sample: false, repetition_penalty: 3 }));
  t.equal(g.next(Float32Array.from([2, 1.5, 0]), []).id, 0);
  t.equal(g.next(Float32Array.from([2, 1.5, 0]), [0]).id, 1, 'greedy avoids the repeated argmax');
});

t.test('unrestricted sampling matches softmax frequencies', async (t) => {
  const row = Float32Array.from([1.5, 0.2, -0.7, 2.1, 0, -3]);
  const p = softmax(row);
  const n = 40000;
  const counts = new Array<number>(row.length).fill(0);
  const s = createSampler(params({ seed: 2024 }));
  for (let i = 0; i < n; i++) counts[s.next(row, []).id]++;
  counts.forEach((c, i) => {
    const tol = 4 * Math.sqrt((p[i] * (1 - p[i])) / n) + 1e-3;
    t.ok(Math.abs(c / n - p[i]) < tol, `id ${i}: ${(c / n).toFixed(4)} vs ${p[i].toFixed(4)}`);
  });
});

t.test('logSoftmax', async (t) => {
  const ls = logSoftmax(Float32Array.from([1000, 1000, -Infinity]));
  t.ok(Math.abs(ls[0] - Math.log(0.5)) < 1e-6 && Math.abs(ls[1] - Math.log(0.5)) < 1e-6);
  t.equal(ls[2], -Infinity);
  t.same(Array.from(logSoftmax(Float32Array.from([-Infinity, -Infinity]))), [-Infinity, -Infinity]);
});

t.test('resolveSamplingParams fills defaults and names bad fields', async (t) => {
  const p = resolveSamplingParams({ temperature: 0.7, stop: ['\n\n'] });
  t.equal(p.temperature, 0.7);
  t.equal(p.max_new_tokens, DEFAULT_SAMPLING_PARAMS.max_new_tokens);
  t.ok(Number.isInteger(p.seed) && p.seed >= 0 && p.seed <= 0xffffffff, 'random uint32 seed when absent');
  t.equal(resolveSamplingParams({ seed: 7 }).seed, 7);
  const bad: Array<[Partial<SamplingParams>, RegExp]> = [
    [{ max_new_tokens: 0 }, /parameters\.max_new_tokens/],
    [{ max_new_tokens: 100 }, /\[1, 50\]/],
    [{ temperature: -1 }, /parameters\.temperature/],
    [{ top_k: 1.5 }, /parameters\.top_k/],
    [{ top_p: 0 }, /parameters\.top_p/],
    [{ repetition_penalty: 0 }, /parameters\.repetition_penalty/],
    [{ stop: [''] }, /parameters\.stop\[0\]/],
    [{ seed: -1 }, /parameters\.seed/],
    [{ do_sample: 'yes' as never }, /parameters\.do_sample/],
  ];
  for (const [input, message] of bad) {
    t.throws(() => resolveSamplingParams(input, { maxNewTokens: 50 }), { name: 'ServiceError', code: 'invalid_parameter', message });
  }
  t.ok(new ServiceError('invalid_parameter', 'x').status === 400);
});

t.test('greedy repetition rule: an id that would repeat an n-gram of the history is never chosen', async (t) => {
  const params = resolveSamplingParams({ do_sample: false, seed: 1 });
  const logits = Float32Array.from([0, 5, 4, 1]); // argmax 1, runner-up 2
  const plain = createSampler(params);
  const ruled = createSampler(params, { noRepeatNgramSize: 2 });
  // History ends in 3; "3 1" already occurred, so 1 would repeat that bigram.
  const history = [3, 1, 0, 3];
  t.equal(plain.next(logits, history).id, 1, 'without the rule: the argmax');
  t.equal(ruled.next(logits, history).id, 2, 'with n = 2: the best id that repeats no bigram');
  t.equal(ruled.next(logits, [0, 1, 3]).id, 1, 'nothing to repeat: the argmax');
  const loop = createSampler(params, { noRepeatNgramSize: 3 });
  const out: number[] = [];
  for (let i = 0; i < 12; i++) out.push(loop.next(Float32Array.from([0, 3, 2, 1]), out).id);
  const trigrams = out.slice(2).map((_, i) => out.slice(i, i + 3).join(','));
  t.equal(new Set(trigrams).size, trigrams.length, `no trigram twice in ${out.join(' ')}`);
});
