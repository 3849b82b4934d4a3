/**
 * The sample both measurement scripts (measure-convergence.ts, measure-decoding.ts) train and score
 * on: the first ROWS (3000) rows of a seeded Fisher–Yates shuffle (SHUFFLE_SEED, default 1) of a
 * real data set read from REAL_DATA (default REAL_DATA_DIR, where `npm run data:real` writes);
 * HELDOUT (200) of them are the trainer's validation split. Same env → same rows, in both scripts.
 */
import { createRng } from '../src/decode/rng.ts';
import { REAL_DATA_DIR } from './real-data/debian-packages.ts';
import { loadRealRows, type RealRow } from './real-data/splits.ts';

export function measureSample(data: string): { rows: RealRow[]; heldOut: number } {
  const all = loadRealRows(data === 'translate' ? 'translate' : 'summarize', process.env.REAL_DATA ?? REAL_DATA_DIR);
  const rng = createRng(Number(process.env.SHUFFLE_SEED ?? 1));
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  const rows = all.slice(0, Number(process.env.ROWS ?? 3000)).map((r) => ({ source: r.source, target: r.target, ...(r.group ? { group: r.group } : {}) }));
  return { rows, heldOut: Number(process.env.HELDOUT ?? 200) };
}
