/**
 * `npm run train:demo:real [-- translate|summarize]`: trains the two REAL-data demo models from the
 * Debian packages of `npm run data:real` (REAL_DATA_DIR, default data/real), through the worker's own
 * trainer and publisher (src/train/run-task.ts), publishes each as version 1 of its name (replacing
 * any previous one) and records in its manifest where the data came from (packages, versions,
 * licences) and its quality on held-out rows that training never saw (not even as its validation
 * split), measured through the service's request path with default parameters, beside the
 * copy-the-input / lead-sentence and retrieval baselines on the same rows (`held_out` in the manifest).
 *
 *   de-en        translate  German → English sentences of the Ding dictionary (Debian trans-de-en,
 *                           GPL-2+); 500 held out.
 *   man-summary  summarize  man-page DESCRIPTION → its NAME line (Debian manpages, manpages-dev,
 *                           libssl-doc, perl-doc, tcl8.6-doc, tk8.6-doc; licences per package); 200 held out.
 *
 * A model is published into models/ only when its held-out metric beats copy-the-input, the lead
 * sentence and retrieval (PUBLISH_ANYWAY=1 publishes it regardless, with its honest figures).
 *
 * Settings: the service's defaults plus a training time budget (TIME_BUDGET_MIN, default 18) and
 * whatever DEMO_SETTINGS_<TASK> (JSON: {tokenizer?, hyperparameters?}) adds — empty for the shipped
 * models unless the manifest's `request_overrides` says otherwise.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config.ts';
import { initBackend } from '../src/backend/select.ts';
import { ModelStore } from '../src/store/registry.ts';
import { ModelCache } from '../src/infer/model-cache.ts';
import { InferenceService } from '../src/infer/service.ts';
import { normalizeTrainRequest } from '../src/train/request.ts';
import { describeDataset } from '../src/train/records.ts';
import { trainForTask } from '../src/train/run-task.ts';
import type { TrainRequest } from '../src/schemas/train.ts';
import { packageVersion } from './real-data/debian-packages.ts';
import { MANPAGE_PACKAGES } from './real-data/manpages.ts';
import { TRANS_DE_EN_SOURCE } from './real-data/trans-de-en.ts';
import { loadRealRows, splitRealRows, type RealTask } from './real-data/splits.ts';
import { scoreHeldOut } from './real-data/score-heldout.ts';

interface RealDemo {
  name: string;
  task: RealTask;
  heldOut: number;
  languages?: { source: string; target: string };
  data: { description: string; packages: Array<{ package: string; version: string; license: string }> };
  samples: string[];
}

const DEMOS: Record<RealTask, () => RealDemo> = {
  translate: () => ({
    name: 'de-en',
    task: 'translate',
    heldOut: 500,
    languages: { source: 'de', target: 'en' },
    data: {
      description: `${TRANS_DE_EN_SOURCE.name}: German → English example sentences (scripts/real-data/trans-de-en.ts)`,
      packages: [{ package: 'trans-de-en', version: packageVersion('trans-de-en'), license: TRANS_DE_EN_SOURCE.license }],
    },
    samples: ['Ich habe heute keine Zeit.', 'Das Wetter ist sehr schön.', 'Wo ist der Bahnhof?'],
  }),
  summarize: () => ({
    name: 'man-summary',
    task: 'summarize',
    heldOut: 200,
    data: {
      description: 'Manual pages: the start of the DESCRIPTION section → the NAME line\'s description (scripts/real-data/manpages.ts)',
      packages: MANPAGE_PACKAGES.map((p) => ({ package: p.package, version: packageVersion(p.package), license: p.license })),
    },
    samples: [
      'The mkdir utility creates the directories named as operands, in the order specified, using mode rwxrwxrwx modified by the current umask. If a directory already exists, an error is reported.',
      'The strlen() function calculates the length of the string pointed to by s, excluding the terminating null byte.',
    ],
  }),
};

/** The same split seed as bench/quality.ts: the man-summary demo IS its summarize run (same rows, settings and budget). */
const SEED = 7;
const which = process.argv[2] ?? 'all';
const tasks: RealTask[] = which === 'all' ? ['translate', 'summarize'] : [which as RealTask];
if (!tasks.every((t) => t in DEMOS)) throw new Error(`usage: train-demo-real.ts [translate|summarize|all], got ${which}`);
const budgetMin = Number(process.env.TIME_BUDGET_MIN ?? 18);

const config = loadConfig();
const backend = await initBackend(config.tfjsBackend);
const store = new ModelStore(config.modelsDir);
const service = new InferenceService(new ModelCache(store, 1, config.maxBatchSize), { ...config, maxConcurrentGenerations: 64 });
const scratchDir = mkdtempSync(path.join(tmpdir(), 'seqserve-demo-real-'));
const scratch = new ModelStore(scratchDir);
const scratchService = new InferenceService(new ModelCache(scratch, 1, config.maxBatchSize), { ...config, maxConcurrentGenerations: 64 });
const summary: string[] = [];

for (const task of tasks) {
  const demo = DEMOS[task]();
  const { train, heldOut } = splitRealRows(loadRealRows(task), { heldOut: demo.heldOut, seed: SEED });
  const overrides = JSON.parse(process.env[`DEMO_SETTINGS_${task.toUpperCase()}`] ?? '{}') as Pick<TrainRequest, 'tokenizer' | 'hyperparameters'>;
  const request = {
    name: demo.name,
    task,
    dataset: { rows: train.map((r) => ({ source: r.source, target: r.target })) },
    ...(demo.languages ? { languages: demo.languages } : {}),
    ...overrides,
    hyperparameters: { time_budget_s: budgetMin * 60, ...overrides.hyperparameters } as TrainRequest['hyperparameters'],
  } satisfies TrainRequest;
  const job = normalizeTrainRequest(request);
  console.log(`\n== ${demo.name} (${task}): ${train.length} training rows, ${heldOut.length} held out; backend ${backend.name}`);
  console.log(`   settings after defaults: tokenizer ${JSON.stringify(job.tokenizer)} hyperparameters ${JSON.stringify(job.hyperparameters)}`);
  const started = Date.now();
  const trained = await trainForTask(config, job, {
    onProgress: (p) => {
      if (p.step === p.steps) console.log(`   epoch ${p.epoch}/${p.epochs} loss ${p.loss?.toFixed(3)} val ${p.val_loss?.toFixed(3) ?? '-'} (${Math.round((Date.now() - started) / 1000)} s)`);
    },
    log: (line) => console.log(`   ${line}`),
    shouldStop: () => false,
  });
  const trainS = Math.round((Date.now() - started) / 1000);
  // Scored through the service from a scratch store first, so the one published version carries its held-out record.
  const dataset = await describeDataset(config, job.dataset);
  await trained.publish(scratch, { dataset, backend: backend.name });
  const scores = await scoreHeldOut(scratchService, demo.name, task, train, heldOut, { targetLanguage: demo.languages?.target });
  const { samples, outputs: _outputs, retrieved: _retrieved, ...heldOutRecord } = scores;
  const h = task === 'translate' ? 'bleu' : 'rougeL';
  // Shipped only when it beats every baseline on the held-out rows (PUBLISH_ANYWAY=1 publishes regardless;
  // its manifest then carries the honest held_out figures and quality_warning).
  const beats = scores.model[h]! > Math.max(scores.copy_input[h]!, scores.retrieval[h]!, scores.lead?.[h] ?? 0);
  const publish = beats || process.env.PUBLISH_ANYWAY === '1';
  if (publish) await store.deleteModel(demo.name).catch(() => undefined);
  const licence = demo.data.packages.map((p) => `${p.package}: ${p.license}`).join('; ');
  if (publish) await trained.publish(store, {
    dataset: { ...dataset, source: demo.data.packages.map((p) => `Debian ${p.package} ${p.version}`).join(', '), license: licence },
    backend: backend.name,
    extra: {
      license: licence,
      data_packages: demo.data.packages,
      data_description: demo.data.description,
      trained_by: `npm run train:demo:real -- ${task} (scripts/train-demo-real.ts)`,
      request_overrides: overrides,
      held_out: { ...heldOutRecord, split_seed: SEED, training_wall_s: trainS, parameters: 'service defaults' },
    },
  });
  trained.dispose();

  const line = `${demo.name}${publish ? '@1' : ' (NOT published: below a baseline)'}: held-out ${h} ${scores.model[h]!.toFixed(4)} vs copy ${scores.copy_input[h]!.toFixed(4)}${scores.lead ? `, lead ${scores.lead[h]!.toFixed(4)}` : ''}, retrieval ${scores.retrieval[h]!.toFixed(4)}; trained ${trainS} s`;
  summary.push(line);
  console.log(`\n${line}`);
  for (const s of samples) console.log(`  ${JSON.stringify(s.source.slice(0, 100))}\n    reference ${JSON.stringify(s.reference)}\n    model     ${JSON.stringify(s.output)}`);
  const answering = publish ? service : scratchService;
  for (const source of demo.samples) console.log(`  fresh: ${JSON.stringify(source.slice(0, 100))} → ${JSON.stringify((await answering.seq2seq(task, { model: demo.name, source })).text)}`);
}
rmSync(scratchDir, { recursive: true, force: true });
console.log(`\n${summary.join('\n')}`);
