// chrF equals sacreBLEU 2.6.0's CHRF() (character 6-grams, β = 2, whitespace removed, effective order).
// The reference values were computed with sacrebleu 2.6.0:
//   from sacrebleu.metrics import CHRF; CHRF().corpus_score(hyps, [refs]).score
import t from 'tap';
import { corpusChrf } from '../../src/eval/chrf.ts';
import { generationMetrics } from '../../src/eval/task-metrics.ts';

const close = (a: number, b: number) => Math.abs(a - b) < 1e-9;

t.test('chrF matches sacreBLEU on English, German, digits, an empty hypothesis and a short one', async (t) => {
  const hyps = ['the cat sat on the mat', 'hello there general kenobi', '', 'Das ist gut.', 'Straße 42 in München', 'ab'];
  const refs = ['the cat is on the mat', 'hello there!', 'nothing here', 'Das ist sehr gut.', 'Strasse 42, München', 'abcdefgh'];
  const got = corpusChrf(hyps, refs);
  t.ok(close(got * 100, 45.973772001081585), `${got * 100}`);
});

t.test('chrF: CJK by code points, identity, nothing in common, nothing at all', async (t) => {
  t.ok(close(corpusChrf(['大家好世界', 'x'], ['大家好', 'y']) * 100, 75.60137457044675));
  t.equal(corpusChrf(['same text'], ['same text']), 1);
  t.equal(corpusChrf(['abc'], ['xyz']), 0);
  t.equal(corpusChrf([''], ['']), 0);
  t.equal(corpusChrf([], []), 0);
});

t.test('translate metrics carry chrf beside bleu', async (t) => {
  const m = generationMetrics('translate', ['the house is big'], ['the house is small']);
  t.ok(m.chrf! > 0.5 && m.chrf! < 1, `chrf ${m.chrf}`);
  t.equal(m.bleu, 0, 'BLEU-4 of one short sentence with a wrong last word is 0; chrF is not');
});
