/**
 * The API ↔ worker contract: queue name, job payload, progress and result shapes, and the Redis
 * keys both sides use. Only this folder is imported by both processes.
 */
import type { QualityWarning } from '../eval/quality.ts';

export const TRAIN_QUEUE = 'train';

/** A training request after defaults are applied: what the worker receives, nothing optional. */
export interface TrainJobData {
  name: string;
  task: 'generate' | 'summarize' | 'translate' | 'qa' | 'classify' | 'chat';
  /** lstm/gru: recurrent (every task); transformer: decoder-only, tasks generate and chat. */
  architecture: 'lstm' | 'gru' | 'transformer';
  /** An uploaded dataset, inline text (generate), or inline rows (paired tasks, classify). */
  dataset: { id: string } | { text: string } | { rows: Record<string, string>[] };
  /** Column name per role when it differs from the role's name (tasks/task-data.ts). */
  columns: Partial<Record<'text' | 'source' | 'target' | 'question' | 'context' | 'answer' | 'label' | 'group' | 'messages' | 'prompt' | 'response', string>>;
  /** Translation: the languages (BCP 47) recorded in the manifest; the target's picks BLEU's tokens. */
  languages: { source: string; target: string } | null;
  /** char/word: a vocabulary cap; bpe: the vocabulary size to learn (both count the specials). */
  tokenizer: { type: 'char' | 'word'; max_vocab: number } | { type: 'bpe'; vocab_size: number };
  hyperparameters: {
    layers: number;
    units: number;
    /** Transformer: attention heads (divides embedding_dim) and positions (the training window and the serving context). */
    heads: number;
    context_length: number;
    embedding_dim: number;
    dropout: number;
    sequence_length: number;
    batch_size: number;
    /** Upper bound on passes over the training split (`epochs` in a request is its alias). */
    max_epochs: number;
    /** Upper bound on optimizer steps over the whole run; null = none. */
    max_steps: number | null;
    /** Upper bound on training seconds (across resumes); null = none. */
    time_budget_s: number | null;
    /** Held-out evaluations without an improvement > min_delta before stopping; null = no early stopping. */
    patience: number | null;
    min_delta: number;
    /** Also evaluate the held-out loss every this many steps (null = at epoch ends only). */
    eval_every_steps: number | null;
    learning_rate: number;
    lr_schedule: 'constant' | 'cosine' | 'plateau';
    /** null = auto: 5% of the run's step bound, at most 100 (train/loop.ts). */
    warmup_steps: number | null;
    /** Seq2Seq: label smoothing ε of the training loss (the held-out loss is plain cross-entropy). */
    label_smoothing: number;
    /** Decoupled (AdamW) weight decay on weight matrices; 0 = off. */
    weight_decay: number;
    validation_split: number;
    seed: number;
    max_steps_per_epoch: number | null;
    /** Global-norm gradient clipping before each optimizer step; null = off. */
    clip_norm: number | null;
    /** Seq2Seq and classify: bidirectional encoder layers. */
    bidirectional: boolean;
    /** Seq2Seq and classify: source ids kept (longer inputs are truncated, and say so). */
    max_source_length: number;
    /** Seq2Seq: target ids trained on, including <eos>. */
    max_target_length: number;
    /** Seq2Seq: the encoder also reads the target of the nearest training example (tasks/retrieval.ts). */
    retrieval_augmented: boolean;
    /** Seq2Seq: pointer-generator copy over one shared vocabulary (arch/seq2seq.ts); absent = off (jobs queued before it existed). */
    copy?: boolean;
    /** Seq2Seq: token dropout — the probability of zeroing a whole input embedding (source tokens and the decoder's previous tokens) in training; absent = 0 (jobs queued before it existed). */
    word_dropout?: number;
  };
  /**
   * Hyperparameters the request left unset that the trainer sizes from the data (train/auto-size.ts);
   * absent or empty = none (language models, and jobs queued before the policy existed).
   */
  auto_size?: AutoSizedHyperparameter[];
  submitted_at: string;
  /** Name of the API key that queued the job (docs/auth.md); null or absent = queued with auth off. Never the secret. */
  owner?: string | null;
}

export const AUTO_SIZED = ['units', 'layers', 'embedding_dim', 'batch_size', 'learning_rate', 'dropout'] as const;
/** What the policy sizes for a Transformer LM (train/auto-size.ts `transformerAutoSizes`). */
export const TRANSFORMER_AUTO_SIZED = ['layers', 'heads', 'embedding_dim', 'context_length', 'dropout', 'learning_rate', 'weight_decay', 'lr_schedule'] as const;
export type AutoSizedHyperparameter = (typeof AUTO_SIZED)[number] | (typeof TRANSFORMER_AUTO_SIZED)[number];

/** Why training ended: see train/loop.ts. */
export type StopReason = 'converged' | 'max_epochs' | 'max_steps' | 'time_budget' | 'cancelled';
export const STOP_REASONS: readonly StopReason[] = ['converged', 'max_epochs', 'max_steps', 'time_budget', 'cancelled'];

/** Reported with job.updateProgress after every few batches and at every epoch end. */
export interface TrainProgressData {
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  loss: number | null;
  val_loss: number | null;
  /** The best held-out loss so far (the weights that will be published). */
  best_val_loss: number | null;
  learning_rate: number;
  tokens_per_sec: number | null;
  eta_s: number | null;
  /** Set in the last report: why training ended. */
  stop_reason: StopReason | null;
}

/** The job's return value. A cancelled job completes with `cancelled: true` (never retried). */
export type TrainJobResult =
  | { cancelled: false; model: string; version: number; metrics: Record<string, number>; quality_warning?: QualityWarning | null; stop_reason?: StopReason }
  | { cancelled: true; reason: string };

/** Redis key the API sets to ask the worker to stop a job at its next batch. */
export const cancelKey = (prefix: string, jobId: string): string => `${prefix}:cancel:${jobId}`;
export const CANCEL_TTL_S = 7 * 24 * 3600;
