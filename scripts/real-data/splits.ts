/**
 * The real-data sets as the quality benchmark and the real demos use them: read from the JSONL that
 * `npm run data:real` writes (REAL_DATA_DIR, default data/real), then a seeded split into training
 * rows and held-out rows that training never sees (not even as its validation split).
 *
 *   translate  data/real/translate-de-en.jsonl  {source (German), target (English)}
 *   summarize  data/real/summarize-man.jsonl    {source (DESCRIPTION), target (NAME line), group (package)}
 *
 * The summarize split is by row, not by package (`group`): every package is on both sides, as a
 * user's new man page would be next to the ones the model was trained on.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { mulberry32 } from '../demo-data/rng.ts';
import { REAL_DATA_DIR } from './debian-packages.ts';

export type RealTask = 'translate' | 'summarize';

export interface RealRow {
  source: string;
  target: string;
  group?: string;
}

export const REAL_DATA_FILES: Record<RealTask, string> = {
  translate: 'translate-de-en.jsonl',
  summarize: 'summarize-man.jsonl',
};

/** Every row of a task's data set, in file order; a clear error when `npm run data:real` has not run. */
export function loadRealRows(task: RealTask, dir = REAL_DATA_DIR): RealRow[] {
  const file = path.join(dir, REAL_DATA_FILES[task]);
  if (!existsSync(file)) {
    throw new Error(`${file} is missing: run \`npm run data:real\` first (it downloads the Debian packages with apt-get), or point REAL_DATA_DIR at a folder holding ${REAL_DATA_FILES[task]}`);
  }
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as RealRow);
}

export interface RealSplit {
  train: RealRow[];
  heldOut: RealRow[];
}

/**
 * A seeded subset of `rows` rows (all when `rows` is absent or larger), shuffled (Fisher–Yates,
 * mulberry32(seed)); the first `heldOut` of them are held out, the rest are for training.
 */
export function splitRealRows(all: readonly RealRow[], opts: { rows?: number; heldOut: number; seed: number }): RealSplit {
  const rand = mulberry32(opts.seed);
  const order = all.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const picked = order.slice(0, Math.min(opts.rows ?? all.length, all.length)).map((i) => all[i]!);
  if (opts.heldOut >= picked.length) throw new Error(`held-out rows (${opts.heldOut}) must be fewer than the rows used (${picked.length})`);
  return { heldOut: picked.slice(0, opts.heldOut), train: picked.slice(opts.heldOut) };
}
