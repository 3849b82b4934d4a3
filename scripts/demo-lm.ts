/**
 * Trains a demo language model on the demo corpus (demo-corpus.ts) through the trainer the worker
 * runs, publishes it into MODELS_DIR as version 1 (replacing any previous one) with the corpus's
 * source and licence, and prints samples at temperature 0.8. Shared by `npm run train:demo`
 * (kjv-char, LSTM) and `npm run train:demo:gpt` (kjv-gpt, Transformer).
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
import type { TrainRequest } from '../src/schemas/train.ts';
import { DEMO_CORPUS_SOURCE, loadDemoCorpus } from './demo-corpus.ts';

/** `request` is a POST /train body without its dataset (the demo corpus is added); `trainedBy` goes into the manifest. */
export async function trainDemoLanguageModel(request: Omit<TrainRequest, 'dataset'>, trainedBy: string): Promise<void> {
  const config = loadConfig();
  const backend = await initBackend(config.tfjsBackend);
  const text = loadDemoCorpus();
  const job = normalizeTrainRequest({ ...request, dataset: { text } });
  console.log(`corpus: ${text.length} characters; backend ${backend.name}`);
  const outcome = await trainLanguageModel(job, [text], {
    onProgress: (p) => {
      process.stdout.write(`\repoch ${p.epoch}/${p.epochs} step ${p.step}/${p.steps} loss ${p.loss?.toFixed(3)} val ${p.val_loss?.toFixed(3) ?? '-'} ${p.tokens_per_sec} tok/s   `);
    },
    log: (line) => console.log(`\n${line}`),
    shouldStop: () => false,
  });

  const store = new ModelStore(config.modelsDir);
  await store.deleteModel(job.name).catch(() => undefined);
  const { version, dir } = await publishLanguageModel(store, job, outcome, {
    dataset: { ...(await describeDataset(config, job.dataset)), source: DEMO_CORPUS_SOURCE.name, license: DEMO_CORPUS_SOURCE.license },
    backend: backend.name,
    extra: { license: DEMO_CORPUS_SOURCE.license, data_package: DEMO_CORPUS_SOURCE.package, trained_by: trainedBy },
  });
  outcome.model.dispose();
  console.log(`\npublished ${job.name}@${version} in ${dir}: ${JSON.stringify(outcome.metrics)}; ${Math.round(outcome.tokensPerSec ?? 0)} tokens/s over ${Math.round(outcome.durationSec)} s`);

  const cache = new ModelCache(store, 1);
  const lease = await cache.acquire(job.name);
  for (const [seed, prompt] of [[1, 'And God said'], [2, 'In the beginning'], [3, 'And Moses']] as const) {
    const out = await generateText(lease.model, prompt, resolveParams({ max_new_tokens: 200, temperature: 0.8, seed }, { maxNewTokens: 200, maxPromptChars: 100 }));
    console.log(`\n--- "${prompt}" (temperature 0.8, seed ${seed})\n${prompt}${out.text}`);
  }
  lease.release();
  await cache.clear();
}
