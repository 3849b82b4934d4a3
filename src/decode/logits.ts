/**
 * Logits processors: pure functions on one row of logits (Float32Array of vocabulary size V,
 * natural-log units), each modifying the row IN PLACE. A token is removed from the distribution by
 * setting its logit to -Infinity; processors treat -Infinity as "probability 0" and never bring a
 * removed token back. Order used by the sampler: repetition penalty → presence/frequency penalty →
 * temperature → top-k → top-p.
 *
 * Optional `scratch` arguments let a caller that runs once per generated token (the sampler) reuse
 * its own buffers, so a decode step allocates nothing proportional to V. Without them the
 * functions allocate what they need.
 */

/** A processor as the sampler composes them: edits `logits` in place given the token history. */
export type LogitsProcessor = (logits: Float32Array, history: readonly number[]) => void;

/**
 * CTRL-style repetition penalty (Keskar et al. 2019, as in HF transformers): for each DISTINCT id
 * in `history`, a positive logit is divided by `penalty` and a negative one multiplied by it, so
 * penalty > 1 always makes the token less likely. penalty = 1 is a no-op. Ids outside [0, V) are
 * ignored. `seen`, if given, must have length ≥ V and be all zeros; it is left all zeros.
 */
export function applyRepetitionPenalty(
  logits: Float32Array,
  history: readonly number[],
  penalty: number,
  seen?: Uint8Array,
): void {
  if (!(penalty > 0) || !Number.isFinite(penalty)) {
    throw new RangeError(`repetition penalty must be a finite number > 0; got ${penalty}`);
  }
  if (penalty === 1 || history.length === 0) return;
  const V = logits.length;
  const mark = seen && seen.length >= V ? seen : new Uint8Array(V);
  for (const id of history) {
    if (!Number.isInteger(id) || id < 0 || id >= V || mark[id] === 1) continue;
    mark[id] = 1;
    const x = logits[id];
    logits[id] = x > 0 ? x / penalty : x * penalty;
  }
  for (const id of history) if (id >= 0 && id < V) mark[id] = 0;
}

/**
 * OpenAI's presence and frequency penalties: for every id j with count c = counts.get(j) > 0,
 * logits[j] -= c · frequency + presence. Positive values make repeats less likely, negative ones
 * more; 0 and 0 is a no-op. -Infinity stays -Infinity (a removed token is never brought back). Ids
 * outside [0, V) are ignored. `counts` holds how often each id was generated so far.
 */
export function applyPresenceFrequencyPenalty(
  logits: Float32Array,
  counts: ReadonlyMap<number, number>,
  presence: number,
  frequency: number,
): void {
  if (!Number.isFinite(presence) || !Number.isFinite(frequency)) {
    throw new RangeError(`presence and frequency penalties must be finite; got ${presence}, ${frequency}`);
  }
  if (presence === 0 && frequency === 0) return;
  for (const [id, c] of counts) {
    if (c <= 0 || !Number.isInteger(id) || id < 0 || id >= logits.length) continue;
    logits[id] -= c * frequency + presence;
  }
}

/**
 * The `n` largest finite entries of a log-probability row, most likely first (lower id first on
 * ties): O(V · n), for the small n (≤ 20) of `top_logprobs`.
 */
export function topEntries(row: Float32Array, n: number): Array<{ id: number; logprob: number }> {
  const top: Array<{ id: number; logprob: number }> = [];
  if (n <= 0) return top;
  for (let i = 0; i < row.length; i++) {
    const x = row[i];
    if (!(x > -Infinity)) continue;
    if (top.length === n && x <= top[n - 1]!.logprob) continue;
    let at = top.length;
    while (at > 0 && top[at - 1]!.logprob < x) at--;
    top.splice(at, 0, { id: i, logprob: x });
    if (top.length > n) top.pop();
  }
  return top;
}

/**
 * Divides logits by temperature t > 0. The row is first shifted so its largest finite logit is 0
 * (softmax is shift-invariant), so a tiny t sends the others towards -Infinity instead of the
 * maximum overflowing to +Infinity. t = 1 only shifts.
 */
export function applyTemperature(logits: Float32Array, t: number): void {
  if (!(t > 0) || !Number.isFinite(t)) {
    throw new RangeError(`temperature must be a finite number > 0 (use greedy decoding for 0); got ${t}`);
  }
  const max = maxFinite(logits);
  if (max === -Infinity) return;
  for (let i = 0; i < logits.length; i++) logits[i] = (logits[i] - max) / t;
}

/**
 * Keeps the k largest logits and sets every other to -Infinity. Among equal logits at the cut-off,
 * lower ids are kept first, so the result is deterministic. k ≤ 0 or k ≥ V is a no-op.
 * `scratch`, if given, must have length ≥ V; its contents are overwritten.
 */
export function applyTopK(logits: Float32Array, k: number, scratch?: Float32Array): void {
  const V = logits.length;
  if (!Number.isInteger(k)) throw new RangeError(`top_k must be an integer; got ${k}`);
  if (k <= 0 || k >= V) return;
  const work = scratch && scratch.length >= V ? scratch.subarray(0, V) : new Float32Array(V);
  work.set(logits);
  keepAtLeast(logits, selectDescending(work, k - 1), k);
}

/**
 * Nucleus (top-p) filter: keeps the smallest set of most probable tokens whose cumulative
 * probability is ≥ p, always at least one token, and sets the rest to -Infinity. Equal
 * probabilities are ordered by lower id first. p ≥ 1 is a no-op. A tolerance of 1e-6 absorbs
 * float32 rounding, so probs [0.5, 0.3, 0.15, 0.05] with p = 0.8 keep exactly {0, 1}.
 * `scratch`, if given, must have length ≥ V; its contents are overwritten. Cost: O(V) plus one
 * native numeric sort of the candidates (few for a peaked distribution).
 */
export function applyTopP(logits: Float32Array, p: number, scratch?: Float32Array): void {
  if (!(p > 0) || Number.isNaN(p)) throw new RangeError(`top_p must be a number in (0, 1]; got ${p}`);
  if (p >= 1) return;
  const V = logits.length;
  const max = maxFinite(logits);
  if (max === -Infinity) return;
  let live = 0;
  let sum = 0;
  for (let i = 0; i < V; i++) {
    const x = logits[i];
    if (x === -Infinity || Number.isNaN(x)) continue;
    live++;
    sum += Math.exp(x - max);
  }
  // Tokens with probability < (1 - p) / live carry < 1 - p in total, so the others already reach
  // p and the nucleus (a prefix of the sorted order) lies among them: only those are sorted.
  const cut = max + Math.log(sum) + Math.log((1 - p) / live);
  const buf = scratch && scratch.length >= V ? scratch : new Float32Array(V);
  let n = 0;
  for (let i = 0; i < V; i++) if (logits[i] >= cut) buf[n++] = logits[i];
  const sorted = buf.subarray(0, n).sort(); // ascending; walk from the most probable end
  let cumulative = 0;
  let keep = 0;
  while (keep < n) {
    cumulative += Math.exp(sorted[n - 1 - keep] - max) / sum;
    keep++;
    if (cumulative >= p - 1e-6) break;
  }
  keepAtLeast(logits, sorted[n - keep], keep);
}

/**
 * Keeps every logit > threshold plus the lowest-id logits equal to it, `keep` in all (the caller
 * guarantees at most `keep` are strictly greater), and sets the rest to -Infinity.
 */
function keepAtLeast(logits: Float32Array, threshold: number, keep: number): void {
  let greater = 0;
  for (let i = 0; i < logits.length; i++) if (logits[i] > threshold) greater++;
  let tiesLeft = keep - greater;
  for (let i = 0; i < logits.length; i++) {
    const x = logits[i];
    if (x > threshold) continue;
    if (x === threshold && tiesLeft > 0) tiesLeft--;
    else logits[i] = -Infinity;
  }
}

/**
 * Log-softmax of a row, computed in float64: out[i] = logits[i] - logsumexp(logits). -Infinity
 * stays -Infinity; a row that is entirely -Infinity gives all -Infinity. Writes into `out` when
 * given (length ≥ V), otherwise returns a new array.
 */
export function logSoftmax(logits: Float32Array, out?: Float32Array): Float32Array {
  const V = logits.length;
  const result = out && out.length >= V ? out : new Float32Array(V);
  const lse = logSumExp(logits);
  for (let i = 0; i < V; i++) result[i] = lse === -Infinity ? -Infinity : logits[i] - lse;
  return result;
}

/** log(Σ exp(logits[i])) in float64; -Infinity for an empty or all -Infinity row. */
export function logSumExp(logits: Float32Array): number {
  const max = maxFinite(logits);
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  return max + Math.log(sum);
}

/** Index of the largest logit, lowest id on ties; -1 when every logit is -Infinity or NaN. */
export function argmax(logits: Float32Array): number {
  let best = -1;
  let bestValue = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    if (logits[i] > bestValue) {
      bestValue = logits[i];
      best = i;
    }
  }
  return best;
}

/** Largest value that is not NaN (may be +Infinity); -Infinity when there is none. */
function maxFinite(logits: Float32Array): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  return max;
}

/**
 * Returns the value of rank `r` (0 = largest) of `a`, reordering `a` in place (quickselect,
 * median-of-three pivot, O(V) expected). Values must not be NaN.
 */
function selectDescending(a: Float32Array, r: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const pivot = medianOf3(a[lo], a[mid], a[hi]);
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] > pivot) i++;
      while (a[j] < pivot) j--;
      if (i <= j) {
        const tmp = a[i];
        a[i] = a[j];
        a[j] = tmp;
        i++;
        j--;
      }
    }
    if (r <= j) hi = j;
    else if (r >= i) lo = i;
    else return a[r];
  }
  return a[r];
}

function medianOf3(x: number, y: number, z: number): number {
  return Math.max(Math.min(x, y), Math.min(Math.max(x, y), z));
}

/** Tokens that would complete an n-gram already present in `ids` (HF no_repeat_ngram semantics). */
export function noRepeatNgramBans(ids: readonly number[], n: number): number[] {
  const m = ids.length;
  if (n <= 0 || m + 1 < n) return [];
  const out: number[] = [];
  const start = m - n + 1; // the last n-1 ids: ids[start .. m-1]
  for (let i = 0; i + n - 1 < m; i++) {
    let match = true;
    for (let j = 0; j < n - 1; j++) {
      if (ids[i + j] !== ids[start + j]) {
        match = false;
        break;
      }
    }
    if (match) out.push(ids[i + n - 1]);
  }
  return out;
}
