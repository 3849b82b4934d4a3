/** Small numeric helpers for tests that compare two backends' results. */
export const size = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);

/** Largest |a[i] − b[i]|; Infinity when the lengths differ. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
