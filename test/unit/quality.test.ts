import t from 'tap';
import { ngramPerplexities } from '../../src/eval/ngram.ts';
import { MIN_STEPS, qualityWarning } from '../../src/eval/quality.ts';
import { leadBaseline, leadSentence, retrievalBaseline } from '../../src/eval/task-metrics.ts';

t.test('qualityWarning: null when the model beats every baseline; the strongest baseline otherwise', (t) => {
  t.equal(qualityWarning('translate', { bleu: 0.3, retrieval_bleu: 0.14, copy_input_bleu: 0.05 }), null);
  const w = qualityWarning('translate', { bleu: 0.002, retrieval_bleu: 0.142, copy_input_bleu: 0.048, train_loss: 4.2, val_loss: 4.39 }, { steps: 430, train_loss: 4.2, val_loss: 4.39 })!;
  t.match(w, { reason: 'too_few_steps', metric: 'bleu', value: 0.002, baseline: 'retrieval_bleu', baseline_value: 0.142 });
  t.match(w.message, /held-out bleu 0\.0020 does not beat the retrieval baseline \(retrieval_bleu 0\.1420/);
  t.match(w.message, /only 430 optimizer steps/);
  // equal is not beating; the strongest of several baselines is named (lead beats retrieval here)
  const s = qualityWarning('summarize', { rougeL: 0.2, retrieval_rougeL: 0.1, lead_rougeL: 0.25, copy_input_rougeL: 0.12 })!;
  t.equal(s.baseline, 'lead_rougeL');
  t.match(s.message, /lead baseline .*first sentence/);
  t.ok(qualityWarning('qa', { f1: 0.5, retrieval_f1: 0.5 }), 'a tie is a warning');
  t.end();
});

t.test('qualityWarning: nothing to judge → null', (t) => {
  t.equal(qualityWarning('translate', { bleu: 0.1 }), null, 'no baseline');
  t.equal(qualityWarning('translate', { retrieval_bleu: 0.1 }), null, 'no metric');
  t.equal(qualityWarning('unknown-task', { bleu: 0, retrieval_bleu: 1 }), null);
  t.end();
});

t.test('qualityWarning: perplexity is lower-is-better', (t) => {
  t.equal(qualityWarning('generate', { perplexity: 5, bigram_perplexity: 9, unigram_perplexity: 20 }), null);
  const w = qualityWarning('generate', { perplexity: 12, bigram_perplexity: 9, unigram_perplexity: 20 })!;
  t.equal(w.baseline, 'bigram_perplexity', 'the lower (stronger) baseline');
  t.end();
});

t.test('qualityWarning: the reason from losses, steps and data size', (t) => {
  const bad = { bleu: 0, retrieval_bleu: 0.1 };
  const reason = (facts: Parameters<typeof qualityWarning>[2]) => qualityWarning('translate', bad, facts)!.reason;
  // the 40-epoch run: train 1.77, held-out 3.93 → overfitting (or too little data when small)
  t.equal(reason({ train_loss: 1.77, val_loss: 3.93, steps: 1720, train_examples: 2800 }), 'overfitting');
  t.equal(reason({ train_loss: 1.77, val_loss: 3.93, steps: 1720, train_examples: 500 }), 'too_little_data');
  // close losses: too few steps below MIN_STEPS, underfitting above
  t.equal(reason({ train_loss: 4.2, val_loss: 4.39, steps: MIN_STEPS - 1 }), 'too_few_steps');
  t.equal(reason({ train_loss: 4.2, val_loss: 4.39, steps: MIN_STEPS }), 'underfitting');
  t.equal(reason({ steps: 10 }), 'too_few_steps', 'no losses: by steps');
  t.equal(reason({}), 'too_few_steps');
  t.match(qualityWarning('classify', { macro_f1: 0.2, majority_class_macro_f1: 0.3 }, { train_loss: 0.1, val_loss: 2, steps: 5000, train_examples: 100000 })!.message, /well above the training loss/);
  t.end();
});

t.test('ngramPerplexities: hand-computed add-k unigram and bigram', (t) => {
  // V = 3; train 0 1 0 1 0 1 (N = 6): c(0) = c(1) = 3; bigrams 0→1 ×3, 1→0 ×2
  const train = [0, 1, 0, 1, 0, 1];
  const val = [0, 1, 2];
  const r = ngramPerplexities(train, val, 3)!;
  const uni = Math.exp(-(Math.log(4 / 9) + Math.log(4 / 9) + Math.log(1 / 9)) / 3);
  // P(1|0) = (3 + .1)/(3 + .3); P(2|1) = (0 + .1)/(2 + .3) — "1" starts 2 bigrams in train
  const bi = Math.exp(-(Math.log(3.1 / 3.3) + Math.log(0.1 / 2.3)) / 2);
  t.ok(Math.abs(r.unigram_perplexity - uni) < 1e-9, `unigram ${r.unigram_perplexity} vs ${uni}`);
  t.ok(Math.abs(r.bigram_perplexity - bi) < 1e-9, `bigram ${r.bigram_perplexity} vs ${bi}`);
  t.equal(ngramPerplexities(train, [1], 3), null, 'one held-out id predicts nothing');
  // a predictable stream: the bigram model is far better than the unigram one
  const cyc = Array.from({ length: 3000 }, (_, i) => i % 5);
  const p = ngramPerplexities(cyc.slice(0, 2500), cyc.slice(2500), 5)!;
  t.ok(p.bigram_perplexity < 1.01 && p.unigram_perplexity > 4.9, JSON.stringify(p));
  t.end();
});

t.test('leadSentence and the lead / retrieval baselines', (t) => {
  t.equal(leadSentence('  The cat sat. Then it slept!  More. '), 'The cat sat.');
  t.equal(leadSentence('no full stop here'), 'no full stop here');
  t.equal(leadSentence(''), '');
  const ex = [{ source: 'Lists files. It has many options.', target: 'lists files' }];
  t.equal(leadBaseline(ex).lead_rougeL, 1);
  t.same(Object.keys(leadBaseline(ex)).sort(), ['lead_exact_match', 'lead_rouge1', 'lead_rouge2', 'lead_rougeL']);
  const r = retrievalBaseline('translate', ['the cat', 'x'], [{ source: 'a', target: 'the cat' }, { source: 'b', target: 'a dog' }]);
  t.equal(r.retrieval_exact_match, 0.5);
  t.type(r.retrieval_bleu, 'number');
  t.end();
});
