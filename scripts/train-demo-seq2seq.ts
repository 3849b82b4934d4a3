/**
 * `npm run train:demo:seq2seq [-- translate|qa]`: trains the shipped Seq2Seq demo models with fixed
 * seeds, through the same trainer and publisher the worker runs (src/train/run-task.ts), publishes
 * each as version 1 of its name (replacing any previous demo), and prints the held-out metrics beside
 * the copy-the-input baseline, plus a few answers.
 *
 *   numbers-en-fr  translate  English number words → French (npm n2words, MIT); held-out rows are
 *                             numbers never seen in training.
 *   countries-qa   qa         questions about generated country fact sheets (npm countries-list, MIT);
 *                             held out by country (`group`), so answers must be copied from the context.
 *
 * Both packages are devDependencies (npm ci installs them). Options: EPOCHS_TRANSLATE, EPOCHS_QA.
 */
import { loadConfig } from '../src/config.ts';
import { initBackend } from '../src/backend/select.ts';
import { ModelStore } from '../src/store/registry.ts';
import { normalizeTrainRequest } from '../src/train/request.ts';
import { describeDataset } from '../src/train/records.ts';
import { trainForTask } from '../src/train/run-task.ts';
import { ModelCache } from '../src/infer/model-cache.ts';
import { runSeq2Seq } from '../src/infer/seq2seq-generate.ts';
import { resolveSeq2SeqParams } from '../src/infer/params.ts';
import type { TrainRequest } from '../src/schemas/train.ts';
import { HEADLINE_METRIC } from '../src/eval/task-metrics.ts';
import { TRANSLATION_DATA, translationPairs } from './demo-data/translation.ts';
import { QA_DATA, qaRows } from './demo-data/qa.ts';

interface Demo {
  request: TrainRequest;
  data: { package: string; version: string; license: string; description: string };
  samples: Array<{ source: string; context?: string }>;
}

function translateDemo(): Demo {
  const pairs = translationPairs({ seed: 1789, count: 8000, maxValue: 99999 });
  return {
    request: {
      name: 'numbers-en-fr',
      task: 'translate',
      architecture: 'lstm',
      dataset: { rows: pairs.map((p) => ({ source: p.source, target: p.target, group: p.group })) },
      languages: { source: TRANSLATION_DATA.source_language, target: TRANSLATION_DATA.target_language },
      tokenizer: { type: 'char', max_vocab: 200 },
      hyperparameters: {
        layers: 1, units: 128, embedding_dim: 32, dropout: 0.1, batch_size: 64, learning_rate: 0.005,
        epochs: Number(process.env.EPOCHS_TRANSLATE ?? 12), validation_split: 0.05, seed: 1789,
        bidirectional: true, max_source_length: 128, max_target_length: 96,
      },
    },
    data: TRANSLATION_DATA,
    samples: [{ source: 'three hundred seventy-one' }, { source: 'ninety-nine thousand nine hundred ninety-one' }, { source: 'eighty' }],
  };
}

function qaDemo(): Demo {
  const rows = qaRows({ seed: 1492, count: 6000, factsPerContext: 2 });
  return {
    request: {
      name: 'countries-qa',
      task: 'qa',
      architecture: 'lstm',
      dataset: { rows: rows.map((r) => ({ question: r.question, context: r.context, answer: r.answer, group: r.group })) },
      tokenizer: { type: 'char', max_vocab: 300 },
      hyperparameters: {
        layers: 1, units: 128, embedding_dim: 32, dropout: 0.1, batch_size: 32, learning_rate: 0.005,
        epochs: Number(process.env.EPOCHS_QA ?? 16), validation_split: 0.1, seed: 1492,
        bidirectional: true, max_source_length: 256, max_target_length: 64,
      },
    },
    data: QA_DATA,
    samples: [
      { source: 'What is the capital of Peru?', context: 'Peru lies in South America. The capital of Peru is Lima. Peru uses the Peruvian Sol.' },
      { source: 'Which currency does Japan use?', context: 'The capital of Japan is Tokyo. Japan uses the Japanese Yen.' },
    ],
  };
}

const which = process.argv[2] ?? 'all';
const demos = [...(which === 'all' || which === 'translate' ? [translateDemo()] : []), ...(which === 'all' || which === 'qa' ? [qaDemo()] : [])];
if (demos.length === 0) throw new Error(`usage: train-demo-seq2seq.ts [translate|qa|all], got ${which}`);

const config = loadConfig();
const backend = await initBackend(config.tfjsBackend);
const store = new ModelStore(config.modelsDir);
const summary: string[] = [];
for (const demo of demos) {
  const job = normalizeTrainRequest(demo.request);
  const rows = 'rows' in job.dataset ? job.dataset.rows.length : 0;
  console.log(`\n== ${job.name} (${job.task}): ${rows} rows from ${demo.data.package} ${demo.data.version}; backend ${backend.name}`);
  const trained = await trainForTask(config, job, {
    onProgress: (p) => {
      process.stdout.write(`\repoch ${p.epoch}/${p.epochs} step ${p.step}/${p.steps} loss ${p.loss?.toFixed(3)} val ${p.val_loss?.toFixed(3) ?? '-'} ${p.tokens_per_sec} tok/s   `);
    },
    log: (line) => console.log(`\n${line}`),
    shouldStop: () => false,
  });
  await store.deleteModel(job.name).catch(() => undefined);
  const { version, dir } = await trained.publish(store, {
    dataset: { ...(await describeDataset(config, job.dataset)), source: demo.data.package, license: demo.data.license },
    backend: backend.name,
    extra: { license: demo.data.license, data_package: `${demo.data.package} ${demo.data.version}`, data_description: demo.data.description, trained_by: 'npm run train:demo:seq2seq (scripts/train-demo-seq2seq.ts)' },
  }) as { version: number; dir: string };
  trained.dispose();
  const m = trained.metrics;
  const headline = HEADLINE_METRIC[job.task as 'translate' | 'qa'];
  const line = `${job.name}@${version}: held-out ${headline} ${m[headline]?.toFixed(4)} vs copy-the-input ${m[`copy_input_${headline}`]?.toFixed(4)}; all: ${JSON.stringify(m)}`;
  summary.push(line);
  console.log(`\npublished in ${dir}\n${line}`);

  const cache = new ModelCache(store, 1);
  const lease = await cache.acquire(job.name, job.task as 'translate' | 'qa');
  for (const s of demo.samples) {
    for (const beams of [1, 4]) {
      const out = await runSeq2Seq(lease.model, s, resolveSeq2SeqParams({ num_beams: beams }, { maxNewTokens: 256, maxPromptChars: 100000 }, 96));
      console.log(`  [beams ${beams}] ${JSON.stringify(s.source)}${s.context ? ` | ${JSON.stringify(s.context)}` : ''} → ${JSON.stringify(out.text)}`);
    }
  }
  lease.release();
  await cache.clear();
}
console.log(`\n${summary.join('\n')}`);
