// The auto-size policy (train/auto-size.ts): sizes grow with the data, stay in their bounds, apply only
// to what the request left unset, and language models are never auto-sized.
import t from 'tap';
import { applyAutoSize, autoSizes, describeAutoSize } from '../../src/train/auto-size.ts';
import { normalizeTrainRequest } from '../../src/train/request.ts';

t.test('sizes follow the data', async (t) => {
  const tiny = autoSizes({ kind: 'seq2seq', rows: 300, tokens: 6000, vocab: 60 });
  t.same(tiny, { units: 64, layers: 1, embedding_dim: 64, batch_size: 16, learning_rate: 0.002, dropout: 0.1 }, 'a few hundred pairs: the smallest model, capacity-bound: light dropout');
  const small = autoSizes({ kind: 'seq2seq', rows: 2800, tokens: 126000, vocab: 94 });
  t.same(small, { units: 128, layers: 1, embedding_dim: 64, batch_size: 32, learning_rate: 0.002, dropout: 0.3 }, '3k sentence pairs of characters');
  const big = autoSizes({ kind: 'seq2seq', rows: 200000, tokens: 9_000_000, vocab: 16000 });
  t.equal(autoSizes({ kind: 'seq2seq', rows: 20000, tokens: 1_000_000, vocab: 100 }).units, 384, '~1M target ids');
  t.same(big, { units: 512, layers: 2, embedding_dim: 256, batch_size: 64, learning_rate: 0.003, dropout: 0.1 }, 'large data: capped width, two layers');
  t.equal(autoSizes({ kind: 'classify', rows: 900, tokens: 1_000_000, vocab: 3000 }).units, 256, 'classify is capped at 256');
  // Seq2Seq sizes from target characters whatever the tokenizer: the man-page summaries (the
  // bench:quality split) are 27,370 BPE ids and 117,457 characters.
  const bpeIds = { kind: 'seq2seq' as const, rows: 2348, tokens: 27_370, vocab: 2000 };
  t.same([autoSizes(bpeIds).units, autoSizes(bpeIds).dropout], [64, 0.1], 'sized from BPE ids: the smallest model');
  const fromChars = autoSizes({ ...bpeIds, chars: 117_457 });
  t.same([fromChars.units, fromChars.dropout, fromChars.embedding_dim], [128, 0.3, 128], 'sized from their characters: 128 units, dropout 0.3');
  const summarize = autoSizes({ ...bpeIds, chars: 117_457, task: 'summarize' });
  t.same([summarize.units, summarize.dropout], [128, 0.45], 'a summarizer of that size: dropout 0.45');
  t.equal(autoSizes({ ...bpeIds, chars: 117_457, task: 'translate' }).dropout, 0.3, 'a translator: 0.3');
  t.equal(autoSizes({ ...bpeIds, chars: 500_000, task: 'summarize' }).dropout, 0.2, 'above 250k characters summarize follows the general rule');
  t.equal(autoSizes({ ...bpeIds, chars: 20_000, task: 'summarize' }).dropout, 0.1, 'and at the smallest width too');
  t.same(autoSizes({ kind: 'seq2seq', rows: 2800, tokens: 126000, vocab: 94, chars: 126000 }), small, 'character data: the same either way');
  let last = 0;
  for (const tokens of [1e3, 1e4, 5e4, 1e5, 3e5, 1e6, 1e7]) {
    const u = autoSizes({ kind: 'seq2seq', rows: 1000, tokens, vocab: 100 }).units;
    t.ok(u >= last && u % 32 === 0 && u >= 64 && u <= 512, `${tokens} tokens → ${u} units (monotone, multiple of 32, in [64, 512])`);
    last = u;
  }
});

t.test('only what the request left unset is auto-sized; generate never is', async (t) => {
  const rows = [{ source: 'a', target: 'b' }];
  const job = normalizeTrainRequest({ name: 'x', task: 'translate', dataset: { rows }, hyperparameters: { units: 48, learning_rate: 0.01 } });
  t.same(job.auto_size, ['layers', 'embedding_dim', 'batch_size', 'dropout']);
  const stats = { kind: 'seq2seq' as const, rows: 2800, tokens: 126000, vocab: 94 };
  const { hyperparameters: hp, chosen } = applyAutoSize(job, stats);
  t.equal(hp.units, 48, 'the given units stay');
  t.equal(hp.learning_rate, 0.01, 'the given learning rate stays');
  t.equal(hp.embedding_dim, 48, 'the embedding never exceeds the (given) units');
  t.same(chosen, { layers: 1, embedding_dim: 48, batch_size: 32, dropout: 0.3 });
  t.match(describeAutoSize(stats, chosen), /^auto-size \(2800 rows, 126000 tokens, vocabulary 94\): layers 1, embedding_dim 48, batch_size 32, dropout 0\.3$/);
  const lm = normalizeTrainRequest({ name: 'x', dataset: { text: 'abc' } });
  t.equal(lm.auto_size, undefined, 'language models keep the fixed defaults');
  const all = normalizeTrainRequest({ name: 'x', task: 'classify', dataset: { rows }, hyperparameters: { units: 8, layers: 1, embedding_dim: 4, batch_size: 4, learning_rate: 0.1, dropout: 0 } });
  t.equal(all.auto_size, undefined, 'nothing left to the policy');
  t.same(applyAutoSize(all, stats).chosen, {});
});

t.test('epochs is a fixed count; max_epochs a bound with early stopping', async (t) => {
  const rows = [{ source: 'a', target: 'b' }];
  const fixed = normalizeTrainRequest({ name: 'x', task: 'translate', dataset: { rows }, hyperparameters: { epochs: 7 } }).hyperparameters;
  t.same([fixed.max_epochs, fixed.patience], [7, null]);
  const bounded = normalizeTrainRequest({ name: 'x', task: 'translate', dataset: { rows }, hyperparameters: { max_epochs: 7 } }).hyperparameters;
  t.same([bounded.max_epochs, bounded.patience], [7, 3]);
  const both = normalizeTrainRequest({ name: 'x', task: 'translate', dataset: { rows }, hyperparameters: { epochs: 7, patience: 2 } }).hyperparameters;
  t.same([both.max_epochs, both.patience], [7, 2]);
  t.throws(() => normalizeTrainRequest({ name: 'x', task: 'translate', dataset: { rows }, hyperparameters: { epochs: 7, max_epochs: 9 } }), { code: 'invalid_parameter', param: 'hyperparameters.epochs' });
});

t.test('Transformer policy: width from the data, heads dividing it, requested values kept', async (t) => {
  const { transformerAutoSizes } = await import('../../src/train/auto-size.ts');
  t.match(transformerAutoSizes(1_000_000), { embedding_dim: 128, heads: 4, layers: 4, context_length: 64, dropout: 0.1, learning_rate: 0.001, weight_decay: 0.1, lr_schedule: 'cosine' }, 'nanoGPT laptop scale at 1M tokens');
  t.match(transformerAutoSizes(2000), { embedding_dim: 64, heads: 2, layers: 2, dropout: 0.2 }, 'tiny data: the smallest width');
  t.match(transformerAutoSizes(50_000_000), { embedding_dim: 256, heads: 8, context_length: 128, dropout: 0 });
  t.equal(transformerAutoSizes(1_000_000, { heads: 6 }).embedding_dim % 6, 0, 'a given heads makes the width a multiple of it');
  t.equal(transformerAutoSizes(1_000_000, { heads: 6 }).heads, 6);
  t.equal(transformerAutoSizes(1_000_000, { embedding_dim: 96 }).heads, 3, 'a given width gets a head count dividing it');
  t.equal(transformerAutoSizes(1_000_000, { embedding_dim: 100 }).heads, 2, '100 / 32 → 3 does not divide; 2 does');
});
