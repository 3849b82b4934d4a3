import t from 'tap';
import { trailingWord, unionLexicon, WordLexicon, wordBans } from '../../src/decode/lexicon.ts';
import { beamSearch, type BeamStepper } from '../../src/decode/beam.ts';
import { knownWordBans } from '../../src/tasks/known-words.ts';
import { fitTokenizer, EOS_ID } from '../../src/tokenize/index.ts';

// A toy vocabulary: 0 pad, 1 bos, 2 eos, 3 unk (no text), then word pieces.
const PIECES = ['', '', '', '', ' get', ' set', 'ting', 't', ' the', ' name', 'name', ',', ' x', 'é', '\uFFFD', ' na'];
const EOS = 2;
const id = (p: string) => PIECES.indexOf(p);

t.test('WordLexicon: lowercased words of letters and digits, and their prefixes', (t) => {
  const lex = WordLexicon.fromTexts(['Get the host-name', 'UTF-8 strings, 2nd']);
  for (const w of ['get', 'the', 'host', 'name', 'utf', '8', 'strings', '2nd']) t.ok(lex.isWord(w), w);
  t.notOk(lex.isWord('Get'), 'compared lowercased: the caller lowercases');
  t.notOk(lex.isWord('host-name'), 'punctuation splits words');
  t.notOk(lex.isWord('ge'));
  t.ok(lex.isPrefix('ge') && lex.isPrefix('g') && lex.isPrefix('get'));
  t.notOk(lex.isPrefix('gex'));
  t.equal(lex.size, 8);
  const more = WordLexicon.fromTexts(['Straße 𠀀x']);
  t.ok(more.isWord('straße') && more.isWord('𠀀x') && more.isPrefix('𠀀'), 'non-ASCII and astral letters');
  const both = unionLexicon(lex, more);
  t.ok(both.isWord('get') && both.isWord('straße') && !both.isWord('gets'));
  t.end();
});

t.test('trailingWord: the partial word at the end of the generated text', (t) => {
  t.equal(trailingWord(PIECES, []), '');
  t.equal(trailingWord(PIECES, [id(' get')]), 'get');
  t.equal(trailingWord(PIECES, [id(' set'), id('ting')]), 'setting');
  t.equal(trailingWord(PIECES, [id(' set'), id('t'), id('ting')]), 'settting');
  t.equal(trailingWord(PIECES, [id(' get'), id(',')]), '');
  t.equal(trailingWord(PIECES, [id(' the'), id(' name')]), 'name');
  t.equal(trailingWord(['', 'A', 'b.C', 'd'], [1, 2, 3]), 'cd', 'stops at the last free character, lowercased');
  t.end();
});

t.test('wordBans: only pieces that keep every word a lexicon word (or its prefix) are allowed', (t) => {
  const lex = WordLexicon.fromTexts(['get the name', 'setting']);
  const bans = wordBans(PIECES, lex, EOS);
  const allowed = (ids: number[]) => PIECES.map((_, v) => v).filter((v) => PIECES[v] !== '' && !bans(ids).includes(v)).map((v) => PIECES[v]);
  const eosBanned = (ids: number[]) => bans(ids).includes(EOS);
  // At the start: any piece whose word is a lexicon word or prefix ("x" and "é" are neither; "t" and
  // " na" are prefixes of "the" and "name"); U+FFFD (half a character) is not judged.
  t.same(allowed([]), [' get', ' set', 't', ' the', ' name', 'name', ',', '\uFFFD', ' na']);
  t.notOk(eosBanned([]), 'eos allowed on an empty output');
  // After " set": "set" is only a prefix ("setting"): "ting" continues it, a new word or "," cannot end it, nor the eos.
  t.same(allowed([id(' set')]), ['ting', 't', '\uFFFD']);
  t.ok(eosBanned([id(' set')]));
  // After " set" + "ting": a whole word: new words, "," and the eos are allowed; "t" would make "settingt".
  t.same(allowed([id(' set'), id('ting')]), [' get', ' set', ' the', ' name', ',', '\uFFFD', ' na']);
  t.notOk(eosBanned([id(' set'), id('ting')]));
  // "na" is a prefix, not a word: it must continue.
  t.same(allowed([id(' na')]), ['\uFFFD'], 'no piece here spells "me"');
  t.ok(eosBanned([id(' na')]));
  // A partial word holding U+FFFD (half a character) is not judged.
  t.same(allowed([id('\uFFFD')]), allowed([]), 'after a free partial word, as at the start');
  t.notOk(eosBanned([id('\uFFFD')]));
  // Never a dead end: when every piece with text would be banned, nothing is.
  // After " zz" (a prefix of "zzz", which no piece completes): eos, " zz" and "q" would all break it.
  const tiny = wordBans(['', '', '', '', ' zz', 'q'], WordLexicon.fromTexts(['zzz']), EOS);
  t.same(tiny([4]), [], 'no allowed id → no bans');
  t.same(tiny([]), [5], 'at the start only "q" breaks it');
  // The same partial word gives the same (cached) answer.
  t.equal(bans([id(' get'), id(' set')]), bans([id(' set')]));
  t.end();
});

t.test('beam search with word bans never writes a word outside the lexicon', async (t) => {
  // The model prefers " set" + "t" + eos ("sett", not a word) over " set" + "ting" + eos.
  const V = PIECES.length;
  const prefer = (prefix: readonly number[]): Float32Array => {
    const last = prefix[prefix.length - 1];
    const logits = new Array<number>(V).fill(-8);
    if (last === 1) logits[id(' set')] = 0;
    else if (last === id(' set')) { logits[id('t')] = 0; logits[id('ting')] = -1; }
    else logits[EOS] = 0;
    const lse = Math.log(logits.reduce((z, x) => z + Math.exp(x), 0));
    return Float32Array.from(logits, (x) => x - lse);
  };
  const stepper: BeamStepper<number[][]> = {
    vocabSize: V,
    step: (ids, rows) => {
      const next = rows.map((r, i) => [...r, ids[i]!]);
      const lp = new Float32Array(next.length * V);
      next.forEach((r, i) => lp.set(prefer(r), i * V));
      return { logProbs: lp, state: next };
    },
    select: (rows, pick) => pick.map((r) => [...rows[r]!]),
    dispose: () => {},
  };
  const base = { numBeams: 2, maxNewTokens: 5, lengthPenalty: 1, noRepeatNgramSize: 0, bosId: 1, eosId: EOS, bannedIds: [0, 1, 3] };
  const free = await beamSearch(stepper, [[]], base);
  t.same(free.best.ids, [id(' set'), id('t')], 'unconstrained: the misspelling wins');
  const lex = WordLexicon.fromTexts(['get the name setting']);
  const held = await beamSearch(stepper, [[]], { ...base, bans: wordBans(PIECES, lex, EOS) });
  t.same(held.best.ids, [id(' set'), id('ting')], 'constrained: the lexicon word');
});

t.test('knownWordBans: a real tokenizer; the input\'s own words are allowed', (t) => {
  const tok = fitTokenizer('bpe', ['get the name of a socket', 'set the host name', 'open a file'], { maxVocab: 300 });
  const lex = WordLexicon.fromTexts(['get the name of a socket']);
  const ids = (text: string) => tok.encode(text);
  const bannedSomewhere = (bans: (ids: readonly number[]) => number[], text: string) => {
    const seq = [...ids(text), EOS_ID];
    return seq.some((v, i) => bans(seq.slice(0, i)).includes(v));
  };
  const plain = knownWordBans(tok, lex, { source: 'nothing new' });
  t.notOk(bannedSomewhere(plain, ' get the name of a socket'), 'a lexicon sentence is never banned');
  t.ok(bannedSomewhere(plain, ' open a file'), '"open" and "file" are not in the lexicon');
  const withInput = knownWordBans(tok, lex, { source: 'please open it', context: 'the file' });
  t.notOk(bannedSomewhere(withInput, ' open a file'), 'words of the source and context are allowed');
  t.end();
});
