/**
 * `npm run train:demo`: trains the shipped demo model `models/kjv-char` — a character LSTM on the
 * King James Bible (Genesis, Exodus; public domain, Debian package bible-kjv-text) — with a fixed
 * seed, through the same training loop the worker runs, publishes it as version 1 (replacing any
 * previous demo), and prints samples at temperature 0.8.
 *
 * Needs: apt-get install bible-kjv. Options: EPOCHS=n (default 20: ~21 minutes at ~5,400 tokens/s on 2 cores).
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

export const DEMO_MODEL = 'kjv-char';

const config = loadConfig();
const backend = await initBackend(config.tfjsBackend);
const text = loadDemoCorpus();
const job = normalizeTrainRequest({
  name: DEMO_MODEL,
  task: 'generate',
  architecture: 'lstm',
  dataset: { text },
  tokenizer: { type: 'char', max_vocab: 256 },
  hyperparameters: {
    layers: 1, units: 256, embedding_dim: 64, dropout: 0.1, sequence_length: 64, batch_size: 32,
    epochs: Number(process.env.EPOCHS ?? 20), learning_rate: 0.003, validation_split: 0.05, seed: 1611,
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
await store.deleteModel(DEMO_MODEL).catch(() => undefined);
const { version, dir } = await publishLanguageModel(store, job, outcome, {
  dataset: { ...(await describeDataset(config, job.dataset)), source: DEMO_CORPUS_SOURCE.name, license: DEMO_CORPUS_SOURCE.license },
  backend: backend.name,
  extra: { license: DEMO_CORPUS_SOURCE.license, data_package: DEMO_CORPUS_SOURCE.package, trained_by: 'npm run train:demo (scripts/train-demo.ts)' },
});
outcome.model.dispose();
console.log(`\npublished ${DEMO_MODEL}@${version} in ${dir}: ${JSON.stringify(outcome.metrics)}; ${Math.round(outcome.tokensPerSec ?? 0)} tokens/s over ${Math.round(outcome.durationSec)} s`);

const cache = new ModelCache(store, 1);
const lease = await cache.acquire(DEMO_MODEL);
for (const [seed, prompt] of [[1, 'And God said'], [2, 'In the beginning'], [3, 'And Moses']] as const) {
  const out = await generateText(lease.model, prompt, resolveParams({ max_new_tokens: 200, temperature: 0.8, seed }, { maxNewTokens: 200, maxPromptChars: 100 }));
  console.log(`\n--- "${prompt}" (temperature 0.8, seed ${seed})\n${prompt}${out.text}`);
}
lease.release();
await cache.clear();
