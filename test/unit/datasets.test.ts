/** DatasetStore (src/train/datasets.ts) against real files in t.testdir(). */
import t, { type Test } from 'tap';
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { ServiceError } from '../../src/errors.ts';
import { DatasetStore } from '../../src/train/datasets.ts';

async function rejectsCode(t: Test, p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  try {
    await p;
    t.fail(`expected ${code}, resolved`);
  } catch (err) {
    t.ok(err instanceof ServiceError, 'is a ServiceError');
    t.equal((err as ServiceError).code, code, `code ${code}`);
    if (message) t.match((err as Error).message, message);
  }
}

t.test('text put: id, sha256, bytes, examples; idempotent; stored atomically', async (t) => {
  const dir = t.testdir();
  const store = new DatasetStore(dir, { maxBytes: 1024 });
  const body = Buffer.from('hello world\n\nsecond line\r\nthird 世界\n');
  const sha = createHash('sha256').update(body).digest('hex');
  const info = await store.put(body, 'text', { name: 'greetings' });
  t.equal(info.sha256, sha);
  t.equal(info.id, 'ds_' + sha.slice(0, 24));
  t.match(info.id, /^ds_[0-9a-f]{24}$/);
  t.equal(info.bytes, body.length);
  t.equal(info.examples, 3);
  t.same(info.columns, ['text'], 'a text dataset has one field, text');
  t.equal(info.format, 'text');
  t.equal(info.name, 'greetings');
  t.ok(!Number.isNaN(Date.parse(info.created_at)));

  const again = await store.put(Buffer.from(body), 'text');
  t.same(again, info, 'same content returns the stored dataset');
  t.same(await fsp.readdir(path.join(dir, 'datasets')), [info.id], 'one dir, no temp dirs');
  t.same((await fsp.readdir(path.join(dir, 'datasets', info.id))).sort(), ['data.txt', 'info.json']);
  t.same(await fsp.readFile(path.join(dir, 'datasets', info.id, 'data.txt')), body, 'raw bytes kept');

  t.same(await store.get(info.id), info);
  t.same(await store.list(), [info]);
  t.equal(await store.readText(info.id), body.toString('utf8'));
  t.same(await store.readRecords(info.id), [{ text: 'hello world' }, { text: 'second line' }, { text: 'third 世界' }]);

  const [a, b] = await Promise.all([store.put(Buffer.from('race\n'), 'text'), store.put(Buffer.from('race\n'), 'text')]);
  t.equal(a.id, b.id, 'concurrent identical puts agree');
  t.equal((await store.list()).length, 2);
  await rejectsCode(t, store.put(body, 'csv'), 'invalid_dataset', /already stored.*format text/);
});

t.test('rejections', async (t) => {
  const dir = t.testdir();
  const store = new DatasetStore(dir, { maxBytes: 64 });
  await rejectsCode(t, store.put(Buffer.alloc(0), 'text'), 'invalid_dataset', /empty/);
  await rejectsCode(t, store.put(Buffer.from(' \n\t\r\n '), 'text'), 'invalid_dataset', /empty/);
  await rejectsCode(t, store.put(Buffer.alloc(65, 'a'), 'text'), 'payload_too_large', /65 bytes.*limit is 64 bytes/);
  t.ok(await store.put(Buffer.alloc(64, 'a'), 'text'), 'exactly maxBytes is accepted');
  await rejectsCode(t, store.put(Buffer.from([0xff, 0xfe, 0x41]), 'text'), 'invalid_dataset', /UTF-8/);
  await rejectsCode(t, store.put(Buffer.from('abc\0def\n'), 'text'), 'invalid_dataset', /NUL/);
  await rejectsCode(t, store.put(Buffer.from('ab\x01\x02cdefgh\n'), 'text'), 'invalid_dataset', /control characters/);
  await rejectsCode(t, store.put(Buffer.from('x'), 'xml' as never), 'invalid_parameter', /format/);
  t.equal((await store.list()).length, 1, 'rejected bodies left nothing behind');
  t.same((await fsp.readdir(path.join(dir, 'datasets'))).length, 1);
});

t.test('JSONL validation', async (t) => {
  const store = new DatasetStore(t.testdir(), { maxBytes: 4096 });
  const bad = '{"text":"a"}\n{"text":"b"}\n{"text": oops}\n';
  await rejectsCode(t, store.put(Buffer.from(bad), 'jsonl'), 'invalid_dataset', /line 3/);
  await rejectsCode(t, store.put(Buffer.from('{"text":"a"}\n{"body":"b"}\n'), 'jsonl'), 'invalid_dataset', /line 2.*"text"/);
  await rejectsCode(t, store.put(Buffer.from('{"text":"a"}\n[1,2]\n'), 'jsonl'), 'invalid_dataset', /line 2.*object/);
  await rejectsCode(t, store.put(Buffer.from('{"text":5}\n'), 'jsonl'), 'invalid_dataset', /"text" must be a string/);
  await rejectsCode(
    t,
    store.put(Buffer.from('{"question":"q","answer":"a"}\n'), 'jsonl', { requiredFields: ['question', 'context'] }),
    'invalid_dataset',
    /line 1.*"context"/,
  );

  const ok = await store.put(Buffer.from('{"text":"one","label":3}\n\n{"text":"two","x":null}\n'), 'jsonl', { name: 'j' });
  t.equal(ok.examples, 2);
  t.same(ok.columns, ['text', 'label'], 'JSONL columns: every key seen, first-seen order (null fields dropped)');
  t.same(await store.readRecords(ok.id), [{ text: 'one', label: '3' }, { text: 'two' }]);
  t.equal(await store.readText(ok.id), 'one\ntwo');

  const qa = await store.put(Buffer.from('{"question":"q","answer":"a"}\n'), 'jsonl', { requiredFields: ['question', 'answer'] });
  t.same(await store.readRecords(qa.id), [{ question: 'q', answer: 'a' }]);
  await rejectsCode(t, store.readText(qa.id), 'invalid_dataset', /"text"/);
});

t.test('CSV with quotes and newlines in fields; TSV', async (t) => {
  const store = new DatasetStore(t.testdir(), { maxBytes: 4096 });
  const csv = 'text,label\r\n"hello, world",greet\r\n"she said ""hi""\nand left",story\r\nplain,x\r\n';
  const info = await store.put(Buffer.from(csv), 'csv', { requiredFields: ['text', 'label'] });
  t.equal(info.examples, 3);
  t.same(info.columns, ['text', 'label'], 'CSV columns: the header');
  t.equal(info.format, 'csv');
  t.same(await store.readRecords(info.id), [
    { text: 'hello, world', label: 'greet' },
    { text: 'she said "hi"\nand left', label: 'story' },
    { text: 'plain', label: 'x' },
  ]);
  t.equal(await store.readText(info.id), 'hello, world\nshe said "hi"\nand left\nplain');
  await rejectsCode(t, store.put(Buffer.from('a,b\n1,2\n3\n'), 'csv'), 'invalid_dataset', /line 3.*2 fields.*got 1/);
  await rejectsCode(t, store.put(Buffer.from('a,b\n1,2\n'), 'csv', { requiredFields: ['text'] }), 'invalid_dataset', /"text"/);

  const tsv = await store.put(Buffer.from('text\tlabel\nsome "quoted" text\tpos\n'), 'tsv');
  t.same(await store.readRecords(tsv.id), [{ text: 'some "quoted" text', label: 'pos' }]);
});

t.test('get / delete / ids', async (t) => {
  const store = new DatasetStore(t.testdir(), { maxBytes: 1024 });
  const info = await store.put(Buffer.from('to be deleted\n'), 'text');
  await store.delete(info.id);
  await rejectsCode(t, store.get(info.id), 'dataset_not_found', new RegExp(info.id));
  await rejectsCode(t, store.delete(info.id), 'dataset_not_found');
  await rejectsCode(t, store.readText(info.id), 'dataset_not_found');
  t.same(await store.list(), []);
  for (const bad of ['nope', 'ds_123', '../etc', 'ds_' + 'A'.repeat(24), 'ds_' + '0'.repeat(24) + '/..']) {
    await rejectsCode(t, store.get(bad), 'invalid_parameter', /id must match/);
    await rejectsCode(t, store.delete(bad), 'invalid_parameter');
  }
  // re-upload after delete works and gets the same id
  t.equal((await store.put(Buffer.from('to be deleted\n'), 'text')).id, info.id);
});

t.test('list skips broken entries', async (t) => {
  const id = 'ds_' + 'a'.repeat(24);
  const dir = t.testdir({ datasets: { [id]: { 'info.json': '{broken' }, '.tmp-x': {}, junk: {} } });
  const store = new DatasetStore(dir, { maxBytes: 1024 });
  const good = await store.put(Buffer.from('fine\n'), 'text');
  t.same((await store.list()).map((d) => d.id), [good.id]);
});
