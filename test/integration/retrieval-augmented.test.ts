// Retrieval-augmented Seq2Seq, trained and served for real (in-process: trainer → publish → model
// cache → the request path). Each target is an arbitrary code for a key word that appears in the
// source in several phrasings; a retrieval-augmented model only has to learn to copy the target of
// the nearest training row, which its encoder reads after ⟨sep⟩. The test proves the stored index is
// what serving reads: after the index's targets are replaced by new codes (a translation-memory
// update, no retraining), the same model answers with the new codes.
import t from 'tap';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/select.ts';
import { normalizeTrainRequest } from '../../src/train/request.ts';
import { trainSeq2Seq } from '../../src/train/train-seq2seq.ts';
import { publishSeq2Seq } from '../../src/train/publish.ts';
import { ModelStore } from '../../src/store/registry.ts';
import { ModelCache } from '../../src/infer/model-cache.ts';
import { runSeq2Seq } from '../../src/infer/seq2seq-generate.ts';
import { resolveSeq2SeqParams } from '../../src/infer/params.ts';
import { evaluateModel } from '../../src/infer/evaluate.ts';
import { RETRIEVAL_FILE, type RetrievalJson } from '../../src/tasks/retrieval.ts';
import type { TrainHooks } from '../../src/train/loop.ts';

await initBackend('wasm');

let seed = 11;
const rnd = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
const pick = (letters: string, n: number) => Array.from({ length: n }, () => letters[Math.floor(rnd() * letters.length)]).join('');
const keys = [...new Set(Array.from({ length: 140 }, () => pick('abcdefghijklmno', 4)))].slice(0, 100);
const code = new Map(keys.map((k) => [k, pick('pqrstuvwxyz', 4)]));
const phrasings = (k: string) => [`${k}`, `get ${k}`, `${k} now`];
const rows = keys.flatMap((k) => phrasings(k).map((source) => ({ source, target: code.get(k)! })));
const hooks = (logs: string[]): TrainHooks => ({ onProgress: () => undefined, log: (l) => void logs.push(l), shouldStop: () => false });

t.test('retrieval-augmented: trains on source ⟨sep⟩ nearest other target, serves with the stored index', async (t) => {
  const job = normalizeTrainRequest({
    name: 'ra', task: 'translate', dataset: { rows },
    hyperparameters: { units: 48, embedding_dim: 16, epochs: 14, batch_size: 16, learning_rate: 0.01, dropout: 0, seed: 5, validation_split: 0.1, retrieval_augmented: true, max_source_length: 32, max_target_length: 8 },
  });
  t.equal(job.hyperparameters.retrieval_augmented, true);
  const logs: string[] = [];
  const outcome = await trainSeq2Seq({ ...job, task: 'translate' }, rows, hooks(logs));
  t.ok(logs.some((l) => l.includes('retrieval-augmented inputs')), 'the log says the inputs are augmented');
  const m = outcome.metrics;
  // Held-out rows are other phrasings of training keys: the nearest training row carries the right code.
  t.ok(m.retrieval_exact_match! > 0.9, `retrieval baseline exact match ${m.retrieval_exact_match}`);
  t.ok(m.exact_match! >= 0.8, `the model copies the retrieved target: held-out exact match ${m.exact_match}`);
  t.ok(outcome.sourceTokenizer.encode('pqrstuvwxyz').every((id) => id > 3), 'the source vocabulary covers target characters');

  const store = new ModelStore(t.testdir());
  const { version, dir } = await publishSeq2Seq(store, job, outcome, { dataset: { sha256: 'x', bytes: 1 }, backend: 'wasm' });
  outcome.model.dispose();
  const manifest = (await store.resolve({ name: 'ra', version })).manifest;
  t.equal(manifest.hyperparameters.retrieval_augmented, true);
  t.match(manifest.retrieval, { file: RETRIEVAL_FILE, rows: outcome.retrieval.size });
  const stored = JSON.parse(await readFile(join(dir, RETRIEVAL_FILE), 'utf8')) as RetrievalJson;
  t.equal(stored.sources.length, rows.length, 'the published index holds every row, the validation rows included');

  const tensorsBefore = tf.memory().numTensors;
  const cache = new ModelCache(store, 2);
  const params = resolveSeq2SeqParams(undefined, { maxNewTokens: 16, maxPromptChars: 1000 }, 8);
  const ask = async (ref: string, source: string, p = params) => {
    const lease = await cache.acquire(ref, 'translate');
    try {
      return (await runSeq2Seq(lease.model, { source }, p)).text;
    } finally {
      lease.release();
    }
  };
  // Unseen phrasings of known keys, served through the request path.
  const probe = keys.slice(0, 30);
  let right = 0;
  for (const k of probe) if ((await ask('ra@1', `please ${k}`)) === code.get(k)) right++;
  t.ok(right >= 24, `${right}/${probe.length} unseen phrasings answered with the key's code`);

  // The same weights with an updated memory: every stored target replaced by a fresh code.
  const fresh = new Map(keys.map((k) => [code.get(k)!, pick('pqrstuvwxyz', 4)]));
  const updated = { ...stored, targets: stored.targets.map((x) => fresh.get(x) ?? x) };
  const v2 = await store.publish('ra', async (tmp) => {
    for (const f of await readdir(dir)) if (f !== 'manifest.json' && f !== RETRIEVAL_FILE) await writeFile(join(tmp, f), await readFile(join(dir, f)));
    await writeFile(join(tmp, RETRIEVAL_FILE), JSON.stringify(updated));
  }, { ...manifest });
  let followed = 0;
  for (const k of probe) if ((await ask(`ra@${v2.version}`, `please ${k}`)) === fresh.get(code.get(k)!)) followed++;
  t.ok(followed >= 20, `${followed}/${probe.length} answers follow the updated memory: serving reads the stored index`);
  // Beam search reads it too, and weighs the retrieved target itself as a finished hypothesis.
  const beams = resolveSeq2SeqParams({ num_beams: 3 }, { maxNewTokens: 16, maxPromptChars: 1000 }, 8);
  let beamFollowed = 0;
  for (const k of probe) if ((await ask(`ra@${v2.version}`, `please ${k}`, beams)) === fresh.get(code.get(k)!)) beamFollowed++;
  t.ok(beamFollowed >= followed, `${beamFollowed}/${probe.length} beam-search answers follow the updated memory (greedy: ${followed})`);

  // /evaluate reads the index too: the retrieval baseline and the augmented inputs.
  const lease = await cache.acquire('ra@1', 'translate');
  const ev = await evaluateModel(lease.model, probe.map((k) => ({ source: `please ${k}`, target: code.get(k)! })), {}, 100);
  lease.release();
  t.ok(ev.metrics.retrieval_exact_match! > 0.9 && ev.metrics.exact_match! >= 0.8, JSON.stringify(ev.metrics));

  await cache.clear();
  t.equal(tf.memory().numTensors, tensorsBefore, 'serving and evaluating leave no tensors behind');
});
