/** Loads what a training job learns from: inline text or rows, or a stored dataset. */
import { createHash } from 'node:crypto';
import type { Config } from '../config.ts';
import { ServiceError } from '../errors.ts';
import type { TrainJobData } from '../queue/contract.ts';
import { DatasetStore } from './datasets.ts';

type DataConfig = Pick<Config, 'dataDir' | 'maxDatasetBytes'>;

/**
 * Language-model records. Plain-text datasets are one record (the whole text); JSONL/CSV/TSV
 * datasets and inline rows give one record per row's text column (`columns.text`, default `text`).
 * Records are separated by <eos><bos> in the token stream (tasks/lm-encoding.ts).
 */
export async function loadTrainingRecords(config: DataConfig, spec: TrainJobData['dataset'], textColumn = 'text'): Promise<string[]> {
  if ('text' in spec) return [spec.text];
  if ('id' in spec) {
    const store = new DatasetStore(config.dataDir, { maxBytes: config.maxDatasetBytes });
    const info = await store.get(spec.id);
    if (info.format === 'text') return [await store.readText(spec.id)];
  }
  const rows = await loadRows(config, spec);
  if (!rows.some((r) => textColumn in r)) {
    throw new ServiceError('invalid_dataset', `the dataset has no column "${textColumn}" for task generate; its columns are ${[...new Set(rows.flatMap(Object.keys))].join(', ')} (map one with columns.text)`);
  }
  return rows.map((r) => r[textColumn] ?? '').filter((t) => t.length > 0);
}

/** Rows of a tabular dataset (JSONL, CSV, TSV) or inline rows, for every task but generate. */
export async function loadRows(config: DataConfig, spec: TrainJobData['dataset']): Promise<Record<string, string>[]> {
  if ('rows' in spec) return spec.rows;
  if ('text' in spec) throw new ServiceError('invalid_dataset', 'dataset.text is plain text; this task needs rows with named columns: pass dataset.rows or upload JSONL, CSV or TSV');
  const store = new DatasetStore(config.dataDir, { maxBytes: config.maxDatasetBytes });
  const info = await store.get(spec.id);
  if (info.format === 'text') throw new ServiceError('invalid_dataset', `dataset ${spec.id} is plain text; this task needs JSONL, CSV or TSV with named columns`);
  return store.readRecords(spec.id);
}

/**
 * Rows for scoring a model (POST /models/:name/evaluate): tabular datasets and inline rows as they
 * are, and a plain-text dataset as one `{text}` row (what a language model is scored on).
 */
export async function loadEvaluationRows(config: DataConfig, spec: { id: string } | { rows: Record<string, string>[] }): Promise<Record<string, string>[]> {
  if ('id' in spec) {
    const store = new DatasetStore(config.dataDir, { maxBytes: config.maxDatasetBytes });
    if ((await store.get(spec.id)).format === 'text') return [{ text: await store.readText(spec.id) }];
  }
  return loadRows(config, spec);
}

/** The manifest's `dataset` entry: content hash and size, so a model names exactly what it learned from. */
export async function describeDataset(config: DataConfig, spec: TrainJobData['dataset']) {
  if ('text' in spec || 'rows' in spec) {
    const content = 'text' in spec ? spec.text : spec.rows.map((r) => JSON.stringify(r)).join('\n');
    return { sha256: createHash('sha256').update(content).digest('hex'), bytes: Buffer.byteLength(content), source: 'inline' };
  }
  const info = await new DatasetStore(config.dataDir, { maxBytes: config.maxDatasetBytes }).get(spec.id);
  return { sha256: info.sha256, id: info.id, bytes: info.bytes, source: info.name ?? 'upload' };
}
