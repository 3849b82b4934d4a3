/**
 * Command-line parsing for `seqserve` with Node's util.parseArgs: the global options every command
 * takes (`--url`, `--api-key`, `--json`, `--help`), typed accessors for option values, and the
 * `--hp key=value` / `--column role=name` pairs. A bad command line is a UsageError (exit code 2).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CONFIG_VARS } from '../config.ts';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | string[] | undefined>;

export class UsageError extends Error {
  constructor(
    message: string,
    /** The command whose `--help` to point at, if any. */
    readonly command?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

export const GLOBAL_OPTIONS = {
  url: { type: 'string' },
  'api-key': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionSpec;

/** The server's default port (config.ts PORT), so `seqserve` and `seqserve serve` meet by default. */
const DEFAULT_PORT = CONFIG_VARS.find((v) => v.env === 'PORT')!.default;
export const DEFAULT_URL = `http://127.0.0.1:${DEFAULT_PORT}`;

export const GLOBAL_HELP = `global options:
  --url URL          server to talk to (env SEQSERVE_URL; default ${DEFAULT_URL})
  --api-key KEY      API key, sent as Authorization: Bearer (env SEQSERVE_API_KEY)
  --json             machine-readable JSON on stdout (no progress bar, no colours)
  -h, --help         this help`;

export interface Parsed {
  values: Values;
  positionals: string[];
  url: string;
  apiKey: string | undefined;
  json: boolean;
  help: boolean;
}

export function parseCommandLine(command: string, argv: string[], options: OptionSpec, env: NodeJS.ProcessEnv): Parsed {
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options: { ...GLOBAL_OPTIONS, ...options }, allowPositionals: true, strict: true }) as { values: Values; positionals: string[] };
  } catch (err) {
    throw new UsageError((err as Error).message, command);
  }
  const { values, positionals } = parsed;
  const url = (values.url as string | undefined) ?? nonEmpty(env.SEQSERVE_URL) ?? DEFAULT_URL;
  if (!/^https?:\/\/[^/]/.test(url)) throw new UsageError(`--url must be an http:// or https:// URL, got "${url}"`, command);
  return {
    values,
    positionals,
    url,
    apiKey: (values['api-key'] as string | undefined) ?? nonEmpty(env.SEQSERVE_API_KEY),
    json: values.json === true,
    help: values.help === true,
  };
}

const nonEmpty = (s: string | undefined): string | undefined => (s === undefined || s.trim() === '' ? undefined : s.trim());

/** A string option's value, or undefined. */
export function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A numeric option (`--max-new-tokens 40`): a UsageError naming the option when it is not a number. */
export function num(values: Values, name: string, opts: { integer?: boolean } = {}): number | undefined {
  const v = str(values, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || (opts.integer && !Number.isInteger(n))) {
    throw new UsageError(`--${name} must be ${opts.integer ? 'an integer' : 'a number'}, got "${v}"`);
  }
  return n;
}

/** Every value of a repeatable option (`multiple: true`). */
export function list(values: Values, name: string): string[] {
  const v = values[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

/**
 * `key=value` pairs into an object; values that read as JSON numbers, booleans or null become those
 * (`epochs=1` → 1, `bidirectional=false` → false), anything else stays a string (`lr_schedule=cosine`).
 * The server validates names and ranges and names the offending field.
 */
export function keyValues(pairs: string[], option: string): Record<string, string | number | boolean | null> {
  const out: Record<string, string | number | boolean | null> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--${option} takes key=value, got "${pair}"`);
    const key = pair.slice(0, eq).trim();
    const raw = pair.slice(eq + 1).trim();
    out[key] = scalar(raw);
  }
  return out;
}

function scalar(raw: string): string | number | boolean | null {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (raw === 'null') return null;
  if (raw !== '' && /^-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(raw)) return Number(raw);
  return raw;
}
