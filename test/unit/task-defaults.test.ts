// Task defaults (schemas/train.ts TASK_DEFAULTS): summarize trains with BPE 2000 + copy + retrieval
// augmentation unless the request says otherwise; every other task keeps char tokens, no copy, no retrieval.
import t from 'tap';
import { normalizeTrainRequest } from '../../src/train/request.ts';
import type { TrainRequest } from '../../src/schemas/train.ts';

const rows = [{ source: 'a long document', target: 'short' }];
const job = (extra: Partial<TrainRequest>) => normalizeTrainRequest({ name: 'm', dataset: { rows }, ...extra } as TrainRequest);

t.test('summarize defaults to bpe 2000 with copy and retrieval augmentation', async (t) => {
  const d = job({ task: 'summarize' });
  t.same(d.tokenizer, { type: 'bpe', vocab_size: 2000 });
  t.equal(d.hyperparameters.copy, true);
  t.equal(d.hyperparameters.retrieval_augmented, true);
});

t.test('what the request says wins over the task default, field by field', async (t) => {
  t.same(job({ task: 'summarize', tokenizer: { type: 'char' } }).tokenizer, { type: 'char', max_vocab: 5000 });
  t.same(job({ task: 'summarize', tokenizer: { max_vocab: 300 } }).tokenizer, { type: 'char', max_vocab: 300 }, 'a char/word size field means char');
  t.same(job({ task: 'summarize', tokenizer: { vocab_size: 3000 } }).tokenizer, { type: 'bpe', vocab_size: 3000 });
  t.same(job({ task: 'summarize', tokenizer: { type: 'bpe' } }).tokenizer, { type: 'bpe', vocab_size: 4000 }, 'an explicit bpe takes the general bpe default size');
  const off = job({ task: 'summarize', hyperparameters: { copy: false } });
  t.equal(off.hyperparameters.copy, false);
  t.equal(off.hyperparameters.retrieval_augmented, true, 'the other default stays');
  t.equal(job({ task: 'summarize', hyperparameters: { retrieval_augmented: false } }).hyperparameters.retrieval_augmented, false);
});

t.test('other tasks keep char tokens, no copy, no retrieval', async (t) => {
  for (const task of ['translate', 'qa', 'classify', 'generate', 'chat'] as const) {
    const d = job({ task });
    t.same(d.tokenizer, { type: 'char', max_vocab: 5000 }, task);
    t.equal(d.hyperparameters.copy, false, task);
    t.equal(d.hyperparameters.retrieval_augmented, false, task);
  }
});
