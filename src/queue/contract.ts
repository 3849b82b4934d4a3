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
  architecture: 'lstm' | 'gru';
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
    embedding_dim: number;
    dropout: number;
    sequence_length: number;
    batch_size: number;
    epochs: number;
    learning_rate: number;
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
  };
  submitted_at: string;
}

/** Reported with job.updateProgress after every few batches and at every epoch end. */
export interface TrainProgressData {
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  loss: number | null;
  val_loss: number | null;
  tokens_per_sec: number | null;
  eta_s: number | null;
}

/** The job's return value. A cancelled job completes with `cancelled: true` (never retried). */
export type TrainJobResult =
  | { cancelled: false; model: string; version: number; metrics: Record<string, number>; quality_warning?: QualityWarning | null }
  | { cancelled: true; reason: string };

/** Redis key the API sets to ask the worker to stop a job at its next batch. */
export const cancelKey = (prefix: string, jobId: string): string => `${prefix}:cancel:${jobId}`;
export const CANCEL_TTL_S = 7 * 24 * 3600;
