/** Pure parsers of src/train/dataset-formats.ts. */
import t from 'tap';
import { decodeDatasetText, parseDataset, parseDelimited, parseJsonl, parseTextLines } from '../../src/train/dataset-formats.ts';

t.test('decodeDatasetText', async (t) => {
  t.equal(decodeDatasetText(Buffer.from('\ufeffhi\n')), 'hi\n', 'BOM dropped');
  t.equal(decodeDatasetText(Buffer.from('tab\there\fform\r\n')), 'tab\there\fform\r\n', 'tab, form feed, CRLF allowed');
  t.throws(() => decodeDatasetText(Buffer.from([0xc3, 0x28])), { code: 'invalid_dataset', message: /UTF-8/ });
  t.throws(() => decodeDatasetText(Buffer.from('line1\nli\0ne2')), { code: 'invalid_dataset', message: /NUL.*line 2/ });
  // 1 control char in 100 is at the limit (allowed); 2 in 100 is over
  t.equal(decodeDatasetText(Buffer.from('\x1b' + 'a'.repeat(99))).length, 100);
  t.throws(() => decodeDatasetText(Buffer.from('\x1b\x1b' + 'a'.repeat(98))), { code: 'invalid_dataset', message: /control/ });
  t.throws(() => decodeDatasetText(Buffer.from('\n\n  ')), { code: 'invalid_dataset', message: /empty/ });
});

t.test('text lines', async (t) => {
  t.same(parseTextLines('a\r\n\n  \nb c\n').records, [{ text: 'a' }, { text: 'b c' }]);
  t.same(parseTextLines('no newline').records, [{ text: 'no newline' }]);
});

t.test('JSONL', async (t) => {
  t.same(parseJsonl('{"text":"x","n":1.5,"ok":true,"o":{"a":1}}\n', ['text']).records, [{ text: 'x', n: '1.5', ok: 'true', o: '{"a":1}' }], 'arrays and objects keep their JSON text (a chat row\'s messages)');
  t.throws(() => parseJsonl('{"text":"x"}\n\n"str"\n', ['text']), { message: /line 3 must be a JSON object, got string/ });
  t.throws(() => parseJsonl('{"text":"x"}\nnull\n'), { message: /line 2.*got null/ });
  t.throws(() => parseJsonl('{"a":1}\n', ['text']), { message: /line 1 is missing.*"text"/ });
  t.throws(() => parseJsonl('\n\n'), { message: /no records/ });
  t.same(parseJsonl('{"a":"1"}\r\n{"a":"2"}').records, [{ a: '1' }, { a: '2' }], 'CRLF and no final newline');
});

t.test('CSV (RFC 4180)', async (t) => {
  const r = parseDelimited('name , text\n"a,b","multi\r\nline"\n"",""""\nx,"y"\n', 'csv');
  t.same(r.columns, ['name', 'text'], 'header names trimmed');
  t.same(r.records, [
    { name: 'a,b', text: 'multi\r\nline' },
    { name: '', text: '"' },
    { name: 'x', text: 'y' },
  ]);
  t.same(parseDelimited('a,b\n1,\n,2', 'csv').records, [{ a: '1', b: '' }, { a: '', b: '2' }], 'empty fields, no final newline');
  t.same(parseDelimited('a,b\n\n1,2\n\n', 'csv').records, [{ a: '1', b: '2' }], 'blank lines skipped');
  t.same(parseDelimited('a\n5" screen\n', 'csv').records, [{ a: '5" screen' }], 'quote inside unquoted field is literal');
  t.same(parseDelimited('a,b\r1,2\r', 'csv').records, [{ a: '1', b: '2' }], 'CR-only line endings');
  t.throws(() => parseDelimited('a,b\n"open,2\n', 'csv'), { code: 'invalid_dataset', message: /line 2: quoted field is never closed/ });
  t.throws(() => parseDelimited('a,b\n"x"y,2\n', 'csv'), { message: /line 2: unexpected character "y" after a closing quote/ });
  t.throws(() => parseDelimited('a,,c\n1,2,3\n', 'csv'), { message: /column 2 has no name/ });
  t.throws(() => parseDelimited('a,a\n1,2\n', 'csv'), { message: /"a" appears twice/ });
  t.throws(() => parseDelimited('a,b\n', 'csv'), { message: /no data rows/ });
  t.throws(() => parseDelimited('a,b\n"q\nq",2\n1,2,3\n', 'csv'), { message: /line 4: expected 2 fields/, }, 'line numbers count newlines inside quotes');
  t.throws(() => parseDelimited('a,b\n1,2\n', 'csv', ['text']), { message: /missing the required column "text" \(columns: a, b\)/ });
});

t.test('TSV', async (t) => {
  const r = parseDelimited('text\tlabel\r\n"q" a\tb\r\n\r\nc,d\te\r\n', 'tsv');
  t.same(r.records, [{ text: '"q" a', label: 'b' }, { text: 'c,d', label: 'e' }]);
  t.throws(() => parseDelimited('a\tb\n1\t2\t3\n', 'tsv'), { message: /TSV line 2: expected 2 fields.*got 3/ });
});

t.test('parseDataset dispatch', async (t) => {
  t.equal(parseDataset('x\ny\n', 'text').records.length, 2);
  t.equal(parseDataset('{"text":"x"}\n', 'jsonl', ['text']).records.length, 1);
  t.equal(parseDataset('text\nx\n', 'csv', ['text']).records.length, 1);
  t.throws(() => parseDataset('x', 'xml' as never), { code: 'invalid_parameter' });
});
