/**
 * Tokenizer measurements on real text (docs/training.md, "Tokenizers"): for char, word and bpe at
 * a few sizes, fitted on a training split and measured on the held-out rows (every 10th):
 * tokens per character, <unk> tokens, characters lost in a round trip (decode(encode(x)) vs x),
 * byte-fallback tokens, the vocabulary actually used, and the fit time. Then one fit of bpe 8000
 * on ~5 MB (the whole King James Bible plus both real data sets).
 *
 *   npm run data:real          # writes $REAL_DATA (default data/real, REAL_DATA_DIR) from Debian packages
 *   node --import tsx bench/tokenizers.ts [--quick] [--zh-man DIR]
 *
 * --zh-man DIR adds Chinese text: the paragraphs with ≥ 10 CJK characters of the Simplified Chinese
 * manual pages of Debian's manpages-zh (GFDL-1.2+), e.g.
 *   apt-get download manpages-zh && dpkg-deb -x manpages-zh_*.deb /tmp/zh   # DIR = /tmp/zh/usr/share/man/zh_CN
 *
 * Needs the JSONL files of `npm run data:real` and, for the KJV rows and the 5 MB fit, the `bible`
 * command (apt-get install bible-kjv). Not a test: figures vary with the machine's load.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import path from 'node:path';
import { REAL_DATA_DIR } from '../scripts/real-data/debian-packages.ts';
import { fitTokenizer, UNK_ID, type Tokenizer, type TokenizerType } from '../src/tokenize/index.ts';

const DIR = process.env.REAL_DATA ?? REAL_DATA_DIR;
const quick = process.argv.includes('--quick');
const zhDir = process.argv.includes('--zh-man') ? process.argv[process.argv.indexOf('--zh-man') + 1] : undefined;

/** Paragraphs of troff man pages with ≥ 10 CJK characters (macro lines dropped, font escapes removed). */
function zhManParagraphs(dir: string): string[] {
  const out: string[] = [];
  for (const section of readdirSync(dir).filter((d) => d.startsWith('man')).sort()) {
    for (const file of readdirSync(path.join(dir, section)).filter((f) => f.endsWith('.gz')).sort()) {
      const text = new TextDecoder('utf-8').decode(gunzipSync(readFileSync(path.join(dir, section, file))));
      let cur: string[] = [];
      const flush = (): void => {
        const p = cur.join(' ');
        if ((p.match(/[\u4e00-\u9fff]/g) ?? []).length >= 10) out.push(p);
        cur = [];
      };
      for (const line of text.split('\n')) {
        if (line.startsWith('.') || line.startsWith("'")) flush();
        else {
          const clean = line.replace(/\\f[BIRP]|\\\(..|\\[-e&]|\\s[-+]?\d/g, '').trim();
          if (clean) cur.push(clean);
        }
      }
      flush();
    }
  }
  return out;
}

interface Corpus {
  name: string;
  train: string[];
  heldOut: string[];
}

function jsonl(file: string, column: string): string[] {
  return readFileSync(path.join(DIR, file), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => (JSON.parse(l) as Record<string, string>)[column]!);
}

function split(name: string, rows: string[]): Corpus {
  return { name, train: rows.filter((_, i) => i % 10 !== 9), heldOut: rows.filter((_, i) => i % 10 === 9) };
}

function kjv(books: string[]): string[] | undefined {
  try {
    const raw = execFileSync('bible', books, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env: { ...process.env, COLUMNS: '100000' } });
    return raw.split('\n').flatMap((line) => {
      const verse = /^\s*\d+\s+(.*)$/.exec(line);
      return verse ? [verse[1]!.trim()] : [];
    });
  } catch {
    return undefined;
  }
}

const CONFIGS: Array<{ type: TokenizerType; size: number }> = [
  { type: 'char', size: 5000 },
  { type: 'word', size: 5000 },
  { type: 'word', size: 20000 },
  { type: 'bpe', size: 1000 },
  { type: 'bpe', size: 2000 },
  { type: 'bpe', size: 4000 },
  { type: 'bpe', size: 8000 },
];

function measure(tok: Tokenizer, texts: string[]) {
  let chars = 0;
  let tokens = 0;
  let unk = 0;
  let bytes = 0;
  let lost = 0;
  const used = new Set<number>();
  for (const text of texts) {
    const ids = tok.encode(text);
    const n = Array.from(text).length;
    chars += n;
    tokens += ids.length;
    for (const id of ids) {
      used.add(id);
      if (id === UNK_ID) unk++;
      if (tok.type === 'bpe' && id >= 4 && id < 260) bytes++;
    }
    lost += n - Array.from(tok.decode(ids)).length;
  }
  return { tokensPerChar: tokens / chars, unkPct: (100 * unk) / tokens, lostPct: (100 * lost) / chars, bytePct: (100 * bytes) / tokens, used: used.size };
}

const corpora: Corpus[] = [];
for (const [file, column, name] of [
  ['translate-de-en.jsonl', 'source', 'trans-de-en German (source)'],
  ['translate-de-en.jsonl', 'target', 'trans-de-en English (target)'],
  ['summarize-man.jsonl', 'source', 'man pages DESCRIPTION (source)'],
  ['summarize-man.jsonl', 'target', 'man pages NAME line (target)'],
] as const) {
  if (existsSync(path.join(DIR, file))) corpora.push(split(name, jsonl(file, column)));
  else console.error(`skipping ${file}: not in ${DIR} (npm run data:real)`);
}
if (zhDir) corpora.push(split('manpages-zh Chinese paragraphs', zhManParagraphs(zhDir)));
const genesis = kjv(['Gen1:1-Gen50:26', 'Exod1:1-Exod40:38']);
if (genesis) corpora.push(split('KJV Genesis+Exodus (verses)', genesis));

console.log('| corpus | rows train/held-out | tokenizer | vocab (ids) | ids used on held-out | tokens/char | <unk> % of tokens | chars lost % | byte tokens % | fit ms |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const c of corpora) {
  for (const { type, size } of quick ? CONFIGS.filter((x) => x.size <= 4000) : CONFIGS) {
    const t0 = performance.now();
    const tok = fitTokenizer(type, c.train, { maxVocab: size });
    const fitMs = performance.now() - t0;
    const m = measure(tok, c.heldOut);
    const label = type === 'bpe' ? `bpe vocab_size ${size}` : `${type} max_vocab ${size}`;
    console.log(
      `| ${c.name} | ${c.train.length}/${c.heldOut.length} | ${label} | ${tok.vocabSize} | ${m.used} | ${m.tokensPerChar.toFixed(3)} | ${m.unkPct.toFixed(2)} | ${m.lostPct.toFixed(2)} | ${type === 'bpe' ? m.bytePct.toFixed(2) : '–'} | ${fitMs.toFixed(0)} |`,
    );
  }
}

// ~5 MB fit: the whole KJV plus both data sets' texts.
const bible = kjv(['Gen1:1-Rev22:21']);
if (bible && !quick) {
  const big = [...bible, ...corpora.slice(0, 4).flatMap((c) => [...c.train, ...c.heldOut])];
  const mb = Buffer.byteLength(big.join('\n')) / 1e6;
  for (const [type, size] of [['char', 5000], ['word', 20000], ['bpe', 8000]] as const) {
    const t0 = performance.now();
    const tok = fitTokenizer(type, big, { maxVocab: size });
    const s = (performance.now() - t0) / 1000;
    console.log(`fit ${type} ${size} on ${mb.toFixed(1)} MB (${big.length} texts): ${s.toFixed(2)} s, vocab ${tok.vocabSize}`);
  }
}
