/**
 * `npm run train:demo:gpt`: trains the shipped demo Transformer `models/kjv-gpt` — a character-level,
 * decoder-only GPT (docs/transformer.md) on the same corpus as `kjv-char` (the King James Bible,
 * Genesis and Exodus; public domain, Debian bible-kjv-text) — with the Transformer's default,
 * data-sized hyperparameters, a fixed seed and a training time budget, through the trainer the worker
 * runs; publishes it as version 1 (replacing any previous one, with the unigram/bigram baselines the
 * trainer scores beside its held-out loss) and prints samples at temperature 0.8.
 *
 * Needs: apt-get install bible-kjv. Options: TIME_BUDGET_MIN (default 18), MAX_STEPS (default none).
 */
import { loadConfig } from '../src/config.ts';
import { initBackend } from '../src/backend/select.ts';
import { ModelStore } from '../src/store/registry.ts';
import { publishLanguageModel } from '../src/train/publish.ts';
import { normalizeTrainRequest } from '../src/train/request.ts';
import { trainLanguageModel } from '../src/train/train-lm.ts';
import { describeDataset } from '../src/train/records.ts';
import { ModelCache } from '../src/infer/model-cache.ts';
import { generateText } from '../src/infer/generate.ts';
import { resolveParams } from '../src/infer/params.ts';
import { DEMO_CORPUS_SOURCE, loadDemoCorpus } from './demo-corpus.ts';

export const DEMO_GPT_MODEL = 'kjv-gpt';

const config = loadConfig();
const backend = await initBackend(config.tfjsBackend);
const text = loadDemoCorpus();
const job = normalizeTrainRequest({
  name: DEMO_GPT_MODEL,
  task: 'generate',
  architecture: 'transformer',
  dataset: { text },
  tokenizer: { type: 'char', max_vocab: 256 },
  hyperparameters: {
    validation_split: 0.05, seed: 1611,
    time_budget_s: Math.round(Number(process.env.TIME_BUDGET_MIN ?? 18) * 60),
    ...(process.env.MAX_STEPS ? { max_steps: Number(process.env.MAX_STEPS) } : {}),
  },
});
console.log(`corpus: ${text.length} characters; backend ${backend.name}`);
const outcome = await trainLanguageModel(job, [text], {
  onProgress: (p) => {
    process.stdout.write(`\repoch ${p.epoch}/${p.epochs} step ${p.step}/${p.steps} loss ${p.loss?.toFixed(3)} val ${p.val_loss?.toFixed(3) ?? '-'} ${p.tokens_per_sec} tok/s   `);
  },
  log: (line) => console.log(`\n${line}`),
  shouldStop: () => false,
});

const store = new ModelStore(config.modelsDir);
await store.deleteModel(DEMO_GPT_MODEL).catch(() => undefined);
const { version, dir } = await publishLanguageModel(store, job, outcome, {
  dataset: { ...(await describeDataset(config, job.dataset)), source: DEMO_CORPUS_SOURCE.name, license: DEMO_CORPUS_SOURCE.license },
  backend: backend.name,
  extra: { license: DEMO_CORPUS_SOURCE.license, data_package: DEMO_CORPUS_SOURCE.package, trained_by: 'npm run train:demo:gpt (scripts/train-demo-gpt.ts)' },
});
outcome.model.dispose();
console.log(`\npublished ${DEMO_GPT_MODEL}@${version} in ${dir}: ${JSON.stringify(outcome.metrics)}; ${Math.round(outcome.tokensPerSec ?? 0)} tokens/s over ${Math.round(outcome.durationSec)} s`);

const cache = new ModelCache(store, 1);
const lease = await cache.acquire(DEMO_GPT_MODEL);
for (const [seed, prompt] of [[1, 'And God said'], [2, 'In the beginning'], [3, 'And Moses']] as const) {
  const out = await generateText(lease.model, prompt, resolveParams({ max_new_tokens: 200, temperature: 0.8, seed }, { maxNewTokens: 200, maxPromptChars: 100 }));
  console.log(`\n--- "${prompt}" (temperature 0.8, seed ${seed})\n${prompt}${out.text}`);
}
lease.release();
await cache.clear();
