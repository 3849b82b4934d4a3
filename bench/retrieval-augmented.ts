/**
 * Plain vs retrieval-augmented Seq2Seq on real pairs, in-process (wasm), with the service's own
 * trainer (train/train-seq2seq.ts): the same seeded subset, split, settings and seed; only
 * `retrieval_augmented` differs. Prints the held-out metrics beside the copy-the-input, lead and
 * retrieval (translation-memory) baselines computed on the same rows, plus time and steps, as one
 * JSON line (and a table row).
 *
 * Usage:
 *   node --import tsx bench/retrieval-augmented.ts --data data/real/translate-de-en.jsonl \
 *     --task translate --rows 3000 --val 200 --ra [--epochs 10] [--hp '{"units":128}'] [--tokenizer char|word|bpe] [--vocab N]
 * `--rows` takes a seeded random subset (seed 7) of the file; `--val` rows of it are held out (by
 * `group` when the rows have one). Data: scripts/real-data/*.ts produce the JSONL files.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/select.ts';
import { createRng } from '../src/decode/rng.ts';
import { normalizeTrainRequest } from '../src/train/request.ts';
import { trainSeq2Seq } from '../src/train/train-seq2seq.ts';
import { pairExamples, type PairTask } from '../src/tasks/task-data.ts';
import type { TrainRequest } from '../src/schemas/train.ts';

const { values } = parseArgs({
  options: {
    data: { type: 'string' }, task: { type: 'string', default: 'translate' }, rows: { type: 'string', default: '3000' },
    val: { type: 'string', default: '200' }, ra: { type: 'boolean', default: false }, epochs: { type: 'string', default: '10' },
    hp: { type: 'string', default: '{}' }, tokenizer: { type: 'string', default: 'char' }, 'no-group': { type: 'boolean', default: false },
    lang: { type: 'string' }, vocab: { type: 'string' },
  },
});
const backend = await initBackend('wasm');
const task = values.task as PairTask;
const all = readFileSync(values.data!, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
const rng = createRng(7);
for (let i = all.length - 1; i > 0; i--) {
  const j = Math.floor(rng() * (i + 1));
  [all[i], all[j]] = [all[j]!, all[i]!];
}
const rows = all.slice(0, Number(values.rows)).map((r) => (values['no-group'] ? { source: r.source!, target: r.target! } : r));
const examples = pairExamples(task, rows);
const body: TrainRequest = {
  name: 'bench', task, dataset: { rows: [] },
  tokenizer: { type: values.tokenizer as 'char' | 'word' | 'bpe', ...(values.vocab ? { vocab_size: Number(values.vocab) } : {}) },
  ...(values.lang ? { languages: { source: values.lang.split(':')[0]!, target: values.lang.split(':')[1]! } } : {}),
  hyperparameters: { epochs: Number(values.epochs), validation_split: Number(values.val) / examples.length, retrieval_augmented: values.ra, ...JSON.parse(values.hp!) },
};
const job = normalizeTrainRequest(body);
const started = Date.now();
const outcome = await trainSeq2Seq({ ...job, task }, examples, {
  onProgress: () => undefined,
  log: (line) => void process.stderr.write(`${((Date.now() - started) / 1000).toFixed(0)}s ${line}\n`),
  shouldStop: () => false,
});
const m = outcome.metrics;
const head = task === 'translate' ? 'bleu' : task === 'summarize' ? 'rougeL' : 'f1';
const r = (k: string) => (m[k] === undefined ? 'n/a' : (m[k]! * (head === 'bleu' ? 100 : 1)).toFixed(head === 'bleu' ? 1 : 3));
console.log(JSON.stringify({ task, rows: rows.length, retrieval_augmented: values.ra, hyperparameters: job.hyperparameters, tokenizer: job.tokenizer, backend: backend.name, steps: outcome.steps, seconds: Math.round((Date.now() - started) / 1000), metrics: m, quality_warning: outcome.qualityWarning }));
console.log(`| ${task} | ${values.ra ? 'retrieval-augmented' : 'plain'} | ${r(head)} | ${r(`retrieval_${head}`)} | ${r(`copy_input_${head}`)} | ${task === 'summarize' ? r('lead_rougeL') : '—'} | ${m.train_loss?.toFixed(3)} / ${m.val_loss?.toFixed(3)} | ${outcome.steps} | ${Math.round((Date.now() - started) / 1000)} s |`);
outcome.model.dispose();
if (tf.memory().numTensors > 0) process.stderr.write(`tensors left: ${tf.memory().numTensors}\n`);
