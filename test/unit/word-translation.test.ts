import t from 'tap';
import { defaultTranslator, translationIds, translationText, words, WordTranslator } from '../../src/tasks/word-translation.ts';
import { resolveSeq2SeqParams } from '../../src/infer/params.ts';
import { fitTokenizer, UNK_ID } from '../../src/tokenize/index.ts';
import { ServiceError } from '../../src/errors.ts';

// A toy German → English corpus: word for word, same order, so IBM Model 1 can find every word.
const ROWS = [
  { source: 'Das Haus ist klein.', target: 'The house is small.' },
  { source: 'Das Haus ist groß.', target: 'The house is big.' },
  { source: 'Der Hund ist klein.', target: 'The dog is small.' },
  { source: 'Der Hund ist alt.', target: 'The dog is old.' },
  { source: 'Das Auto ist alt.', target: 'The car is old.' },
  { source: 'Das Auto ist neu.', target: 'The car is new.' },
  { source: 'Mein Hund ist groß.', target: 'My dog is big.' },
  { source: 'Mein Haus ist neu.', target: 'My house is new.' },
  { source: 'Anna sieht das Haus.', target: 'Anna sees the house.' },
  { source: 'Anna sieht den Hund.', target: 'Anna sees the dog.' },
  { source: 'Ich sehe das Auto.', target: 'I see the car.' },
  { source: 'Ich sehe den Hund.', target: 'I see the dog.' },
  { source: 'Mein Hund sieht das Auto.', target: 'My dog sees the car.' },
];

t.test('words: runs of letters, digits and _, or one other character; NFC', (t) => {
  t.same(words('Er sagt: „Nein!“ (2x)'), ['Er', 'sagt', ':', '„', 'Nein', '!', '“', '(', '2x', ')']);
  t.same(words('Straße e\u0301'), ['Straße', 'é'], 'combining marks are composed first');
  t.same(words('  '), []);
  t.same(words('我爱猫。I love 東京, カナ and 한국어'), ['我', '爱', '猫', '。', 'I', 'love', '東', '京', ',', 'カ', 'ナ', 'and', '한국어'], 'Han, Hiragana and Katakana characters are words by themselves; Hangul keeps its spaced words');
  t.end();
});

t.test('IBM Model 1 finds the word translations of a small parallel corpus', (t) => {
  const wt = WordTranslator.train(ROWS);
  for (const [f, e] of [['haus', 'house'], ['hund', 'dog'], ['auto', 'car'], ['klein', 'small'], ['groß', 'big'], ['alt', 'old'], ['neu', 'new'], ['sieht', 'sees'], ['mein', 'my']]) {
    t.equal(wt.candidates(f)[0]?.[0], e, `t(${e} | ${f}) is the most likely`);
  }
  t.equal(wt.candidates('Haus')[0]?.[0], 'house', 'looked up lowercased');
  t.same(wt.candidates('katze'), [], 'an unseen word has no candidates');
  const p = wt.candidates('hund').map(([, q]) => q);
  t.ok(p.every((q, i) => i === 0 || q <= p[i - 1]!), 'most likely first');
  t.ok(p.length <= 4);
  t.end();
});

t.test('translate: new combinations of known words, names copied, casing from the targets', (t) => {
  const wt = WordTranslator.train(ROWS);
  t.equal(wt.translate('Der Hund ist neu.'), 'The dog is new.', 'a sentence not in the data');
  t.equal(wt.translate('Mein Auto ist klein.'), 'My car is small.');
  t.equal(wt.translate('Anna sieht das Auto.'), 'Anna sees the car.', '"Anna" keeps its casing from the targets');
  t.equal(wt.translate('Bernd sieht den Hund.'), 'Bernd sees the dog.', 'an unknown word (a name) is copied as written');
  t.equal(wt.translate('das haus ist groß'), 'The house is big', 'first letter upper-cased; no invented punctuation');
  t.equal(wt.translate(''), '');
  t.equal(wt.translate('Der Hund ist alt!'), 'The dog is old!', 'an unknown mark is copied, glued to the word before it');
  t.end();
});

t.test('Chinese targets: one word per character, written without spaces', (t) => {
  const rows = [
    { source: 'I love cats.', target: '我爱猫。' },
    { source: 'I love dogs.', target: '我爱狗。' },
    { source: 'You love cats.', target: '你爱猫。' },
    { source: 'You see dogs.', target: '你看狗。' },
    { source: 'I see cats.', target: '我看猫。' },
    { source: 'He sees Tom.', target: '他看 Tom。' },
  ];
  const wt = WordTranslator.train(rows);
  t.equal(wt.candidates('dogs')[0]?.[0], '狗');
  t.equal(wt.translate('You love dogs.'), '你爱狗。', 'a new combination, glued');
  t.equal(wt.translate('I see Anna.'), '我看Anna。', 'a copied Latin word is glued to its Chinese neighbours too');
  t.end();
});

t.test('toJSON / fromJSON: the same translations; a wrong file is refused', (t) => {
  const wt = WordTranslator.train(ROWS);
  const back = WordTranslator.fromJSON(JSON.parse(JSON.stringify(wt.toJSON())));
  for (const s of ['Der Hund ist neu.', 'Ich sehe das Haus.', 'Bernd ist alt.']) t.equal(back.translate(s), wt.translate(s), s);
  t.equal(back.rows, ROWS.length);
  t.same(WordTranslator.train(ROWS).toJSON(), wt.toJSON(), 'training is deterministic');
  t.throws(() => WordTranslator.fromJSON({ format: 'seqserve-retrieval', version: 1 }), /not a seqserve-word-translation v1 file/);
  t.throws(() => WordTranslator.fromJSON(null));
  t.end();
});

t.test('translationIds: the target tokenizer\'s ids, <unk> left out, cut at maxTokens', (t) => {
  const wt = WordTranslator.train(ROWS);
  const tgt = fitTokenizer('char', ROWS.map((r) => r.target), { maxVocab: 1000 });
  const full = translationIds(wt, tgt, 'Der Hund ist neu.', 100);
  t.equal(tgt.decode(full.ids), 'The dog is new.');
  t.notOk(full.truncated);
  const cut = translationIds(wt, tgt, 'Der Hund ist neu.', 5);
  t.same(cut, { ids: full.ids.slice(0, 5), truncated: true });
  // "Zürich" is copied, but the English characters have no "Z" or "ü": those ids are left out.
  const unk = translationIds(wt, tgt, 'Zürich ist alt.', 100);
  t.notOk(unk.ids.includes(UNK_ID));
  t.equal(translationText(wt, tgt, 'Zürich ist alt.', 100), 'rich is old.');
  t.end();
});

t.test('defaultTranslator: a translate manifest\'s decoding.translator, neural when absent', (t) => {
  t.equal(defaultTranslator({ task: 'translate', decoding: { translator: 'word_alignment' } }), 'word_alignment');
  t.equal(defaultTranslator({ task: 'translate', decoding: { translator: 'neural' } }), 'neural');
  t.equal(defaultTranslator({ task: 'translate' }), 'neural', 'a model published before word alignment');
  t.equal(defaultTranslator({ task: 'summarize', decoding: { translator: 'word_alignment' } }), undefined, 'other tasks have none');
  t.end();
});

t.test('resolveSeq2SeqParams: translator default, neural-only fields, refusals', (t) => {
  const limits = { maxNewTokens: 256, maxPromptChars: 4000 };
  const defaults = { num_beams: 1, length_penalty: 1, no_repeat_ngram_size: 12, known_words_only: false, translator: 'word_alignment' as const };
  const resolve = (p: Record<string, unknown> | undefined) => resolveSeq2SeqParams(p as never, limits, 128, defaults);
  t.equal(resolve(undefined).translator, 'word_alignment', 'the model\'s default');
  t.equal(resolve({ max_new_tokens: 10, stop: ['x'], seed: 3 }).translator, 'word_alignment', 'fields it reads keep it');
  t.equal(resolve({ do_sample: false }).translator, 'word_alignment', 'do_sample: false (what /v1 sends) keeps it');
  for (const p of [{ num_beams: 4 }, { do_sample: true }, { temperature: 0.5 }, { no_repeat_ngram_size: 0 }, { top_logprobs: 2 }]) {
    t.equal(resolve(p).translator, 'neural', `${JSON.stringify(p)} asks for the neural model`);
  }
  t.equal(resolve({ translator: 'neural' }).translator, 'neural');
  t.equal(resolveSeq2SeqParams({}, limits, 128, { ...defaults, translator: undefined }).translator, 'neural', 'no default: neural');
  const refused = (p: Record<string, unknown>, param: string, msg: RegExp) => {
    try {
      resolve(p);
      t.fail(`${JSON.stringify(p)} accepted`);
    } catch (err) {
      t.ok(err instanceof ServiceError);
      t.match(err, { code: 'invalid_parameter', param, message: msg }, JSON.stringify(p));
    }
  };
  refused({ translator: 'word_alignment', num_beams: 2 }, 'parameters.num_beams', /absent with translator "word_alignment"/);
  refused({ translator: 'word_alignment', temperature: 0.7 }, 'parameters.temperature', /reads only max_new_tokens, stop and seed/);
  refused({ translator: 'phrase' }, 'parameters.translator', /one of "neural", "word_alignment"/);
  t.end();
});
