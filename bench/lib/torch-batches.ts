/**
 * Hands a language-model bench's exact batches to its PyTorch reference script: `dir`/meta.json,
 * train.u16 (for each of `steps` batches of the plan, `rows` windows of seqLen + 1 ids: the inputs and
 * the last target) and val.u16 (every validation row as such a window, `meta.val_len` + 1 ids each).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Batch } from '../../src/train/lm-data.ts';

/** Row `r` of a batch as seqLen + 1 ids: its inputs, then its last target. */
function window(b: Batch, r: number): Uint16Array {
  const w = new Uint16Array(b.seqLen + 1);
  w.set(b.x.subarray(r * b.seqLen, (r + 1) * b.seqLen));
  w[b.seqLen] = b.y[(r + 1) * b.seqLen - 1]!;
  return w;
}

export function writeTorchBatches(
  dir: string,
  plan: { batch: (step: number) => Batch },
  steps: number, rows: number, seqLen: number,
  valBatches: readonly Batch[], meta: { val_len: number },
): void {
  const trainBuf = new Uint16Array(steps * rows * (seqLen + 1));
  for (let s = 0; s < steps; s++) {
    const b = plan.batch(s);
    if (b.rows !== rows) throw new Error(`batch ${s} has ${b.rows} rows`);
    for (let r = 0; r < rows; r++) trainBuf.set(window(b, r), (s * rows + r) * (seqLen + 1));
  }
  const valRows = valBatches.flatMap((b) => Array.from({ length: b.rows }, (_, r) => window(b, r)));
  const valBuf = new Uint16Array(valRows.length * (meta.val_len + 1));
  valRows.forEach((w, i) => valBuf.set(w, i * (meta.val_len + 1)));
  writeFileSync(path.join(dir, 'meta.json'), JSON.stringify(meta));
  writeFileSync(path.join(dir, 'train.u16'), Buffer.from(trainBuf.buffer));
  writeFileSync(path.join(dir, 'val.u16'), Buffer.from(valBuf.buffer));
}
