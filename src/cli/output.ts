/**
 * How the CLI writes: results on stdout, progress, prompts and errors on stderr. Errors read
 * `error: <message> (code, param)`; an unreachable server gets one line with the URL and a hint.
 */
import { ApiError, ConnectionError } from './client.ts';
import { UsageError } from './args.ts';

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

/** The one line (or two, for usage errors) an error is reported as. */
export function formatError(err: unknown): string {
  if (err instanceof ApiError) {
    const ref = [err.code, err.param].filter((x): x is string => typeof x === 'string' && x !== '').join(', ');
    return `error: ${err.message} (${ref})`;
  }
  if (err instanceof ConnectionError) {
    return `error: ${err.message} — is it running? start one with \`seqserve serve\`, or point --url / SEQSERVE_URL at it`;
  }
  if (err instanceof UsageError) {
    return `error: ${err.message}\nsee \`seqserve ${err.command ? `${err.command} ` : ''}--help\``;
  }
  return `error: ${(err as Error)?.message ?? String(err)}`;
}

export function printJson(io: Io, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A left-aligned text table; cells are stringified, null/undefined shown as "-". */
export function table(rows: Array<Record<string, unknown>>, columns: Array<[key: string, title: string]>): string {
  const cell = (v: unknown) => (v === null || v === undefined || v === '' ? '-' : typeof v === 'number' ? fmtNum(v) : String(v));
  const grid = [columns.map(([, title]) => title), ...rows.map((r) => columns.map(([key]) => cell(r[key])))];
  const widths = columns.map((_, i) => Math.max(...grid.map((line) => line[i]!.length)));
  return grid.map((line) => line.map((c, i) => (i === line.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}

/** Numbers for people: integers as is, others with 4 significant digits. */
export function fmtNum(n: number): string {
  if (Number.isInteger(n)) return String(n);
  return Math.abs(n) >= 1000 ? n.toFixed(0) : Number(n.toPrecision(4)).toString();
}
