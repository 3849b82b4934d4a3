// The playground's loss-curve data (src/web/js/series.js, plain browser JS): progress reports become
// points in epochs, evaluations become val_loss points, a resumed attempt rewinds the curve, and a
// job's log rebuilds the curve after a reload in another tab.
import t from 'tap';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { ROOT } from '../helpers/app.ts';

// A browser module: imported by URL (it has no TypeScript declarations).
const series = await import(pathToFileURL(path.join(ROOT, 'src/web/js/series.js')).href);

const report = (epoch: number, step: number, loss: number, val: number | null, steps = 10) => ({ epoch, epochs: 3, step, steps, loss, val_loss: val });

t.test('progress reports → points; a new val_loss marks an evaluation', async (t) => {
  const s = series.emptySeries();
  t.ok(series.appendProgress(s, report(0, 2, 3.0, null)));
  t.ok(series.appendProgress(s, report(0, 6, 2.5, null)));
  t.ok(series.appendProgress(s, report(0, 10, 2.2, null)), 'the in-epoch report at the last step');
  t.ok(series.appendProgress(s, report(1, 0, 2.2, 2.4)), 'the epoch-end report (same x) adds the evaluation');
  t.notOk(series.appendProgress(s, report(1, 0, 2.2, 2.4)), 'a repeated report changes nothing');
  t.ok(series.appendProgress(s, report(1, 5, 2.0, 2.4)), 'a later report with the same val_loss');
  t.same(s.x, [0.2, 0.6, 1, 1.5]);
  t.same(s.loss, [3.0, 2.5, 2.2, 2.0]);
  t.same(s.val, [null, null, 2.4, null], 'val_loss only where it was evaluated');
  t.notOk(series.appendProgress(s, null), 'no progress yet');
  t.notOk(series.appendProgress(s, { ...report(1, 6, 0, null), loss: null }), 'no loss yet');
});

t.test('a retried attempt that resumed from its checkpoint rewinds the curve', async (t) => {
  const s = series.emptySeries();
  for (const [e, st, l] of [[0, 5, 3], [1, 0, 2.5], [1, 5, 2.2], [1, 8, 2.1]] as const) series.appendProgress(s, report(e, st, l, null));
  series.appendProgress(s, report(1, 2, 2.4, null));
  t.same(s.x, [0.5, 1, 1.2], 'points after the resume point are dropped');
});

t.test('the log rebuilds the evaluations', async (t) => {
  const s = series.seriesFromLogs([
    '2026-11-30T01:00:00.000Z tokenizer char: 30 tokens; corpus 100 ids (90 train, 10 validation)',
    '2026-11-30T01:00:01.000Z step 5 (epoch 1, 5/10): loss 2.5000 val_loss 2.6000',
    '2026-11-30T01:00:02.000Z epoch 1/3: loss 2.2000 val_loss 2.3000 (best 2.3000 at epoch 1); lr 0.00200',
    '2026-11-30T01:00:03.000Z epoch 2/3: loss 2.0000 val_loss n/a; lr 0.00200',
  ]);
  t.same(s.x, [0.5, 1, 2]);
  t.same(s.loss, [2.5, 2.2, 2.0]);
  t.same(s.val, [2.6, 2.3, null]);
});
