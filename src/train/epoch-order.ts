/**
 * Training-only ordering of examples: a seeded train/validation split, and each epoch's batch order
 * (seeded: a shuffle, then rows of similar source length are grouped for less padding, then the
 * batch order is shuffled again). Encoding and padding live in tasks/pair-encoding.ts.
 */
import { createRng } from '../decode/rng.ts';

function shuffled(n: number, rng: () => number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/**
 * A seeded train/validation split: the same (examples, share, seed) always gives the same split.
 * When examples carry a `group`, whole groups are held out (shuffled groups are taken until the
 * share is reached), so no group is on both sides; otherwise single examples are.
 */
export function splitExamples<T extends { group?: string }>(examples: readonly T[], share: number, seed: number): { train: T[]; val: T[] } {
  const rng = createRng((seed ^ 0x5eed) >>> 0);
  const target = Math.min(examples.length - 1, Math.max(share > 0 && examples.length >= 2 ? 1 : 0, Math.round(examples.length * share)));
  if (examples.some((e) => e.group !== undefined)) {
    const groups = [...new Set(examples.map((e) => e.group ?? ''))].sort();
    const held = new Set<string>();
    let count = 0;
    for (const gi of shuffled(groups.length, rng)) {
      if (count >= target || held.size === groups.length - 1) break;
      const g = groups[gi]!;
      held.add(g);
      count += examples.filter((e) => (e.group ?? '') === g).length;
    }
    return { val: examples.filter((e) => held.has(e.group ?? '')), train: examples.filter((e) => !held.has(e.group ?? '')) };
  }
  const order = shuffled(examples.length, rng);
  return { val: order.slice(0, target).map((i) => examples[i]!), train: order.slice(target).map((i) => examples[i]!) };
}

/**
 * One epoch's batches of `items` (any row type with a source length), in an order that depends
 * only on (seed, epoch). Rows are grouped by length in windows of 16 batches to limit padding.
 */
export function bucketedEpoch<T>(items: readonly T[], lengthOf: (t: T) => number, batchSize: number, seed: number, epoch: number): T[][] {
  const rng = createRng((seed * 1000003 + epoch * 7919 + 17) >>> 0);
  const order = shuffled(items.length, rng);
  const window = batchSize * 16;
  const batches: T[][] = [];
  for (let start = 0; start < order.length; start += window) {
    const chunk = order.slice(start, start + window).sort((a, b) => lengthOf(items[a]!) - lengthOf(items[b]!) || a - b);
    for (let i = 0; i < chunk.length; i += batchSize) batches.push(chunk.slice(i, i + batchSize).map((k) => items[k]!));
  }
  return shuffled(batches.length, rng).map((i) => batches[i]!);
}
