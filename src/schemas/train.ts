/** POST /train and the job resources. Every hyperparameter is optional with a documented default. */
import { Type, type Static } from '@sinclair/typebox';
import { ModelName } from './common.ts';
import type { TrainJobData } from '../queue/contract.ts';

/** Defaults of every hyperparameter: documented in the schema below and applied by train/request.ts. */
export const HYPERPARAMETER_DEFAULTS = {
  layers: 1, units: 256, embedding_dim: 64, dropout: 0.1, sequence_length: 64, batch_size: 32,
  epochs: 10, learning_rate: 0.002, validation_split: 0.1, seed: 42, max_steps_per_epoch: null,
} as const satisfies TrainJobData['hyperparameters'];
const D = HYPERPARAMETER_DEFAULTS;

export const Hyperparameters = Type.Object(
  {
    layers: Type.Optional(Type.Integer({ minimum: 1, maximum: 4, default: D.layers, description: 'Stacked recurrent layers.' })),
    units: Type.Optional(Type.Integer({ minimum: 4, maximum: 2048, default: D.units, description: 'Recurrent units per layer.' })),
    embedding_dim: Type.Optional(Type.Integer({ minimum: 2, maximum: 1024, default: D.embedding_dim, description: 'Token embedding size.' })),
    dropout: Type.Optional(Type.Number({ minimum: 0, maximum: 0.9, default: D.dropout, description: 'Dropout on recurrent outputs during training.' })),
    sequence_length: Type.Optional(Type.Integer({ minimum: 2, maximum: 1024, default: D.sequence_length, description: 'Tokens per training window (truncated BPTT length).' })),
    batch_size: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024, default: D.batch_size, description: 'Windows per batch.' })),
    epochs: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: D.epochs, description: 'Passes over the training split.' })),
    learning_rate: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1, default: D.learning_rate, description: 'Adam learning rate.' })),
    validation_split: Type.Optional(Type.Number({ minimum: 0, maximum: 0.5, default: D.validation_split, description: 'Share of the text (its tail) held out for validation and perplexity.' })),
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 4294967295, default: D.seed, description: 'Seed for initialisation, shuffling and dropout.' })),
    max_steps_per_epoch: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000000, description: 'Cap on batches per epoch (default: the whole training split).' })),
  },
  { additionalProperties: false, $id: 'Hyperparameters' },
);
export type Hyperparameters = Static<typeof Hyperparameters>;

export const TokenizerSpec = Type.Object(
  {
    type: Type.Optional(Type.Union([Type.Literal('char'), Type.Literal('word')], { default: 'char', description: 'char = Unicode code points; word = Intl.Segmenter words.' })),
    max_vocab: Type.Optional(Type.Integer({ minimum: 5, maximum: 100000, default: 5000, description: 'Vocabulary cap including <pad> <bos> <eos> <unk>.' })),
  },
  { additionalProperties: false },
);

export const DatasetSpec = Type.Union(
  [
    Type.Object({ id: Type.String({ pattern: '^ds_[0-9a-f]{24}$', description: 'An uploaded dataset (POST /datasets).' }) }, { additionalProperties: false }),
    Type.Object({ text: Type.String({ minLength: 1, description: 'Small inline training text (MAX_INLINE_TEXT_BYTES).' }) }, { additionalProperties: false }),
  ],
  { description: 'Either `{id}` of an uploaded dataset or `{text}` inline.' },
);

export const TrainRequest = Type.Object(
  {
    name: ModelName,
    task: Type.Optional(Type.Literal('generate', { default: 'generate' })),
    architecture: Type.Optional(Type.Union([Type.Literal('lstm'), Type.Literal('gru')], { default: 'lstm' })),
    dataset: DatasetSpec,
    tokenizer: Type.Optional(TokenizerSpec),
    hyperparameters: Type.Optional(Hyperparameters),
  },
  { additionalProperties: false, $id: 'TrainRequest' },
);
export type TrainRequest = Static<typeof TrainRequest>;

export const TrainAccepted = Type.Object({ job_id: Type.String(), status: Type.String() }, { $id: 'TrainAccepted' });

export const JobStatus = Type.Union(['queued', 'running', 'completed', 'failed', 'cancelled'].map((s) => Type.Literal(s)));
export type JobStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

export const TrainProgress = Type.Object(
  {
    epoch: Type.Integer({ description: 'Epochs completed so far, plus the fraction of the current one in `step`/`steps`.' }),
    epochs: Type.Integer(),
    step: Type.Integer(),
    steps: Type.Integer(),
    loss: Type.Union([Type.Number(), Type.Null()]),
    val_loss: Type.Union([Type.Number(), Type.Null()]),
    tokens_per_sec: Type.Union([Type.Number(), Type.Null()]),
    eta_s: Type.Union([Type.Number(), Type.Null()]),
  },
  { $id: 'TrainProgress' },
);
export type TrainProgress = Static<typeof TrainProgress>;

export const Job = Type.Object(
  {
    id: Type.String(),
    name: Type.String({ description: 'Model name being trained.' }),
    status: JobStatus,
    progress: Type.Union([TrainProgress, Type.Null()]),
    attempts: Type.Integer({ description: 'Tries started so far (a retry after a crash resumes from the checkpoint).' }),
    created_at: Type.String(),
    started_at: Type.Union([Type.String(), Type.Null()]),
    finished_at: Type.Union([Type.String(), Type.Null()]),
    error: Type.Union([Type.String(), Type.Null()]),
    result: Type.Union([Type.Object({ model: Type.String(), version: Type.Integer(), metrics: Type.Record(Type.String(), Type.Number()) }), Type.Null()]),
    request: Type.Unknown({ description: 'The normalised training request.' }),
  },
  { $id: 'Job' },
);
export type Job = Static<typeof Job>;

export const JobList = Type.Object({ jobs: Type.Array(Job) }, { $id: 'JobList' });
export const JobLogs = Type.Object({ job_id: Type.String(), logs: Type.Array(Type.String()) }, { $id: 'JobLogs' });
export const JobIdParams = Type.Object({ id: Type.String({ pattern: '^[0-9]{1,18}$', description: 'Job id.' }) }, { additionalProperties: false });
