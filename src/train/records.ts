/** Loads the text records a language-model job trains on, from inline text or a stored dataset. */
import { createHash } from 'node:crypto';
import type { Config } from '../config.ts';
import type { TrainJobData } from '../queue/contract.ts';
import { DatasetStore } from './datasets.ts';

/**
 * Plain-text datasets are one record (the whole text); JSONL/CSV/TSV datasets give one record per
 * row's `text` field. Records are separated by <eos><bos> in the token stream (lm-data.ts).
 */
export async function loadTrainingRecords(config: Pick<Config, 'dataDir' | 'maxDatasetBytes'>, spec: TrainJobData['dataset']): Promise<string[]> {
  if ('text' in spec) return [spec.text];
  const store = new DatasetStore(config.dataDir, { maxBytes: config.maxDatasetBytes });
  const info = await store.get(spec.id);
  if (info.format === 'text') return [await store.readText(spec.id)];
  return (await store.readRecords(spec.id)).map((r) => r.text ?? '').filter((t) => t.length > 0);
}

/** The manifest's `dataset` entry: content hash and size, so a model names exactly what it learned from. */
export async function describeDataset(config: Pick<Config, 'dataDir' | 'maxDatasetBytes'>, spec: TrainJobData['dataset']) {
  if ('text' in spec) {
    return { sha256: createHash('sha256').update(spec.text).digest('hex'), bytes: Buffer.byteLength(spec.text), source: 'inline' };
  }
  const info = await new DatasetStore(config.dataDir, { maxBytes: config.maxDatasetBytes }).get(spec.id);
  return { sha256: info.sha256, id: info.id, bytes: info.bytes, source: info.name ?? 'upload' };
}
