/**
 * KeyStore: the API keys the server accepts, held only as sha256 hashes (hex). Secrets are never
 * stored, logged or returned; a presented key is hashed and looked up.
 *
 * Sources (both optional; none = auth off):
 *   API_KEYS_FILE  JSON: {"keys": [{"name": "alice", "sha256": "<64 hex>", "scopes": ["infer", "train"],
 *                  "rate_limit_per_minute": 60, "max_concurrent": 4}]}
 *                  (`key` with the plain secret is accepted instead of `sha256`, and hashed at load).
 *                  Re-read when the file changes (polled every second) and on reload() (SIGHUP);
 *                  a file that fails to parse keeps the previous keys and logs why.
 *   API_KEYS       `name:scope+scope:secret` entries, comma-separated (or `name:scopes:sha256=<hex>`).
 *
 * Names are unique (they are what datasets, jobs and sessions record as owner) and match
 * `^[A-Za-z0-9._-]{1,64}$`.
 */
import { createHash } from 'node:crypto';
import { readFileSync, unwatchFile, watchFile, type Stats } from 'node:fs';
import { SCOPES, type Principal, type Scope } from './scopes.ts';

const NAME = /^[A-Za-z0-9._-]{1,64}$/;
const HEX64 = /^[0-9a-f]{64}$/;
/** Longest key accepted on the wire; longer is malformed (never hashed). */
export const MAX_KEY_LENGTH = 256;

export const hashKey = (secret: string): string => createHash('sha256').update(secret, 'utf8').digest('hex');

export class KeyFileError extends Error {
  override name = 'KeyFileError';
}

interface Logger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Parses one key entry (from the file or API_KEYS); `where` names it in errors. */
function toEntry(raw: Record<string, unknown>, where: string): [string, Principal] {
  const { name, sha256, key, scopes, rate_limit_per_minute: rate, max_concurrent: conc, ...rest } = raw;
  const extra = Object.keys(rest);
  if (extra.length > 0) throw new KeyFileError(`${where}: unknown field ${extra.map((k) => JSON.stringify(k)).join(', ')} (allowed: name, sha256, key, scopes, rate_limit_per_minute, max_concurrent)`);
  if (typeof name !== 'string' || !NAME.test(name)) throw new KeyFileError(`${where}.name must match ${NAME.source}`);
  let hash: string;
  if (typeof sha256 === 'string' && key === undefined) {
    hash = sha256.toLowerCase();
    if (!HEX64.test(hash)) throw new KeyFileError(`${where}.sha256 must be 64 hex characters (the sha256 of the key)`);
  } else if (typeof key === 'string' && sha256 === undefined) {
    if (key.length < 16 || key.length > MAX_KEY_LENGTH || /\s/.test(key)) throw new KeyFileError(`${where}.key must be 16–${MAX_KEY_LENGTH} characters without whitespace`);
    hash = hashKey(key);
  } else throw new KeyFileError(`${where} needs exactly one of sha256 (preferred) or key`);
  if (!Array.isArray(scopes) || scopes.length === 0 || !scopes.every((s) => (SCOPES as readonly unknown[]).includes(s))) {
    throw new KeyFileError(`${where}.scopes must be a non-empty array of ${SCOPES.join(', ')}`);
  }
  const limit = (v: unknown, field: string): number | null => {
    if (v === undefined || v === null) return null;
    if (!Number.isInteger(v) || (v as number) < 1) throw new KeyFileError(`${where}.${field} must be an integer ≥ 1 (or absent for no limit)`);
    return v as number;
  };
  return [hash, { name, scopes: [...new Set(scopes as Scope[])], rateLimitPerMinute: limit(rate, 'rate_limit_per_minute'), maxConcurrent: limit(conc, 'max_concurrent') }];
}

/** The entries of a key file's text. */
export function parseKeyFile(text: string, file = 'API_KEYS_FILE'): [string, Principal][] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new KeyFileError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  const keys = Array.isArray(doc) ? doc : (doc as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new KeyFileError(`${file} must be {"keys": [...]} (or an array of keys)`);
  return keys.map((k, i) => {
    if (typeof k !== 'object' || k === null || Array.isArray(k)) throw new KeyFileError(`${file}: keys[${i}] must be an object`);
    return toEntry(k as Record<string, unknown>, `${file}: keys[${i}]`);
  });
}

/** The entries of API_KEYS (`name:scope+scope:secret`, or `…:sha256=<hex>`, comma-separated). */
export function parseKeyEnv(value: string): [string, Principal][] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((entry, i) => {
      const first = entry.indexOf(':');
      const second = entry.indexOf(':', first + 1);
      if (first < 0 || second < 0) throw new KeyFileError(`API_KEYS entry ${i + 1} must be name:scope+scope:key`);
      const secret = entry.slice(second + 1);
      const raw: Record<string, unknown> = { name: entry.slice(0, first), scopes: entry.slice(first + 1, second).split('+') };
      if (secret.startsWith('sha256=')) raw.sha256 = secret.slice(7);
      else raw.key = secret;
      return toEntry(raw, `API_KEYS entry ${i + 1} (${String(raw.name).slice(0, 64)})`);
    });
}

function index(entries: [string, Principal][]): Map<string, Principal> {
  const byHash = new Map<string, Principal>();
  const names = new Set<string>();
  for (const [hash, p] of entries) {
    if (names.has(p.name)) throw new KeyFileError(`key name "${p.name}" is used twice; names must be unique (they own datasets, jobs and sessions)`);
    if (byHash.has(hash)) throw new KeyFileError(`keys "${byHash.get(hash)!.name}" and "${p.name}" have the same secret`);
    names.add(p.name);
    byHash.set(hash, p);
  }
  return byHash;
}

export class KeyStore {
  private byHash: Map<string, Principal>;
  private listener: ((cur: Stats, prev: Stats) => void) | undefined;

  /** Throws KeyFileError when a source is unreadable or invalid (the server must not start half-secured). */
  constructor(
    private readonly sources: { file: string; env: string },
    private readonly log?: Logger,
  ) {
    this.byHash = this.load();
  }

  /** True when any key is configured (file or env): every non-public route needs a key. */
  get enabled(): boolean {
    return this.sources.file !== '' || this.sources.env !== '';
  }

  get size(): number {
    return this.byHash.size;
  }

  /** The principal for a presented secret, or undefined for an unknown or malformed key. */
  lookup(secret: string): Principal | undefined {
    if (secret.length === 0 || secret.length > MAX_KEY_LENGTH) return undefined;
    return this.byHash.get(hashKey(secret));
  }

  /** The principal for a key's sha256 now (a reload may have changed or revoked it), if any. */
  lookupHash(hash: string): Principal | undefined {
    return this.byHash.get(hash);
  }

  private load(): Map<string, Principal> {
    const entries: [string, Principal][] = [];
    if (this.sources.file !== '') {
      let text: string;
      try {
        text = readFileSync(this.sources.file, 'utf8');
      } catch (err) {
        throw new KeyFileError(`API_KEYS_FILE ${this.sources.file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      entries.push(...parseKeyFile(text, `API_KEYS_FILE ${this.sources.file}`));
    }
    if (this.sources.env !== '') entries.push(...parseKeyEnv(this.sources.env));
    return index(entries);
  }

  /** Re-reads the sources; on any error keeps the current keys and returns false (the reason is logged). */
  reload(reason = 'reload'): boolean {
    try {
      this.byHash = this.load();
      this.log?.info({ keys: this.byHash.size, names: [...this.byHash.values()].map((p) => p.name), reason }, 'API keys loaded');
      return true;
    } catch (err) {
      this.log?.error({ reason, problem: (err as Error).message }, 'API keys not reloaded; the previous keys stay in force');
      return false;
    }
  }

  /** Reloads when API_KEYS_FILE changes (stat polling: survives editors' rename-and-replace and bind mounts). */
  watch(intervalMs = 1000): void {
    if (this.sources.file === '' || this.listener) return;
    this.listener = (cur, prev) => {
      if (cur.mtimeMs !== prev.mtimeMs || cur.ino !== prev.ino || cur.size !== prev.size) this.reload('file changed');
    };
    watchFile(this.sources.file, { interval: intervalMs, persistent: false }, this.listener);
  }

  close(): void {
    if (this.listener) unwatchFile(this.sources.file, this.listener);
    this.listener = undefined;
  }
}
