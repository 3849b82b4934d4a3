// The real-data split used by bench:quality and train:demo:real: seeded, reproducible, disjoint, and
// the held-out rows never reach training.
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadRealRows, splitRealRows, type RealRow } from '../../scripts/real-data/splits.ts';

const rows: RealRow[] = Array.from({ length: 50 }, (_, i) => ({ source: `s${i}`, target: `t${i}` }));

t.test('a seeded subset: held-out first, the rest for training, disjoint', async (t) => {
  const a = splitRealRows(rows, { rows: 30, heldOut: 5, seed: 7 });
  t.equal(a.heldOut.length, 5);
  t.equal(a.train.length, 25);
  const train = new Set(a.train.map((r) => r.source));
  t.ok(a.heldOut.every((r) => !train.has(r.source)), 'no held-out row is trained on');
  t.equal(new Set([...a.train, ...a.heldOut].map((r) => r.source)).size, 30, 'no row twice');
  t.same(splitRealRows(rows, { rows: 30, heldOut: 5, seed: 7 }), a, 'the same seed gives the same split');
  t.notSame(splitRealRows(rows, { rows: 30, heldOut: 5, seed: 8 }).heldOut, a.heldOut, 'another seed another split');
  t.notSame(a.heldOut.map((r) => r.source), ['s0', 's1', 's2', 's3', 's4'], 'shuffled, not the file order');
});

t.test('all rows when rows is absent or larger; too many held out is refused', async (t) => {
  t.equal(splitRealRows(rows, { heldOut: 10, seed: 1 }).train.length, 40);
  t.equal(splitRealRows(rows, { rows: 500, heldOut: 10, seed: 1 }).train.length, 40);
  t.throws(() => splitRealRows(rows, { rows: 10, heldOut: 10, seed: 1 }), /fewer than the rows used/);
});

t.test('loadRealRows reads JSONL and names the command when the file is missing', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'real-data-'));
  t.throws(() => loadRealRows('translate', dir), /npm run data:real/);
  writeFileSync(path.join(dir, 'summarize-man.jsonl'), '{"source":"a b","target":"c","group":"manpages"}\n\n{"source":"d","target":"e","group":"perl-doc"}\n');
  t.same(loadRealRows('summarize', dir), [{ source: 'a b', target: 'c', group: 'manpages' }, { source: 'd', target: 'e', group: 'perl-doc' }]);
});
