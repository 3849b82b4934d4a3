import t from 'tap';
import { bigramFeatures, MAX_KEY_CHARS, RetrievalIndex } from '../../src/tasks/retrieval.ts';

const ROWS = [
  { source: 'the cat sat on the mat', target: 'die Katze saß auf der Matte' },
  { source: 'the dog sat on the log', target: 'der Hund saß auf dem Baumstamm' },
  { source: 'open the file for reading', target: 'die Datei zum Lesen öffnen' },
  { source: 'close the file', target: 'die Datei schließen' },
];

t.test('bigramFeatures: normalised, padded code-point bigrams; CJK and astral safe', (t) => {
  t.same([...bigramFeatures('Ab  c')].sort(), [' a', ' c', 'ab', 'b ', 'c '].sort());
  t.same([...bigramFeatures('  ')], []);
  t.same([...bigramFeatures('我爱北京')], [' 我', '我爱', '爱北', '北京', '京 ']);
  // one astral code point (a surrogate pair) is one character, never split
  t.same([...bigramFeatures('𠀀x')], [' 𠀀', '𠀀x', 'x ']);
  // NFC: a decomposed é matches the composed one
  t.same([...bigramFeatures('e\u0301')], [...bigramFeatures('\u00e9')]);
  t.end();
});

t.test('nearest: the most similar source; exclusion; identical text scores 1', (t) => {
  const idx = RetrievalIndex.build(ROWS);
  t.equal(idx.size, 4);
  t.equal(idx.nearest('the cat sat on a mat')!.index, 0);
  t.equal(idx.nearestTarget('please close the file now'), 'die Datei schließen');
  const self = idx.nearest('open the file for reading')!;
  t.equal(self.index, 2);
  t.ok(Math.abs(self.score - 1) < 1e-12, `identical text scores 1 (got ${self.score})`);
  // excluding the row itself gives the next best: the other "file" row
  t.equal(idx.nearest('open the file for reading', 2)!.index, 3);
  t.equal(idx.nearest('the cat sat on the mat', 0)!.index, 1);
  // nothing in common → null and ''
  t.equal(idx.nearest('zzzz'), null);
  t.equal(idx.nearestTarget('qqq'), '');
  // scores are in (0, 1] and deterministic; the accumulator is reset between queries
  const a = idx.nearest('the dog sat')!;
  const b = idx.nearest('the dog sat')!;
  t.same(a, b);
  t.ok(a.score > 0 && a.score <= 1);
  t.end();
});

t.test('CJK sources match by character bigrams', (t) => {
  const idx = RetrievalIndex.build([
    { source: '打开文件', target: 'open the file' },
    { source: '关闭窗口', target: 'close the window' },
    { source: '保存文件', target: 'save the file' },
  ]);
  t.equal(idx.nearestTarget('请关闭这个窗口'), 'close the window');
  t.equal(idx.nearestTarget('打开文件夹'), 'open the file');
  t.end();
});

t.test('rare shared bigrams outweigh common ones (IDF)', (t) => {
  // 30 rows share "xx"; only row 30 shares the rare "qz" with the query
  const rows = Array.from({ length: 30 }, (_, i) => ({ source: `xx${'abcdefghijklmnopqrstuvwxyzABCD'[i]}`, target: `t${i}` }));
  rows.push({ source: 'xxqz', target: 'rare' });
  const idx = RetrievalIndex.build(rows);
  t.equal(idx.nearestTarget('qz'), 'rare');
  t.end();
});

t.test('serialises to JSON and back with identical answers; bounded size', (t) => {
  const idx = RetrievalIndex.build(ROWS);
  const json = JSON.parse(JSON.stringify(idx.toJSON()));
  t.equal(json.format, 'seqserve-retrieval');
  const back = RetrievalIndex.fromJSON(json);
  for (const q of ['the cat', 'close file', 'reading a file', 'dog log']) t.same(back.nearest(q), idx.nearest(q), q);
  t.throws(() => RetrievalIndex.fromJSON({ format: 'other' }), /seqserve-retrieval/);
  t.throws(() => RetrievalIndex.fromJSON({ ...json, targets: [] }), /equal length/);
  // long sources are clipped to MAX_KEY_CHARS; rows beyond the byte bound are dropped
  const long = RetrievalIndex.build([{ source: 'a'.repeat(MAX_KEY_CHARS + 50), target: 'x' }]);
  t.equal(long.sources[0]!.length, MAX_KEY_CHARS);
  const bounded = RetrievalIndex.build(ROWS, 80);
  t.ok(bounded.size > 0 && bounded.size < ROWS.length, `kept ${bounded.size} of ${ROWS.length} rows`);
  t.equal(bounded.toJSON().rows_total, ROWS.length);
  t.end();
});

t.test('an empty index answers null', (t) => {
  t.equal(RetrievalIndex.build([]).nearest('anything'), null);
  t.end();
});

t.test('nearestK: the k best rows, best first; prefixes of the full ranking; exclusion; fewer when few match', (t) => {
  // 40 rows of overlapping words, so many rows share bigrams with a query and ties occur.
  const words = ['file', 'open', 'close', 'read', 'write', 'the', 'a', 'dir', 'link', 'mode'];
  const rows = Array.from({ length: 40 }, (_, i) => ({ source: `${words[i % 10]} ${words[(i * 3) % 10]} ${words[(i * 7) % 10]}`, target: `t${i}` }));
  const idx = RetrievalIndex.build(rows);
  for (const q of ['open the file', 'read a link', 'mode dir write', 'close']) {
    // The full ranking is sorted (score, then row index); shorter answers are its prefixes.
    const all = idx.nearestK(q, rows.length);
    for (let i = 1; i < all.length; i++) {
      t.ok(all[i - 1]!.score > all[i]!.score || (all[i - 1]!.score === all[i]!.score && all[i - 1]!.index < all[i]!.index), `${q}: sorted at ${i}`);
    }
    t.same(idx.nearestK(q, 1)[0], idx.nearest(q), `${q}: k = 1 is nearest`);
    t.same(idx.nearestK(q, 5), all.slice(0, 5), `${q}: top 5 is a prefix of the full ranking`);
    const ex = all[0]!.index;
    t.same(idx.nearestK(q, 5, ex), all.filter((n) => n.index !== ex).slice(0, 5), `${q}: exclusion`);
  }
  t.same(idx.nearestK('open the file', 0), [], 'k = 0');
  // only rows sharing a weighted bigram come back
  t.same(RetrievalIndex.build(ROWS).nearestK('readi', 10).map((n) => n.index), [2]);
  t.same(RetrievalIndex.build(ROWS).nearestK('zzzz', 3), []);
  t.end();
});
