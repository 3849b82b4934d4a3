/**
 * Parsing and validation of uploaded dataset bodies. Pure functions over bytes/strings; every
 * rejection is a ServiceError('invalid_dataset') whose message names the problem and, where it
 * applies, the 1-based line number and the field.
 *
 * Formats:
 *   - text:  UTF-8 text; one example per non-blank line.
 *   - jsonl: one JSON object per non-blank line.
 *   - csv:   RFC 4180 — a header row of named columns; fields separated by ',', optionally quoted
 *            with '"' (doubled '""' inside quotes is a literal quote; quoted fields may contain ','
 *            and newlines); rows end with LF or CRLF; every row has the header's column count.
 *            A '"' inside an unquoted field is taken literally (common in real exports).
 *   - tsv:   IANA text/tab-separated-values — header row, fields separated by TAB, no quoting.
 * Blank lines between records are skipped in every format.
 */
import { ServiceError } from '../errors.ts';

export type DatasetFormat = 'text' | 'jsonl' | 'csv' | 'tsv';
export const DATASET_FORMATS: readonly DatasetFormat[] = ['text', 'jsonl', 'csv', 'tsv'];

/** Share of C0 control characters (other than \t \n \r \f) above which text counts as binary. */
export const MAX_CONTROL_CHAR_SHARE = 0.01;

export interface ParsedDataset {
  /** One record per example: `{text}` per line for text, objects for JSONL, rows for CSV/TSV. */
  records: Record<string, string>[];
  /** Column names (CSV/TSV only), in header order. */
  columns?: string[];
}

function invalid(message: string, param: string | null = null): ServiceError {
  return new ServiceError('invalid_dataset', message, { param });
}

/**
 * Decodes `body` as UTF-8 (a leading BOM is dropped) and rejects invalid UTF-8 and whatever
 * `checkDatasetText` rejects.
 */
export function decodeDatasetText(body: Uint8Array): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw invalid('dataset is not valid UTF-8 text');
  }
  checkDatasetText(text);
  return text;
}

/**
 * Rejects empty or whitespace-only text, NUL bytes and binary-looking text (more than 1% C0
 * controls). Uploads and inline `dataset.text` in POST /train get the same code and message;
 * `param` names the field for inline text.
 */
export function checkDatasetText(text: string, param: string | null = null): void {
  if (text.trim().length === 0) throw invalid('dataset is empty (no non-whitespace content)', param);
  const nul = text.indexOf('\0');
  if (nul !== -1) throw invalid(`dataset looks binary: it contains a NUL byte (line ${lineOf(text, nul)})`, param);
  let controls = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0x0c) controls++;
  }
  if (controls > text.length * MAX_CONTROL_CHAR_SHARE) {
    throw invalid(
      `dataset looks binary: ${controls} of ${text.length} characters are control characters (limit ${MAX_CONTROL_CHAR_SHARE * 100}%)`,
      param,
    );
  }
}

/** 1-based line number of character offset `index` in `text`. */
function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 0x0a) line++;
  return line;
}

/** Splits on LF / CRLF and drops a trailing CR from each line. */
function splitLines(text: string): string[] {
  return text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

/** Text format: one `{text}` record per non-blank line (the line as is, without its line ending). */
export function parseTextLines(text: string): ParsedDataset {
  return { records: splitLines(text).filter((l) => l.trim() !== '').map((line) => ({ text: line })) };
}

/**
 * Converts a JSON object to a string record: strings are kept, numbers and booleans become their
 * String() form, arrays and objects their JSON text (a chat row's `messages`), null is dropped.
 */
function toStringRecord(obj: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
    else if (typeof v === 'object' && v !== null) out[k] = JSON.stringify(v);
  }
  return out;
}

/**
 * JSONL: every non-blank line must be a JSON object, and every field in `requiredFields` must be a
 * string in every object. Errors name the 1-based line number and the field.
 */
export function parseJsonl(text: string, requiredFields: readonly string[] = []): ParsedDataset {
  const records: Record<string, string>[] = [];
  const lines = splitLines(text);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw invalid(`JSONL line ${i + 1} is not valid JSON: ${(err as Error).message}`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw invalid(`JSONL line ${i + 1} must be a JSON object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
    }
    const obj = value as Record<string, unknown>;
    for (const field of requiredFields) {
      if (!(field in obj)) throw invalid(`JSONL line ${i + 1} is missing the required string field "${field}"`);
      if (typeof obj[field] !== 'string') throw invalid(`JSONL line ${i + 1}: field "${field}" must be a string`);
    }
    records.push(toStringRecord(obj));
  }
  if (records.length === 0) throw invalid('JSONL dataset has no records');
  return { records };
}

interface RawRow {
  fields: string[];
  line: number;
}

/** RFC 4180 tokenizer for CSV; returns rows with the 1-based line each row starts on. */
function tokenizeCsv(text: string): RawRow[] {
  const rows: RawRow[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let rowLine = 1;
  let inQuotes = false;
  let quotedField = false; // the current field was quoted (so "" is an empty value, not a blank line)
  let quoteLine = 0;
  const endRow = (): void => {
    fields.push(field);
    const blank = fields.length === 1 && fields[0] === '' && !quotedField;
    if (!blank) rows.push({ fields, line: rowLine });
    fields = [];
    field = '';
    quotedField = false;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inQuotes) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          inQuotes = false;
          const next = text[i + 1];
          if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
            throw invalid(`CSV line ${line}: unexpected character ${JSON.stringify(next)} after a closing quote`);
          }
        }
      } else {
        if (ch === '\n') line++;
        field += ch;
      }
    } else if (ch === '"' && field === '') {
      inQuotes = true;
      quotedField = true;
      quoteLine = line;
    } else if (ch === ',') {
      fields.push(field);
      field = '';
      quotedField = false;
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      endRow();
      line++;
      rowLine = line;
    } else {
      field += ch;
    }
  }
  if (inQuotes) throw invalid(`CSV line ${quoteLine}: quoted field is never closed`);
  if (field !== '' || fields.length > 0 || quotedField) endRow();
  return rows;
}

/** TSV tokenizer: rows split on LF/CRLF, fields on TAB, no quoting; blank lines skipped. */
function tokenizeTsv(text: string): RawRow[] {
  const rows: RawRow[] = [];
  splitLines(text).forEach((l, i) => {
    if (l.trim() !== '') rows.push({ fields: l.split('\t'), line: i + 1 });
  });
  return rows;
}

/**
 * CSV / TSV: the first row is a header of non-empty, unique column names (surrounding whitespace
 * trimmed); every later row must have exactly as many fields; every name in `requiredFields` must
 * be a column. Returns one record per data row keyed by column name.
 */
export function parseDelimited(text: string, format: 'csv' | 'tsv', requiredFields: readonly string[] = []): ParsedDataset {
  const label = format.toUpperCase();
  const rows = format === 'csv' ? tokenizeCsv(text) : tokenizeTsv(text);
  if (rows.length === 0) throw invalid(`${label} dataset has no header row`);
  const header = rows[0];
  const columns = header.fields.map((c) => c.trim());
  const seen = new Set<string>();
  columns.forEach((c, i) => {
    if (c === '') throw invalid(`${label} header (line ${header.line}): column ${i + 1} has no name`);
    if (seen.has(c)) throw invalid(`${label} header (line ${header.line}): column name "${c}" appears twice`);
    seen.add(c);
  });
  for (const field of requiredFields) {
    if (!seen.has(field)) throw invalid(`${label} header is missing the required column "${field}" (columns: ${columns.join(', ')})`);
  }
  const records: Record<string, string>[] = [];
  for (const row of rows.slice(1)) {
    if (row.fields.length !== columns.length) {
      throw invalid(`${label} line ${row.line}: expected ${columns.length} fields like the header, got ${row.fields.length}`);
    }
    const rec: Record<string, string> = {};
    columns.forEach((c, i) => (rec[c] = row.fields[i]));
    records.push(rec);
  }
  if (records.length === 0) throw invalid(`${label} dataset has a header but no data rows`);
  return { records, columns };
}

/**
 * Parses already-decoded dataset text in `format`. `requiredFields` applies to JSONL (string
 * fields) and CSV/TSV (columns); it is ignored for text, whose only field is `text`.
 */
export function parseDataset(text: string, format: DatasetFormat, requiredFields: readonly string[] = []): ParsedDataset {
  switch (format) {
    case 'text':
      return parseTextLines(text);
    case 'jsonl':
      return parseJsonl(text, requiredFields);
    case 'csv':
    case 'tsv':
      return parseDelimited(text, format, requiredFields);
    default:
      throw new ServiceError('invalid_parameter', `format must be one of ${DATASET_FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
  }
}
