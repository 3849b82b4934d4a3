import t from 'tap';
import { ServiceError } from '../../src/errors.ts';
import {
  BOS_ID,
  EOS_ID,
  PAD_ID,
  SPECIAL_TOKENS,
  UNK_ID,
  fitTokenizer,
  loadTokenizer,
  type PieceTokenizerJSON,
  type Tokenizer,
} from '../../src/tokenize/index.ts';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const MIXED = 'héllo wörld 你好 👋🏽 café';
/** The char/word file of a char or word tokenizer. */
const fileOf = (tok: Tokenizer): PieceTokenizerJSON => tok.toJSON() as PieceTokenizerJSON;

t.test('special token ids are fixed', async (t) => {
  t.same(SPECIAL_TOKENS, ['<pad>', '<bos>', '<eos>', '<unk>']);
  t.same([PAD_ID, BOS_ID, EOS_ID, UNK_ID], [0, 1, 2, 3]);
  const tok = fitTokenizer('char', ['ab'], { maxVocab: 100 });
  t.same(fileOf(tok).vocab.slice(0, 4), SPECIAL_TOKENS);
  t.equal(tok.vocabSize, 6);
  for (let id = 0; id < 4; id++) t.equal(tok.tokenText(id), '', `special ${id} has no text`);
  t.equal(tok.decode([BOS_ID, ...tok.encode('ab'), EOS_ID, PAD_ID]), 'ab', 'decode skips specials');
  t.throws(() => tok.tokenText(6), RangeError);
});

t.test('char tokenizer: code points, exact round trip on mixed scripts and emoji', async (t) => {
  const tok = fitTokenizer('char', [MIXED], { maxVocab: 1000 });
  t.equal(tok.type, 'char');
  const ids = tok.encode(MIXED);
  t.equal(ids.length, Array.from(MIXED).length, 'one token per code point');
  t.notOk(ids.includes(UNK_ID));
  t.equal(tok.decode(ids), MIXED);
  for (const ch of ['é', 'ö', '你', '好', '👋', '🏽']) {
    const one = tok.encode(ch);
    t.equal(one.length, 1, `${ch} is a single token`);
    t.equal(tok.tokenText(one[0]), ch);
  }
  for (const entry of fileOf(tok).vocab) {
    t.notOk(LONE_SURROGATE.test(entry), `vocab entry ${JSON.stringify(entry)} is well-formed`);
    t.equal(Array.from(entry).length, entry.startsWith('<') && entry.length > 1 ? entry.length : 1);
  }
  const zwj = '👩‍👩‍👧 e\u0301';
  const z = fitTokenizer('char', [zwj], { maxVocab: 100 });
  t.equal(z.decode(z.encode(zwj)), zwj, 'ZWJ sequences and combining marks round-trip');
  for (const id of z.encode(zwj)) t.notOk(LONE_SURROGATE.test(z.tokenText(id)));
});

t.test('char tokenizer never admits lone surrogates into the vocab', async (t) => {
  const tok = fitTokenizer('char', ['a\uD83Db', 'a\uDC4B'], { maxVocab: 100 });
  t.same(fileOf(tok).vocab.slice(4).sort(), ['a', 'b']);
  t.same(tok.encode('a\uD83D'), [tok.encode('a')[0], UNK_ID]);
});

t.test('word tokenizer: CJK words, whitespace attached to the next word, exact round trip', async (t) => {
  const zh = '我们今天去北京';
  const tok = fitTokenizer('word', [zh, 'Hello, world! 你好世界'], { maxVocab: 1000 });
  t.equal(tok.type, 'word');
  const pieces = tok.encode(zh).map((id) => tok.tokenText(id));
  t.equal(pieces.join(''), zh);
  t.ok(pieces.length > 1 && pieces.length < Array.from(zh).length, `segmented into words: ${pieces.join('|')}`);
  t.ok(pieces.some((p) => Array.from(p).length > 1), 'has multi-character words');
  t.ok(pieces.includes('北京'), 'Beijing is one word');

  const mixed = 'Hello, world! 你好世界';
  const ids = tok.encode(mixed);
  t.notOk(ids.includes(UNK_ID));
  t.equal(tok.decode(ids), mixed);
  const parts = ids.map((id) => tok.tokenText(id));
  t.same(parts, ['Hello', ',', ' world', '!', ' 你好', '世界']);
  t.notOk(fileOf(tok).vocab.some((p) => /^\s+$/u.test(p)), 'no bare-whitespace token when no text ends in whitespace');

  t.equal(tok.decode(tok.encode('Hello  Mars')), 'Hello', 'unknown pieces map to <unk> (decoded as "")');
  t.ok(tok.encode('Mars').every((id) => id === UNK_ID));
  t.same(tok.encode('<eos>').includes(EOS_ID), false, 'special strings in text are not special ids');
});

t.test('vocabulary cap keeps the most frequent pieces', async (t) => {
  const text = 'aaaaa bbbb ccc dd e';
  const tok = fitTokenizer('char', [text], { maxVocab: 7 });
  t.equal(tok.vocabSize, 7);
  // counts: a5 ' '4 b4 c3 d2 e1 → keep a, then ' ' and b (tie broken by code-unit order)
  t.same(fileOf(tok).vocab.slice(4), ['a', ' ', 'b']);
  t.same(tok.encode('abcde').map((id) => tok.tokenText(id) || id), ['a', 'b', UNK_ID, UNK_ID, UNK_ID]);

  const words = fitTokenizer('word', ['the cat the dog the cat'], { maxVocab: 6 });
  t.same(fileOf(words).vocab.slice(4), [' cat', ' the']);
  t.same(words.encode('the cat the'), [UNK_ID, 4, 5]);

  for (const bad of [4, 0, -1, 5.5, Number.NaN]) {
    t.throws(
      () => fitTokenizer('char', [text], { maxVocab: bad }),
      { name: 'ServiceError', code: 'invalid_parameter', message: /tokenizer\.max_vocab.*≥ 5/ },
      `maxVocab ${bad} is rejected`,
    );
  }
  t.equal(fitTokenizer('char', [text], { maxVocab: 5 }).vocabSize, 5);
  t.throws(() => fitTokenizer('bpe', [text], { maxVocab: 10 }), { name: 'ServiceError', message: /tokenizer\.vocab_size.*300/ });
  t.throws(() => fitTokenizer('sentencepiece' as never, [text], { maxVocab: 10 }), ServiceError);
});

t.test('fitting is reproducible and independent of text order', async (t) => {
  const texts = ['zyx wvu', 'abc abc', 'zz yy xx 你好', '😀😀 x'];
  for (const type of ['char', 'word'] as const) {
    const a = fitTokenizer(type, texts, { maxVocab: 9 }).toJSON();
    const b = fitTokenizer(type, texts, { maxVocab: 9 }).toJSON();
    const c = fitTokenizer(type, [...texts].reverse(), { maxVocab: 9 }).toJSON();
    t.same(a, b, `${type}: same texts, same vocab`);
    t.same(a, c, `${type}: reversed texts, same vocab`);
  }
  // generators work as well as arrays (single pass)
  function* gen(): Generator<string> {
    yield* texts;
  }
  t.same(fitTokenizer('char', gen(), { maxVocab: 50 }).toJSON(), fitTokenizer('char', texts, { maxVocab: 50 }).toJSON());
});

t.test('toJSON / loadTokenizer round trip', async (t) => {
  const corpus = [MIXED, 'Hello, world! 你好世界', '我们今天去北京'];
  for (const type of ['char', 'word'] as const) {
    const tok = fitTokenizer(type, corpus, { maxVocab: 30 });
    const json = JSON.parse(JSON.stringify(tok.toJSON())) as PieceTokenizerJSON;
    t.equal(json.type, type);
    t.equal(json.version, type === 'word' ? 2 : 1);
    const loaded = loadTokenizer(json);
    t.equal(loaded.type, type);
    t.equal(loaded.vocabSize, tok.vocabSize);
    for (const text of [...corpus, 'unseen ☃ text']) {
      t.same(loaded.encode(text), tok.encode(text), `${type}: identical encoding of ${text}`);
    }
    t.same(loaded.toJSON(), tok.toJSON());
  }
});

t.test('loadTokenizer rejects malformed files', async (t) => {
  const good = fitTokenizer('char', ['abc'], { maxVocab: 10 }).toJSON() as PieceTokenizerJSON;
  const bad: Array<[string, unknown]> = [
    ['null', null],
    ['string', 'char'],
    ['array', ['<pad>']],
    ['no version', { type: 'char', vocab: good.vocab }],
    ['version 2', { ...good, version: 2 }],
    ['unknown type', { ...good, type: 'bpe' }],
    ['word version 3', { ...good, type: 'word', version: 3 }],
    ['Hugging Face model other than BPE', { version: '1.0', model: { type: 'WordPiece', vocab: {} } }],
    ['vocab not an array', { ...good, vocab: 'abc' }],
    ['too short', { ...good, vocab: ['<pad>', '<bos>', '<eos>', '<unk>'] }],
    ['specials missing', { ...good, vocab: ['a', 'b', 'c', 'd', 'e'] }],
    ['specials reordered', { ...good, vocab: ['<bos>', '<pad>', '<eos>', '<unk>', 'a'] }],
    ['special repeated later', { ...good, vocab: [...good.vocab, '<unk>'] }],
    ['non-string entry', { ...good, vocab: [...good.vocab, 7] }],
    ['empty entry', { ...good, vocab: [...good.vocab, ''] }],
    ['duplicate entry', { ...good, vocab: [...good.vocab, 'a'] }],
    ['lone surrogate', { ...good, vocab: [...good.vocab, '\uD83D'] }],
    ['multi-code-point char entry', { ...good, vocab: [...good.vocab, 'xy'] }],
  ];
  for (const [name, json] of bad) t.throws(() => loadTokenizer(json), Error, name);
  t.doesNotThrow(() => loadTokenizer({ ...good, type: 'word', vocab: [...good.vocab, 'xy'] }), 'word entries may be long');
});

t.test('word tokenizer: version 1 files keep their whitespace tokens; a model of version 2 cannot emit bare spaces', async (t) => {
  const v1: PieceTokenizerJSON = { type: 'word', version: 1, vocab: ['<pad>', '<bos>', '<eos>', '<unk>', ' ', 'the', 'cat'] };
  const old = loadTokenizer(v1);
  t.same(old.encode('the cat'), [5, 4, 6], 'version 1 splits the space into its own token');
  t.equal(old.decode(old.encode('the cat')), 'the cat');
  t.same(old.toJSON(), v1, 'and saves back as version 1');

  const fresh = fitTokenizer('word', ['the cat sat', 'a cat  ran\n\nThe end. '], { maxVocab: 100 });
  const pieces = fileOf(fresh).vocab.slice(4);
  t.same(pieces.filter((p) => /^\s+$/u.test(p)), [' '], 'the only bare-whitespace piece is trailing whitespace');
  t.ok(pieces.includes('  ran') && pieces.includes('\n\nThe'), 'whitespace runs and newlines attach to the next word');
  for (const text of ['the cat sat', 'a cat  ran\n\nThe end. ']) t.equal(fresh.decode(fresh.encode(text)), text);
});
