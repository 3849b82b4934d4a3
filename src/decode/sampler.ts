/**
 * The per-request token chooser. One Sampler per generation request: it owns the seeded RNG (so a
 * request's draws never interleave with another's) and scratch buffers sized to the vocabulary.
 *
 * next(logits, history):
 *   1. copy `logits` into a scratch row (the caller's array is NEVER modified); NaN → -Infinity,
 *      +Infinity → the largest float32, so later arithmetic stays defined;
 *   2. banned ids → -Infinity (before anything else, so they can never be chosen), and with
 *      `noRepeatNgramSize` n the ids that would repeat an n-gram of `history`;
 *   3. repetition penalty over the distinct ids of `history`, then the presence / frequency
 *      penalties over the ids THIS sampler has chosen so far (the generated tokens, not the prompt);
 *   4. greedy (do_sample = false or temperature = 0): argmax, lowest id on ties, no RNG draw;
 *      otherwise temperature → top-k → top-p, then one RNG draw from the resulting softmax.
 * `logprob` is the natural-log probability of the chosen id under the distribution it was chosen
 * from: for greedy, the log-softmax of the penalised logits; for sampling, of the final filtered
 * distribution. Each sampled token consumes exactly one RNG draw, so the same seed and the same
 * logits sequence give the same ids. With `top_logprobs` > 0 the result also lists that many most
 * likely ids under the same distribution (so the chosen id, when among them, has the same logprob).
 */
import { applyPresenceFrequencyPenalty, applyRepetitionPenalty, applyTemperature, applyTopK, applyTopP, argmax, logSumExp, noRepeatNgramBans, topEntries } from './logits.ts';
import { isGreedy, type SamplingParams } from './params.ts';
import { createRng } from './rng.ts';

export interface SampledToken {
  /** Chosen token id in [0, V). */
  id: number;
  /** ln P(id) under the distribution the id was drawn from (≤ 0). */
  logprob: number;
  /** With params.top_logprobs > 0: the most likely ids under that distribution, most likely first. */
  top?: Array<{ id: number; logprob: number }>;
}

export interface Sampler {
  next(logits: Float32Array, history: readonly number[]): SampledToken;
}

export interface SamplerOptions {
  /** Ids that must never be generated (e.g. PAD, BOS, UNK). Out-of-range ids are ignored. */
  bannedIds?: readonly number[];
  /**
   * n > 0: an id that would complete an n-gram already in `history` is banned (the repetition rule
   * of greedy and sampled Seq2Seq decoding, the same rule beam search applies); 0 = off.
   */
  noRepeatNgramSize?: number;
}

const FLOAT32_MAX = 3.4028234663852886e38;

class SeededSampler implements Sampler {
  private readonly params: SamplingParams;
  private readonly greedy: boolean;
  private readonly banned: readonly number[];
  private readonly noRepeat: number;
  private readonly random: () => number;
  /** Scratch buffers, (re)allocated only when the vocabulary size changes. */
  private row = new Float32Array(0);
  private work = new Float32Array(0);
  private seen = new Uint8Array(0);
  /** How often each id has been chosen by this sampler (presence / frequency penalties). */
  private readonly counts = new Map<number, number>();

  constructor(params: SamplingParams, opts: SamplerOptions) {
    this.params = params;
    this.greedy = isGreedy(params);
    this.banned = opts.bannedIds ? [...opts.bannedIds] : [];
    this.noRepeat = opts.noRepeatNgramSize ?? 0;
    this.random = createRng(params.seed);
  }

  next(logits: Float32Array, history: readonly number[]): SampledToken {
    const V = logits.length;
    if (V === 0) throw new RangeError('cannot sample from an empty logits row');
    if (this.row.length !== V) this.resize(V);
    const row = this.row;
    for (let i = 0; i < V; i++) {
      const x = logits[i];
      row[i] = Number.isNaN(x) ? -Infinity : x === Infinity ? FLOAT32_MAX : x;
    }
    for (const id of this.banned) if (id >= 0 && id < V) row[id] = -Infinity;
    if (this.noRepeat > 0) for (const id of noRepeatNgramBans(history, this.noRepeat)) if (id >= 0 && id < V) row[id] = -Infinity;

    const { repetition_penalty, presence_penalty, frequency_penalty, temperature, top_k, top_p } = this.params;
    applyRepetitionPenalty(row, history, repetition_penalty, this.seen);
    applyPresenceFrequencyPenalty(row, this.counts, presence_penalty, frequency_penalty);

    let chosen: SampledToken;
    if (this.greedy) {
      const id = argmax(row);
      if (id < 0) throw noTokenError();
      chosen = { id, logprob: row[id] - logSumExp(row) };
    } else {
      applyTemperature(row, temperature);
      if (top_k > 0) applyTopK(row, top_k, this.work);
      if (top_p < 1) applyTopP(row, top_p, this.work);
      chosen = this.draw(row);
    }
    this.counts.set(chosen.id, (this.counts.get(chosen.id) ?? 0) + 1);
    if (this.params.top_logprobs > 0) {
      const lse = logSumExp(row); // `row` is now the distribution `chosen` was drawn from
      chosen.top = topEntries(row, this.params.top_logprobs).map((e) => ({ id: e.id, logprob: e.logprob - lse }));
    }
    return chosen;
  }

  /** Inverse-CDF draw from softmax(row) with one RNG call. */
  private draw(row: Float32Array): SampledToken {
    const V = row.length;
    let max = -Infinity;
    for (let i = 0; i < V; i++) if (row[i] > max) max = row[i];
    if (max === -Infinity) throw noTokenError();
    let sum = 0;
    for (let i = 0; i < V; i++) sum += Math.exp(row[i] - max);
    const target = this.random() * sum;
    let cumulative = 0;
    let chosen = -1;
    for (let i = 0; i < V; i++) {
      if (row[i] === -Infinity) continue;
      chosen = i; // float rounding can leave target ≥ the final sum: fall back to the last live id
      cumulative += Math.exp(row[i] - max);
      if (cumulative > target) break;
    }
    return { id: chosen, logprob: row[chosen] - max - Math.log(sum) };
  }

  private resize(V: number): void {
    this.row = new Float32Array(V);
    this.work = new Float32Array(V);
    this.seen = new Uint8Array(V);
  }
}

function noTokenError(): Error {
  return new Error('no token can be chosen: every logit is -Infinity, NaN or banned');
}

/**
 * Creates a sampler for one request. `params` must already be resolved (resolveSamplingParams);
 * throws RangeError for a seed that is not a uint32.
 */
export function createSampler(params: SamplingParams, opts: SamplerOptions = {}): Sampler {
  return new SeededSampler(params, opts);
}
