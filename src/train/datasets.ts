/**
 * DatasetStore: uploaded training datasets, stored by content hash.
 *
 * Layout: `<dataDir>/datasets/<id>/data.<ext>` (the raw uploaded bytes; ext = txt | jsonl | csv |
 * tsv) and `<dataDir>/datasets/<id>/info.json` (DatasetInfo). id = 'ds_' + the first 24 hex
 * characters of the body's sha256.
 *
 * Contracts:
 *   - put validates before storing (see dataset-formats.ts); a rejected body leaves nothing on disk.
 *   - A dataset directory appears only by atomically renaming a complete temp dir, so get/list/
 *     readRecords never see a half-written dataset; deletes rename away first for the same reason.
 *   - put is idempotent by content: identical bytes return the already-stored DatasetInfo (its id,
 *     name and created_at), also when two identical uploads race.
 *   - Ids are validated (`^ds_[0-9a-f]{24}$`, invalid_parameter) before any path is built, so
 *     nothing outside `<dataDir>/datasets` is read or written.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { ServiceError } from '../errors.ts';
import { fsyncDir, isNotFound, randomSuffix, safeJoin, writeFileDurable } from '../store/fs-utils.ts';
import { DATASET_FORMATS, decodeDatasetText, parseDataset, type DatasetFormat } from './dataset-formats.ts';

export type { DatasetFormat } from './dataset-formats.ts';

export const DATASET_ID_PATTERN = /^ds_[0-9a-f]{24}$/;
const INFO_FILE = 'info.json';
const EXTENSIONS: Record<DatasetFormat, string> = { text: 'txt', jsonl: 'jsonl', csv: 'csv', tsv: 'tsv' };

export interface DatasetInfo {
  id: string;
  /** Hex sha256 of the raw uploaded bytes. */
  sha256: string;
  bytes: number;
  /** Non-blank lines (text) or records (JSONL, CSV, TSV). */
  examples: number;
  /**
   * Field names: the header for CSV/TSV, every key seen in the JSONL records (first-seen order),
   * ["text"] for text. Absent on datasets stored before this field existed.
   */
  columns?: string[];
  format: DatasetFormat;
  name?: string;
  /** ISO-8601 timestamp of the first upload of this content. */
  created_at: string;
  /**
   * Names of the API keys that uploaded this content (docs/auth.md): each of them sees it; absent or
   * empty = uploaded with auth off (only admin keys see it once keys are configured). Never sent to clients.
   */
  owners?: string[];
}

export interface PutOptions {
  /** Display name stored with the dataset (first upload of the content wins). */
  name?: string;
  /**
   * Fields every record must have: string fields for JSONL, columns for CSV/TSV. Defaults to
   * ['text'] for JSONL and none for CSV/TSV; ignored for text.
   */
  requiredFields?: string[];
  /** The uploading key's name (null/absent with auth off); identical content gains it as another owner. */
  owner?: string | null;
}

/** Throws invalid_parameter unless `id` has the dataset id form; returns it. */
export function validateDatasetId(id: unknown, field = 'id'): string {
  if (typeof id !== 'string' || !DATASET_ID_PATTERN.test(id)) {
    throw new ServiceError('invalid_parameter', `${field} must match ${DATASET_ID_PATTERN.source}, got ${JSON.stringify(String(id).slice(0, 80))}`, { param: field });
  }
  return id;
}

function notFound(id: string): ServiceError {
  return new ServiceError('dataset_not_found', `dataset ${id} not found`);
}

/** Every key of `records` in first-seen order (at most 256: a display aid, not a schema). */
function fieldNames(records: Record<string, string>[]): string[] {
  const seen = new Set<string>();
  for (const r of records) {
    for (const k of Object.keys(r)) if (seen.size < 256) seen.add(k);
  }
  return [...seen];
}

export class DatasetStore {
  readonly root: string;
  readonly maxBytes: number;

  constructor(dataDir: string, opts: { maxBytes: number }) {
    if (!Number.isSafeInteger(opts.maxBytes) || opts.maxBytes < 1) {
      throw new Error(`DatasetStore maxBytes must be a positive integer, got ${opts.maxBytes}`);
    }
    this.root = safeJoin(dataDir, 'datasets');
    this.maxBytes = opts.maxBytes;
  }

  /**
   * Validates and stores `body`. Throws payload_too_large (over maxBytes), invalid_dataset (empty,
   * not UTF-8, binary, malformed records, missing required fields) or invalid_parameter (format).
   */
  async put(body: Uint8Array, format: DatasetFormat, opts: PutOptions = {}): Promise<DatasetInfo> {
    if (!DATASET_FORMATS.includes(format)) {
      throw new ServiceError('invalid_parameter', `format must be one of ${DATASET_FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
    }
    if (body.byteLength > this.maxBytes) {
      throw new ServiceError('payload_too_large', `dataset is ${body.byteLength} bytes; the limit is ${this.maxBytes} bytes`);
    }
    const text = decodeDatasetText(body);
    const required = opts.requiredFields ?? (format === 'jsonl' ? ['text'] : []);
    const { records, columns } = parseDataset(text, format, required);

    const sha256 = createHash('sha256').update(body).digest('hex');
    const id = 'ds_' + sha256.slice(0, 24);
    const existing = await this.tryGet(id);
    if (existing) return this.addOwner(this.sameContent(existing, format), opts.owner);
    const fields = columns ?? fieldNames(records);

    const info: DatasetInfo = {
      id,
      sha256,
      bytes: body.byteLength,
      examples: records.length,
      columns: fields,
      format,
      ...(opts.name !== undefined ? { name: opts.name } : {}),
      created_at: new Date().toISOString(),
      ...(opts.owner ? { owners: [opts.owner] } : {}),
    };
    await fsp.mkdir(this.root, { recursive: true });
    const tmp = safeJoin(this.root, `.tmp-${randomSuffix()}`);
    await fsp.mkdir(tmp);
    try {
      await writeFileDurable(safeJoin(tmp, `data.${EXTENSIONS[format]}`), body);
      await writeFileDurable(safeJoin(tmp, INFO_FILE), JSON.stringify(info, null, 2) + '\n');
      await fsyncDir(tmp);
      try {
        await fsp.rename(tmp, safeJoin(this.root, id));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EEXIST' && code !== 'ENOTEMPTY' && code !== 'EPERM') throw err;
        // an identical upload won the race: its dataset is ours
        await fsp.rm(tmp, { recursive: true, force: true });
        return this.addOwner(this.sameContent(await this.get(id), format), opts.owner);
      }
      await fsyncDir(this.root);
      return info;
    } catch (err) {
      await fsp.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
      throw err;
    }
  }

  /** Every readable dataset, oldest first; broken entries and temp dirs are skipped. */
  async list(): Promise<DatasetInfo[]> {
    let entries: string[];
    try {
      entries = await fsp.readdir(this.root);
    } catch (err) {
      if (isNotFound(err)) return [];
      throw err;
    }
    const out: DatasetInfo[] = [];
    for (const entry of entries) {
      if (!DATASET_ID_PATTERN.test(entry)) continue;
      try {
        const info = await this.tryGet(entry);
        if (info) out.push(info);
      } catch {
        // a broken info.json must not hide the other datasets
      }
    }
    return out.sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
  }

  /** The DatasetInfo of `id` (invalid_parameter for a malformed id, dataset_not_found if absent). */
  async get(id: string): Promise<DatasetInfo> {
    const info = await this.tryGet(validateDatasetId(id));
    if (!info) throw notFound(id);
    return info;
  }

  /** Deletes dataset `id` (dataset_not_found if absent). */
  async delete(id: string): Promise<void> {
    const dir = safeJoin(this.root, validateDatasetId(id));
    const trash = safeJoin(this.root, `.tmp-del-${id}-${randomSuffix()}`);
    try {
      await fsp.rename(dir, trash);
    } catch (err) {
      if (isNotFound(err)) throw notFound(id);
      throw err;
    }
    await fsp.rm(trash, { recursive: true, force: true });
  }

  /**
   * The records of `id`: `{text}` per non-blank line for text, objects with their string / number /
   * boolean fields as strings for JSONL, rows keyed by column for CSV/TSV.
   */
  async readRecords(id: string): Promise<Record<string, string>[]> {
    const { format, text } = await this.readDecoded(id);
    return parseDataset(text, format).records;
  }

  /**
   * The training text of `id`: the whole text as is for the text format; for JSONL/CSV/TSV the
   * `text` fields of the records joined with '\n' (invalid_dataset if no record has one).
   */
  async readText(id: string): Promise<string> {
    const { format, text } = await this.readDecoded(id);
    if (format === 'text') return text;
    const texts = parseDataset(text, format).records.map((r) => r.text).filter((t): t is string => t !== undefined);
    if (texts.length === 0) throw new ServiceError('invalid_dataset', `dataset ${id} has no "text" field in any record`);
    return texts.join('\n');
  }

  private async readDecoded(id: string): Promise<{ format: DatasetFormat; text: string }> {
    const info = await this.get(id);
    let body: Buffer;
    try {
      body = await fsp.readFile(safeJoin(this.root, info.id, `data.${EXTENSIONS[info.format]}`));
    } catch (err) {
      if (isNotFound(err)) throw notFound(id); // deleted between get and read
      throw err;
    }
    return { format: info.format, text: decodeDatasetText(body) };
  }

  /** Reads info.json of a (validated) id; undefined when the dataset does not exist. */
  private async tryGet(id: string): Promise<DatasetInfo | undefined> {
    let raw: string;
    try {
      raw = await fsp.readFile(safeJoin(this.root, id, INFO_FILE), 'utf8');
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    const info = JSON.parse(raw) as DatasetInfo;
    if (info?.id !== id || !DATASET_FORMATS.includes(info.format)) throw new Error(`dataset ${id}: ${INFO_FILE} is malformed`);
    return info;
  }

  /** Records `owner` as another owner of a stored dataset (info.json replaced atomically). */
  private async addOwner(info: DatasetInfo, owner: string | null | undefined): Promise<DatasetInfo> {
    if (!owner || info.owners?.includes(owner)) return info;
    const next: DatasetInfo = { ...info, owners: [...(info.owners ?? []), owner] };
    const file = safeJoin(this.root, info.id, INFO_FILE);
    const tmp = `${file}.tmp-${randomSuffix()}`;
    try {
      await writeFileDurable(tmp, JSON.stringify(next, null, 2) + '\n');
      await fsp.rename(tmp, file);
    } catch (err) {
      await fsp.rm(tmp, { force: true }).catch(() => undefined);
      if (isNotFound(err)) throw notFound(info.id); // deleted meanwhile
      throw err;
    }
    return next;
  }

  /**
   * Identical bytes already stored: returns that dataset when the format matches. The id is the
   * content hash, so the same bytes cannot be stored twice under different formats.
   */
  private sameContent(existing: DatasetInfo, format: DatasetFormat): DatasetInfo {
    if (existing.format !== format) {
      throw new ServiceError(
        'invalid_dataset',
        `identical content is already stored as dataset ${existing.id} with format ${existing.format}; ` +
          `use format ${existing.format} or delete ${existing.id} first`,
      );
    }
    return existing;
  }
}
