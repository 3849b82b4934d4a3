/**
 * Seeded uniform random numbers for sampling. The same uint32 seed always yields the same
 * sequence on every platform (pure 32-bit integer arithmetic, no Math.random), which is what makes
 * `parameters.seed` reproducible. Generator: sfc32, its 128-bit state expanded from the seed with
 * splitmix32 so that nearby seeds (0, 1, 2, …) give unrelated streams.
 */
import { randomInt } from 'node:crypto';

export const MAX_SEED = 0xffffffff;

/** Returns a function yielding uniform floats in [0, 1) with 32 bits of resolution. */
export function createRng(seed: number): () => number {
  if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
    throw new RangeError(`seed must be an integer in [0, ${MAX_SEED}]; got ${seed}`);
  }
  let s = seed >>> 0;
  const splitmix32 = (): number => {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix32();
  let b = splitmix32();
  let c = splitmix32();
  let d = splitmix32();
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  // Discard the first outputs so the state is well mixed before use.
  for (let i = 0; i < 12; i++) next();
  return next;
}

/** A fresh random uint32 seed, for requests that did not pass one (reported back in `details.seed`). */
export function randomSeed(): number {
  return randomInt(0, MAX_SEED + 1);
}
