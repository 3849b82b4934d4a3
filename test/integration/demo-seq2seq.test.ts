// The shipped Seq2Seq demo models load from models/, record their data licence and held-out metrics,
// beat the copy-the-input baseline clearly, and answer fresh inputs correctly.
import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import { fileURLToPath } from 'node:url';
import { toCardinal as en } from 'n2words/en-US';
import { toCardinal as fr } from 'n2words/fr-FR';
import { initBackend } from '../../src/backend/select.ts';
import { ModelStore } from '../../src/store/registry.ts';
import { ModelCache } from '../../src/infer/model-cache.ts';
import { runSeq2Seq } from '../../src/infer/seq2seq-generate.ts';
import { resolveSeq2SeqParams } from '../../src/infer/params.ts';

const limits = { maxNewTokens: 256, maxPromptChars: 100000 };
const store = new ModelStore(fileURLToPath(new URL('../../models', import.meta.url)));

t.test('models/numbers-en-fr translates number words', async (t) => {
  await initBackend('wasm');
  const cache = new ModelCache(store, 1);
  const lease = await cache.acquire('numbers-en-fr', 'translate');
  const m = lease.model;
  t.match(String(m.manifest.license), /MIT/, 'licence named in the manifest');
  t.same(m.manifest.languages, { source: 'en', target: 'fr' });
  const { bleu, copy_input_bleu } = m.manifest.metrics;
  t.ok(bleu! > 0.6 && bleu! > copy_input_bleu! + 0.5, `held-out BLEU ${bleu} vs copy-the-input ${copy_input_bleu}`);
  const before = tf.memory().numTensors;
  // Fresh numbers, written by the same package the training data came from.
  const numbers = [371, 4082, 15, 99991, 7700, 123, 61, 80000, 2024, 58];
  let right = 0;
  for (const n of numbers) {
    const out = await runSeq2Seq(m, { source: en(n) }, resolveSeq2SeqParams({ num_beams: 4 }, limits, 96));
    if (out.text === fr(n)) right++;
  }
  t.ok(right >= 6, `${right}/${numbers.length} numbers translated exactly`);
  t.equal(tf.memory().numTensors, before, 'no tensors left behind');
  lease.release();
  await cache.clear();
});

t.test('models/countries-qa answers from the context', async (t) => {
  await initBackend('wasm');
  const cache = new ModelCache(store, 1);
  const lease = await cache.acquire('countries-qa', 'qa');
  const m = lease.model;
  t.match(String(m.manifest.license), /MIT/, 'licence named in the manifest');
  const { f1, copy_input_f1 } = m.manifest.metrics;
  t.ok(f1! > copy_input_f1! + 0.3, `held-out F1 ${f1} vs copy-the-input ${copy_input_f1}`);
  const before = tf.memory().numTensors;
  const cases: Array<[string, string, string]> = [
    ['What is the capital of Peru?', 'Peru lies in South America. The capital of Peru is Lima.', 'Lima'],
    ['Which currency does Japan use?', 'The capital of Japan is Tokyo. Japan uses the Japanese Yen.', 'Japanese Yen'],
    ['What is the capital of Norway?', 'The capital of Norway is Oslo. Norway is in Europe.', 'Oslo'],
  ];
  let right = 0;
  for (const [question, context, answer] of cases) {
    const out = await runSeq2Seq(m, { source: question, context }, resolveSeq2SeqParams({}, limits, 64));
    if (out.text === answer) right++;
    else t.comment(`${question} → ${JSON.stringify(out.text)} (expected ${answer})`);
  }
  t.ok(right >= 2, `${right}/${cases.length} answered exactly`);
  t.equal(tf.memory().numTensors, before, 'no tensors left behind');
  lease.release();
  await cache.clear();
});
