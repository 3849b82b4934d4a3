/**
 * Every environment variable seqserve reads, in one place: name, type, default, description.
 * `loadConfig(env)` validates them all at start-up and fails with one message listing every bad
 * variable, so a misconfigured process never half-starts.
 */
import path from 'node:path';

type Kind = 'string' | 'int' | 'enum';
interface VarSpec {
  env: string;
  kind: Kind;
  default: string;
  description: string;
  values?: readonly string[];
  min?: number;
  max?: number;
}

/** The documented table (README's config table is generated from this list). */
export const CONFIG_VARS = [
  { env: 'PORT', kind: 'int', default: '8080', min: 0, max: 65535, description: 'HTTP port of the API (0 = ephemeral).' },
  { env: 'HOST', kind: 'string', default: '0.0.0.0', description: 'Interface the API listens on.' },
  { env: 'REDIS_URL', kind: 'string', default: 'redis://127.0.0.1:6379', description: 'Redis for the BullMQ training queue.' },
  { env: 'QUEUE_PREFIX', kind: 'string', default: 'seqserve', description: 'Key prefix of the BullMQ queue (lets several deployments share one Redis).' },
  { env: 'MODELS_DIR', kind: 'string', default: './models', description: 'Model store: <name>/<version>/ folders.' },
  { env: 'DATA_DIR', kind: 'string', default: './data', description: 'Uploaded datasets and training checkpoints.' },
  { env: 'TFJS_BACKEND', kind: 'enum', default: 'auto', values: ['auto', 'tensorflow', 'wasm', 'cpu'], description: 'Compute backend: auto tries tfjs-node-gpu, tfjs-node, wasm, cpu in turn.' },
  { env: 'LOG_LEVEL', kind: 'enum', default: 'info', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], description: 'pino log level.' },
  { env: 'MAX_BODY_BYTES', kind: 'int', default: '1048576', min: 1024, description: 'Largest JSON request body, bytes.' },
  { env: 'MAX_DATASET_BYTES', kind: 'int', default: '52428800', min: 1024, description: 'Largest dataset upload, bytes.' },
  { env: 'MAX_INLINE_TEXT_BYTES', kind: 'int', default: '262144', min: 64, description: 'Largest inline training text in POST /train, bytes.' },
  { env: 'MAX_NEW_TOKENS', kind: 'int', default: '1024', min: 1, description: 'Cap on max_new_tokens per request.' },
  { env: 'MAX_PROMPT_CHARS', kind: 'int', default: '8192', min: 1, description: 'Longest prompt, characters.' },
  { env: 'MAX_WS_FRAME_BYTES', kind: 'int', default: '65536', min: 256, description: 'Largest incoming WebSocket frame, bytes.' },
  { env: 'MAX_WS_INFLIGHT', kind: 'int', default: '16', min: 1, description: 'Concurrent requests per WebSocket connection.' },
  { env: 'MAX_CONCURRENT_GENERATIONS', kind: 'int', default: '256', min: 1, description: 'Generations in flight across the server; over it requests get 429 overloaded.' },
  { env: 'RATE_LIMIT_PER_MINUTE', kind: 'int', default: '0', min: 0, description: 'Requests per minute per client IP (0 = no limit); over it 429 rate_limited with Retry-After. Health, readiness and metrics are exempt.' },
  { env: 'API_KEYS_FILE', kind: 'string', default: '', description: 'JSON file of API keys (name, sha256 of the key, scopes infer|train|admin, optional rate_limit_per_minute and max_concurrent; docs/auth.md). Reloaded on change and on SIGHUP. Unset with API_KEYS unset = auth off.' },
  { env: 'API_KEYS', kind: 'string', default: '', description: 'API keys inline, comma-separated `name:scope+scope:key` (or `name:scopes:sha256=<hex>`); hashed at load, never logged. Adds to API_KEYS_FILE.' },
  { env: 'CORS_ORIGINS', kind: 'string', default: '', description: 'Origins allowed by CORS, comma-separated (`*` = any); empty = no CORS headers. Preflight (OPTIONS) is answered without a key.' },
  { env: 'MAX_BATCH_SIZE', kind: 'int', default: '32', min: 1, max: 1024, description: 'Generations of one model advanced together in one batched step (continuous batching); more wait for a free row.' },
  { env: 'MAX_SESSIONS', kind: 'int', default: '1000', min: 0, description: 'Chat sessions kept (LRU; 0 = sessions off: every turn re-reads its history).' },
  { env: 'SESSION_TTL_S', kind: 'int', default: '1800', min: 1, description: 'A chat session unused this long is dropped with its kept model state.' },
  { env: 'SESSION_MEMORY_MB', kind: 'int', default: '256', min: 1, description: 'Cap on the memory of all kept chat sessions (model state + conversation); least recently used go first.' },
  { env: 'MODEL_CACHE_SIZE', kind: 'int', default: '8', min: 1, description: 'Loaded model versions kept in memory (LRU).' },
  { env: 'WORKER_CONCURRENCY', kind: 'int', default: '1', min: 1, max: 64, description: 'Training jobs one worker process runs at once.' },
  { env: 'TRAIN_NICE', kind: 'int', default: '10', min: 0, max: 19, description: 'Scheduling niceness of the worker process and the training jobs it runs (0 = same priority as the API, 19 = lowest): with the API on the same cores, a training job then takes the CPU time serving leaves over instead of half of it (bench/README.md, "Serving beside a training job").' },
  { env: 'TRAIN_THREADS', kind: 'int', default: '1', min: 0, max: 256, description: 'Threads one training job computes on (1 = one thread; 0 = every core, cgroup CPU quota respected): synchronous data parallelism over worker_threads on the wasm and cpu backends, each thread a shard of every batch, one optimizer step; generate and chat models (LSTM, GRU, Transformer) only — Seq2Seq and classifier jobs train on one thread. Per job: with WORKER_CONCURRENCY > 1 divide the cores. Only pays on cores nothing else is using (docs/training.md).' },
  { env: 'JOB_ATTEMPTS', kind: 'int', default: '3', min: 1, max: 20, description: 'Tries per training job (a crashed worker counts one; retries resume from the checkpoint).' },
  { env: 'JOB_LOCK_MS', kind: 'int', default: '30000', min: 1000, description: 'BullMQ job lock duration; a worker that stops renewing it is considered crashed.' },
  { env: 'STALLED_CHECK_MS', kind: 'int', default: '30000', min: 500, description: 'How often workers look for jobs of crashed workers.' },
  { env: 'SHUTDOWN_TIMEOUT_MS', kind: 'int', default: '25000', min: 100, description: 'Grace period for in-flight work on SIGTERM/SIGINT.' },
  { env: 'RESTART_BACKOFF_MS', kind: 'int', default: '1000', min: 10, description: '`npm start`: delay before restarting a child (API or worker) that exited; doubles on each quick repeat.' },
  { env: 'RESTART_BACKOFF_MAX_MS', kind: 'int', default: '30000', min: 10, description: '`npm start`: cap on the restart delay.' },
  { env: 'RESTART_STABLE_MS', kind: 'int', default: '60000', min: 0, description: '`npm start`: a child that ran this long before exiting is restarted after RESTART_BACKOFF_MS again.' },
] as const satisfies readonly VarSpec[];

export interface Config {
  port: number;
  host: string;
  redisUrl: string;
  queuePrefix: string;
  modelsDir: string;
  dataDir: string;
  tfjsBackend: 'auto' | 'tensorflow' | 'wasm' | 'cpu';
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  maxBodyBytes: number;
  maxDatasetBytes: number;
  maxInlineTextBytes: number;
  maxNewTokens: number;
  maxPromptChars: number;
  maxWsFrameBytes: number;
  maxWsInflight: number;
  maxConcurrentGenerations: number;
  rateLimitPerMinute: number;
  apiKeysFile: string;
  apiKeys: string;
  corsOrigins: string;
  maxBatchSize: number;
  modelCacheSize: number;
  maxSessions: number;
  sessionTtlS: number;
  sessionMemoryMb: number;
  workerConcurrency: number;
  trainNice: number;
  trainThreads: number;
  jobAttempts: number;
  jobLockMs: number;
  stalledCheckMs: number;
  shutdownTimeoutMs: number;
  restartBackoffMs: number;
  restartBackoffMaxMs: number;
  restartStableMs: number;
}

const camel = (env: string): string => env.toLowerCase().replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

export class ConfigError extends Error {}

/** Reads and validates the environment; `overrides` (camelCase keys) win over env (tests use them). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const spec of CONFIG_VARS as readonly VarSpec[]) {
    const raw = (env[spec.env] ?? '').trim() === '' ? spec.default : env[spec.env]!.trim();
    const key = camel(spec.env);
    switch (spec.kind) {
      case 'int': {
        const n = Number(raw);
        if (!Number.isInteger(n)) problems.push(`${spec.env} must be an integer, got "${raw}"`);
        else if (spec.min !== undefined && n < spec.min) problems.push(`${spec.env} must be ≥ ${spec.min}, got ${n}`);
        else if (spec.max !== undefined && n > spec.max) problems.push(`${spec.env} must be ≤ ${spec.max}, got ${n}`);
        out[key] = n;
        break;
      }
      case 'enum':
        if (!spec.values!.includes(raw)) problems.push(`${spec.env} must be one of ${spec.values!.join('|')}, got "${raw}"`);
        out[key] = raw;
        break;
      default:
        out[key] = raw;
    }
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  const config = { ...(out as unknown as Config), ...overrides };
  config.modelsDir = path.resolve(config.modelsDir);
  config.dataDir = path.resolve(config.dataDir);
  return config;
}
