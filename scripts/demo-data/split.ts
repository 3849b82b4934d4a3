/**
 * Held-out splits by group: every row of a group (one number for translation, one country for QA)
 * lands on the same side, so the held-out rows are about entities the model never saw in training.
 */
import { createRng } from './rng.ts';

export function splitByGroup<T extends { group: string }>(
  rows: readonly T[],
  heldOutFraction: number,
  seed: number,
): { train: T[]; heldOut: T[]; heldOutGroups: Set<string> } {
  if (!(heldOutFraction >= 0 && heldOutFraction <= 1)) {
    throw new RangeError(`heldOutFraction must be in [0, 1]; got ${heldOutFraction}`);
  }
  // Sorted so the split depends only on the set of groups and the seed, not on row order.
  const groups = [...new Set(rows.map((r) => r.group))].sort();
  const shuffled = createRng(seed).shuffle(groups);
  const heldOutGroups = new Set(shuffled.slice(0, Math.round(groups.length * heldOutFraction)));
  const train: T[] = [];
  const heldOut: T[] = [];
  for (const row of rows) (heldOutGroups.has(row.group) ? heldOut : train).push(row);
  return { train, heldOut, heldOutGroups };
}
