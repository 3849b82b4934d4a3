/**
 * Training-dynamics measurement on real data (docs/training.md, "Convergence and defaults"):
 * trains one Seq2Seq model through the worker's own trainer (src/train/run-task.ts) on a seeded
 * sample of a real JSONL file, prints every log line and epoch, and ends with one JSON line
 * `RESULT {...}` — the held-out metrics, the copy-the-input and translation-memory baselines, the
 * stop reason and the wall time. The model is published to MEASURE_MODELS (default
 * /tmp/measure-models) as NAME, so scripts/measure-decoding.ts can score decoding settings on it.
 *
 *   node --import tsx scripts/measure-convergence.ts DATA NAME [HYPERPARAMETERS-JSON]
 *
 * DATA: translate | summarize (files under REAL_DATA, default data/real); ROWS (3000) rows
 * of a seeded shuffle (SHUFFLE_SEED 1), HELDOUT (200) of them held out by the trainer's split;
 * TOKENIZER (char | word; default char), TASK_OVERRIDES as JSON merged into the request.
 */
import { initBackend } from '../src/backend/select.ts';
import { ModelStore } from '../src/store/registry.ts';
import { normalizeTrainRequest } from '../src/train/request.ts';
import { describeDataset } from '../src/train/records.ts';
import { trainForTask } from '../src/train/run-task.ts';
import { measureSample } from './measure-sample.ts';
import type { TrainRequest } from '../src/schemas/train.ts';

const [data = 'translate', name = 'measure', hpJson = '{}'] = process.argv.slice(2);
const { rows, heldOut } = measureSample(data);

const request: TrainRequest = {
  name,
  task: data === 'translate' ? 'translate' : 'summarize',
  dataset: { rows },
  ...(data === 'translate' ? { languages: { source: 'de', target: 'en' } } : {}),
  tokenizer: { type: (process.env.TOKENIZER ?? 'char') as 'char' | 'word' },
  hyperparameters: { validation_split: heldOut / rows.length, ...JSON.parse(hpJson) },
  ...JSON.parse(process.env.TASK_OVERRIDES ?? '{}'),
};

const backend = await initBackend('wasm');
const job = normalizeTrainRequest(request);
const started = Date.now();
const stamp = () => `${((Date.now() - started) / 1000).toFixed(0)}s`;
let lastEpoch = -1;
const trained = await trainForTask({ dataDir: '/tmp/measure-data', maxDatasetBytes: 1 << 30 }, job, {
  onProgress: (p) => {
    if (p.epoch !== lastEpoch && p.step === p.steps) {
      lastEpoch = p.epoch;
      console.log(`[${stamp()}] progress ${JSON.stringify(p)}`);
    }
  },
  log: (line) => console.log(`[${stamp()}] ${line}`),
  shouldStop: () => false,
});
const store = new ModelStore(process.env.MEASURE_MODELS ?? '/tmp/measure-models');
const { version } = await trained.publish(store, { dataset: await describeDataset({ dataDir: '/tmp/measure-data', maxDatasetBytes: 1 << 30 }, job.dataset), backend: backend.name });
const manifest = (await store.get(name)).versions.find((v) => v.version === version)!.manifest;
console.log(`RESULT ${JSON.stringify({ data, name, version, wall_s: Math.round((Date.now() - started) / 1000), hyperparameters: manifest.hyperparameters, training: manifest.training, metrics: trained.metrics })}`);
trained.dispose();
