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
import { trainDemoLanguageModel } from './demo-lm.ts';

export const DEMO_GPT_MODEL = 'kjv-gpt';

await trainDemoLanguageModel(
  {
    name: DEMO_GPT_MODEL,
    task: 'generate',
    architecture: 'transformer',
    tokenizer: { type: 'char', max_vocab: 256 },
    hyperparameters: {
      validation_split: 0.05, seed: 1611,
      time_budget_s: Math.round(Number(process.env.TIME_BUDGET_MIN ?? 18) * 60),
      ...(process.env.MAX_STEPS ? { max_steps: Number(process.env.MAX_STEPS) } : {}),
    },
  },
  'npm run train:demo:gpt (scripts/train-demo-gpt.ts)',
);
