/**
 * POST /train bodies → TrainJobData (defaults applied, nothing optional), plus the checks that
 * can run before queueing so a hopeless job is refused with a 4xx instead of failing later.
 */
import { ServiceError } from '../errors.ts';
import { AUTO_SIZED, TRANSFORMER_AUTO_SIZED, type TrainJobData } from '../queue/contract.ts';
import { DEFAULT_BPE_VOCAB, HYPERPARAMETER_DEFAULTS, RECURRENT_ONLY, TASK_DEFAULTS, TRANSFORMER_ONLY, type TrainRequest } from '../schemas/train.ts';
import { fitTokenizerFor } from '../tokenize/index.ts';
import { encodeCorpus } from '../tasks/lm-encoding.ts';
import { assertEnoughTokens, splitTrainVal } from './lm-data.ts';
import type { Config } from '../config.ts';
import { loadRows, loadTrainingRecords } from './records.ts';
import { DatasetStore } from './datasets.ts';
import { checkDatasetText } from './dataset-formats.ts';
import { chatConversations } from '../tasks/chat-data.ts';
import { labeledExamples, pairExamples, resolveColumns, type PairTask } from '../tasks/task-data.ts';


/** Inline rows keep strings; a chat row's `messages` array travels as its JSON text (like JSONL uploads). */
function stringRow(row: Record<string, string | unknown[]>): Record<string, string> {
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}

export function normalizeTrainRequest(body: TrainRequest, now = new Date()): TrainJobData {
  const hp = body.hyperparameters ?? {};
  if (hp.epochs !== undefined && hp.max_epochs !== undefined) {
    throw new ServiceError('invalid_parameter', 'hyperparameters.epochs and hyperparameters.max_epochs are alternatives: give one (epochs = a fixed count, max_epochs = a bound with early stopping)', { param: 'hyperparameters.epochs' });
  }
  // `epochs` = a fixed count: early stopping only when patience is given too.
  const patience = hp.patience ?? (hp.epochs !== undefined ? null : HYPERPARAMETER_DEFAULTS.patience);
  const task = body.task ?? 'generate';
  const architecture = body.architecture ?? 'lstm';
  checkArchitecture(task, architecture, hp);
  // Seq2Seq, classify and Transformer LMs (not recurrent LMs: generate, chat) size what the request left unset from the data (train/auto-size.ts).
  const autoSize =
    architecture === 'transformer'
      ? TRANSFORMER_AUTO_SIZED.filter((k) => hp[k] === undefined)
      : task === 'generate' || task === 'chat' ? [] : AUTO_SIZED.filter((k) => hp[k] === undefined);
  const taskDefaults = TASK_DEFAULTS[task];
  return {
    name: body.name,
    task,
    architecture,
    dataset: 'rows' in body.dataset ? { rows: body.dataset.rows.map(stringRow) } : body.dataset,
    columns: body.columns ?? {},
    languages: body.languages ?? null,
    tokenizer: normalizeTokenizer(body.tokenizer, taskDefaults?.tokenizer),
    hyperparameters: {
      layers: hp.layers ?? HYPERPARAMETER_DEFAULTS.layers,
      units: hp.units ?? HYPERPARAMETER_DEFAULTS.units,
      heads: hp.heads ?? HYPERPARAMETER_DEFAULTS.heads,
      context_length: hp.context_length ?? HYPERPARAMETER_DEFAULTS.context_length,
      embedding_dim: hp.embedding_dim ?? HYPERPARAMETER_DEFAULTS.embedding_dim,
      dropout: hp.dropout ?? HYPERPARAMETER_DEFAULTS.dropout,
      sequence_length: hp.sequence_length ?? HYPERPARAMETER_DEFAULTS.sequence_length,
      batch_size: hp.batch_size ?? HYPERPARAMETER_DEFAULTS.batch_size,
      max_epochs: hp.epochs ?? hp.max_epochs ?? HYPERPARAMETER_DEFAULTS.max_epochs,
      max_steps: hp.max_steps ?? null,
      time_budget_s: hp.time_budget_s ?? null,
      patience,
      min_delta: hp.min_delta ?? HYPERPARAMETER_DEFAULTS.min_delta,
      eval_every_steps: hp.eval_every_steps ?? null,
      learning_rate: hp.learning_rate ?? HYPERPARAMETER_DEFAULTS.learning_rate,
      lr_schedule: hp.lr_schedule ?? HYPERPARAMETER_DEFAULTS.lr_schedule,
      warmup_steps: hp.warmup_steps ?? null,
      label_smoothing: hp.label_smoothing ?? HYPERPARAMETER_DEFAULTS.label_smoothing,
      weight_decay: hp.weight_decay ?? HYPERPARAMETER_DEFAULTS.weight_decay,
      validation_split: hp.validation_split ?? HYPERPARAMETER_DEFAULTS.validation_split,
      seed: hp.seed ?? HYPERPARAMETER_DEFAULTS.seed,
      max_steps_per_epoch: hp.max_steps_per_epoch ?? null,
      clip_norm: hp.clip_norm ?? HYPERPARAMETER_DEFAULTS.clip_norm,
      bidirectional: hp.bidirectional ?? HYPERPARAMETER_DEFAULTS.bidirectional,
      max_source_length: hp.max_source_length ?? HYPERPARAMETER_DEFAULTS.max_source_length,
      max_target_length: hp.max_target_length ?? HYPERPARAMETER_DEFAULTS.max_target_length,
      retrieval_augmented: hp.retrieval_augmented ?? taskDefaults?.hyperparameters.retrieval_augmented ?? HYPERPARAMETER_DEFAULTS.retrieval_augmented,
      copy: hp.copy ?? taskDefaults?.hyperparameters.copy ?? HYPERPARAMETER_DEFAULTS.copy,
      word_dropout: hp.word_dropout ?? HYPERPARAMETER_DEFAULTS.word_dropout,
    },
    ...(autoSize.length > 0 ? { auto_size: autoSize } : {}),
    submitted_at: now.toISOString(),
  };
}

/**
 * Architecture rules: a Transformer is a language model (generate, chat) and takes no recurrent-only
 * hyperparameter; a recurrent model takes no Transformer-only one; `heads` divides `embedding_dim`.
 */
function checkArchitecture(task: TrainJobData['task'], architecture: TrainJobData['architecture'], hp: NonNullable<TrainRequest['hyperparameters']>): void {
  if (architecture === 'transformer') {
    if (task !== 'generate' && task !== 'chat') {
      throw new ServiceError('invalid_parameter', `architecture: "transformer" is a decoder-only language model for tasks generate and chat; task ${task} takes lstm or gru`, { param: 'architecture' });
    }
    for (const k of RECURRENT_ONLY) {
      if (hp[k] !== undefined) {
        const hint = k === 'sequence_length' ? ' (a Transformer trains on windows of hyperparameters.context_length)' : k === 'units' ? ' (a Transformer\'s width is hyperparameters.embedding_dim)' : '';
        throw new ServiceError('invalid_parameter', `hyperparameters.${k} applies to lstm and gru only, not to architecture transformer${hint}`, { param: `hyperparameters.${k}` });
      }
    }
    if (hp.heads !== undefined && hp.embedding_dim !== undefined && hp.embedding_dim % hp.heads !== 0) {
      throw new ServiceError('invalid_parameter', `hyperparameters.heads (${hp.heads}) must divide hyperparameters.embedding_dim (${hp.embedding_dim}): each head is embedding_dim / heads wide`, { param: 'hyperparameters.heads' });
    }
    return;
  }
  for (const k of TRANSFORMER_ONLY) {
    if (hp[k] !== undefined) {
      throw new ServiceError('invalid_parameter', `hyperparameters.${k} applies to architecture transformer only, not to ${architecture}`, { param: `hyperparameters.${k}` });
    }
  }
}

/** The training window of a language model: context_length for a Transformer, sequence_length for a recurrent one. */
export function windowLength(data: Pick<TrainJobData, 'architecture' | 'hyperparameters'>): number {
  return data.architecture === 'transformer' ? data.hyperparameters.context_length : data.hyperparameters.sequence_length;
}

/**
 * The tokenizer spec with defaults (the task's default type and size where the request names no
 * type; char otherwise); refuses a size field that does not belong to the type.
 */
function normalizeTokenizer(spec: TrainRequest['tokenizer'], taskDefault?: { type: 'bpe'; vocab_size: number }): TrainJobData['tokenizer'] {
  const type = spec?.type ?? (spec?.max_vocab !== undefined ? 'char' : taskDefault?.type ?? 'char');
  if (type === 'bpe') {
    if (spec?.max_vocab !== undefined) {
      throw new ServiceError('invalid_parameter', 'tokenizer.max_vocab applies to types char and word; a bpe tokenizer takes tokenizer.vocab_size', { param: 'tokenizer.max_vocab' });
    }
    const size = spec?.type === undefined && taskDefault ? taskDefault.vocab_size : DEFAULT_BPE_VOCAB;
    return { type, vocab_size: spec?.vocab_size ?? size };
  }
  if (spec?.vocab_size !== undefined) {
    throw new ServiceError('invalid_parameter', `tokenizer.vocab_size applies to type bpe; a ${type} tokenizer takes tokenizer.max_vocab`, { param: 'tokenizer.vocab_size' });
  }
  return { type, max_vocab: spec?.max_vocab ?? 5000 };
}

/**
 * Everything about a training request's data that can be checked before queueing, so a job that
 * cannot succeed is refused with a 4xx naming the problem: inline size, the columns the task needs
 * (present and non-empty in every row), at least two labels for a classifier, enough text for one
 * language-model window. Stored datasets are parsed here too (they are on the same DATA_DIR).
 */
export async function checkTrainingData(data: TrainJobData, config: Pick<Config, 'dataDir' | 'maxDatasetBytes' | 'maxInlineTextBytes'>): Promise<void> {
  resolveColumns(data.task, data.columns);
  if (data.languages && data.task !== 'translate') throw new ServiceError('invalid_parameter', `languages applies to task translate only (this request's task is ${data.task})`);
  const ds = data.dataset;
  if ('text' in ds) checkDatasetText(ds.text, 'dataset.text'); // the checks an upload of the same text gets
  if ('rows' in ds) {
    const bytes = Buffer.byteLength(JSON.stringify(ds.rows));
    if (bytes > config.maxInlineTextBytes) {
      throw new ServiceError('payload_too_large', `dataset.rows is ${bytes} bytes of JSON; inline rows are limited to ${config.maxInlineTextBytes} bytes (MAX_INLINE_TEXT_BYTES): upload larger data with POST /datasets`);
    }
  }
  if (data.task === 'generate') {
    if ('text' in ds) return checkInlineText(data, config.maxInlineTextBytes);
    // A stored dataset's size is checked by the worker (fitting a tokenizer on it here would be slow):
    // plain text only has to exist; rows must have the text column.
    if ('id' in ds && (await new DatasetStore(config.dataDir, { maxBytes: config.maxDatasetBytes }).get(ds.id)).format === 'text') return;
    const records = await loadTrainingRecords(config, ds, data.columns.text ?? 'text');
    if ('rows' in ds) checkRecords(data, records);
    return;
  }
  const rows = await loadRows(config, ds);
  if (data.task === 'classify') labeledExamples(rows, data.columns);
  else if (data.task === 'chat') chatConversations(rows, data.columns);
  else pairExamples(data.task as PairTask, rows, data.columns);
}

/** Inline text: size cap and "at least one training window" (exact, with the job's tokenizer). */
export function checkInlineText(data: TrainJobData, maxBytes: number): void {
  if (!('text' in data.dataset)) return;
  const bytes = Buffer.byteLength(data.dataset.text);
  if (bytes > maxBytes) {
    throw new ServiceError('payload_too_large', `dataset.text is ${bytes} bytes; inline text is limited to ${maxBytes} bytes (MAX_INLINE_TEXT_BYTES): upload larger data with POST /datasets`);
  }
  checkRecords(data, [data.dataset.text]);
}

/** Throws dataset_too_small when the records cannot fill one training window. */
export function checkRecords(data: TrainJobData, records: readonly string[]): void {
  const tokenizer = fitTokenizerFor(data.tokenizer, records);
  const { train } = splitTrainVal(encodeCorpus(records, tokenizer), data.hyperparameters.validation_split);
  assertEnoughTokens(train.length, windowLength(data), data.architecture === 'transformer' ? 'context_length' : 'sequence_length');
}
