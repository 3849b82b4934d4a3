import t from 'tap';
import {
  bleuFromTexts,
  bleuTokens,
  classificationMetrics,
  corpusBleu,
  corpusQa,
  corpusRouge,
  exactMatch,
  lcsLength,
  metricTokens,
  normalizeAnswer,
  rougeL,
  rougeN,
  rougeScores,
  tokenF1,
  wordTokens,
} from '../../src/eval/index.ts';

const EPS = 1e-9;
const close = (t: { ok(v: boolean, m: string): unknown }, actual: number, expected: number, msg: string) =>
  t.ok(Math.abs(actual - expected) < EPS, `${msg}: got ${actual}, expected ${expected}`);
const split = (s: string) => (s === '' ? [] : s.split(' '));

t.test('bleuTokens: 13a-style punctuation splitting, case preserved', (t) => {
  t.same(bleuTokens('Hello, world! It costs $3.5.'), ['Hello', ',', 'world', '!', 'It', 'costs', '$', '3.5', '.']);
  // "." and "," between digits stay; apostrophes and in-word hyphens stay (as in 13a);
  // a hyphen after a digit is split.
  t.same(bleuTokens('(1,000 yen) don\'t "state-of-the-art" 1990-2000'), [
    '(', '1,000', 'yen', ')', "don't", '"', 'state-of-the-art', '"', '1990', '-', '2000',
  ]);
  t.same(bleuTokens('a &quot;b&quot; &amp; c'), ['a', '"', 'b', '"', '&', 'c']);
  t.same(bleuTokens('   '), []);
  t.same(bleuTokens(''), []);
  t.end();
});

t.test('bleuTokens: Chinese/Japanese targets split into characters', (t) => {
  t.same(bleuTokens('我爱 北京。', 'zh'), ['我', '爱', '北', '京', '。']);
  t.same(bleuTokens('我爱北京', 'zh-CN'), ['我', '爱', '北', '京']);
  t.same(bleuTokens('猫が好き', 'ja_JP'), ['猫', 'が', '好', 'き']);
  t.same(bleuTokens('𠀋x', 'ja'), ['𠀋', 'x'], 'astral code points stay whole');
  t.same(metricTokens('ab c', { chars: true }), ['a', 'b', 'c']);
  t.same(bleuTokens('我爱北京', 'en'), ['我爱北京'], 'other languages: whitespace/punct only');
  t.same(bleuTokens('ab', 'jav'), ['ab'], 'Javanese is not Japanese');
  t.end();
});

t.test('BLEU: perfect match is exactly 1', (t) => {
  const r = bleuFromTexts(['the cat sat on the mat', 'a b c d'], ['the cat sat on the mat', 'a b c d']);
  t.equal(r.bleu, 1);
  t.same(r.precisions, [1, 1, 1, 1]);
  t.equal(r.brevityPenalty, 1);
  t.equal(r.hypLength, 10);
  t.equal(r.refLength, 10);
  t.end();
});

t.test('BLEU: zero overlap is 0', (t) => {
  const r = corpusBleu([split('a b c d')], [split('w x y z')]);
  t.equal(r.bleu, 0);
  t.same(r.precisions, [0, 0, 0, 0]); // 0/4, 0/3, 0/2, 0/1
  t.equal(r.brevityPenalty, 1); // c = 4 = r
  t.end();
});

t.test('BLEU: clipped counts', (t) => {
  // hyp "the the the the" vs ref "the cat": unigram "the" counted min(4, 1) = 1 of 4
  const r1 = corpusBleu([split('the the the the')], [split('the cat')], 1);
  close(t, r1.precisions[0], 1 / 4, 'p1 = 1/4');
  close(t, r1.bleu, 1 / 4, 'BLEU-1 = BP(c=4 >= r=2 → 1) · 1/4');
  // at order 4: bigram "the the" ×3 vs ref bigram "the cat" → 0/3 matches → BLEU 0
  const r4 = corpusBleu([split('the the the the')], [split('the cat')]);
  t.equal(r4.bleu, 0);
  close(t, r4.precisions[0], 1 / 4, 'p1 still 1/4');
  t.equal(r4.precisions[1], 0);
  // Papineni 2002 §2.1: "the the the the the the the" vs "the cat is on the mat"
  // modified unigram precision = min(7, 2)/7 = 2/7; c = 7 >= r = 6 → BP = 1
  const p = corpusBleu([split('the the the the the the the')], [split('the cat is on the mat')], 1);
  close(t, p.bleu, 2 / 7, 'Papineni modified unigram precision 2/7');
  t.end();
});

t.test('BLEU: two-segment corpus, counts summed over the corpus, with brevity penalty', (t) => {
  // seg 1: hyp "the cat sat on the mat" (6) vs ref "the cat is on the mat" (6)
  //   1-grams: the×2 (ref the×2 → 2), cat 1, sat 0, on 1, mat 1          → 5/6
  //   2-grams: the cat ✓, cat sat ✗, sat on ✗, on the ✓, the mat ✓        → 3/5
  //   3-grams: the cat sat ✗, cat sat on ✗, sat on the ✗, on the mat ✓   → 1/4
  //   4-grams: the cat sat on ✗, cat sat on the ✗, sat on the mat ✗      → 0/3
  // seg 2: hyp "a b c d e" (5) vs ref "a b c d e f g" (7): 5/5, 4/4, 3/3, 2/2
  // corpus: p1 = 10/11, p2 = 7/9, p3 = 4/7, p4 = 2/5; c = 11, r = 13
  // BP = exp(1 - 13/11) = exp(-2/11); Π p = (10·7·4·2)/(11·9·7·5) = 560/3465 = 16/99
  // BLEU = exp(-2/11) · (16/99)^(1/4)
  const hyps = ['the cat sat on the mat', 'a b c d e'];
  const refs = ['the cat is on the mat', 'a b c d e f g'];
  const r = bleuFromTexts(hyps, refs);
  const expected = Math.exp(-2 / 11) * Math.pow(16 / 99, 1 / 4);
  close(t, r.bleu, expected, 'corpus BLEU');
  close(t, r.precisions[0], 10 / 11, 'p1');
  close(t, r.precisions[1], 7 / 9, 'p2');
  close(t, r.precisions[2], 4 / 7, 'p3');
  close(t, r.precisions[3], 2 / 5, 'p4');
  close(t, r.brevityPenalty, Math.exp(-2 / 11), 'BP');
  t.equal(r.hypLength, 11);
  t.equal(r.refLength, 13);
  // the same via pre-tokenized input
  close(t, corpusBleu(hyps.map(split), refs.map(split)).bleu, expected, 'corpusBleu agrees');
  // seg 1 alone has p4 = 0 → BLEU 0 (no smoothing)
  t.equal(corpusBleu([split(hyps[0])], [split(refs[0])]).bleu, 0);
  t.end();
});

t.test('BLEU: brevity penalty', (t) => {
  // hyp "the cat" vs ref "the cat sat on the mat", orders 1..2: p1 = 2/2, p2 = 1/1
  // c = 2 < r = 6 → BP = exp(1 - 6/2) = exp(-2); BLEU = exp(-2) · 1
  const r = corpusBleu([split('the cat')], [split('the cat sat on the mat')], 2);
  close(t, r.brevityPenalty, Math.exp(-2), 'BP');
  close(t, r.bleu, Math.exp(-2), 'BLEU');
  // a longer hypothesis is not penalised: c = 3 > r = 2 → BP = 1
  t.equal(corpusBleu([split('the cat sat')], [split('the cat')], 1).brevityPenalty, 1);
  // empty hypothesis → c = 0 → BP = 0, BLEU = 0
  const e = corpusBleu([[]], [split('the cat')]);
  t.equal(e.brevityPenalty, 0);
  t.equal(e.bleu, 0);
  // empty corpus → 0
  t.equal(corpusBleu([], []).bleu, 0);
  t.end();
});

t.test('BLEU: exp smoothing (sacreBLEU smooth_method=exp)', (t) => {
  // hyp "the cat sat down" vs ref "the dog sat down"
  //   p1 = 3/4 (the, sat, down); p2 = 1/3 (sat down)
  //   3-grams 0/2 → first zero order: p3 = 1/(2·2) = 1/4
  //   4-grams 0/1 → second zero order: p4 = 1/(4·1) = 1/4
  //   BP = 1 (4 vs 4); BLEU = (3/4 · 1/3 · 1/4 · 1/4)^(1/4) = (1/64)^(1/4) = 1/(2√2)
  const h = [split('the cat sat down')];
  const rf = [split('the dog sat down')];
  t.equal(corpusBleu(h, rf).bleu, 0, 'unsmoothed: a zero precision → 0');
  const s = corpusBleu(h, rf, 4, { smooth: true });
  close(t, s.bleu, 1 / (2 * Math.SQRT2), 'smoothed BLEU');
  close(t, s.precisions[2], 1 / 4, 'smoothed p3');
  close(t, s.precisions[3], 1 / 4, 'smoothed p4');
  // seg 1 of the corpus test: p = 5/6, 3/5, 1/4, and p4 = 1/(2·3) = 1/6
  // (5/6 · 3/5 · 1/4 · 1/6) = 15/720 = 1/48 → BLEU = (1/48)^(1/4)
  const s2 = corpusBleu([split('the cat sat on the mat')], [split('the cat is on the mat')], 4, { smooth: true });
  close(t, s2.bleu, Math.pow(1 / 48, 1 / 4), 'smoothed seg-1 BLEU');
  // no zero precision → smoothing changes nothing
  const hyps = [split('the cat sat on the mat'), split('a b c d e')];
  const refs = [split('the cat is on the mat'), split('a b c d e f g')];
  close(t, corpusBleu(hyps, refs, 4, { smooth: true }).bleu, corpusBleu(hyps, refs).bleu, 'same when no zeros');
  // hypothesis shorter than 4 tokens: no 4-grams at all → 0 even when smoothed (as sacreBLEU)
  t.equal(corpusBleu([split('the cat sat')], [split('the cat sat')], 4, { smooth: true }).bleu, 0);
  t.end();
});

t.test('BLEU: case-sensitive, Chinese character tokenization, errors', (t) => {
  // "The cat" vs "the cat", order 1: only "cat" matches → 1/2
  close(t, bleuFromTexts(['The cat'], ['the cat'], 'en', { maxOrder: 1 }).bleu, 1 / 2, 'case-sensitive');
  // zh: 我 爱 北 京 vs 我 爱 上 海: p1 = 2/4 (我, 爱), p2 = 1/3 (我爱), BP = 1
  // BLEU-2 = sqrt(1/2 · 1/3) = sqrt(1/6)
  close(t, bleuFromTexts(['我爱北京'], ['我爱上海'], 'zh', { maxOrder: 2 }).bleu, Math.sqrt(1 / 6), 'zh BLEU-2');
  // 3-grams: 我爱北, 爱北京 vs 我爱上, 爱上海 → 0/2 → BLEU-4 = 0
  t.equal(bleuFromTexts(['我爱北京'], ['我爱上海'], 'zh').bleu, 0);
  // identical zh with spaces differing: tokens are characters, so spaces do not matter
  t.equal(bleuFromTexts(['我 爱 北京'], ['我爱北京'], 'zh-TW').bleu, 1);
  t.equal(bleuFromTexts(['我爱北京'], ['我爱上海'], undefined, { chars: true, maxOrder: 2 }).bleu, Math.sqrt(1 / 6));
  // without a CJK language the whole string is one token → no unigram match
  t.equal(bleuFromTexts(['我爱北京'], ['我爱上海']).bleu, 0);
  t.throws(() => corpusBleu([['a']], []), RangeError);
  t.throws(() => bleuFromTexts(['a'], ['a', 'b']), RangeError);
  t.throws(() => corpusBleu([['a']], [['a']], 0), RangeError);
  t.end();
});

t.test('wordTokens: lowercase, Unicode letters/digits, one token per CJK character', (t) => {
  t.same(wordTokens('Hello, World! 3.5 Straße'), ['hello', 'world', '3', '5', 'straße']);
  t.same(wordTokens('我爱北京。コーヒー「です」'), ['我', '爱', '北', '京', 'コ', 'ー', 'ヒ', 'ー', 'で', 'す']);
  t.same(wordTokens('नमस्ते दुनिया'), ['नमस्ते', 'दुनिया'], 'combining marks stay inside words');
  t.same(wordTokens('... !!'), []);
  t.end();
});

t.test('ROUGE-N and ROUGE-L on hand-computed pairs', (t) => {
  // Lin 2004: hyp "police killed the gunman" vs ref "police kill the gunman"
  // LCS = police the gunman = 3 → P = 3/4, R = 3/4, F1 = 3/4
  // ROUGE-1: overlap 3 (police, the, gunman) → 3/4
  // ROUGE-2: hyp {police killed, killed the, the gunman} ∩ ref {police kill, kill the, the gunman} = 1 → 1/3
  t.equal(lcsLength(split('police killed the gunman'), split('police kill the gunman')), 3);
  const a = rougeScores('Police killed the gunman.', 'police kill the gunman');
  close(t, a.rouge1, 3 / 4, 'R1');
  close(t, a.rouge2, 1 / 3, 'R2');
  close(t, a.rougeL, 3 / 4, 'RL');
  // Lin 2004: hyp "the gunman kill police": same unigrams (R1 = 1), LCS = "the gunman" = 2
  // → RL = 2/4; bigrams: only "the gunman" shared of 3 each → 1/3
  const b = rougeScores('the gunman kill police', 'police kill the gunman');
  close(t, b.rouge1, 1, 'R1');
  close(t, b.rouge2, 1 / 3, 'R2');
  close(t, b.rougeL, 1 / 2, 'RL');
  // unequal lengths: hyp "the quick brown fox jumps" (5) vs ref "the fox jumps" (3)
  // LCS = the fox jumps = 3: P = 3/5, R = 1, F1 = 2·(3/5)/(8/5) = 3/4
  // ROUGE-2: hyp bigrams 4, ref bigrams {the fox, fox jumps}: overlap 1 (fox jumps)
  //   P = 1/4, R = 1/2, F1 = 2·(1/8)/(3/4) = 1/3
  const l = rougeL('the quick brown fox jumps', 'the fox jumps');
  close(t, l.precision, 3 / 5, 'RL P');
  close(t, l.recall, 1, 'RL R');
  close(t, l.f1, 3 / 4, 'RL F1');
  const r2 = rougeN('the quick brown fox jumps', 'the fox jumps', 2);
  close(t, r2.precision, 1 / 4, 'R2 P');
  close(t, r2.recall, 1 / 2, 'R2 R');
  close(t, r2.f1, 1 / 3, 'R2 F1');
  // clipping: "the the the" vs "the cat": overlap min(3, 1) = 1 → P = 1/3, R = 1/2
  // F1 = 2·(1/6)/(5/6) = 2/5
  close(t, rougeN('the the the', 'the cat', 1).f1, 2 / 5, 'clipped R1');
  // CJK: 我 爱 北 京 vs 我 爱 上 海: R1 = 2/4, R2 = 1/3 (我爱), LCS = 2 → 2/4
  const c = rougeScores('我爱北京', '我爱上海');
  close(t, c.rouge1, 1 / 2, 'zh R1');
  close(t, c.rouge2, 1 / 3, 'zh R2');
  close(t, c.rougeL, 1 / 2, 'zh RL');
  t.end();
});

t.test('ROUGE edge cases and corpus mean', (t) => {
  t.same(rougeScores('', 'the cat'), { rouge1: 0, rouge2: 0, rougeL: 0 });
  t.same(rougeScores('the cat', '!!'), { rouge1: 0, rouge2: 0, rougeL: 0 });
  t.same(rougeScores('', ''), { rouge1: 0, rouge2: 0, rougeL: 0 }, 'both empty → 0 (rouge_score)');
  // single identical token: no bigrams → R2 = 0, R1 = RL = 1
  t.same(rougeScores('Yes!', 'yes'), { rouge1: 1, rouge2: 0, rougeL: 1 });
  t.same(rougeScores('The Cat.', 'the cat'), { rouge1: 1, rouge2: 1, rougeL: 1 });
  // mean of the two Lin examples: R1 = (3/4 + 1)/2 = 7/8, R2 = (1/3 + 1/3)/2 = 1/3,
  // RL = (3/4 + 1/2)/2 = 5/8
  const m = corpusRouge(
    ['police killed the gunman', 'the gunman kill police'],
    ['police kill the gunman', 'police kill the gunman'],
  );
  close(t, m.rouge1, 7 / 8, 'mean R1');
  close(t, m.rouge2, 1 / 3, 'mean R2');
  close(t, m.rougeL, 5 / 8, 'mean RL');
  t.same(corpusRouge([], []), { rouge1: 0, rouge2: 0, rougeL: 0 });
  t.throws(() => corpusRouge(['a'], []), RangeError);
  t.end();
});

t.test('normalizeAnswer: SQuAD normalization, Unicode punctuation', (t) => {
  t.equal(normalizeAnswer('  The Eiffel Tower! '), 'eiffel tower');
  t.equal(normalizeAnswer('An apple, a pear & the plum.'), 'apple pear plum');
  t.equal(normalizeAnswer("Don't stop U.S."), 'dont stop us', 'punctuation is deleted, not spaced');
  t.equal(normalizeAnswer('«Paris»—France'), 'parisfrance');
  t.equal(normalizeAnswer('theater anthem Théa'), 'theater anthem théa', 'articles only as whole words');
  t.equal(normalizeAnswer('$5 + 3 = 8'), '5 3 8');
  t.equal(normalizeAnswer('...'), '');
  t.end();
});

t.test('exact match and token F1', (t) => {
  t.equal(exactMatch('The Eiffel Tower!', 'eiffel tower'), 1);
  t.equal(exactMatch('«Paris»', 'Paris'), 1);
  t.equal(exactMatch('Eiffel Towers', 'Eiffel Tower'), 0);
  // "the cat sat on the mat" → "cat sat on mat" (4); "a cat on a mat" → "cat on mat" (3)
  // overlap 3: P = 3/4, R = 3/3, F1 = 2·(3/4)/(7/4) = 6/7
  close(t, tokenF1('the cat sat on the mat', 'a cat on a mat'), 6 / 7, 'F1 with articles');
  // bag overlap: "paris paris paris" vs "paris": overlap 1, P = 1/3, R = 1 → F1 = 1/2
  close(t, tokenF1('paris paris paris', 'Paris.'), 1 / 2, 'F1 multiset');
  t.equal(tokenF1('The.', 'a!'), 1, 'both empty after normalization → 1');
  t.equal(exactMatch('The.', 'a!'), 1);
  t.equal(tokenF1('the', 'cat'), 0, 'one empty → 0');
  t.equal(tokenF1('dog', 'cat'), 0, 'no overlap → 0');
  t.end();
});

t.test('corpusQa: means, multiple gold answers take the max', (t) => {
  // Q1 "The Eiffel Tower" vs "Eiffel Tower": EM 1, F1 1
  // Q2 "in 1889" vs "1889": EM 0; P = 1/2, R = 1 → F1 = 2/3
  // Q3 "Paris, France" vs ["Paris", "France, Paris"]:
  //    vs "paris": EM 0, F1 2/3; vs "france paris": EM 0 (order differs), F1 1 (same bag)
  //    → EM 0, F1 1
  // EM = 1/3, F1 = (1 + 2/3 + 1)/3 = 8/9
  const r = corpusQa(['The Eiffel Tower', 'in 1889', 'Paris, France'], ['Eiffel Tower', '1889', ['Paris', 'France, Paris']]);
  close(t, r.exact_match, 1 / 3, 'EM');
  close(t, r.f1, 8 / 9, 'F1');
  t.same(corpusQa([], []), { exact_match: 0, f1: 0 });
  t.throws(() => corpusQa(['a'], []), RangeError);
  t.throws(() => corpusQa(['a'], [[]]), RangeError);
  t.end();
});

t.test('classification: imbalanced 3-class example', (t) => {
  // gold A×6, B×3, C×1. predictions: the A's → A A A A A B; the B's → B B A; the C → A
  const gold = ['A', 'A', 'A', 'A', 'A', 'A', 'B', 'B', 'B', 'C'];
  const pred = ['A', 'A', 'A', 'A', 'A', 'B', 'B', 'B', 'A', 'A'];
  const r = classificationMetrics(pred, gold);
  // accuracy = (5 + 2 + 0)/10
  close(t, r.accuracy, 7 / 10, 'accuracy');
  t.same(Object.keys(r.per_class), ['A', 'B', 'C']);
  // A: tp 5, predicted 7 (5 + 1 from B + 1 from C), support 6
  //    P = 5/7, R = 5/6, F1 = 2·5/(7 + 6) = 10/13
  close(t, r.per_class.A.precision, 5 / 7, 'A P');
  close(t, r.per_class.A.recall, 5 / 6, 'A R');
  close(t, r.per_class.A.f1, 10 / 13, 'A F1');
  t.equal(r.per_class.A.support, 6);
  // B: tp 2, predicted 3 (2 + 1 from A), support 3 → P = R = F1 = 2/3
  close(t, r.per_class.B.precision, 2 / 3, 'B P');
  close(t, r.per_class.B.recall, 2 / 3, 'B R');
  close(t, r.per_class.B.f1, 2 / 3, 'B F1');
  t.equal(r.per_class.B.support, 3);
  // C: never predicted → P = 0 (0/0 → 0), R = 0/1, F1 = 0
  t.same(r.per_class.C, { precision: 0, recall: 0, f1: 0, support: 1 });
  // macro = (10/13 + 2/3 + 0)/3 = (30/39 + 26/39)/3 = 56/117
  close(t, r.macro_f1, 56 / 117, 'macro F1');

  // an extra label D with no gold and no predictions: all 0, still averaged
  // macro = (56/39)/4 = 14/39
  const d = classificationMetrics(pred, gold, ['A', 'B', 'C', 'D']);
  t.same(d.per_class.D, { precision: 0, recall: 0, f1: 0, support: 0 });
  close(t, d.macro_f1, 14 / 39, 'macro F1 with empty class');
  // restricted labels: macro over A, B only = (10/13 + 2/3)/2 = 28/39; accuracy unchanged
  const ab = classificationMetrics(pred, gold, ['A', 'B', 'A']);
  t.same(Object.keys(ab.per_class), ['A', 'B']);
  close(t, ab.macro_f1, 28 / 39, 'macro F1 over A, B');
  close(t, ab.accuracy, 7 / 10, 'accuracy over all items');
  t.end();
});

t.test('classification: label union, odd labels, edge cases', (t) => {
  // a predicted-only label joins the default classes: Z has P = 0/1, R = 0/0 → 0
  // gold x, y; pred x, z: x P = 1/1, R = 1/1 → 1; y: P 0 (never predicted), R 0/1 → 0
  // z: 0 → macro = 1/3, accuracy 1/2
  const r = classificationMetrics(['x', 'z'], ['x', 'y']);
  t.same(Object.keys(r.per_class), ['x', 'y', 'z']);
  close(t, r.macro_f1, 1 / 3, 'macro');
  close(t, r.accuracy, 1 / 2, 'accuracy');
  const p = classificationMetrics(['__proto__', 'constructor'], ['__proto__', 'toString']);
  t.equal(p.per_class['__proto__'].f1, 1);
  t.equal(p.per_class['toString'].support, 1);
  t.same(classificationMetrics([], []), { accuracy: 0, macro_f1: 0, per_class: {} });
  t.throws(() => classificationMetrics(['a'], []), RangeError);
  t.end();
});
