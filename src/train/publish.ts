/**
 * Publishes a trained model as a new version of `job.name`: weights, tokenizer(s) and manifest.json,
 * written durably into a temp dir and renamed into place by the store (so `latest` never points at a
 * half-written version). Language models are TF.js Layers models (model.json + weights.bin);
 * Seq2Seq and classifiers are weight sets (seq2seq.json / classifier.json + weights.bin). The caller
 * keeps ownership of the trained model.
 */
import { writeFileDurable, safeJoin } from '../store/fs-utils.ts';
import { saveLayersModel } from '../store/layers-io.ts';
import { saveWeightSet } from '../store/weight-set-io.ts';
import { TransformerLM } from '../arch/transformer.ts';
import { RECURRENT_ONLY, TRANSFORMER_ONLY } from '../schemas/train.ts';
import { TARGET_TOKENIZER_FILE, TOKENIZER_FILE, type ManifestInput } from '../store/manifest.ts';
import type { ModelStore } from '../store/registry.ts';
import type { TrainJobData } from '../queue/contract.ts';
import type { TrainOutcome } from './train-lm.ts';
import type { Seq2SeqOutcome } from './train-seq2seq.ts';
import type { ClassifierOutcome } from './train-classifier.ts';
import type { ChatOutcome } from './train-chat.ts';
import { chatTemplateSpec } from '../tasks/chat-template.ts';
import type { QualityWarning } from '../eval/quality.ts';
import { RETRIEVAL_FILE } from '../tasks/retrieval.ts';
import { WORD_TRANSLATION_FILE } from '../tasks/word-translation.ts';

export interface PublishInfo {
  dataset: ManifestInput['dataset'];
  backend: string;
  jobId?: string;
  /** Extra manifest fields (licence, data package, …). */
  extra?: Record<string, unknown>;
}

interface CommonOutcome {
  metrics: Record<string, number>;
  qualityWarning: QualityWarning | null;
  steps: number;
  summary: { stop_reason: string; steps: number; best_epoch?: number };
  /** The hyperparameters trained with, when the trainer auto-sized some (else the job's). */
  hyperparameters?: TrainJobData['hyperparameters'];
  autoSized?: Record<string, number | string>;
  epochsCompleted: number;
  tokensPerSec: number | null;
  durationSec: number;
}

type ManifestBase = Pick<ManifestInput, 'task' | 'architecture' | 'hyperparameters' | 'metrics' | 'dataset' | 'training' | 'backend' | 'created_at'> & { quality_warning: QualityWarning | null };

function manifestBase(job: TrainJobData, outcome: CommonOutcome, info: PublishInfo): ManifestBase {
  return {
    task: job.task,
    architecture: job.architecture,
    hyperparameters: ownHyperparameters(job.architecture, outcome.hyperparameters ?? job.hyperparameters),
    ...(outcome.autoSized && Object.keys(outcome.autoSized).length > 0 ? { auto_sized: outcome.autoSized } : {}),
    metrics: outcome.metrics,
    // null = the model beats the baselines in `metrics` (or there was nothing to compare).
    quality_warning: outcome.qualityWarning,
    dataset: info.dataset,
    training: {
      ...(info.jobId ? { job_id: info.jobId } : {}),
      epochs_completed: outcome.epochsCompleted,
      ...outcome.summary,
      ...(outcome.tokensPerSec === null ? {} : { tokens_per_sec: Math.round(outcome.tokensPerSec) }),
      duration_s: Math.round(outcome.durationSec),
      seed: job.hyperparameters.seed,
    },
    backend: info.backend,
    created_at: new Date().toISOString(),
  };
}

export async function publishLanguageModel(store: ModelStore, job: TrainJobData, outcome: TrainOutcome, info: PublishInfo) {
  return store.publish(
    job.name,
    async (dir) => {
      if (outcome.model instanceof TransformerLM) await saveWeightSet(dir, 'transformer', outcome.model.spec, outcome.model.ws);
      else await saveLayersModel(outcome.model, dir);
      await writeFileDurable(safeJoin(dir, TOKENIZER_FILE), JSON.stringify(outcome.tokenizer.toJSON()));
    },
    {
      ...manifestBase(job, outcome, info),
      tokenizer: { type: outcome.tokenizer.type, vocab_size: outcome.tokenizer.vocabSize, ...requestedSize(job) },
      ...info.extra,
    },
  );
}

/**
 * Seq2Seq manifest extras: `languages` (translate), `source_format` (qa: how the encoder input is
 * built), `tokenizer.shared` / `target_vocab_size`, `retrieval` (the stored retrieval.json), and for
 * translate `word_translation` (the stored word-translation.json) and `decoding.translator` (the default).
 */
export async function publishSeq2Seq(store: ModelStore, job: TrainJobData, outcome: Seq2SeqOutcome, info: PublishInfo & { contextRows?: number; rows?: number }) {
  const shared = outcome.sourceTokenizer === outcome.targetTokenizer;
  return store.publish(
    job.name,
    async (dir) => {
      await saveWeightSet(dir, 'seq2seq', outcome.spec, outcome.model.ws);
      await writeFileDurable(safeJoin(dir, TOKENIZER_FILE), JSON.stringify(outcome.sourceTokenizer.toJSON()));
      if (!shared) await writeFileDurable(safeJoin(dir, TARGET_TOKENIZER_FILE), JSON.stringify(outcome.targetTokenizer.toJSON()));
      await writeFileDurable(safeJoin(dir, RETRIEVAL_FILE), JSON.stringify(outcome.retrieval.toJSON()));
      if (outcome.wordTranslator) await writeFileDurable(safeJoin(dir, WORD_TRANSLATION_FILE), JSON.stringify(outcome.wordTranslator.toJSON()));
    },
    {
      ...manifestBase(job, outcome, info),
      tokenizer: {
        type: outcome.sourceTokenizer.type, vocab_size: outcome.sourceTokenizer.vocabSize, ...requestedSize(job), shared,
        ...(shared ? {} : { target_vocab_size: outcome.targetTokenizer.vocabSize }),
      },
      attention: 'luong-general',
      // The training rows' retrieval index: the retrieval baseline of /evaluate, and the encoder's
      // second input when hyperparameters.retrieval_augmented.
      retrieval: { file: RETRIEVAL_FILE, features: 'char-bigram-idf-dice', rows: outcome.retrieval.size, rows_total: outcome.retrieval.rowsTotal },
      ...(outcome.wordTranslator ? { word_translation: { file: WORD_TRANSLATION_FILE, method: 'ibm-model-1 + trigram lm, monotone', rows: outcome.wordTranslator.rows } } : {}),
      ...(outcome.translator ? { decoding: { translator: outcome.translator } } : {}),
      ...(job.languages ? { languages: job.languages } : {}),
      ...(job.task === 'qa'
        ? { source_format: 'question <eos> context', context: info.contextRows === 0 ? 'none' : info.contextRows === info.rows ? 'required' : 'optional' }
        : {}),
      ...info.extra,
    },
  );
}

export async function publishClassifier(store: ModelStore, job: TrainJobData, outcome: ClassifierOutcome, info: PublishInfo) {
  return store.publish(
    job.name,
    async (dir) => {
      await saveWeightSet(dir, 'classifier', outcome.spec, outcome.model.ws);
      await writeFileDurable(safeJoin(dir, TOKENIZER_FILE), JSON.stringify(outcome.tokenizer.toJSON()));
    },
    {
      ...manifestBase(job, outcome, info),
      tokenizer: { type: outcome.tokenizer.type, vocab_size: outcome.tokenizer.vocabSize, ...requestedSize(job) },
      labels: outcome.labels,
      ...info.extra,
    },
  );
}

/**
 * A chat model: a language model whose tokenizer.json is the base tokenizer and whose manifest
 * carries the chat template (role markers appended after the base vocabulary).
 */
export async function publishChatModel(store: ModelStore, job: TrainJobData, outcome: ChatOutcome, info: PublishInfo) {
  return publishLanguageModel(store, job, outcome, { ...info, extra: { chat_template: chatTemplateSpec(outcome.tokenizer.vocabSize), ...info.extra } });
}

/** The size the request asked for, as the manifest records it: `max_vocab` (char/word) or `vocab_size_requested` (bpe). */
function requestedSize(job: TrainJobData): { max_vocab: number } | { vocab_size_requested: number } {
  return job.tokenizer.type === 'bpe' ? { vocab_size_requested: job.tokenizer.vocab_size } : { max_vocab: job.tokenizer.max_vocab };
}

/** The hyperparameters that apply to the architecture (a Transformer has no units, an LSTM no heads). */
function ownHyperparameters(architecture: TrainJobData['architecture'], hp: TrainJobData['hyperparameters']): Record<string, unknown> {
  const foreign: readonly string[] = architecture === 'transformer' ? RECURRENT_ONLY : TRANSFORMER_ONLY;
  return Object.fromEntries(Object.entries(hp).filter(([k]) => !foreign.includes(k)));
}
