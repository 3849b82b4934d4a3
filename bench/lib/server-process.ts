/**
 * Shared plumbing of the benches that drive the real API server: it runs as a child process
 * (`node --import tsx src/server.ts`, so the client load does not share its event loop) on a free
 * 127.0.0.1 port over the repo's models/ folder and a temporary DATA_DIR, with a random queue
 * prefix. Every wait is bounded; the child is killed when the bench process exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const HOST = '127.0.0.1';
/** Exactly 64 characters of Exodus 3:14-ish text. */
export const PROMPT = 'And God said unto Moses, I AM THAT I AM: and he said, Thus shalt'.padEnd(64, ' ').slice(0, 64);

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export { arg } from './args.ts';

/** A free ephemeral port on 127.0.0.1 (the server is then told to listen on it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, HOST, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function fetchWithTimeout(url: string, ms = 5000): Promise<Response> {
  return fetch(url, { signal: AbortSignal.timeout(ms) });
}

export interface ServerStats {
  rssBytes: number;
  tensors: number;
}

/** RSS and live tf.js tensors of the server, from its GET /metrics gauges. */
export async function serverStats(base: string): Promise<ServerStats> {
  const text = await (await fetchWithTimeout(`${base}/metrics`)).text();
  const gauge = (name: string) => {
    const m = text.match(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm'));
    if (!m) throw new Error(`GET /metrics has no ${name}`);
    return Number(m[1]);
  };
  return { rssBytes: gauge('seqserve_process_resident_memory_bytes'), tensors: gauge('seqserve_tensors') };
}

export interface ServerProcess {
  base: string;
  /** The environment the server runs with (a worker started with it shares its queue and dirs). */
  env: NodeJS.ProcessEnv;
  wsUrl: string;
  /** The /health body once the server answers (bounded: 60 s, 300 polls). */
  health: { backend?: { name?: string } } & Record<string, unknown>;
  /** The last 4,000 characters the server printed. */
  output(): string;
  /** SIGTERM, then SIGKILL after 10 s. */
  stop(): Promise<void>;
}

/** Starts the server with `env` on top of the bench defaults and waits until /health answers. */
export async function startServerProcess(opts: { tmpPrefix: string; env: Record<string, string> }): Promise<ServerProcess> {
  const port = await freePort();
  const base = `http://${HOST}:${port}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `${opts.tmpPrefix}-`));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    HOST,
    LOG_LEVEL: 'silent',
    MODELS_DIR: path.join(ROOT, 'models'),
    DATA_DIR: dataDir,
    QUEUE_PREFIX: `${opts.tmpPrefix}-${randomBytes(5).toString('hex')}`,
    TFJS_BACKEND: process.env.TFJS_BACKEND ?? 'wasm',
    MAX_WS_INFLIGHT: '16',
    RATE_LIMIT_PER_MINUTE: '0',
    ...opts.env,
  };
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let childOut = '';
  child.stdout!.on('data', (d) => (childOut = (childOut + d).slice(-4000)));
  child.stderr!.on('data', (d) => (childOut = (childOut + d).slice(-4000)));
  const killChild = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.on('exit', () => {
    killChild();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(10000)]);
    killChild();
  };

  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${childOut}`);
    try {
      const res = await fetchWithTimeout(`${base}/health`, 1000);
      if (res.ok) {
        const health = (await res.json()) as ServerProcess['health'];
        return { base, env, wsUrl: `ws://${HOST}:${port}/ws`, health, output: () => childOut, stop };
      }
    } catch {
      /* not up yet */
    }
    await sleep(200);
  }
  await stop();
  throw new Error(`server did not answer /health within 60 s:\n${childOut}`);
}

/** A training worker (src/worker.ts) on the server's queue and dirs, with `env` on top; `stop()` SIGTERMs it (SIGKILL after 10 s). */
export function startWorkerProcess(server: ServerProcess, env: Record<string, string>): { stop(): Promise<void>; output(): string } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts'], { cwd: ROOT, env: { ...server.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out = (out + d).slice(-4000)));
  child.stderr!.on('data', (d) => (out = (out + d).slice(-4000)));
  const alive = () => child.exitCode === null && child.signalCode === null;
  process.on('exit', () => {
    if (alive()) child.kill('SIGKILL');
  });
  return {
    output: () => out,
    stop: async () => {
      if (!alive()) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(10000)]);
      if (alive()) child.kill('SIGKILL');
    },
  };
}
