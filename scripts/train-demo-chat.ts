/**
 * `npm run train:demo:chat`: trains the shipped chat demo `freedroid-chat` — a word-level LSTM
 * (3,000 words) over the NPC dialogues of FreedroidRPG (Debian package freedroidrpg-data, GPL-2+; see
 * scripts/demo-data/freedroid-dialogues.ts) — through the same trainer and publisher the worker runs
 * (src/train/run-task.ts), publishes it as version 1 (replacing any previous demo) and prints its
 * held-out assistant perplexity beside the retrieval baseline, plus a few replies.
 *
 * Conversations are held out by character (`group`): the held-out metrics are on characters the
 * model never saw. Needs `apt-get download` to work (the .deb is cached under data/real/).
 * About 12 minutes on 2 shared cores. Options: EPOCHS (default 7), MAX_STEPS_PER_EPOCH (default: all),
 * TOKENIZER=char (a character-level model instead; ~20 min for held-out perplexity 6.5 vs 24.8 for
 * the retrieval baseline, but its replies read worse), MAX_VOCAB (word vocabulary, default 3000).
 */
import { loadConfig } from '../src/config.ts';
import { initBackend } from '../src/backend/select.ts';
import { ModelStore } from '../src/store/registry.ts';
import { normalizeTrainRequest } from '../src/train/request.ts';
import { describeDataset } from '../src/train/records.ts';
import { trainForTask } from '../src/train/run-task.ts';
import { ModelCache } from '../src/infer/model-cache.ts';
import { InferenceService } from '../src/infer/service.ts';
import { FREEDROID_DATA, freedroidConversations } from './demo-data/freedroid-dialogues.ts';

const NAME = 'freedroid-chat';
const config = loadConfig();
const backend = await initBackend(config.tfjsBackend);
const store = new ModelStore(config.modelsDir);
const { rows, version: pkgVersion } = freedroidConversations();
const job = normalizeTrainRequest({
  name: NAME,
  task: 'chat',
  architecture: 'lstm',
  dataset: { rows: rows.map((r) => ({ messages: r.messages, group: r.group })) },
  tokenizer: process.env.TOKENIZER === 'char' ? { type: 'char', max_vocab: 120 } : { type: 'word', max_vocab: Number(process.env.MAX_VOCAB ?? 3000) },
  hyperparameters: {
    layers: 1, units: 256, embedding_dim: 64, dropout: 0.1, sequence_length: 64, batch_size: 16, learning_rate: 0.005,
    epochs: Number(process.env.EPOCHS ?? 7), validation_split: 0.08, seed: 2002, clip_norm: 5,
    ...(process.env.MAX_STEPS_PER_EPOCH ? { max_steps_per_epoch: Number(process.env.MAX_STEPS_PER_EPOCH) } : {}),
  },
});
console.log(`== ${NAME} (chat): ${rows.length} conversations of ${new Set(rows.map((r) => r.group)).size} characters from ${FREEDROID_DATA.package} ${pkgVersion}; backend ${backend.name}`);
const trained = await trainForTask(config, job, {
  onProgress: (p) => {
    process.stdout.write(`\repoch ${p.epoch}/${p.epochs} step ${p.step}/${p.steps} loss ${p.loss?.toFixed(3)} val ${p.val_loss?.toFixed(3) ?? '-'} ${p.tokens_per_sec} tok/s   `);
  },
  log: (line) => console.log(`\n${line}`),
  shouldStop: () => false,
});
await store.deleteModel(NAME).catch(() => undefined);
const { version, dir } = (await trained.publish(store, {
  dataset: { ...(await describeDataset(config, job.dataset)), source: FREEDROID_DATA.package, license: FREEDROID_DATA.license },
  backend: backend.name,
  extra: {
    license: FREEDROID_DATA.license,
    data_package: `${FREEDROID_DATA.package} ${pkgVersion}`,
    data_description: FREEDROID_DATA.description,
    trained_by: 'npm run train:demo:chat (scripts/train-demo-chat.ts)',
  },
})) as { version: number; dir: string };
trained.dispose();
const m = trained.metrics;
console.log(`\npublished ${NAME}@${version} in ${dir}`);
console.log(`held-out assistant perplexity ${m.perplexity?.toFixed(3)} vs retrieval baseline ${m.retrieval_perplexity?.toFixed(3)} (unigram ${m.unigram_perplexity?.toFixed(3)}); retrieval reply F1 ${m.retrieval_f1?.toFixed(3)}`);
console.log(JSON.stringify(m));

const cache = new ModelCache(store, 1);
const service = new InferenceService(cache, { ...config, maxNewTokens: 200 });
for (const [who, line] of [['Bender', 'Hello! I\'m new here.'], ['Dixon', 'What happened to the town?'], ['Francis', 'Who are you?']] as const) {
  const out = await service.chat({ model: NAME, messages: [{ role: 'system', content: `You are ${who}.` }, { role: 'user', content: line }], parameters: { temperature: 0.6, seed: 1, max_new_tokens: 160 } });
  console.log(`  [${who}] ${line} → ${JSON.stringify(out.text)}`);
}
service.sessions.clear();
await cache.clear();
