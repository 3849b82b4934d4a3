/**
 * POST /train bodies → TrainJobData (defaults applied, nothing optional), plus the checks that
 * can run before queueing so a hopeless job is refused with a 4xx instead of failing later.
 */
import { ServiceError } from '../errors.ts';
import type { TrainJobData } from '../queue/contract.ts';
import { HYPERPARAMETER_DEFAULTS, type TrainRequest } from '../schemas/train.ts';
import { fitTokenizer } from '../tokenize/index.ts';
import { assertEnoughTokens, encodeCorpus, splitTrainVal } from './lm-data.ts';


export function normalizeTrainRequest(body: TrainRequest, now = new Date()): TrainJobData {
  const hp = body.hyperparameters ?? {};
  return {
    name: body.name,
    task: body.task ?? 'generate',
    architecture: body.architecture ?? 'lstm',
    dataset: body.dataset,
    columns: body.columns ?? {},
    languages: body.languages ?? null,
    tokenizer: { type: body.tokenizer?.type ?? 'char', max_vocab: body.tokenizer?.max_vocab ?? 5000 },
    hyperparameters: {
      layers: hp.layers ?? HYPERPARAMETER_DEFAULTS.layers,
      units: hp.units ?? HYPERPARAMETER_DEFAULTS.units,
      embedding_dim: hp.embedding_dim ?? HYPERPARAMETER_DEFAULTS.embedding_dim,
      dropout: hp.dropout ?? HYPERPARAMETER_DEFAULTS.dropout,
      sequence_length: hp.sequence_length ?? HYPERPARAMETER_DEFAULTS.sequence_length,
      batch_size: hp.batch_size ?? HYPERPARAMETER_DEFAULTS.batch_size,
      epochs: hp.epochs ?? HYPERPARAMETER_DEFAULTS.epochs,
      learning_rate: hp.learning_rate ?? HYPERPARAMETER_DEFAULTS.learning_rate,
      validation_split: hp.validation_split ?? HYPERPARAMETER_DEFAULTS.validation_split,
      seed: hp.seed ?? HYPERPARAMETER_DEFAULTS.seed,
      max_steps_per_epoch: hp.max_steps_per_epoch ?? null,
      bidirectional: hp.bidirectional ?? HYPERPARAMETER_DEFAULTS.bidirectional,
      max_source_length: hp.max_source_length ?? HYPERPARAMETER_DEFAULTS.max_source_length,
      max_target_length: hp.max_target_length ?? HYPERPARAMETER_DEFAULTS.max_target_length,
    },
    submitted_at: now.toISOString(),
  };
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
  const tokenizer = fitTokenizer(data.tokenizer.type, records, { maxVocab: data.tokenizer.max_vocab });
  const { train } = splitTrainVal(encodeCorpus(records, tokenizer), data.hyperparameters.validation_split);
  assertEnoughTokens(train.length, data.hyperparameters.sequence_length);
}
