// Dataset rows → task examples (roles, renamed columns, errors naming the column and row) and the
// Seq2Seq batching helpers (QA separator, truncation, teacher-forcing layout, seeded splits/epochs).
import t, { type Test } from 'tap';
import { ServiceError } from '../../src/errors.ts';
import { labelSet, labeledExamples, pairExamples, resolveColumns, type PairExample } from '../../src/tasks/task-data.ts';
import { SEP_ID, encodeSourceIds, encodeTargetIds, inBatches, makePairBatch, padRows } from '../../src/tasks/pair-encoding.ts';
import { bucketedEpoch, splitExamples } from '../../src/train/epoch-order.ts';
import { BOS_ID, EOS_ID, PAD_ID, UNK_ID, fitTokenizer } from '../../src/tokenize/index.ts';

/** Asserts that fn throws a ServiceError with `code` whose message matches `message`. */
function throwsService(t: Test, fn: () => unknown, code: string, message: RegExp | string, name?: string): void {
  try {
    fn();
    t.fail(`${name ?? message}: expected a throw`);
  } catch (err) {
    t.ok(err instanceof ServiceError, `${name ?? message}: a ServiceError`);
    const e = err as ServiceError;
    t.equal(e.code, code, `${name ?? message}: code ${code}`);
    if (typeof message === 'string') t.equal(e.message, message);
    else t.match(e.message, message);
    t.equal(e.status, 400);
  }
}

// ---------------------------------------------------------------------------------------------
// task-data

t.test('resolveColumns: defaults, renames, and keys that do not belong to the task', async (t) => {
  t.same(resolveColumns('translate'), { source: 'source', target: 'target', group: 'group' });
  t.same(resolveColumns('qa', { context: 'passage' }), { question: 'question', answer: 'answer', context: 'passage', group: 'group' });
  t.same(resolveColumns('classify', { text: 'sentence', group: 'doc' }), { text: 'sentence', label: 'label', group: 'doc' });
  t.same(resolveColumns('generate'), { text: 'text' });
  throwsService(t, () => resolveColumns('translate', { question: 'q' }), 'invalid_parameter',
    'columns.question does not apply to task translate; its columns are source, target, group');
  throwsService(t, () => resolveColumns('classify', { source: 'x' }), 'invalid_parameter', /columns\.source does not apply to task classify; its columns are text, label, group/);
  throwsService(t, () => resolveColumns('generate', { group: 'g' }), 'invalid_parameter', 'columns.group does not apply to task generate; its columns are text');
  throwsService(t, () => pairExamples('summarize', [{ source: 'a', target: 'b' }], { label: 'y' }), 'invalid_parameter',
    /columns\.label does not apply to task summarize/, 'pairExamples with a wrong columns key');
  throwsService(t, () => labeledExamples([{ text: 'a', label: 'x' }, { text: 'b', label: 'y' }], { answer: 'y' }), 'invalid_parameter',
    /columns\.answer does not apply to task classify; its columns are text, label, group/, 'labeledExamples with a wrong columns key');
});

t.test('pairExamples: rows, renamed columns and QA rows without context', async (t) => {
  t.same(pairExamples('translate', [{ source: 'hello', target: 'bonjour', extra: 'x' }]), [{ source: 'hello', target: 'bonjour' }]);
  t.same(pairExamples('translate', [{ en: 'hi', fr: 'salut' }, { en: 'cat', fr: 'chat' }], { source: 'en', target: 'fr' }), [
    { source: 'hi', target: 'salut' },
    { source: 'cat', target: 'chat' },
  ]);
  t.same(pairExamples('summarize', [{ article: 'long text', summary: 'short' }], { source: 'article', target: 'summary' }), [{ source: 'long text', target: 'short' }]);

  const qa = pairExamples('qa', [
    { question: 'q1?', context: 'passage one', answer: 'a1' },
    { question: 'q2?', answer: 'a2' },
    { question: 'q3?', context: '   ', answer: 'a3' },
  ]);
  t.same(qa[0], { source: 'q1?', context: 'passage one', target: 'a1' });
  t.same(qa[1], { source: 'q2?', target: 'a2' });
  t.notOk('context' in qa[1]!, 'a row without a context column has no `context` key');
  t.notOk('context' in qa[2]!, 'a row with a blank context has no `context` key');
  t.same(pairExamples('qa', [{ q: 'who?', p: 'Ann did.', a: 'Ann' }], { question: 'q', context: 'p', answer: 'a' }), [{ source: 'who?', context: 'Ann did.', target: 'Ann' }]);
  t.same(pairExamples('qa', [{ question: 'closed?', answer: 'book' }]), [{ source: 'closed?', target: 'book' }], 'a dataset with no context column at all is closed-book QA');
  // Optional group: read from "group" by default or a renamed column; a blank group is no group.
  const grouped = pairExamples('translate', [{ source: 'a', target: 'b', doc: 'd1' }, { source: 'c', target: 'd', doc: '' }], { group: 'doc' });
  t.same(grouped, [{ source: 'a', target: 'b', group: 'd1' }, { source: 'c', target: 'd' }]);
  t.notOk('group' in grouped[1]!, 'a blank group leaves no `group` key');
  t.same(pairExamples('qa', [{ question: 'q', answer: 'a', group: 'g1' }]), [{ source: 'q', target: 'a', group: 'g1' }]);
});

t.test('pairExamples errors name the column, the columns present and the row', async (t) => {
  throwsService(t, () => pairExamples('translate', []), 'invalid_dataset', 'the dataset has no rows');
  throwsService(t, () => pairExamples('translate', [{ src: 'a', target: 'b' }]), 'invalid_dataset',
    'the dataset has no column "source" required by task translate; its columns are src, target');
  throwsService(t, () => pairExamples('translate', [{ src: 'a', tgt: 'b' }], { source: 'en', target: 'tgt' }), 'invalid_dataset',
    'the dataset has no column "en" (columns.source) required by task translate; its columns are src, tgt');
  // Columns are collected over every JSONL row: a column present in any row counts.
  throwsService(t, () => pairExamples('summarize', [{ source: 'a', target: 'b' }, { source: 'c' }]), 'invalid_dataset',
    'row 2: column "target" (target) is missing');
  throwsService(t, () => pairExamples('summarize', [{ source: 'a', target: 'b' }, { source: 'c', target: 'd' }, { source: ' \t', target: 'e' }]), 'invalid_dataset',
    'row 3: column "source" (source) is empty');
  throwsService(t, () => pairExamples('translate', [{ en: 'a', fr: '' }], { source: 'en', target: 'fr' }), 'invalid_dataset',
    'row 1: column "fr" (target) is empty');
  throwsService(t, () => pairExamples('qa', [{ question: 'q', answer: 'a' }, { question: '', answer: 'b' }]), 'invalid_dataset',
    'row 2: column "question" (question) is empty');
  throwsService(t, () => pairExamples('qa', [{ question: 'q', context: 'c' }]), 'invalid_dataset',
    'the dataset has no column "answer" required by task qa; its columns are question, context');
  throwsService(t, () => pairExamples('qa', [{ question: 'q', answer: 'a' }], { context: 'passage' }), 'invalid_dataset',
    'the dataset has no column "passage" (columns.context); its columns are question, answer');
  throwsService(t, () => pairExamples('translate', [{}]), 'invalid_dataset', /no column "source" .*its columns are \(none\)/);
  throwsService(t, () => pairExamples('translate', [{ source: 'a', target: 'b' }], { group: 'doc' }), 'invalid_dataset',
    'the dataset has no column "doc" (columns.group); its columns are source, target');
});

t.test('labeledExamples: labels, renames and errors', async (t) => {
  const ex = labeledExamples([{ text: 'good', label: ' pos ' }, { text: 'bad', label: 'neg' }, { text: 'fine', label: 'pos' }]);
  t.same(ex, [{ text: 'good', label: 'pos' }, { text: 'bad', label: 'neg' }, { text: 'fine', label: 'pos' }], 'labels are trimmed');
  t.same(labelSet(ex), ['neg', 'pos'], 'label set is sorted');
  t.same(labeledExamples([{ sentence: 'a', y: '1' }, { sentence: 'b', y: '0' }], { text: 'sentence', label: 'y' }), [{ text: 'a', label: '1' }, { text: 'b', label: '0' }]);
  t.same(labeledExamples([{ text: 'a', label: '1', group: 'g' }, { text: 'b', label: '0' }]), [{ text: 'a', label: '1', group: 'g' }, { text: 'b', label: '0' }], 'optional group');

  throwsService(t, () => labeledExamples([]), 'invalid_dataset', 'the dataset has no rows');
  throwsService(t, () => labeledExamples([{ text: 'a', label: 'x' }, { text: 'b', label: ' x' }]), 'invalid_dataset',
    'a classifier needs at least 2 distinct labels; column "label" has only "x"');
  throwsService(t, () => labeledExamples([{ s: 'a', y: 'x' }, { s: 'b', y: 'x' }], { text: 's', label: 'y' }), 'invalid_dataset',
    /column "y" has only "x"/, 'single label under a renamed column');
  t.same(labeledExamples([{ text: 'a', label: 'x' }], undefined, 1), [{ text: 'a', label: 'x' }], 'minLabels 1 (evaluation) accepts one label');
  throwsService(t, () => labeledExamples([{ text: 'a', category: 'x' }]), 'invalid_dataset',
    'the dataset has no column "label" required by task classify; its columns are text, category');
  throwsService(t, () => labeledExamples([{ text: 'a', label: 'x' }, { text: 'b', label: '' }]), 'invalid_dataset',
    'row 2: column "label" (label) is empty');
  throwsService(t, () => labeledExamples([{ text: 'a', label: 'x' }, { label: 'y' }]), 'invalid_dataset',
    'row 2: column "text" (text) is missing');
});

// ---------------------------------------------------------------------------------------------
// pair-encoding (tasks/) and epoch-order (train/)

t.test('encodeSourceIds: QA separator, truncation count, empty input', async (t) => {
  const tok = fitTokenizer('char', ['abcdefgh'], { maxVocab: 50 });
  const [a, b, c, d, e] = tok.encode('abcde');
  t.equal(SEP_ID, EOS_ID, '⟨sep⟩ is the <eos> id');
  t.same(encodeSourceIds(tok, { source: 'abc' }, 10), { ids: [a, b, c], truncated: 0 });
  t.same(encodeSourceIds(tok, { source: 'ab', context: 'cde' }, 10), { ids: [a, b, SEP_ID, c, d, e], truncated: 0 }, 'question ⟨sep⟩ context');
  t.same(encodeSourceIds(tok, { source: 'ab', context: 'cde' }, 6), { ids: [a, b, SEP_ID, c, d, e], truncated: 0 }, 'exactly fits');
  t.same(encodeSourceIds(tok, { source: 'ab', context: 'cde' }, 4), { ids: [a, b, SEP_ID, c], truncated: 2 }, 'the passage loses its tail');
  t.same(encodeSourceIds(tok, { source: 'abcde' }, 3), { ids: [a, b, c], truncated: 2 });
  t.same(encodeSourceIds(tok, { source: 'ab', context: '' }, 10), { ids: [a, b, SEP_ID], truncated: 0 }, 'an empty context still gets its ⟨sep⟩');
  t.same(encodeSourceIds(tok, { source: '' }, 10), { ids: [SEP_ID], truncated: 0 }, 'an empty source gets one position');
  t.same(encodeSourceIds(tok, { source: 'xyz' }, 10), { ids: [UNK_ID, UNK_ID, UNK_ID], truncated: 0 }, 'unknown pieces are <unk>');
  t.same(encodeTargetIds(tok, 'abcde', 4), [a, b, c], 'targets keep maxTarget − 1 ids (room for <eos>)');
  t.same(encodeTargetIds(tok, 'ab', 4), [a, b]);
  t.same(encodeTargetIds(tok, 'ab', 0), []);
});

t.test('makePairBatch: teacher-forcing layout with <bos>, <eos> and <pad>', async (t) => {
  const batch = makePairBatch([
    { src: [5, 6, 7], tgt: [8, 9] },
    { src: [5], tgt: [8, 9, 10] },
    { src: [11, 12], tgt: [] },
  ]);
  t.equal(batch.rows, 3);
  t.equal(batch.srcLen, 3);
  t.same([...batch.src], [5, 6, 7, 5, PAD_ID, PAD_ID, 11, 12, PAD_ID]);
  t.same([...batch.srcLengths], [3, 1, 2]);
  t.equal(batch.tgtLen, 4, 'longest target + 1');
  t.same([...batch.tgtIn], [BOS_ID, 8, 9, PAD_ID, BOS_ID, 8, 9, 10, BOS_ID, PAD_ID, PAD_ID, PAD_ID], 'tgtIn = <bos> y… <pad>…');
  t.same([...batch.tgtOut], [8, 9, EOS_ID, PAD_ID, 8, 9, 10, EOS_ID, EOS_ID, PAD_ID, PAD_ID, PAD_ID], 'tgtOut = y… <eos> <pad>…');
  t.equal(batch.targetTokens, 3 + 4 + 1, 'each target counts its ids and its <eos>');
  // tgtOut is tgtIn shifted left by one at every real position.
  for (let r = 0; r < 3; r++) {
    for (let j = 0; j + 1 < batch.tgtLen; j++) {
      const next = batch.tgtIn[r * 4 + j + 1]!;
      if (next !== PAD_ID) t.equal(batch.tgtOut[r * 4 + j], next);
    }
  }
  t.same(padRows([[1, 2, 3], [4]], 2), { ids: Int32Array.of(1, 2, 4, PAD_ID), lengths: Int32Array.of(2, 1), width: 2 }, 'padRows clips to a given width');
  t.same(padRows([[]]).width, 1, 'width is at least 1');
});

t.test('splitExamples: seeded, disjoint and complete', async (t) => {
  const items: PairExample[] = Array.from({ length: 50 }, (_, i) => ({ source: `ex${i}`, target: 'y' }));
  const a = splitExamples(items, 0.2, 7);
  const b = splitExamples(items, 0.2, 7);
  t.same(a, b, 'the same seed gives the same split');
  t.equal(a.val.length, 10);
  t.equal(a.train.length, 40);
  t.equal(new Set([...a.train, ...a.val]).size, 50, 'disjoint');
  t.same([...a.train, ...a.val].map((e) => e.source).sort(), items.map((e) => e.source).sort(), 'complete');
  const others = [1, 2, 3, 4].map((s) => JSON.stringify(splitExamples(items, 0.2, s).val));
  t.ok(others.some((o) => o !== JSON.stringify(a.val)), 'other seeds give other splits');
  t.not(JSON.stringify(a.val), JSON.stringify(items.slice(0, 10)), 'the split is shuffled');
  t.equal(splitExamples(items.slice(0, 10), 0.01, 1).val.length, 1, 'a positive share keeps at least one validation example');
  t.equal(splitExamples(items.slice(0, 10), 1, 1).train.length, 1, 'at least one training example remains');
  t.equal(splitExamples(items.slice(0, 10), 0, 1).val.length, 0, 'share 0: no validation');
});

t.test('splitExamples with groups: whole groups on one side, seeded, complete', async (t) => {
  const items = Array.from({ length: 60 }, (_, i) => ({ id: i, group: `doc${i % 12}` }));
  const a = splitExamples(items, 0.25, 3);
  t.same(a, splitExamples(items, 0.25, 3), 'the same seed gives the same split');
  t.same([...a.train, ...a.val].map((e) => e.id).sort((x, y) => x - y), items.map((e) => e.id), 'disjoint and complete');
  const valGroups = new Set(a.val.map((e) => e.group));
  t.notOk(a.train.some((e) => valGroups.has(e.group)), 'no group on both sides');
  t.ok(a.val.length >= 15 && a.val.length % 5 === 0, `whole groups held out until the share is reached (${a.val.length})`);
  t.ok(a.train.length > 0, 'training keeps at least one group');
  const one = splitExamples(items.map((e) => ({ ...e, group: 'all' })), 0.5, 1);
  t.equal(one.val.length, 0, 'a single group cannot be split: all of it trains');
  t.equal(splitExamples(items, 0, 3).val.length, 0, 'share 0: no validation');
});

t.test('bucketedEpoch: deterministic per (seed, epoch), every item exactly once, length-grouped', async (t) => {
  const items = Array.from({ length: 203 }, (_, i) => ({ id: i, len: 1 + ((i * 37) % 23) }));
  const len = (x: { len: number }) => x.len;
  const ids = (bs: { id: number }[][]) => bs.map((b) => b.map((x) => x.id));
  const e0 = bucketedEpoch(items, len, 8, 5, 0);
  t.same(ids(e0), ids(bucketedEpoch(items, len, 8, 5, 0)), 'same (seed, epoch) → same batches');
  t.not(JSON.stringify(ids(e0)), JSON.stringify(ids(bucketedEpoch(items, len, 8, 5, 1))), 'another epoch → another order');
  t.not(JSON.stringify(ids(e0)), JSON.stringify(ids(bucketedEpoch(items, len, 8, 6, 0))), 'another seed → another order');
  for (const [seed, epoch, bs] of [[5, 0, 8], [5, 3, 8], [9, 1, 3], [0, 0, 1000]] as const) {
    const batches = bucketedEpoch(items, len, bs, seed, epoch);
    const flat = batches.flat().map((x) => x.id);
    t.same([...flat].sort((x, y) => x - y), items.map((x) => x.id), `seed ${seed} epoch ${epoch} batch ${bs}: every item exactly once`);
    t.ok(batches.every((b) => b.length >= 1 && b.length <= bs), 'batch sizes within 1..batchSize');
    t.equal(batches.filter((b) => b.length < bs).length <= Math.ceil(items.length / (bs * 16)), true, 'only a window\'s last batch may be short');
  }
  // 203 items, batch 8 → windows of 128: inside a window, batches partition the length order.
  const spread = e0.map((b) => Math.max(...b.map(len)) - Math.min(...b.map(len)));
  t.ok(spread.reduce((a, v) => a + v, 0) / spread.length < 3, `rows of a batch have similar lengths (mean spread ${spread.reduce((a, v) => a + v, 0) / spread.length})`);
  const large = bucketedEpoch(items, len, 1000, 5, 0);
  t.equal(large.length, 1);
  t.same(large[0]!.map(len), [...items.map(len)].sort((x, y) => x - y), 'one window: sorted by length');
  t.same(bucketedEpoch([], len, 8, 1, 0), []);
  t.same(inBatches([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
});
