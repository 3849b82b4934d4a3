/**
 * `npm run bench:quality`: model quality on REAL data with the DEFAULT settings, against the
 * baselines a model must beat (issue 7's targets). For each task it takes a seeded subset of the
 * real data (scripts/real-data/splits.ts), holds out rows that training never sees, trains through
 * the worker's own path (src/train/run-task.ts trainForTask) from a request that names only the
 * task, data, columns and languages (plus a training time budget), publishes into a temporary model
 * store, decodes every held-out row through the service's request path with default parameters
 * (scripts/real-data/score-heldout.ts) and prints the metric beside copy-the-input / lead-sentence
 * and retrieval baselines on the same rows.
 *
 *   translate  3,000 German→English pairs of Debian trans-de-en, 200 held out; BLEU.
 *              Target: BLEU ≥ 1.5 × the translation memory's, within 20 minutes of training.
 *   summarize  all ~2,800 man-page DESCRIPTION → NAME-line pairs, 200 held out (by row); ROUGE-L.
 *              Target: ROUGE-L ≥ lead sentence + 0.05 and ≥ retrieval.
 *
 * Needs the data of `npm run data:real` (REAL_DATA_DIR, default data/real).
 * Options: --task translate|summarize|all (all), --rows N (translate 3000, summarize all),
 *          --heldout N (200), --minutes M (training time budget per task, 18: training plus the held-out decoding stays within 20), --seed S (7),
 *          --out FILE (JSON results, default bench/out/quality-<task>.json),
 *          --settings JSON ({tokenizer?, hyperparameters?} added to the request — NOT the defaults:
 *          for finding which setting fixes a default that misses its target; printed with the results),
 *          --decodings JSON (an array of Seq2Seq `parameters` objects: after the default decoding, the
 *          same model scores each of them on the same held-out rows),
 *          --keep DIR (publish into the model store DIR and keep it, instead of a temporary one).
 * Results: bench/README.md "Quality on real data".
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { arg } from './lib/args.ts';
import { loadConfig } from '../src/config.ts';
import { initBackend } from '../src/backend/select.ts';
import { ModelStore } from '../src/store/registry.ts';
import { ModelCache } from '../src/infer/model-cache.ts';
import { InferenceService } from '../src/infer/service.ts';
import { normalizeTrainRequest } from '../src/train/request.ts';
import { trainForTask } from '../src/train/run-task.ts';
import { describeDataset } from '../src/train/records.ts';
import { HYPERPARAMETER_DEFAULTS, type TrainRequest } from '../src/schemas/train.ts';
import { loadRealRows, splitRealRows, type RealTask } from '../scripts/real-data/splits.ts';
import { scoreHeldOut, type HeldOutScores } from '../scripts/real-data/score-heldout.ts';
import type { Seq2SeqParameterInput } from '../src/infer/params.ts';

const which = arg('task', 'all');
const tasks: RealTask[] = which === 'all' ? ['translate', 'summarize'] : [which as RealTask];
if (!tasks.every((t) => t === 'translate' || t === 'summarize')) throw new Error(`--task must be translate, summarize or all; got ${which}`);
const heldOutRows = Number(arg('heldout', '200'));
const minutes = Number(arg('minutes', '18'));
const seed = Number(arg('seed', '7'));
const settings = JSON.parse(arg('settings', '{}')) as Pick<TrainRequest, 'tokenizer' | 'hyperparameters'>;
const decodings = JSON.parse(arg('decodings', '[]')) as Seq2SeqParameterInput[];

const config = loadConfig();
const backend = await initBackend(config.tfjsBackend);
/** --keep DIR: publish into DIR and keep it (re-decode the trained models later); default a temporary store. */
const keepDir = arg('keep', '');
const storeDir = keepDir || mkdtempSync(path.join(tmpdir(), 'seqserve-quality-'));
const store = new ModelStore(storeDir);
const cache = new ModelCache(store, 1, config.maxBatchSize);
const service = new InferenceService(cache, { ...config, maxConcurrentGenerations: 64 });
/** A build whose trainer takes a time budget gets one; an older build trains its default epochs. */
const hasTimeBudget = 'time_budget_s' in HYPERPARAMETER_DEFAULTS;

const HEADLINE: Record<RealTask, 'bleu' | 'rougeL'> = { translate: 'bleu', summarize: 'rougeL' };
const fmt = (v: number | undefined) => (v === undefined ? '–' : v.toFixed(3));

for (const task of tasks) {
  const rows = Number(arg('rows', task === 'translate' ? '3000' : '0')) || undefined;
  const { train, heldOut } = splitRealRows(loadRealRows(task), { rows, heldOut: heldOutRows, seed });
  const name = `quality-${task}`;
  const request = {
    name,
    task,
    dataset: { rows: train.map((r) => ({ source: r.source, target: r.target })) },
    ...(task === 'translate' ? { languages: { source: 'de', target: 'en' } } : {}),
    // Default settings: nothing but the training time budget (when this build has one), unless --settings.
    ...settings,
    hyperparameters: { ...(hasTimeBudget ? { time_budget_s: minutes * 60 } : {}), ...settings.hyperparameters } as TrainRequest['hyperparameters'],
  } satisfies TrainRequest;
  const job = normalizeTrainRequest(request);
  console.log(`\n== ${task}: ${train.length} training rows, ${heldOut.length} held out (seed ${seed}); backend ${backend.name}; ${hasTimeBudget ? `time budget ${minutes} min` : 'this build has no time_budget_s: default epochs'}`);
  if (Object.keys(settings).length > 0) console.log(`   NOT the defaults: --settings ${JSON.stringify(settings)}`);
  console.log(`   settings after defaults: tokenizer ${JSON.stringify(job.tokenizer)} hyperparameters ${JSON.stringify(job.hyperparameters)}`);
  let last = '';
  const started = Date.now();
  const trained = await trainForTask(config, job, {
    onProgress: (p) => {
      const line = `epoch ${p.epoch}/${p.epochs} step ${p.step}/${p.steps} loss ${p.loss?.toFixed(3) ?? '-'} val ${p.val_loss?.toFixed(3) ?? '-'}`;
      if (p.step === p.steps && line !== last) console.log(`   ${line} (${Math.round((Date.now() - started) / 1000)} s)`);
      last = line;
    },
    log: (line) => console.log(`   ${line}`),
    shouldStop: () => false,
  });
  const trainS = Math.round((Date.now() - started) / 1000);
  await trained.publish(store, { dataset: await describeDataset(config, job.dataset), backend: backend.name });
  trained.dispose();

  const targetLanguage = task === 'translate' ? 'en' : undefined;
  const scores = await scoreHeldOut(service, name, task, train, heldOut, { targetLanguage });
  report(task, train.length, trainS, trained.metrics, scores);
  const decoded: { parameters: Seq2SeqParameterInput; model: Record<string, number>; decode_s: number; outputs: string[] }[] = [];
  if (decodings.length > 0) {
    console.log(`\n| decoding parameters (same model, same ${heldOut.length} rows) | ${HEADLINE[task]} | seconds |\n|---|---|---|`);
    console.log(`| service defaults | ${fmt(scores.model[HEADLINE[task]])} | ${scores.decode_s} |`);
    for (const parameters of decodings) {
      const s = await scoreHeldOut(service, name, task, train, heldOut, { targetLanguage, parameters, samples: 0 });
      decoded.push({ parameters, model: s.model, decode_s: s.decode_s, outputs: s.outputs });
      console.log(`| ${JSON.stringify(parameters)} | ${fmt(s.model[HEADLINE[task]])} | ${s.decode_s} |`);
    }
  }
  await cache.clear();
  const out = arg('out', `bench/out/quality-${task}.json`);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ task, seed, train_rows: train.length, train_s: trainS, overrides: settings, settings: job, manifest_metrics: trained.metrics, held_out: scores, decodings: decoded }, null, 2));
  console.log(`   (results: ${out})`);
}
if (!keepDir) rmSync(storeDir, { recursive: true, force: true });

function report(task: RealTask, trainRows: number, trainS: number, manifest: Record<string, number>, s: HeldOutScores): void {
  const h = HEADLINE[task];
  const model = s.model[h]!;
  const copy = s.copy_input[h]!;
  const lead = s.lead?.[h];
  const retrieval = s.retrieval[h]!;
  const metricCols = task === 'translate' ? ['bleu', 'chrf', 'exact_match'] : ['rouge1', 'rouge2', 'rougeL'];
  console.log(`\n| ${task} (${s.rows} held-out rows) | ${metricCols.join(' | ')} |`);
  console.log(`|---|${metricCols.map(() => '---').join('|')}|`);
  const row = (label: string, m: Record<string, number> | undefined) => m && console.log(`| ${label} | ${metricCols.map((k) => fmt(m[k])).join(' | ')} |`);
  row('model (default settings)', s.model);
  row('copy the input', s.copy_input);
  row('lead sentence', s.lead);
  row('retrieval (nearest training row)', s.retrieval);
  const manifestBaselines = Object.keys(manifest).filter((k) => k.startsWith('retrieval_') || k.startsWith('lead_') || k.startsWith('copy_input_') || k.startsWith('neural_') || k.startsWith('word_alignment_'));
  console.log(`\ntraining ${trainS} s on ${trainRows} rows; held-out decoding ${s.decode_s} s; manifest (its own validation split): ${h} ${fmt(manifest[h])}${manifestBaselines.length ? ', ' + manifestBaselines.map((k) => `${k} ${fmt(manifest[k])}`).join(', ') : ''}; val_loss ${fmt(manifest.val_loss)}`);
  const beatsRetrieval = model > retrieval;
  const target = task === 'translate'
    ? { met: model >= 1.5 * retrieval && model > copy && trainS <= 20 * 60, rule: `BLEU ≥ 1.5 × translation memory (${fmt(1.5 * retrieval)}), within 20 min` }
    : { met: model >= (lead ?? 0) + 0.05 && model >= retrieval, rule: `ROUGE-L ≥ lead + 0.05 (${fmt((lead ?? 0) + 0.05)}) and ≥ retrieval (${fmt(retrieval)})` };
  console.log(`${beatsRetrieval ? 'beats' : 'DOES NOT BEAT'} its retrieval baseline (${fmt(model)} vs ${fmt(retrieval)}); target ${target.rule}: ${target.met ? 'MET' : 'NOT MET'}`);
  for (const x of s.samples) console.log(`  ${JSON.stringify(x.source.slice(0, 120))}\n    reference ${JSON.stringify(x.reference)}\n    model     ${JSON.stringify(x.output)}\n    retrieval ${JSON.stringify(x.retrieved)}`);
}
