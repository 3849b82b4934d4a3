/**
 * `npm run train:demo`: trains the shipped demo model `models/kjv-char` — a character LSTM on the
 * King James Bible (Genesis, Exodus; public domain, Debian package bible-kjv-text) — with a fixed
 * seed, through the same training loop the worker runs, publishes it as version 1 (replacing any
 * previous demo), and prints samples at temperature 0.8.
 *
 * Needs: apt-get install bible-kjv. Options: EPOCHS=n (default 20: ~21 minutes at ~5,400 tokens/s on 2 cores).
 */
import { trainDemoLanguageModel } from './demo-lm.ts';

export const DEMO_MODEL = 'kjv-char';

await trainDemoLanguageModel(
  {
    name: DEMO_MODEL,
    task: 'generate',
    architecture: 'lstm',
    tokenizer: { type: 'char', max_vocab: 256 },
    hyperparameters: {
      layers: 1, units: 256, embedding_dim: 64, dropout: 0.1, sequence_length: 64, batch_size: 32,
      epochs: Number(process.env.EPOCHS ?? 20), learning_rate: 0.003, validation_split: 0.05, seed: 1611,
    },
  },
  'npm run train:demo (scripts/train-demo.ts)',
);
