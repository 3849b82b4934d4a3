/**
 * Turns a language-model corpus (one id stream, tasks/lm-encoding.ts) into training windows.
 *
 * A window is T+1 consecutive ids; x = ids[0..T), y = ids[1..T]. The validation split is the tail
 * of the stream, so no window straddles both splits.
 */
import { createRng } from '../decode/rng.ts';
import { ServiceError } from '../errors.ts';

/** Splits off the last `share` of the stream for validation (empty when share is 0 or it would be < 2 ids). */
export function splitTrainVal(ids: Int32Array, share: number): { train: Int32Array; val: Int32Array } {
  const valLen = Math.floor(ids.length * share);
  if (valLen < 2) return { train: ids, val: new Int32Array(0) };
  return { train: ids.subarray(0, ids.length - valLen), val: ids.subarray(ids.length - valLen) };
}

/** Windows of T+1 ids starting at offset, offset+T, … that fit in n ids. */
export function windowCount(n: number, seqLen: number, offset = 0): number {
  return Math.max(0, Math.floor((n - offset - 1) / seqLen));
}

/** Throws dataset_too_small when the training split cannot fill one window. */
export function assertEnoughTokens(trainTokens: number, seqLen: number, field: 'sequence_length' | 'context_length' = 'sequence_length'): void {
  if (windowCount(trainTokens, seqLen) < 1) {
    throw new ServiceError(
      'dataset_too_small',
      `the training text has ${trainTokens} tokens after the validation split; hyperparameters.${field} = ${seqLen} needs at least ${seqLen + 1}`,
    );
  }
}

export interface Batch {
  rows: number;
  seqLen: number;
  x: Int32Array; // [rows, seqLen]
  y: Int32Array; // [rows, seqLen]
}

/**
 * `targets` (optional, same length as ids): what y is read from instead of ids — the chat task
 * masks non-assistant targets to PAD_ID, which the loss ignores.
 */
function fill(ids: Int32Array, starts: readonly number[], seqLen: number, targets: Int32Array = ids): Batch {
  const rows = starts.length;
  const x = new Int32Array(rows * seqLen);
  const y = new Int32Array(rows * seqLen);
  starts.forEach((s, r) => {
    x.set(ids.subarray(s, s + seqLen), r * seqLen);
    y.set(targets.subarray(s + 1, s + 1 + seqLen), r * seqLen);
  });
  return { rows, seqLen, x, y };
}

/**
 * The batches of one training epoch, in a shuffled order that depends only on (seed, epoch):
 * a retried job resuming mid-epoch at step k sees exactly the batches it would have seen.
 * Each epoch also shifts the window grid by a seeded offset in [0, T) for variety.
 */
export interface EpochPlan {
  steps: number;
  /** The batch of step `k` (0-based), filled on demand: an epoch never holds a copy of the corpus. */
  batch(step: number): Batch;
}

export function epochPlan(ids: Int32Array, seqLen: number, batchSize: number, seed: number, epoch: number, targets?: Int32Array): EpochPlan {
  const rng = createRng((seed * 1000003 + epoch * 7919) >>> 0);
  let offset = Math.floor(rng() * seqLen);
  if (windowCount(ids.length, seqLen, offset) === 0) offset = 0;
  const count = windowCount(ids.length, seqLen, offset);
  const starts = new Int32Array(count);
  for (let k = 0; k < count; k++) starts[k] = offset + k * seqLen;
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [starts[i], starts[j]] = [starts[j]!, starts[i]!];
  }
  return {
    steps: Math.ceil(count / batchSize),
    batch: (step) => fill(ids, Array.from(starts.subarray(step * batchSize, (step + 1) * batchSize)), seqLen, targets),
  };
}

/** Validation batches in order; windows shrink to fit a short split (at least 1 token each). */
export function validationBatches(ids: Int32Array, seqLen: number, batchSize: number, targets?: Int32Array): Batch[] {
  if (ids.length < 2) return [];
  const t = Math.min(seqLen, ids.length - 1);
  const count = windowCount(ids.length, t);
  const starts = Array.from({ length: count }, (_, k) => k * t);
  const batches: Batch[] = [];
  for (let b = 0; b < starts.length; b += batchSize) batches.push(fill(ids, starts.slice(b, b + batchSize), t, targets));
  return batches;
}
