/** POST /train and the job resources. Every hyperparameter is optional with a documented default. */
import { ChatMessage } from './chat.ts';
import { Type, type Static } from '@sinclair/typebox';
import { ModelName, NullableQualityWarning } from './common.ts';
import { STOP_REASONS, type TrainJobData } from '../queue/contract.ts';

/** Defaults of every hyperparameter: documented in the schema below and applied by train/request.ts. */
export const HYPERPARAMETER_DEFAULTS = {
  layers: 1, units: 256, heads: 4, context_length: 64, embedding_dim: 64, dropout: 0.1, sequence_length: 64, batch_size: 32,
  max_epochs: 50, max_steps: null, time_budget_s: null, patience: 3, min_delta: 0.001, eval_every_steps: null,
  learning_rate: 0.002, lr_schedule: 'plateau', warmup_steps: null, label_smoothing: 0.1, weight_decay: 0,
  validation_split: 0.1, seed: 42, max_steps_per_epoch: null,
  bidirectional: true, max_source_length: 256, max_target_length: 128, clip_norm: 5, retrieval_augmented: false,
  copy: false, word_dropout: 0,
} as const satisfies TrainJobData['hyperparameters'];
const D = HYPERPARAMETER_DEFAULTS;

/**
 * Defaults that differ by task, applied where the request leaves the field unset (train/request.ts).
 * summarize: BPE 2000 + pointer-generator copy + retrieval augmentation — on 2,609 real man-page
 * pairs it reached held-out ROUGE-L 0.211 in 7 minutes against 0.083 for char tokens in 18 (the lead
 * sentence scores 0.194), and a plain BPE decoder stalled near the unigram (docs/training.md,
 * "Summarize defaults").
 */
export const TASK_DEFAULTS: Partial<Record<TrainJobData['task'], { tokenizer: { type: 'bpe'; vocab_size: number }; hyperparameters: Partial<Pick<TrainJobData['hyperparameters'], 'copy' | 'retrieval_augmented'>> }>> = {
  summarize: { tokenizer: { type: 'bpe', vocab_size: 2000 }, hyperparameters: { copy: true, retrieval_augmented: true } },
};

/** The longest context a Transformer may be trained with (positions it has embeddings for). */
export const MAX_CONTEXT_LENGTH = 1024;
/** Hyperparameters only the Transformer takes, and those only recurrent models take (train/request.ts refuses the others). */
export const TRANSFORMER_ONLY = ['heads', 'context_length'] as const;
export const RECURRENT_ONLY = ['units', 'sequence_length', 'bidirectional'] as const;

export const Hyperparameters = Type.Object(
  {
    layers: Type.Optional(Type.Integer({ minimum: 1, maximum: 4, default: D.layers, description: 'Stacked recurrent layers, or Transformer blocks (default for a Transformer: from the data size, 2 under 200k training tokens, else 4).' })),
    units: Type.Optional(Type.Integer({ minimum: 4, maximum: 2048, default: D.units, description: 'Recurrent units per layer (lstm/gru only).' })),
    heads: Type.Optional(Type.Integer({ minimum: 1, maximum: 32, description: 'Transformer only: attention heads; must divide embedding_dim (default: embedding_dim / 32).' })),
    context_length: Type.Optional(Type.Integer({ minimum: 2, maximum: MAX_CONTEXT_LENGTH, description: `Transformer only: positions the model reads — its training window and its serving context (prompt plus generated tokens; generation stops with finish_reason "length" when it is full). At most ${MAX_CONTEXT_LENGTH} (default: 64, 128 from 2M training tokens).` })),
    embedding_dim: Type.Optional(Type.Integer({ minimum: 2, maximum: 1024, default: D.embedding_dim, description: 'Token embedding size; for a Transformer the model width (default from the data size: ≈ √tokens / 8, a multiple of 32 in [64, 256]).' })),
    dropout: Type.Optional(Type.Number({ minimum: 0, maximum: 0.9, default: D.dropout, description: 'Dropout during training: on recurrent outputs; for a Transformer on embeddings, attention weights and residual branches (default for a Transformer: 0.2 under 1M training tokens, 0.1 under 10M, else 0).' })),
    sequence_length: Type.Optional(Type.Integer({ minimum: 2, maximum: 1024, default: D.sequence_length, description: 'Recurrent models: tokens per training window (truncated BPTT length); a Transformer trains on windows of context_length.' })),
    batch_size: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024, default: D.batch_size, description: 'Windows per batch.' })),
    max_epochs: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: D.max_epochs, description: 'Upper bound on passes over the training split; training usually stops earlier, when the held-out loss stops improving (`patience`). The best held-out checkpoint is published.' })),
    epochs: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'A fixed number of epochs: the same as `max_epochs` with early stopping off (unless `patience` is also given). The best held-out checkpoint is still published. Give `epochs` or `max_epochs`, not both.' })),
    max_steps: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000000, description: 'Upper bound on optimizer steps over the whole run (default: none).' })),
    time_budget_s: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 604800, description: 'Upper bound on training time in seconds, counted across resumes (default: none). The best checkpoint so far is published.' })),
    patience: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: D.patience, description: 'Early stopping: held-out evaluations in a row without an improvement of more than `min_delta` before training stops (stop_reason "converged").' })),
    min_delta: Type.Optional(Type.Number({ minimum: 0, maximum: 10, default: D.min_delta, description: 'Early stopping: the held-out loss must fall by more than this (nats per token) to count as an improvement.' })),
    eval_every_steps: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000000, description: 'Also evaluate the held-out loss (and count patience) every this many optimizer steps; useful when an epoch is long (default: at epoch ends only).' })),
    learning_rate: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1, default: D.learning_rate, description: 'Peak Adam learning rate (after warm-up); a Transformer defaults to 0.001.' })),
    lr_schedule: Type.Optional(Type.Union([Type.Literal('plateau'), Type.Literal('cosine'), Type.Literal('constant')], { default: D.lr_schedule, description: 'After warm-up: plateau = halve the rate after every held-out evaluation without improvement; cosine = cosine decay to 5% over max_steps (or max_epochs), the Transformer default; constant.' })),
    warmup_steps: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000000, description: 'Linear learning-rate warm-up over this many optimizer steps (default: 5% of the step bound — max_steps, or max_epochs × steps per epoch — at most 100).' })),
    label_smoothing: Type.Optional(Type.Number({ minimum: 0, maximum: 0.5, default: D.label_smoothing, description: 'Seq2Seq: label smoothing of the training loss (the held-out loss is plain cross-entropy).' })),
    weight_decay: Type.Optional(Type.Number({ minimum: 0, maximum: 1, default: D.weight_decay, description: 'Decoupled (AdamW) weight decay on weight matrices (embeddings and kernels, not biases or LayerNorm); 0 = off. A Transformer defaults to 0.1.' })),
    validation_split: Type.Optional(Type.Number({ minimum: 0, maximum: 0.5, default: D.validation_split, description: 'Share of the text (its tail) held out for validation and perplexity.' })),
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 4294967295, default: D.seed, description: 'Seed for initialisation, shuffling and dropout.' })),
    max_steps_per_epoch: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000000, description: 'Cap on batches per epoch (default: the whole training split).' })),
    clip_norm: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1000, default: D.clip_norm, description: 'Clip the gradients\' global L2 norm to this value before each Adam step; guards recurrent nets against exploding gradients.' })),
    bidirectional: Type.Optional(Type.Boolean({ default: D.bidirectional, description: 'Seq2Seq and classify: bidirectional encoder layers.' })),
    max_source_length: Type.Optional(Type.Integer({ minimum: 4, maximum: 4096, default: D.max_source_length, description: 'Seq2Seq and classify: tokens of input kept; longer inputs are truncated (training and serving; `details.truncated_input_tokens` says how many were dropped).' })),
    max_target_length: Type.Optional(Type.Integer({ minimum: 2, maximum: 4096, default: D.max_target_length, description: 'Seq2Seq: target tokens trained on, including <eos>; longer targets are truncated.' })),
    retrieval_augmented: Type.Optional(Type.Boolean({ description: 'Default: true for task summarize, false otherwise. Seq2Seq: feed the encoder `source ⟨sep⟩ target of the most similar training example` (character-bigram retrieval; training rows never retrieve themselves), so the model learns to copy and edit a close match. The index is stored with the model (retrieval.json) and used when serving.' })),
    word_dropout: Type.Optional(Type.Number({ minimum: 0, maximum: 0.5, default: D.word_dropout, description: 'Seq2Seq: token dropout in training — each source token and each previous target token fed to the decoder has its whole embedding zeroed with this probability, so the decoder cannot lean on its own history alone (Sennrich & Zhang 2019). 0 = off.' })),
    copy: Type.Optional(Type.Boolean({ description: 'Default: true for task summarize, false otherwise. Seq2Seq: pointer-generator copy (See et al. 2017): each output token mixes the decoder\'s vocabulary distribution with the attention over the input, so input words (names, numbers, and with retrieval_augmented the retrieved target) can be copied. Source and target then share one vocabulary (translate too).' })),
  },
  { additionalProperties: false, $id: 'Hyperparameters' },
);
export type Hyperparameters = Static<typeof Hyperparameters>;

/** `tokenizer.vocab_size` default for type bpe (train/request.ts applies it). */
export const DEFAULT_BPE_VOCAB = 4000;

export const TokenizerSpec = Type.Object(
  {
    type: Type.Optional(
      Type.Union([Type.Literal('char'), Type.Literal('word'), Type.Literal('bpe')], {
        description:
          'Default: bpe (vocab_size 2000) for task summarize, char otherwise. char = Unicode code points; word = Intl.Segmenter words (whitespace belongs to the next word); bpe = byte-pair subwords learned from the training data with byte fallback (nothing is <unk>), saved as a Hugging Face tokenizer.json.',
      }),
    ),
    max_vocab: Type.Optional(Type.Integer({ minimum: 5, maximum: 100000, default: 5000, description: 'char and word: vocabulary cap including <pad> <bos> <eos> <unk>; rarer pieces become <unk>.' })),
    vocab_size: Type.Optional(
      Type.Integer({ minimum: 300, maximum: 100000, description: 'bpe: vocabulary size (default 4000; 2000 when task summarize chose bpe by default) including the 4 specials and 256 byte tokens (an upper bound: merges stop when no pair occurs twice).' }),
    ),
  },
  { additionalProperties: false },
);

export const DatasetSpec = Type.Union(
  [
    Type.Object({ id: Type.String({ pattern: '^ds_[0-9a-f]{24}$', description: 'An uploaded dataset (POST /datasets).' }) }, { additionalProperties: false }),
    Type.Object({ text: Type.String({ minLength: 1, description: 'Small inline training text for task generate (MAX_INLINE_TEXT_BYTES).' }) }, { additionalProperties: false }),
    Type.Object(
      {
        rows: Type.Array(Type.Record(Type.String(), Type.Union([Type.String(), Type.Array(ChatMessage)])), {
          minItems: 1,
          maxItems: 100000,
          description: 'Small inline rows for the other tasks, e.g. `{source, target}`, or for chat `{messages: [{role, content}, …]}` (MAX_INLINE_TEXT_BYTES in all).',
        }),
      },
      { additionalProperties: false },
    ),
  ],
  { description: 'Either `{id}` of an uploaded dataset, `{text}` inline (generate) or `{rows}` inline (summarize, translate, qa, classify).' },
);

const ColumnName = Type.String({ minLength: 1, maxLength: 128 });
export const Columns = Type.Object(
  {
    text: Type.Optional(ColumnName), source: Type.Optional(ColumnName), target: Type.Optional(ColumnName),
    question: Type.Optional(ColumnName), context: Type.Optional(ColumnName), answer: Type.Optional(ColumnName), label: Type.Optional(ColumnName),
    group: Type.Optional(ColumnName),
    messages: Type.Optional(ColumnName), prompt: Type.Optional(ColumnName), response: Type.Optional(ColumnName),
  },
  {
    additionalProperties: false,
    $id: 'Columns',
    description: 'Dataset column per role when its name differs from the role. Roles: generate text; summarize/translate source, target; qa question, context (optional), answer; classify text, label; chat messages, or prompt and response; and for all but generate an optional group (rows sharing a group value stay on one side of the validation split).',
  },
);

const LanguageTag = Type.String({ pattern: '^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$', description: 'BCP 47 tag, e.g. en, fr, zh-Hans.' });
export const Languages = Type.Object(
  { source: LanguageTag, target: LanguageTag },
  { additionalProperties: false, $id: 'Languages', description: 'translate: the languages, recorded in the manifest; a zh/ja target makes BLEU count characters.' },
);

export const TrainRequest = Type.Object(
  {
    name: ModelName,
    task: Type.Optional(
      Type.Union([Type.Literal('generate'), Type.Literal('summarize'), Type.Literal('translate'), Type.Literal('qa'), Type.Literal('classify'), Type.Literal('chat')], {
        default: 'generate',
        description: 'chat = language model over conversations (role-marker template, loss on assistant turns); generate = language model; summarize / translate / qa = Seq2Seq encoder–decoder with attention; classify = encoder + pooling + softmax.',
      }),
    ),
    architecture: Type.Optional(
      Type.Union([Type.Literal('lstm'), Type.Literal('gru'), Type.Literal('transformer')], {
        default: 'lstm',
        description: 'lstm / gru: recurrent (every task). transformer: a decoder-only GPT-style language model (tasks generate and chat; docs/transformer.md), trained with AdamW and cosine decay by default.',
      }),
    ),
    dataset: DatasetSpec,
    columns: Type.Optional(Columns),
    languages: Type.Optional(Languages),
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
    val_loss: Type.Union([Type.Number(), Type.Null()], { description: 'The latest held-out loss.' }),
    best_val_loss: Type.Optional(Type.Union([Type.Number(), Type.Null()], { description: 'The best held-out loss so far: the checkpoint that will be published.' })),
    learning_rate: Type.Optional(Type.Number({ description: 'The learning rate of the next step (schedule).' })),
    tokens_per_sec: Type.Union([Type.Number(), Type.Null()]),
    eta_s: Type.Union([Type.Number(), Type.Null()]),
    stop_reason: Type.Optional(Type.Union([...STOP_REASONS.map((r) => Type.Literal(r)), Type.Null()], { description: 'Set when training ended: converged (early stopping), max_epochs, max_steps, time_budget or cancelled.' })),
  },
  { $id: 'TrainProgress' },
);
export type TrainProgress = Static<typeof TrainProgress>;

export const Job = Type.Object(
  {
    id: Type.String(),
    name: Type.String({ description: 'Model name being trained.' }),
    owner: Type.Union([Type.String(), Type.Null()], { description: 'Name of the API key that queued the job (null: queued with auth off). Keys without admin see only their own jobs.' }),
    status: JobStatus,
    progress: Type.Union([TrainProgress, Type.Null()]),
    attempts: Type.Integer({ description: 'Tries started so far (a retry after a crash resumes from the checkpoint).' }),
    created_at: Type.String(),
    started_at: Type.Union([Type.String(), Type.Null()]),
    finished_at: Type.Union([Type.String(), Type.Null()]),
    error: Type.Union([Type.String(), Type.Null()]),
    result: Type.Union([
      Type.Object({
        model: Type.String(), version: Type.Integer(), metrics: Type.Record(Type.String(), Type.Number(), { description: 'Held-out metrics beside their baselines on the same rows (copy_input_*, lead_*, retrieval_*, majority_class_*, unigram/bigram_perplexity).' }),
        quality_warning: NullableQualityWarning,
        stop_reason: Type.Optional(Type.Union(STOP_REASONS.map((r) => Type.Literal(r)), { description: 'Why training ended.' })),
      }),
      Type.Null(),
    ]),
    request: Type.Unknown({ description: 'The normalised training request.' }),
  },
  { $id: 'Job' },
);
export type Job = Static<typeof Job>;

export const JobList = Type.Object({ jobs: Type.Array(Job) }, { $id: 'JobList' });
export const JobLogs = Type.Object({ job_id: Type.String(), logs: Type.Array(Type.String()) }, { $id: 'JobLogs' });
export const JobIdParams = Type.Object({ id: Type.String({ pattern: '^[0-9]{1,18}$', description: 'Job id.' }) }, { additionalProperties: false });
