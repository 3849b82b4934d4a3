import { readFileSync } from 'node:fs';
import t from 'tap';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { BOS_ID, EOS_ID, PAD_ID, UNK_ID, BpeTokenizer, fitTokenizer, loadTokenizer, type HfBpeTokenizerJSON } from '../../src/tokenize/index.ts';
import { trainBpe } from '../../src/tokenize/bpe-train.ts';
import { segmentText } from '../../src/tokenize/bpe-pieces.ts';
import { TextStreamer } from '../../src/decode/streamer.ts';

/** Real English (the project's own docs) plus German, Chinese, emoji and odd whitespace. */
const ENGLISH = ['README.md', 'docs/deploy.md', 'docs/tasks.md'].map((f) => readFileSync(new URL(`../../${f}`, import.meta.url), 'utf8'));
const VARIED = [
  'Schöne Grüße aus München: Äpfel, Öl und Übermut. Die Straße ist groß.',
  'Ich habe am ursprünglichen Entwurf ein paar Änderungen vorgenommen.',
  '我们今天去北京。北京是中国的首都，我们很喜欢北京的天气。',
  '東京と大阪、そして京都。日本語のテキストです。',
  'Emoji 😀😀 and 👋🏽 and families 👩‍👩‍👧 in text 🎉!',
  'tabs\tand\t\ttabs, newlines\n\n\nand   runs   of    spaces  ',
  '   leading spaces and trailing ones   ',
  '\n\nstarts with newlines',
  'Mixed: naïve café résumé — “quotes” ‘single’ … ellipsis',
];
const CORPUS = [...ENGLISH, ...VARIED, ...VARIED];
const PROBES = [
  ...VARIED,
  'Completely unseen: ☃ ⚗ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ꙮ and Ελληνικά and עברית and ⁂',
  'Unseen CJK: 鬱鬱蒼蒼 龘 and 한국어 텍스트',
  ' ',
  '',
  'a',
  '▁literal metaspace',
  'x'.repeat(300),
  '北'.repeat(50) + '京'.repeat(3),
  'The model trains small sequence models and serves them over HTTP and WebSocket.',
  'decode(encode(text)) === text, <0x41> is not a byte token, nor are <eos> or <unk>',
  '\r\n windows\r\nline\tendings \u00a0nbsp\u3000ideographic space',
];

function hf(tok: BpeTokenizer): HfTokenizer {
  return new HfTokenizer(JSON.parse(JSON.stringify(tok.toJSON())), {});
}

t.test('segments keep spaces with the following word and cover the text exactly', async (t) => {
  t.same(segmentText('Hello  world\n\nnext line '), ['Hello', '▁▁world', '\n\n', 'next', '▁line', '▁']);
  t.same(segmentText('我们 去北京'), ['我们', '▁去北京']);
  for (const text of PROBES) t.equal(segmentText(text).join(''), text.replaceAll(' ', '▁'));
});

t.test('encodes exactly like Hugging Face Tokenizers.js loading our tokenizer.json', async (t) => {
  for (const vocabSize of [300, 600, 2000]) {
    const tok = fitTokenizer('bpe', CORPUS, { maxVocab: vocabSize }) as BpeTokenizer;
    t.ok(tok.vocabSize <= vocabSize, `vocab ${tok.vocabSize} ≤ ${vocabSize}`);
    const ref = hf(tok);
    for (const text of PROBES) {
      const ids = tok.encode(text);
      // Literal special-token strings are added tokens in HF (matched in raw text); we treat them as text.
      if (!/<(pad|bos|eos|unk)>/.test(text)) t.same(ref.encode(text, { add_special_tokens: false }).ids, ids, `${vocabSize}: ids of ${JSON.stringify(text.slice(0, 40))}`);
      if (ids.length > 0) t.equal(ref.decode(ids, { skip_special_tokens: true }), tok.decode(ids), `${vocabSize}: decoded text of ${JSON.stringify(text.slice(0, 40))}`);
      const expected = text.replaceAll('▁', ' ');
      t.equal(tok.decode(ids), expected, 'lossless (a literal ▁ reads back as a space)');
      t.notOk(ids.includes(UNK_ID), 'nothing is <unk>');
    }
  }
});

t.test('byte fallback: unseen characters become their UTF-8 bytes, and only those', async (t) => {
  const tok = fitTokenizer('bpe', CORPUS, { maxVocab: 1000 }) as BpeTokenizer;
  const snow = tok.encode('☃');
  t.same(snow.map((id) => id - 4), [0xe2, 0x98, 0x83], 'three byte tokens');
  const known = tok.encode('北京');
  t.ok(known.every((id) => id >= 260), 'a known CJK character is never split');
  t.equal(tok.encode('北').length, 1);
  t.same(tok.encode('<0x41>').includes(4 + 0x41), false, 'the text "<0x41>" is not the byte token');
  t.same(tok.encode('<eos>').includes(EOS_ID), false, 'the text "<eos>" is not the special');
  t.equal(tok.decode([BOS_ID, ...tok.encode('ok'), EOS_ID, PAD_ID]), 'ok', 'specials decode to nothing');
  const invalid = [4 + 0xe2, 4 + 0x98, 4 + 0x83, 4 + 0xe2, 4 + 0x41, BOS_ID, 4 + 0xff];
  t.equal(tok.decode(invalid), '☃\uFFFDA\uFFFD', 'invalid parts of a byte run become U+FFFD (WHATWG rule)');
  t.equal(hf(tok).decode(invalid, { skip_special_tokens: true }), tok.decode(invalid), 'as in Tokenizers.js');
  const s = new TextStreamer();
  t.equal(invalid.map((id) => s.push(tok.tokenPiece(id)).text).join('') + s.end(), tok.decode(invalid), 'and as streamed');
  t.throws(() => tok.decode([tok.vocabSize]), RangeError);
});

t.test('the streamer emits whole characters from byte-fallback pieces', async (t) => {
  const tok = fitTokenizer('bpe', ['plain ascii text only'], { maxVocab: 300 }) as BpeTokenizer;
  const text = 'ascii ☃ and 😀 and 北京 end';
  const ids = tok.encode(text);
  t.ok(ids.filter((id) => id >= 4 && id < 260).length >= 4 + 4 + 6, 'the non-ASCII characters went to bytes');
  const s = new TextStreamer();
  const chunks: string[] = [];
  for (const id of ids) chunks.push(s.push(tok.tokenPiece(id)).text);
  chunks.push(s.end());
  t.equal(chunks.join(''), text);
  for (const c of chunks) t.ok(c.isWellFormed() && !c.includes('\uFFFD'), `chunk ${JSON.stringify(c)} is whole characters`);
  t.ok(chunks.includes('☃') && chunks.includes('😀'), 'a character is emitted once its last byte arrives');
  t.equal(tok.tokenText(ids[text.indexOf('☃')] ?? 0).length >= 0, true);

  const cut = new TextStreamer();
  const snow = tok.encode('☃');
  t.equal(cut.push(tok.tokenPiece(snow[0])).text + cut.push(tok.tokenPiece(snow[1])).text, '', 'half a character is held');
  t.equal(cut.push(tok.tokenPiece(tok.encode('a')[0])).text, '\uFFFDa', 'an interrupted character becomes U+FFFD');
  const tail = new TextStreamer();
  tail.push(tok.tokenPiece(snow[0]));
  t.equal(tail.end(), '\uFFFD', 'and so does one cut off by the end');
  const stop = new TextStreamer(['☃']);
  const pieces = tok.encode('ab☃cd').map((id) => stop.push(tok.tokenPiece(id)));
  t.equal(pieces.map((p) => p.text).join(''), 'ab');
  t.ok(pieces.at(-1)!.stopped, 'a stop sequence made of bytes still matches');
});

t.test('training is deterministic and independent of text order', async (t) => {
  const a = trainBpe(CORPUS, { vocabSize: 800 });
  const b = trainBpe([...CORPUS].reverse(), { vocabSize: 800 });
  t.same(a, b);
  t.equal(a.vocab.length, 800);
  t.equal(new Set(a.vocab).size, a.vocab.length, 'pieces are distinct');
  t.ok(a.vocab.includes('▁the'), 'frequent words with their space become single pieces');
});

t.test('small data stops early: merges need a pair seen twice', async (t) => {
  const tok = fitTokenizer('bpe', ['abab abab cdcd'], { maxVocab: 5000 });
  t.ok(tok.vocabSize < 280, `vocab ${tok.vocabSize}`);
  t.same(tok.encode('abab').length, 1, 'ab then abab merged');
  t.equal(tok.decode(tok.encode('abab cdcd ☃')), 'abab cdcd ☃');
});

t.test('toJSON is a Hugging Face BPE file and loadTokenizer reads it back', async (t) => {
  const tok = fitTokenizer('bpe', CORPUS, { maxVocab: 700 });
  const json = JSON.parse(JSON.stringify(tok.toJSON())) as HfBpeTokenizerJSON;
  t.equal(json.model.type, 'BPE');
  t.equal(json.model.byte_fallback, true);
  t.equal(json.model.vocab['<0x00>'], 4);
  t.equal(json.model.vocab['<0xFF>'], 259);
  t.same(json.added_tokens.map((a) => [a.id, a.content, a.special]), [[0, '<pad>', true], [1, '<bos>', true], [2, '<eos>', true], [3, '<unk>', true]]);
  const loaded = loadTokenizer(json);
  t.equal(loaded.type, 'bpe');
  for (const text of PROBES) t.same(loaded.encode(text), tok.encode(text));
  t.same(loaded.toJSON(), tok.toJSON());

  const bad: Array<[string, unknown]> = [
    ['no byte fallback', { ...json, model: { ...json.model, byte_fallback: false } }],
    ['ids with a gap', { ...json, model: { ...json.model, vocab: { ...json.model.vocab, extra: 100000 } } }],
    ['merge of unknown pieces', { ...json, model: { ...json.model, merges: [['qqq', 'zzz']] } }],
    ['specials moved', { ...json, model: { ...json.model, vocab: { ...json.model.vocab, '<pad>': 1, '<bos>': 0 } } }],
    ['other normalizer', { ...json, normalizer: null }],
  ];
  for (const [name, file] of bad) t.throws(() => loadTokenizer(file), /tokenizer\.json/, name);
});

t.test('fits 1 MB of text to 8,000 pieces', async (t) => {
  // Not a timing test: it checks the merge loop on a corpus with many distinct words (seeded pseudo-words).
  const syllables = 'ka ri to ne sa mu lo chi pe da vo ru shi ma ke no ta ya fu he'.split(' ');
  let seed = 7;
  const rand = (n: number): number => {
    seed = (seed ^ (seed << 13)) >>> 0;
    seed = (seed ^ (seed >>> 17)) >>> 0;
    seed = (seed ^ (seed << 5)) >>> 0;
    return seed % n;
  };
  const big: string[] = [];
  let size = 0;
  while (size < 1_000_000) {
    const words = Array.from({ length: 12 }, () => Array.from({ length: 1 + rand(4) }, () => syllables[rand(syllables.length)]).join(''));
    const line = words.join(' ') + '.';
    big.push(line);
    size += line.length;
  }
  const tok = fitTokenizer('bpe', big, { maxVocab: 8000 });
  t.equal(tok.vocabSize, 8000);
  const sample = big.slice(0, 50).join('\n');
  t.equal(tok.decode(tok.encode(sample)), sample);
  t.ok(tok.encode(sample).length < sample.length / 3, 'a trained vocabulary compresses its own text');
  t.same(hf(tok as BpeTokenizer).encode(sample, { add_special_tokens: false }).ids, tok.encode(sample), 'and Tokenizers.js agrees at this size');
});

/**
 * Reference trainer: the textbook loop that recounts every pair before each merge, with the same
 * alphabet, tie rule (highest count, then lowest left id, then lowest right id), reserved strings
 * and min frequency 2. trainBpe's incremental counts must pick exactly the same merges.
 */
function naiveMerges(texts: string[], vocabSize: number): Array<[string, string]> {
  const model = trainBpe(texts, { vocabSize, minFrequency: Number.MAX_SAFE_INTEGER }); // the alphabet, no merges
  const vocab = [...model.vocab];
  const ids = new Map(vocab.map((p, i) => [p, i]));
  const counts = new Map<string, number>();
  for (const text of texts) for (const seg of segmentText(text)) counts.set(seg, (counts.get(seg) ?? 0) + 1);
  let words = [...counts].map(([seg, n]) => ({ syms: Array.from(seg, (ch) => ids.get(ch) ?? -1), n }));
  const merges: Array<[string, string]> = [];
  const banned = new Set<string>();
  while (vocab.length < vocabSize) {
    const pairs = new Map<string, number>();
    for (const w of words) {
      for (let i = 0; i + 1 < w.syms.length; i++) {
        if (w.syms[i] < 0 || w.syms[i + 1] < 0) continue;
        const k = `${w.syms[i]},${w.syms[i + 1]}`;
        if (!banned.has(k)) pairs.set(k, (pairs.get(k) ?? 0) + w.n);
      }
    }
    let best: [number, number, number] | undefined;
    for (const [k, c] of pairs) {
      const [a, b] = k.split(',').map(Number) as [number, number];
      if (!best || c > best[0] || (c === best[0] && (a < best[1] || (a === best[1] && b < best[2])))) best = [c, a, b];
    }
    if (!best || best[0] < 2) break;
    const [, a, b] = best;
    const text = vocab[a] + vocab[b];
    if (/^<(pad|bos|eos|unk|0x[0-9A-F]{2})>$/.test(text)) {
      banned.add(`${a},${b}`);
      continue;
    }
    let id = ids.get(text);
    if (id === undefined) {
      id = vocab.length;
      vocab.push(text);
      ids.set(text, id);
    }
    merges.push([vocab[a], vocab[b]]);
    words = words.map((w) => {
      const out: number[] = [];
      for (let i = 0; i < w.syms.length; i++) {
        if (i + 1 < w.syms.length && w.syms[i] === a && w.syms[i + 1] === b) {
          out.push(id!);
          i++;
        } else out.push(w.syms[i]);
      }
      return { syms: out, n: w.n };
    });
  }
  return merges;
}

t.test('incremental pair counts pick the same merges as recounting before every merge', async (t) => {
  const cases: Array<[string, string[], number]> = [
    ['runs and overlaps', ['aaaa aaa aa a', 'abab ababab abab', 'aaaaaaa bbbb', 'a a a a'], 300],
    ['reserved strings', ['<0x41> <0x41> <eos> <eos> <unk><unk>', '<0x41>'], 320],
    ['mixed scripts', [...VARIED, ...VARIED, VARIED[2]!], 420],
    ['english docs', ENGLISH.map((e) => e.slice(0, 6000)), 600],
  ];
  for (const [name, texts, size] of cases) {
    const expected = naiveMerges(texts, size);
    t.ok(expected.length >= 5, `${name}: ${expected.length} merges`);
    t.same(trainBpe(texts, { vocabSize: size }).merges, expected, name);
  }
});
