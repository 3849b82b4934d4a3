// A copy (pointer-generator) Seq2Seq model trained and served for real, in-process: trainer →
// publish → model cache → the request path. Translate with `copy: true` fits ONE vocabulary for both
// sides (the copy distribution scatters source ids as target ids); serving matches training: greedy
// requests alone and batched together (sources of different lengths, padded source ids) give the same
// text, beam search and sampling run on the mixed distribution, and nothing leaks.
import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/select.ts';
import { normalizeTrainRequest } from '../../src/train/request.ts';
import { trainSeq2Seq } from '../../src/train/train-seq2seq.ts';
import { publishSeq2Seq } from '../../src/train/publish.ts';
import { ModelStore } from '../../src/store/registry.ts';
import { ModelCache } from '../../src/infer/model-cache.ts';
import { runSeq2Seq, type Seq2SeqResult } from '../../src/infer/seq2seq-generate.ts';
import { resolveSeq2SeqParams } from '../../src/infer/params.ts';
import { predictTexts } from '../../src/tasks/seq2seq-predict.ts';
import type { TrainHooks } from '../../src/train/loop.ts';

await initBackend('wasm');

let seed = 3;
const rnd = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
const word = () => Array.from({ length: 3 + Math.floor(rnd() * 3) }, () => 'abcdefghijklmnopqrstuvwxyz'[Math.floor(rnd() * 26)]).join('');
// "bitte <name> anrufen" → "call <name>": the name must be copied, it is different in every row.
const rows = Array.from({ length: 240 }, () => {
  const n = word();
  return { source: `bitte ${n} anrufen`, target: `call ${n}` };
});
const hooks = (logs: string[]): TrainHooks => ({ onProgress: () => undefined, log: (l) => void logs.push(l), shouldStop: () => false });

t.test('copy: one shared vocabulary for translate, trained and served; batched ≡ alone', async (t) => {
  const job = normalizeTrainRequest({
    name: 'cp', task: 'translate', dataset: { rows },
    hyperparameters: { units: 48, embedding_dim: 16, epochs: 12, batch_size: 16, learning_rate: 0.01, dropout: 0, seed: 5, validation_split: 0.1, copy: true, max_source_length: 32, max_target_length: 16 },
  });
  t.equal(job.hyperparameters.copy, true);
  t.equal(normalizeTrainRequest({ name: 'x', task: 'translate', dataset: { rows } }).hyperparameters.copy, false, 'off by default');
  const logs: string[] = [];
  const outcome = await trainSeq2Seq({ ...job, task: 'translate' }, rows, hooks(logs));
  t.equal(outcome.sourceTokenizer, outcome.targetTokenizer, 'one tokenizer for both sides');
  t.equal(outcome.spec.copy, true);
  t.ok(logs.some((l) => l.includes('copy (pointer-generator)')), 'the log names the copy mechanism');
  t.ok(outcome.metrics.exact_match! >= 0.5, `held-out names copied: exact match ${outcome.metrics.exact_match}`);

  // Unseen names of the training names' lengths (3–5): what the trainer's own greedy decoding says.
  const names = ['zqv', 'quix', 'mjoln', 'xyw', 'fjrk'];
  const probes = names.map((n) => ({ source: `bitte ${n} anrufen`, target: '' }));
  const trained = await predictTexts(outcome.model, probes, outcome.sourceTokenizer, outcome.targetTokenizer, 32, 16);
  const store = new ModelStore(t.testdir());
  const { version } = await publishSeq2Seq(store, job, outcome, { dataset: { sha256: 'x', bytes: 1 }, backend: 'wasm' });
  outcome.model.dispose();
  const manifest = (await store.resolve({ name: 'cp', version })).manifest;
  t.match(manifest.tokenizer, { shared: true });
  t.equal(manifest.hyperparameters.copy, true);

  const before = tf.memory().numTensors;
  const cache = new ModelCache(store, 2, 4);
  const lease = await cache.acquire('cp@1', 'translate');
  const m = lease.model;
  const limits = { maxNewTokens: 16, maxPromptChars: 1000 };
  const greedy = resolveSeq2SeqParams(undefined, limits, 16);
  const alone: Seq2SeqResult[] = [];
  for (const n of names) alone.push(await runSeq2Seq(m, { source: `bitte ${n} anrufen` }, greedy));
  t.same(alone.map((r) => r.text), trained, 'serving (batcher path) decodes exactly as the trainer did');
  // After 12 short epochs the model has learned to copy the start of a name it never saw (where to
  // stop is learned later): "call zqv…".
  const copied = alone.filter((r, i) => r.text.startsWith(`call ${names[i]!.slice(0, 3)}`)).length;
  t.ok(copied >= 4, `unseen names' first letters copied: ${copied}/5 (${alone.map((r) => r.text).join(' | ')})`);
  const together = await Promise.all(names.map((n) => runSeq2Seq(m, { source: `bitte ${n} anrufen` }, greedy)));
  t.ok(m.batcher.peakBatch > 1, 'stepped together');
  together.forEach((r, i) => t.equal(r.text, alone[i]!.text, `batched ≡ alone for ${names[i]}`));
  const beam = await runSeq2Seq(m, { source: 'bitte quix anrufen' }, resolveSeq2SeqParams({ num_beams: 3 }, limits, 16));
  t.equal(beam.details.num_beams, 3);
  t.ok(beam.text.length > 0 && beam.details.generated_tokens > 0, `beam: ${beam.text}`);
  const sampled = await runSeq2Seq(m, { source: 'bitte xyw anrufen' }, resolveSeq2SeqParams({ do_sample: true, seed: 1, temperature: 0.5 }, limits, 16));
  t.ok(sampled.text.length > 0, `sampled: ${sampled.text}`);
  lease.release();
  await cache.clear();
  t.equal(tf.memory().numTensors, before, 'no tensors left');
});
