/**
 * Uploads a local file as a dataset (POST /datasets, raw body). The format comes from `--format` or
 * the file's extension: .jsonl/.ndjson → JSONL, .csv → CSV, .tsv → TSV, anything else → plain text.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from './args.ts';
import type { ApiClient } from './client.ts';

export const DATASET_FORMATS = ['text', 'jsonl', 'csv', 'tsv'] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

const CONTENT_TYPE: Record<DatasetFormat, string> = {
  text: 'text/plain',
  jsonl: 'application/x-ndjson',
  csv: 'text/csv',
  tsv: 'text/tab-separated-values',
};

export function formatOf(file: string, override?: string): DatasetFormat {
  if (override !== undefined) {
    if (!(DATASET_FORMATS as readonly string[]).includes(override)) throw new UsageError(`--format must be one of ${DATASET_FORMATS.join(', ')}, got "${override}"`);
    return override as DatasetFormat;
  }
  const ext = path.extname(file).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.csv') return 'csv';
  if (ext === '.tsv') return 'tsv';
  return 'text';
}

export interface DatasetInfo {
  id: string;
  sha256: string;
  bytes: number;
  examples: number;
  format: string;
  name?: string;
}

/** `task` (when given) makes the server check every row's columns at upload. */
export async function uploadDataset(client: ApiClient, file: string, opts: { format?: string; task?: string }): Promise<DatasetInfo> {
  const format = formatOf(file, opts.format);
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  return client.post<DatasetInfo>('/datasets', { data, contentType: CONTENT_TYPE[format] }, { name: path.basename(file).slice(0, 128), task: opts.task });
}
