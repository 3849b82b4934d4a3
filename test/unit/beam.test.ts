import t, { type Test } from 'tap';
import { beamSearch, type BeamHypothesis, type BeamOptions, type BeamStepper } from '../../src/decode/beam.ts';
import { createRng } from '../../src/decode/rng.ts';

// ---------------------------------------------------------------------------------------------
// Toy models: the log-probs of the next token are a pure function of the prefix (bos + generated
// ids). A model returns a Float32Array of length V holding a log-softmax.
// ---------------------------------------------------------------------------------------------

type Model = (prefix: readonly number[]) => Float32Array;

function logSoftmax(logits: readonly number[]): Float32Array {
  const max = Math.max(...logits);
  let z = 0;
  for (const x of logits) z += Math.exp(x - max);
  const lse = max + Math.log(z);
  return Float32Array.from(logits, (x) => x - lse);
}

function fromProbs(p: readonly number[]): Float32Array {
  return Float32Array.from(p, (x) => Math.log(x));
}

/** Deterministic pseudo-random model, seeded; `eosBias` shifts the eos logit. */
function randomModel(seed: number, V: number, eosId: number, scale = 3, eosBias = 0): Model {
  return (prefix) => {
    let h = (0x811c9dc5 ^ seed) >>> 0;
    for (const id of prefix) {
      h = Math.imul(h ^ (id + 1), 0x01000193) >>> 0;
      h = (h ^ (h >>> 15)) >>> 0;
    }
    const rng = createRng(h >>> 0);
    const logits: number[] = [];
    for (let v = 0; v < V; v++) logits.push(scale * (2 * rng() - 1) + (v === eosId ? eosBias : 0));
    return logSoftmax(logits);
  };
}

// ---------------------------------------------------------------------------------------------
// A counting stepper whose state is the list of prefixes (one per row). It records every misuse:
// disposing a state twice, disposing the caller's initial state, using a disposed state, leaks.
// ---------------------------------------------------------------------------------------------

interface ToyState {
  id: number;
  rows: number[][];
}

interface Hooks {
  /** Called at the start of step number `call` (1-based). May throw. */
  beforeStep?: (call: number) => void;
  beforeSelect?: (call: number) => void;
  async?: boolean;
  /** Overrides the returned log-probs (e.g. to make them malformed). */
  mangle?: (lp: Float32Array, call: number) => Float32Array;
}

class CountingStepper implements BeamStepper<ToyState> {
  readonly vocabSize: number;
  private nextId = 1;
  readonly live = new Set<number>();
  readonly problems: string[] = [];
  created = 0;
  disposed = 0;
  stepCalls = 0;
  selectCalls = 0;
  readonly stepInputs: number[][] = [];
  /** The prefixes (bos + generated ids) of the rows after each step. */
  readonly stepRows: string[][] = [];
  readonly initial: ToyState;

  constructor(
    vocabSize: number,
    private readonly model: Model,
    private readonly hooks: Hooks = {},
    bosPrefix: number[] = [],
  ) {
    this.vocabSize = vocabSize;
    this.initial = { id: 0, rows: [bosPrefix] };
  }

  private make(rows: number[][]): ToyState {
    const s = { id: this.nextId++, rows };
    this.live.add(s.id);
    this.created++;
    return s;
  }

  private check(state: ToyState, what: string): void {
    if (state !== this.initial && !this.live.has(state.id)) this.problems.push(`${what} on disposed state ${state.id}`);
  }

  step(ids: Int32Array, state: ToyState): Promise<{ logProbs: Float32Array; state: ToyState }> | { logProbs: Float32Array; state: ToyState } {
    this.stepCalls++;
    this.check(state, 'step');
    this.hooks.beforeStep?.(this.stepCalls);
    if (ids.length !== state.rows.length) this.problems.push(`step: ${ids.length} ids for ${state.rows.length} rows`);
    this.stepInputs.push([...ids]);
    const rows = state.rows.map((r, i) => [...r, ids[i]]);
    this.stepRows.push(rows.map((r) => r.join(',')));
    let logProbs: Float32Array = new Float32Array(rows.length * this.vocabSize);
    rows.forEach((r, i) => logProbs.set(this.model(r), i * this.vocabSize));
    if (this.hooks.mangle) logProbs = this.hooks.mangle(logProbs, this.stepCalls);
    const out = { logProbs, state: this.make(rows) };
    return this.hooks.async ? new Promise((resolve) => setTimeout(() => resolve(out), 0)) : out;
  }

  select(state: ToyState, rows: readonly number[]): ToyState {
    this.selectCalls++;
    this.check(state, 'select');
    this.hooks.beforeSelect?.(this.selectCalls);
    for (const r of rows) if (r < 0 || r >= state.rows.length) this.problems.push(`select: row ${r} out of range`);
    return this.make(rows.map((r) => [...state.rows[r]]));
  }

  dispose(state: ToyState): void {
    if (state === this.initial) {
      this.problems.push('the initial (caller-owned) state was disposed');
      return;
    }
    if (!this.live.has(state.id)) {
      this.problems.push(`state ${state.id} disposed twice`);
      return;
    }
    this.live.delete(state.id);
    this.disposed++;
  }
}

function assertClean(t: Test, s: CountingStepper, label = ''): void {
  t.same(s.problems, [], `${label} no misuse of states`);
  t.equal(s.live.size, 0, `${label} every produced state disposed (${s.created} created)`);
  t.equal(s.disposed, s.created, `${label} disposed exactly once each`);
}

function opts(o: Partial<BeamOptions> & { bosId: number; eosId: number }): BeamOptions {
  return { numBeams: 1, maxNewTokens: 4, lengthPenalty: 1, noRepeatNgramSize: 0, ...o };
}

// ---------------------------------------------------------------------------------------------
// Independent references
// ---------------------------------------------------------------------------------------------

/** True when appending v to g would repeat an n-gram of g + [v] (string-key implementation). */
function repeatsNgram(g: readonly number[], v: number, n: number): boolean {
  if (n <= 0) return false;
  const seq = [...g, v];
  if (seq.length < n) return false;
  const last = seq.slice(-n).join(',');
  for (let i = 0; i + n <= g.length; i++) if (g.slice(i, i + n).join(',') === last) return true;
  return false;
}

function hasRepeatedNgram(ids: readonly number[], n: number): boolean {
  const seen = new Set<string>();
  for (let i = 0; i + n <= ids.length; i++) {
    const key = ids.slice(i, i + n).join(',');
    if (seen.has(key)) return true;
    seen.add(key);
  }
  return false;
}

interface RefHyp {
  ids: number[];
  sum: number;
  score: number;
  byEos: boolean;
}

/** Enumerates every sequence (ended by eos or by reaching maxNewTokens); returns the best. */
function bruteForce(model: Model, V: number, o: BeamOptions): { best: RefHyp; count: number } {
  const banned = new Set(o.bannedIds ?? []);
  let best: RefHyp | null = null;
  let count = 0;
  const consider = (ids: number[], sum: number, L: number, byEos: boolean): void => {
    count++;
    const score = sum / L ** o.lengthPenalty;
    if (best === null || score > best.score) best = { ids, sum, score, byEos };
  };
  const rec = (g: number[], sum: number): void => {
    const lps = model([o.bosId, ...g]);
    for (let v = 0; v < V; v++) {
      if (banned.has(v) || repeatsNgram(g, v, o.noRepeatNgramSize)) continue;
      const s = sum + lps[v];
      if (v === o.eosId) consider(g, s, g.length + 1, true);
      else if (g.length + 1 === o.maxNewTokens) consider([...g, v], s, o.maxNewTokens, false);
      else rec([...g, v], s);
    }
  };
  rec([], 0);
  return { best: best!, count };
}

/** Plain beam search: full sort of all candidates every step, no early stopping. */
function referenceBeam(model: Model, V: number, o: BeamOptions): { hyps: RefHyp[]; steps: number } {
  const banned = new Set(o.bannedIds ?? []);
  let beams: { ids: number[]; sum: number }[] = [{ ids: [], sum: 0 }];
  const done: RefHyp[] = [];
  let steps = 0;
  for (let step = 1; step <= o.maxNewTokens && beams.length > 0; step++) {
    steps++;
    const cands: { b: number; v: number; sum: number }[] = [];
    beams.forEach((beam, b) => {
      const lps = model([o.bosId, ...beam.ids]);
      for (let v = 0; v < V; v++) {
        if (banned.has(v) || repeatsNgram(beam.ids, v, o.noRepeatNgramSize)) continue;
        cands.push({ b, v, sum: beam.sum + lps[v] });
      }
    });
    cands.sort((x, y) => (x.sum !== y.sum ? y.sum - x.sum : x.b !== y.b ? x.b - y.b : x.v - y.v));
    const next: { ids: number[]; sum: number }[] = [];
    for (const c of cands.slice(0, o.numBeams)) {
      const ids = beams[c.b].ids;
      if (c.v === o.eosId) done.push({ ids, sum: c.sum, score: c.sum / step ** o.lengthPenalty, byEos: true });
      else if (step === o.maxNewTokens) {
        done.push({ ids: [...ids, c.v], sum: c.sum, score: c.sum / step ** o.lengthPenalty, byEos: false });
      } else next.push({ ids: [...ids, c.v], sum: c.sum });
    }
    beams = next;
  }
  const hyps = done.map((h, i) => ({ h, i }));
  hyps.sort((a, b) => (a.h.score !== b.h.score ? b.h.score - a.h.score : a.i - b.i));
  return { hyps: hyps.slice(0, o.numBeams).map((x) => x.h), steps };
}

function greedy(model: Model, V: number, o: BeamOptions): RefHyp {
  const banned = new Set(o.bannedIds ?? []);
  const ids: number[] = [];
  let sum = 0;
  for (let step = 1; step <= o.maxNewTokens; step++) {
    const lps = model([o.bosId, ...ids]);
    let arg = -1;
    for (let v = 0; v < V; v++) {
      if (banned.has(v)) continue;
      if (arg < 0 || lps[v] > lps[arg]) arg = v;
    }
    sum += lps[arg];
    if (arg === o.eosId) return { ids, sum, score: sum / step ** o.lengthPenalty, byEos: true };
    ids.push(arg);
  }
  return { ids, sum, score: sum / o.maxNewTokens ** o.lengthPenalty, byEos: false };
}

function checkSorted(t: Test, hyps: readonly BeamHypothesis[], numBeams: number): void {
  t.ok(hyps.length >= 1 && hyps.length <= numBeams, `1 ≤ ${hyps.length} hypotheses ≤ ${numBeams}`);
  for (let i = 1; i < hyps.length; i++) {
    if (!(hyps[i - 1].score >= hyps[i].score)) t.fail(`hypotheses not sorted at ${i}`);
  }
}

const LENGTH_PENALTIES = [0, 0.6, 1, 2, -0.5];

// ---------------------------------------------------------------------------------------------
// 1. Exactness against brute force
// ---------------------------------------------------------------------------------------------

t.test('with numBeams large enough never to prune, beam search finds the brute-force optimum', async (t) => {
  let cases = 0;
  for (const V of [4, 5]) {
    for (const maxNewTokens of [3, 4]) {
      for (const seed of [1, 2, 3, 17, 99]) {
        for (const lengthPenalty of LENGTH_PENALTIES) {
          const eosId = 0;
          const bosId = V - 1;
          // Vary eos probability so that both short and long optima occur.
          const model = randomModel(seed, V, eosId, 3, (seed % 3) - 1);
          for (const extra of [{}, { bannedIds: [bosId] }, { noRepeatNgramSize: 1 }, { noRepeatNgramSize: 2, bannedIds: [bosId] }]) {
            const o = opts({ bosId, eosId, maxNewTokens, lengthPenalty, numBeams: V ** maxNewTokens, ...extra });
            const ref = bruteForce(model, V, o);
            const stepper = new CountingStepper(V, model, { async: seed % 2 === 0 });
            const res = await beamSearch(stepper, stepper.initial, o);
            const label = `V=${V} max=${maxNewTokens} seed=${seed} lp=${lengthPenalty} ${JSON.stringify(extra)}`;
            if (
              JSON.stringify(res.best.ids) !== JSON.stringify(ref.best.ids) ||
              Math.abs(res.best.score - ref.best.score) > 1e-9 ||
              Math.abs(res.best.sumLogProb - ref.best.sum) > 1e-9 ||
              res.best.finishedByEos !== ref.best.byEos
            ) {
              t.fail(label, { found: res.best, expected: ref.best });
            }
            t.notOk(res.cancelled);
            checkSorted(t, res.hypotheses, o.numBeams);
            if (stepper.problems.length || stepper.live.size) t.fail(`${label}: state leak/misuse`);
            cases++;
          }
        }
      }
    }
  }
  t.equal(cases, 2 * 2 * 5 * LENGTH_PENALTIES.length * 4);
  t.pass(`${cases} brute-force cases`);
});

t.test('brute force: a case where the optimum is long and a case where it is short', async (t) => {
  // Sanity check on the test harness itself: optima of various lengths occur across seeds.
  const lengths = new Set<number>();
  for (let seed = 0; seed < 30; seed++) {
    const model = randomModel(seed, 5, 0, 3, (seed % 3) - 1);
    const o = opts({ bosId: 4, eosId: 0, maxNewTokens: 4, lengthPenalty: 1, numBeams: 625 });
    lengths.add(bruteForce(model, 5, o).best.ids.length);
  }
  t.ok(lengths.size >= 3, `optimum lengths seen: ${[...lengths].sort()}`);
});

// ---------------------------------------------------------------------------------------------
// 2. Small beams against an independent plain implementation
// ---------------------------------------------------------------------------------------------

t.test('small numBeams equals a plain reference beam search (early stopping never changes the result)', async (t) => {
  let runs = 0;
  let earlyStops = 0;
  let mismatches = 0;
  for (let seed = 0; seed < 60; seed++) {
    for (const lengthPenalty of LENGTH_PENALTIES) {
      for (const numBeams of [2, 3]) {
        const V = 4 + (seed % 3);
        const eosId = seed % V;
        const bosId = (eosId + 1) % V;
        const model = randomModel(seed * 7 + 3, V, eosId, 2 + (seed % 4), (seed % 5) - 2);
        const o = opts({
          bosId,
          eosId,
          numBeams,
          lengthPenalty,
          maxNewTokens: 6 + (seed % 5),
          noRepeatNgramSize: seed % 4 === 3 ? 2 : 0,
          bannedIds: seed % 2 ? [bosId] : [],
        });
        const ref = referenceBeam(model, V, o);
        const stepper = new CountingStepper(V, model);
        const res = await beamSearch(stepper, stepper.initial, o);
        runs++;
        if (res.steps < ref.steps) earlyStops++;
        const got = res.hypotheses.map((h) => [h.ids.join(','), h.finishedByEos]);
        const want = ref.hyps.map((h) => [h.ids.join(','), h.byEos]);
        const scoresOk = res.hypotheses.every((h, i) => Math.abs(h.score - ref.hyps[i].score) <= 1e-9);
        if (JSON.stringify(res.best.ids) !== JSON.stringify(ref.hyps[0].ids) || JSON.stringify(got) !== JSON.stringify(want) || !scoresOk) {
          mismatches++;
          t.fail(`seed=${seed} lp=${lengthPenalty} k=${numBeams}`, { got: res.hypotheses, want: ref.hyps });
        }
        if (stepper.problems.length || stepper.live.size) t.fail(`seed=${seed}: state leak/misuse`);
      }
    }
  }
  t.equal(mismatches, 0, `${runs} runs agree with the reference`);
  t.ok(earlyStops > 20, `early stopping was exercised (${earlyStops}/${runs} runs stopped early)`);
});

// ---------------------------------------------------------------------------------------------
// 3. Greedy
// ---------------------------------------------------------------------------------------------

t.test('numBeams = 1 is greedy argmax decoding', async (t) => {
  for (let seed = 0; seed < 50; seed++) {
    const V = 5;
    const model = randomModel(1000 + seed, V, 0, 3, -1);
    for (const lengthPenalty of [0, 1, -0.5]) {
      const o = opts({ bosId: 4, eosId: 0, numBeams: 1, maxNewTokens: 12, lengthPenalty, bannedIds: seed % 2 ? [4] : [] });
      const want = greedy(model, V, o);
      const stepper = new CountingStepper(V, model);
      const res = await beamSearch(stepper, stepper.initial, o);
      t.same(res.best.ids, want.ids, `seed ${seed} lp ${lengthPenalty}`);
      t.equal(res.best.finishedByEos, want.byEos);
      t.equal(res.best.sumLogProb, want.sum);
      t.equal(res.hypotheses.length, 1);
      t.equal(res.steps, want.ids.length + (want.byEos ? 1 : 0));
      assertClean(t, stepper);
    }
  }
});

// ---------------------------------------------------------------------------------------------
// 4. no_repeat_ngram_size
// ---------------------------------------------------------------------------------------------

// Vocabulary: 0 eos, 1 A, 2 B, 3 C, 4 D, 5 bos.
const REPEATER_V = 6;
/** Strongly prefers A B A B …: after A comes B, after anything else comes A; eos is unlikely. */
const repeater: Model = (prefix) => {
  const last = prefix[prefix.length - 1];
  const next = last === 1 ? 2 : 1;
  const p = [0.01, 0, 0, 0.12, 0.12, 0.01];
  p[next] = 1 - p.reduce((a, b) => a + b, 0);
  return fromProbs(p.map((x) => (x === 0 ? 1e-4 : x)));
};

t.test('no_repeat_ngram_size bans repeated n-grams; off, the model repeats', async (t) => {
  const base = opts({ bosId: 5, eosId: 0, numBeams: 3, maxNewTokens: 10, lengthPenalty: 1, bannedIds: [5] });
  {
    const stepper = new CountingStepper(REPEATER_V, repeater);
    const res = await beamSearch(stepper, stepper.initial, { ...base, noRepeatNgramSize: 0 });
    t.same(res.best.ids, [1, 2, 1, 2, 1, 2, 1, 2, 1, 2], 'off: A B A B …');
    t.ok(hasRepeatedNgram(res.best.ids, 2), 'off: the bigram A B repeats');
    assertClean(t, stepper);
  }
  for (const n of [1, 2, 3]) {
    const stepper = new CountingStepper(REPEATER_V, repeater);
    const res = await beamSearch(stepper, stepper.initial, { ...base, noRepeatNgramSize: n });
    for (const h of res.hypotheses) t.notOk(hasRepeatedNgram(h.ids, n), `n=${n}: no repeated ${n}-gram in ${h.ids}`);
    t.ok(res.best.ids.length >= n, `n=${n}: still generates (${res.best.ids})`);
    assertClean(t, stepper);
  }
  {
    const stepper = new CountingStepper(REPEATER_V, repeater);
    const res = await beamSearch(stepper, stepper.initial, { ...base, noRepeatNgramSize: 2 });
    t.same(res.best.ids.slice(0, 3), [1, 2, 1], 'n=2: starts A B A, then may not say B again');
    t.not(res.best.ids[3], 2);
  }
});

// ---------------------------------------------------------------------------------------------
// 5. Length penalty
// ---------------------------------------------------------------------------------------------

t.test('length penalty changes the choice between a short and a long hypothesis', async (t) => {
  // 0 eos, 1 A, 2 B, 3 C, 4 bos. Short: [eos] with p 0.5 (sum −0.693, L 1).
  // Long: A (0.4) B (0.9) eos (0.9): sum −1.127, L 3 → per token −0.376.
  const model: Model = (prefix) => {
    const g = prefix.slice(1);
    if (g.length === 0) return fromProbs([0.5, 0.4, 0.05, 0.04, 0.01]);
    if (g.length === 1 && g[0] === 1) return fromProbs([0.04, 0.02, 0.9, 0.03, 0.01]);
    if (g.length === 2 && g[0] === 1 && g[1] === 2) return fromProbs([0.9, 0.04, 0.03, 0.02, 0.01]);
    return fromProbs([0.2, 0.2, 0.2, 0.2, 0.2]);
  };
  const run = async (lengthPenalty: number) => {
    const stepper = new CountingStepper(5, model);
    const res = await beamSearch(stepper, stepper.initial, opts({ bosId: 4, eosId: 0, numBeams: 3, maxNewTokens: 5, lengthPenalty, bannedIds: [4] }));
    assertClean(t, stepper, `lp=${lengthPenalty}`);
    return res;
  };
  for (const lp of [0, -0.5]) {
    const res = await run(lp);
    t.same(res.best.ids, [], `lp=${lp}: the short hypothesis wins`);
    t.ok(res.best.finishedByEos);
  }
  for (const lp of [1, 2]) {
    const res = await run(lp);
    t.same(res.best.ids, [1, 2], `lp=${lp}: the long hypothesis wins`);
    t.ok(Math.abs(res.best.score - res.best.sumLogProb / 3 ** lp) < 1e-12, 'score = sum / L^lp with L counting the eos');
  }
});

t.test('ties are broken by lower beam index, then lower token id', async (t) => {
  // 0 eos, 1 A, 2 B, 3 bos. A and B always tie exactly, so every step is full of ties.
  const model: Model = () => fromProbs([0.1, 0.4, 0.4, 0.1]);
  const o = opts({ bosId: 3, eosId: 0, numBeams: 3, maxNewTokens: 3, lengthPenalty: 0, bannedIds: [3] });
  const stepper = new CountingStepper(4, model);
  const res = await beamSearch(stepper, stepper.initial, o);
  // Step 1 keeps A, B, eos; step 2 keeps AA, AB, BA (beam 0 before beam 1); step 3 keeps AAA, AAB, ABA,
  // of which AAA and AAB join [] in the pool (ABA only ties the worst, so the earlier ones stay).
  t.same(
    res.hypotheses.map((h) => h.ids),
    [[], [1, 1, 1], [1, 1, 2]],
  );
  t.same(
    res.hypotheses.map((h) => h.ids),
    referenceBeam(model, 4, o).hyps.map((h) => h.ids),
    'same as the reference',
  );
  t.same(stepper.stepRows, [['3'], ['3,1', '3,2'], ['3,1,1', '3,1,2', '3,2,1']], 'live beams in candidate order');
  assertClean(t, stepper);
});

// ---------------------------------------------------------------------------------------------
// 6. Abort and exceptions: nothing leaks
// ---------------------------------------------------------------------------------------------

t.test('abort stops early, returns the best so far and disposes every state', async (t) => {
  const model = randomModel(5, 5, 0, 1, -3); // eos unlikely: the search would run to 20 steps
  for (const async of [false, true]) {
    const ac = new AbortController();
    const stepper = new CountingStepper(5, model, { async, beforeStep: (call) => call === 3 && ac.abort() });
    const res = await beamSearch(stepper, stepper.initial, opts({ bosId: 4, eosId: 0, numBeams: 3, maxNewTokens: 20, signal: ac.signal }));
    t.ok(res.cancelled, 'cancelled');
    t.equal(res.steps, 3, 'the step in progress completes, no further step');
    t.equal(stepper.stepCalls, 3);
    t.ok(res.best.ids.length <= 3 && res.best.ids.length >= 1);
    checkSorted(t, res.hypotheses, 3);
    t.equal(res.best, res.hypotheses[0]);
    assertClean(t, stepper, `async=${async}`);
  }
  {
    const ac = new AbortController();
    ac.abort();
    const stepper = new CountingStepper(5, model);
    const res = await beamSearch(stepper, stepper.initial, opts({ bosId: 4, eosId: 0, numBeams: 3, signal: ac.signal }));
    t.ok(res.cancelled);
    t.equal(res.steps, 0);
    t.equal(stepper.stepCalls, 0, 'already aborted: the stepper is never called');
    t.same(res.best, { ids: [], score: 0, sumLogProb: 0, finishedByEos: false });
    assertClean(t, stepper);
  }
  {
    // Abort from outside while the search is running (a timer fires between steps).
    const ac = new AbortController();
    const stepper = new CountingStepper(5, model, { async: true });
    const promise = beamSearch(stepper, stepper.initial, opts({ bosId: 4, eosId: 0, numBeams: 2, maxNewTokens: 100000, lengthPenalty: 1, signal: ac.signal }));
    setTimeout(() => ac.abort(), 30);
    const res = await promise;
    t.ok(res.cancelled);
    t.ok(res.steps > 0 && res.steps < 100000, `stopped after ${res.steps} steps`);
    assertClean(t, stepper, 'timer abort');
  }
});

t.test('an exception from step or select disposes every state and is rethrown', async (t) => {
  const model = randomModel(8, 5, 0, 1, -3);
  const o = opts({ bosId: 4, eosId: 0, numBeams: 3, maxNewTokens: 10 });
  for (const call of [1, 2, 4]) {
    for (const async of [false, true]) {
      const stepper = new CountingStepper(5, model, {
        async,
        beforeStep: (c) => {
          if (c === call) throw new Error(`boom ${c}`);
        },
      });
      await t.rejects(beamSearch(stepper, stepper.initial, o), { message: `boom ${call}` });
      assertClean(t, stepper, `step throws at ${call} async=${async}`);
    }
  }
  {
    // Rejection after the step resolves asynchronously.
    const base = new CountingStepper(5, model);
    const failing: BeamStepper<ToyState> = {
      vocabSize: 5,
      step: async (ids, s) => {
        await new Promise((r) => setTimeout(r, 1));
        if (base.stepCalls === 2) throw new Error('async boom');
        return base.step(ids, s);
      },
      select: (s, rows) => base.select(s, rows),
      dispose: (s) => base.dispose(s),
    };
    await t.rejects(beamSearch(failing, base.initial, o), { message: 'async boom' });
    assertClean(t, base, 'async rejection');
  }
  for (const call of [1, 3]) {
    const stepper = new CountingStepper(5, model, {
      beforeSelect: (c) => {
        if (c === call) throw new Error(`select boom ${c}`);
      },
    });
    await t.rejects(beamSearch(stepper, stepper.initial, o), { message: `select boom ${call}` });
    assertClean(t, stepper, `select throws at ${call}`);
  }
  {
    const stepper = new CountingStepper(5, model, { mangle: (lp, c) => (c === 2 ? lp.subarray(1) : lp) });
    await t.rejects(beamSearch(stepper, stepper.initial, o), /log-probs/);
    assertClean(t, stepper, 'malformed log-probs');
  }
});

t.test('states: the caller keeps the initial state; every intermediate state is disposed once', async (t) => {
  const model = randomModel(12, 5, 0, 2, -1);
  const stepper = new CountingStepper(5, model);
  const res = await beamSearch(stepper, stepper.initial, opts({ bosId: 4, eosId: 0, numBeams: 4, maxNewTokens: 8 }));
  t.same(stepper.stepInputs[0], [4], 'step 1 feeds bos to the single initial row');
  t.equal(stepper.created, stepper.stepCalls + stepper.selectCalls);
  t.equal(res.steps, stepper.stepCalls);
  assertClean(t, stepper);
});

// ---------------------------------------------------------------------------------------------
// 7. Banned ids
// ---------------------------------------------------------------------------------------------

t.test('banned ids never appear', async (t) => {
  // Model strongly prefers the banned ids 1 and 3.
  for (let seed = 0; seed < 20; seed++) {
    const inner = randomModel(seed, 6, 0, 2, -1);
    const model: Model = (prefix) => {
      const lp = Array.from(inner(prefix));
      lp[1] += 4;
      lp[3] += 4;
      return logSoftmax(lp);
    };
    for (const numBeams of [1, 2, 5]) {
      const o = opts({ bosId: 5, eosId: 0, numBeams, maxNewTokens: 8, bannedIds: [1, 3, 5], lengthPenalty: 1 });
      const stepper = new CountingStepper(6, model);
      const res = await beamSearch(stepper, stepper.initial, o);
      for (const h of res.hypotheses) {
        t.notOk(h.ids.some((id) => id === 1 || id === 3 || id === 5), `seed ${seed} k ${numBeams}: ${h.ids}`);
      }
      assertClean(t, stepper);
    }
  }
  {
    // Everything but eos banned: eos right away.
    const stepper = new CountingStepper(4, randomModel(3, 4, 2));
    const res = await beamSearch(stepper, stepper.initial, opts({ bosId: 3, eosId: 2, numBeams: 4, bannedIds: [0, 1, 3] }));
    t.same(res.best.ids, []);
    t.ok(res.best.finishedByEos);
    t.equal(res.steps, 1);
    assertClean(t, stepper);
  }
});

// ---------------------------------------------------------------------------------------------
// Misc: validation, max length, event loop
// ---------------------------------------------------------------------------------------------

t.test('invalid options are rejected before any step', async (t) => {
  const stepper = new CountingStepper(5, randomModel(1, 5, 0));
  const good = opts({ bosId: 4, eosId: 0 });
  for (const bad of [
    { numBeams: 0 },
    { numBeams: 1.5 },
    { maxNewTokens: 0 },
    { noRepeatNgramSize: -1 },
    { lengthPenalty: NaN },
    { lengthPenalty: Infinity },
    { eosId: 5 },
    { bosId: -1 },
    { bannedIds: [0] }, // eos
    { bannedIds: [7] },
  ]) {
    await t.rejects(beamSearch(stepper, stepper.initial, { ...good, ...bad }), RangeError, JSON.stringify(bad));
  }
  t.equal(stepper.stepCalls, 0);
  assertClean(t, stepper);
});

t.test('hypotheses that reach maxNewTokens without eos are finished with that length', async (t) => {
  const model = randomModel(4, 5, 0, 1, -20); // eos practically impossible
  const stepper = new CountingStepper(5, model);
  const res = await beamSearch(stepper, stepper.initial, opts({ bosId: 4, eosId: 0, numBeams: 3, maxNewTokens: 5, lengthPenalty: 1 }));
  t.equal(res.steps, 5);
  t.equal(res.hypotheses.length, 3);
  for (const h of res.hypotheses) {
    t.equal(h.ids.length, 5);
    t.notOk(h.finishedByEos);
    t.ok(Math.abs(h.score - h.sumLogProb / 5) < 1e-12);
  }
  assertClean(t, stepper);
});

t.test('the search yields to the event loop between steps', async (t) => {
  const model = randomModel(6, 5, 0, 1, -20);
  const stepper = new CountingStepper(5, model); // synchronous stepper
  let ticks = 0;
  let running = true;
  const tick = (): void => {
    ticks++;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  const res = await beamSearch(stepper, stepper.initial, opts({ bosId: 4, eosId: 0, numBeams: 2, maxNewTokens: 50 }));
  running = false;
  t.equal(res.steps, 50);
  t.ok(ticks >= 40, `other work ran during the search (${ticks} ticks)`);
  assertClean(t, stepper);
});
