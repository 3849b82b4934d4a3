/**
 * Beam search over an abstract decoder stepper (no tensors here: a seq2seq decoder plugs its own
 * state type S in through BeamStepper). Used by /translate and /summarize with the request
 * parameters num_beams, length_penalty, no_repeat_ngram_size and max_new_tokens.
 *
 * Semantics (k = numBeams, V = stepper.vocabSize, lp = lengthPenalty, t = generated tokens so far):
 *
 * - Step 1 feeds `bosId` to the single row of `initialState`. Every later step feeds each live
 *   beam's last generated token to that beam's row.
 * - After each step every live beam is expanded by every allowed token: candidate sum = beam's sum
 *   of log-probs + the token's log-prob. Not allowed: `bannedIds`, and (noRepeatNgramSize = n > 0)
 *   every token that would complete an n-gram already present in that beam's generated ids (HF
 *   transformers semantics; the bos is not part of the generated ids), and whatever `bans` returns
 *   for that beam's generated ids. A NaN log-prob counts as
 *   −∞; −∞ candidates are still candidates (they just rank last).
 * - The k best candidates across all beams are kept, ranked by sum (NOT normalised), ties broken
 *   by lower beam index, then lower token id. A kept candidate whose token is `eosId` becomes a
 *   finished hypothesis of length t (the eos counts) and leaves the live set; the others are the
 *   next live beams (so there are at most k live beams, fewer when some finished). At
 *   t = maxNewTokens every kept candidate is finished: eos ones with finishedByEos = true, the
 *   others with finishedByEos = false; either way length = maxNewTokens.
 * - Normalised score of a hypothesis = sumLogProb / length ** lp, length = generated tokens incl. a
 *   final eos (always ≥ 1). lp > 0 favours long hypotheses, lp < 0 short ones, lp = 0 is the raw sum.
 * - At most k finished hypotheses are kept: the best normalised scores; a newcomer that only ties
 *   the worst kept one is rejected, so among equal scores the earlier-finished one ranks first.
 * - Stopping: no live beams left; or t = maxNewTokens; or early, when k hypotheses are finished and
 *   no live beam can still beat the worst of them. That bound is exact, never an estimate: log-probs
 *   are ≤ 0, so a live beam's sum can only decrease, and its best reachable normalised score is
 *   sum / L ** lp maximised over L in [t+1, maxNewTokens]: at L = maxNewTokens for lp > 0, at
 *   L = t+1 for lp ≤ 0. Should the stepper ever return a positive log-prob (it breaks the stepper's
 *   contract), early stopping is switched off for the rest of that search rather than risk a wrong
 *   answer. Consequently early stopping never changes the result, only the number of steps.
 * - With numBeams = 1 this is greedy (argmax, lowest id on ties) decoding.
 * - Between steps the search yields to the event loop (setImmediate), so a long search does not
 *   block a server. `signal` is checked before every step (a step in progress is not interrupted):
 *   once aborted, the search stops and returns `cancelled: true` with the best hypotheses so far:
 *   the finished ones and the live beams scored at their current length (finishedByEos = false),
 *   finished first among equal scores. Aborted before the first step: one empty hypothesis, score 0.
 *
 * State ownership: `initialState` belongs to the caller and is never disposed here. Every state
 * the stepper returns (from step or select) belongs to the search and is disposed exactly once,
 * as soon as it is no longer needed, and also when the search ends by abort or by an exception
 * (from step, select, dispose or a malformed step result), which is then rethrown. A step/select
 * that returns its input object is tolerated (that object is still disposed only once).
 */
import { noRepeatNgramBans } from './logits.ts';

export interface BeamStepper<S> {
  /** Advances every row of `state` by its token ids[r] (ids.length = rows); returns log-probabilities
   *  (already log-softmaxed, natural log) as a flat Float32Array [rows × vocab] and the new state.
   *  Must not dispose or modify the input state. */
  step(ids: Int32Array, state: S): Promise<{ logProbs: Float32Array; state: S }> | { logProbs: Float32Array; state: S };
  /** A new state made of rows `rows` of `state` (rows may repeat, order as given). Input state untouched. */
  select(state: S, rows: readonly number[]): S;
  dispose(state: S): void;
  vocabSize: number;
}

export interface BeamOptions {
  /** ≥ 1; 1 = greedy decoding. */
  numBeams: number;
  /** ≥ 1, counts generated tokens including a final eos. */
  maxNewTokens: number;
  /** score = sumLogProb / (length ** lengthPenalty); length = generated tokens incl. eos. Finite. */
  lengthPenalty: number;
  /** 0 = off; else no n-gram of that size may appear twice in a hypothesis (generated tokens only). */
  noRepeatNgramSize: number;
  /** First input id. */
  bosId: number;
  eosId: number;
  /** Never generated (pad, bos, unk). Must not contain eosId. */
  bannedIds?: readonly number[];
  /** Aborted → stop before the next step, return the best so far with cancelled = true. */
  signal?: AbortSignal;
  /**
   * More ids not allowed next for a beam, from its generated ids (e.g. decode/lexicon.ts wordBans);
   * applied like the no-repeat bans. Must not be a function of anything but `ids`.
   */
  bans?: (ids: readonly number[]) => readonly number[];
}

export interface BeamHypothesis {
  /** Generated ids, WITHOUT the eos. */
  ids: number[];
  /** sumLogProb / length ** lengthPenalty. */
  score: number;
  sumLogProb: number;
  finishedByEos: boolean;
}

export interface BeamResult {
  /** hypotheses[0]. */
  best: BeamHypothesis;
  /** Sorted best first, 1 ≤ length ≤ numBeams. */
  hypotheses: BeamHypothesis[];
  /** Number of stepper.step calls that completed. */
  steps: number;
  /** True when `signal` stopped the search. */
  cancelled: boolean;
}

interface LiveBeam {
  ids: number[];
  sum: number;
}

interface Candidate {
  beam: number;
  token: number;
  sum: number;
}

function checkInt(name: string, v: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`beam search: ${name} must be an integer in [${min}, ${max}]; got ${v}`);
  }
}

function validate(opts: BeamOptions, V: number): void {
  checkInt('vocabSize', V, 1);
  checkInt('numBeams', opts.numBeams, 1);
  checkInt('maxNewTokens', opts.maxNewTokens, 1);
  checkInt('noRepeatNgramSize', opts.noRepeatNgramSize, 0);
  checkInt('bosId', opts.bosId, 0, V - 1);
  checkInt('eosId', opts.eosId, 0, V - 1);
  if (typeof opts.lengthPenalty !== 'number' || !Number.isFinite(opts.lengthPenalty)) {
    throw new RangeError(`beam search: lengthPenalty must be a finite number; got ${opts.lengthPenalty}`);
  }
  for (const id of opts.bannedIds ?? []) {
    checkInt('every banned id', id, 0, V - 1);
    if (id === opts.eosId) throw new RangeError(`beam search: eosId ${id} must not be banned`);
  }
}

/** True when a ranks before b: larger sum, then lower beam, then lower token. */
function ranksBefore(a: Candidate, b: Candidate): boolean {
  if (a.sum !== b.sum) return a.sum > b.sum;
  if (a.beam !== b.beam) return a.beam < b.beam;
  return a.token < b.token;
}

const yieldToEventLoop = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

export async function beamSearch<S>(
  stepper: BeamStepper<S>,
  initialState: S /* 1 row */,
  opts: BeamOptions,
): Promise<BeamResult> {
  const V = stepper.vocabSize;
  validate(opts, V);
  const k = opts.numBeams;
  const maxNew = opts.maxNewTokens;
  const lp = opts.lengthPenalty;
  const eos = opts.eosId;
  const n = opts.noRepeatNgramSize;
  const signal = opts.signal;

  /** 0 = allowed, 1 = banned for the whole search, 2 = banned for the beam being expanded. */
  const mask = new Uint8Array(V);
  for (const id of opts.bannedIds ?? []) mask[id] = 1;

  const normalized = (sum: number, length: number): number => sum / length ** lp;

  /** Finished hypotheses, best first, ≤ k. */
  const finished: BeamHypothesis[] = [];
  const addFinished = (ids: number[], sum: number, length: number, byEos: boolean): void => {
    const score = normalized(sum, length);
    if (finished.length === k && !(score > finished[k - 1].score)) return;
    let i = finished.length;
    while (i > 0 && finished[i - 1].score < score) i--;
    finished.splice(i, 0, { ids, score, sumLogProb: sum, finishedByEos: byEos });
    if (finished.length > k) finished.pop();
  };

  let live: LiveBeam[] = [{ ids: [], sum: 0 }];
  let inputIds = Int32Array.of(opts.bosId);
  /** The state the next step reads (initialState or a state we own). */
  let feed: S = initialState;
  /** The one state the search owns and has not disposed yet, if any. */
  let held: { s: S } | null = null;
  const release = (): void => {
    if (held === null) return;
    const s = held.s;
    held = null;
    if (s !== initialState) stepper.dispose(s);
  };
  const hold = (s: S): void => {
    if (held !== null && held.s === s) return;
    release();
    held = { s };
  };

  let steps = 0;
  let cancelled = false;
  let positiveSeen = false;
  let ok = false;

  try {
    for (let t = 1; ; t++) {
      if (signal?.aborted) {
        cancelled = true;
        break;
      }
      const rows = live.length;
      const res = await stepper.step(inputIds, feed);
      steps++;
      // The previous state (if ours) is no longer needed once the new one exists.
      hold(res.state);
      const logProbs = res.logProbs;
      if (logProbs == null || typeof logProbs.length !== 'number' || logProbs.length !== rows * V) {
        throw new Error(
          `beam search: step returned ${logProbs?.length} log-probs for ${rows} rows × vocab ${V}`,
        );
      }

      // Per beam, its best min(k, allowed) candidates (the global top k can only come from these).
      const pool: Candidate[] = [];
      const tok: number[] = [];
      const val: number[] = [];
      for (let b = 0; b < rows; b++) {
        const beam = live[b];
        const extra = n > 0 ? noRepeatNgramBans(beam.ids, n) : [];
        if (opts.bans) extra.push(...opts.bans(beam.ids));
        const marked: number[] = [];
        for (const v of extra) {
          if (mask[v] === 0) {
            mask[v] = 2;
            marked.push(v);
          }
        }
        tok.length = 0;
        val.length = 0;
        const base = b * V;
        for (let v = 0; v < V; v++) {
          if (mask[v] !== 0) continue;
          let x = logProbs[base + v];
          if (x !== x) x = -Infinity; // NaN
          else if (x > 0) positiveSeen = true;
          const s = beam.sum + x;
          if (tok.length === k && !(s > val[k - 1])) continue;
          // Insertion into the sorted list; equal sums keep the earlier (lower) token first.
          let i = tok.length === k ? k - 1 : tok.length;
          while (i > 0 && val[i - 1] < s) {
            val[i] = val[i - 1];
            tok[i] = tok[i - 1];
            i--;
          }
          val[i] = s;
          tok[i] = v;
        }
        for (const v of marked) mask[v] = 0;
        for (let i = 0; i < tok.length; i++) pool.push({ beam: b, token: tok[i], sum: val[i] });
      }
      pool.sort((a, c) => (ranksBefore(a, c) ? -1 : ranksBefore(c, a) ? 1 : 0));
      const chosen = pool.length > k ? pool.slice(0, k) : pool;

      const nextLive: LiveBeam[] = [];
      const parents: number[] = [];
      for (const c of chosen) {
        const prefix = live[c.beam].ids;
        if (c.token === eos) {
          addFinished(prefix.slice(), c.sum, t, true);
        } else if (t === maxNew) {
          addFinished([...prefix, c.token], c.sum, t, false);
        } else {
          nextLive.push({ ids: [...prefix, c.token], sum: c.sum });
          parents.push(c.beam);
        }
      }
      live = nextLive;

      if (live.length === 0 || t === maxNew) break;
      if (finished.length === k && !positiveSeen) {
        const worst = finished[k - 1].score;
        // Best reachable length: the longest for lp > 0, the next one for lp ≤ 0.
        const L = lp > 0 ? maxNew : t + 1;
        const denom = L ** lp;
        if (live.every((b) => !(b.sum / denom > worst))) break;
      }

      const next = stepper.select(held!.s, parents);
      hold(next);
      feed = next;
      inputIds = Int32Array.from(live, (b) => b.ids[b.ids.length - 1]);
      await yieldToEventLoop();
    }
    ok = true;
  } finally {
    if (ok) {
      release();
    } else {
      // Dispose what we own, but let the original error propagate.
      try {
        release();
      } catch {
        /* ignored: an error is already being thrown */
      }
    }
  }

  let hypotheses: BeamHypothesis[] = finished;
  if (cancelled) {
    const all: BeamHypothesis[] = [...finished];
    for (const b of live) {
      all.push({
        ids: b.ids,
        score: b.ids.length === 0 ? 0 : normalized(b.sum, b.ids.length),
        sumLogProb: b.sum,
        finishedByEos: false,
      });
    }
    // Stable sort: finished ones (listed first) stay ahead of live ones with the same score.
    all.sort((a, c) => (a.score === c.score ? 0 : a.score > c.score ? -1 : 1));
    hypotheses = all.slice(0, k);
  }
  return { best: hypotheses[0], hypotheses, steps, cancelled };
}
