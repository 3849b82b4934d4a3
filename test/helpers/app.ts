/**
 * Test fixtures: a real Fastify server on an ephemeral port over temp model/data dirs and a
 * per-test queue prefix in the real Redis, a real worker process, a tiny trained model, and a
 * WebSocket client that collects frames. Every fixture is torn down with the test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import WebSocket from 'ws';
import type { Test } from 'tap';
import { loadConfig, type Config } from '../../src/config.ts';
import { initBackend } from '../../src/backend/select.ts';
import { buildApp, type App } from '../../src/app.ts';
import { ModelStore } from '../../src/store/registry.ts';
import { publishLanguageModel } from '../../src/train/publish.ts';
import { normalizeTrainRequest } from '../../src/train/request.ts';
import { trainLanguageModel } from '../../src/train/train-lm.ts';
import { publishChatModel } from '../../src/train/publish.ts';
import { trainChatModel } from '../../src/train/train-chat.ts';
import { chatConversations } from '../../src/tasks/chat-data.ts';

type Tap = Pick<Test, 'testdir' | 'teardown'>;

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const TINY_TEXT = 'the cat sat on the mat. the dog sat on the log. '.repeat(40);

export function testConfig(t: Tap, overrides: Partial<Config> = {}): Config {
  const dir = t.testdir({ models: {}, data: {} });
  return loadConfig(
    { ...process.env, LOG_LEVEL: 'silent', TFJS_BACKEND: process.env.TFJS_BACKEND ?? 'wasm' },
    {
      port: 0,
      host: '127.0.0.1',
      modelsDir: path.join(dir, 'models'),
      dataDir: path.join(dir, 'data'),
      queuePrefix: `seqserve-test-${randomBytes(5).toString('hex')}`,
      ...overrides,
    },
  );
}

export interface Server {
  app: App;
  config: Config;
  url: string;
  ws: string;
}

export async function startServer(t: Tap, overrides: Partial<Config> = {}): Promise<Server> {
  const config = testConfig(t, overrides);
  const app = await buildApp(config, await initBackend(config.tfjsBackend));
  await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => app.close());
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return { app, config, url: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}/ws` };
}

/** A tiny Transformer's hyperparameters (context 32: short enough to reach in tests). */
export const TINY_GPT = { layers: 2, heads: 2, embedding_dim: 16, context_length: 32, dropout: 0, weight_decay: 0.01 } as const;

/** Trains a tiny char LSTM (or Transformer) in-process (a few seconds) and publishes it as `name` in the store. */
export async function publishTinyModel(config: Config, name = 'tiny', extra: { epochs?: number; seed?: number; architecture?: 'lstm' | 'transformer' } = {}): Promise<number> {
  const gpt = extra.architecture === 'transformer';
  const job = normalizeTrainRequest({
    name,
    ...(gpt ? { architecture: 'transformer' as const } : {}),
    dataset: { text: TINY_TEXT },
    hyperparameters: {
      ...(gpt ? { ...TINY_GPT, learning_rate: 0.01 } : { units: 24, embedding_dim: 8, sequence_length: 16, learning_rate: 0.01 }),
      epochs: extra.epochs ?? 3, batch_size: 16, seed: extra.seed ?? 7,
    },
  });
  const outcome = await trainLanguageModel(job, [TINY_TEXT], { onProgress: () => undefined, log: () => undefined, shouldStop: () => false });
  const { version } = await publishLanguageModel(new ModelStore(config.modelsDir), job, outcome, { dataset: { sha256: 'test', bytes: TINY_TEXT.length }, backend: 'test' });
  outcome.model.dispose();
  return version;
}

/** A tiny chat corpus: greetings and a few fixed exchanges, in two-turn conversations. */
export const TINY_CHAT_ROWS: Record<string, string>[] = Array.from({ length: 60 }, (_, i) => {
  const pairs = [
    ['hi', 'hello there.'],
    ['how are you?', 'i am fine.'],
    ['what is your name?', 'my name is bot.'],
    ['bye', 'goodbye!'],
  ];
  const a = pairs[i % 4]!;
  const b = pairs[(i + 1) % 4]!;
  return {
    messages: JSON.stringify([
      { role: 'system', content: 'be brief.' },
      { role: 'user', content: a[0] },
      { role: 'assistant', content: a[1] },
      { role: 'user', content: b[0] },
      { role: 'assistant', content: b[1] },
    ]),
  };
});

/** Trains a tiny char chat model in-process (a few seconds) and publishes it as `name`. */
export async function publishTinyChatModel(config: Config, name = 'tinychat', extra: { epochs?: number; architecture?: 'lstm' | 'gru' | 'transformer' } = {}): Promise<number> {
  const gpt = extra.architecture === 'transformer';
  const job = normalizeTrainRequest({
    name,
    task: 'chat',
    architecture: extra.architecture ?? 'lstm',
    dataset: { rows: TINY_CHAT_ROWS },
    hyperparameters: {
      ...(gpt ? { ...TINY_GPT, context_length: 64, learning_rate: 0.005 } : { units: 32, embedding_dim: 8, sequence_length: 32, learning_rate: 0.02 }),
      epochs: extra.epochs ?? 8, batch_size: 16, seed: 7, lr_schedule: 'constant', warmup_steps: 0, clip_norm: 1000,
    },
  });
  const outcome = await trainChatModel(job, chatConversations(TINY_CHAT_ROWS), { onProgress: () => undefined, log: () => undefined, shouldStop: () => false });
  const { version } = await publishChatModel(new ModelStore(config.modelsDir), job, outcome, { dataset: { sha256: 'test', bytes: 1 }, backend: 'test' });
  outcome.model.dispose();
  return version;
}

/** A real worker process (src/worker.ts) on the same Redis prefix and dirs; killed at teardown. */
export function startWorker(t: Tap, config: Config, env: Record<string, string> = {}): ChildProcess & { output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      MODELS_DIR: config.modelsDir,
      DATA_DIR: config.dataDir,
      QUEUE_PREFIX: config.queuePrefix,
      REDIS_URL: config.redisUrl,
      TFJS_BACKEND: config.tfjsBackend,
      LOG_LEVEL: 'info',
      JOB_LOCK_MS: '4000',
      STALLED_CHECK_MS: '1000',
      // Tests time their waits with the worker at the test runner's priority (the shipped default, 10,
      // favours the API; a test that checks it sets TRAIN_NICE itself).
      TRAIN_NICE: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return Object.assign(child, { output: () => out });
}

export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON (SSE) */
  }
  return { status: res.status, json, headers: res.headers };
}

export async function get(url: string): Promise<{ status: number; json: any }> {
  const res = await fetch(url);
  return { status: res.status, json: await res.json() };
}

/** Polls until `fn` returns a truthy value or the timeout passes. */
export async function waitFor<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 60000, what = 'condition'): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Polls GET /train/:id until the job has ended; returns its view. */
export async function waitForJob(baseUrl: string, jobId: string, timeoutMs = 120000): Promise<any> {
  return waitFor(async () => {
    const job = (await get(`${baseUrl}/train/${jobId}`)).json;
    return ['completed', 'failed', 'cancelled'].includes(job.status) && job;
  }, timeoutMs, `training job ${jobId} to end`);
}

/** A WebSocket client that records every frame it receives. */
export async function wsClient(t: Tap, url: string, headers: Record<string, string> = {}) {
  const ws = new WebSocket(url, { headers });
  const frames: any[] = [];
  const waiters: Array<() => void> = [];
  ws.on('message', (data) => {
    frames.push(JSON.parse(String(data)));
    waiters.splice(0).forEach((w) => w());
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  t.teardown(() => ws.close());
  return {
    ws,
    frames,
    send: (frame: unknown) => ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame)),
    /** Resolves with the first recorded frame matching `pred` (already received or future). */
    async next(pred: (f: any) => boolean, timeoutMs = 30000): Promise<any> {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const hit = frames.find(pred);
        if (hit) return hit;
        if (Date.now() > end) throw new Error(`no matching frame; got ${JSON.stringify(frames.slice(-5))}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 200);
        });
      }
    },
  };
}

/** The events of an SSE body (`event: NAME\ndata: JSON` blocks separated by blank lines), in order. */
export function sseEvents(body: string): Array<{ event: string; data: any }> {
  return body.trim().split('\n\n').map((block) => {
    const [ev, data] = block.split('\n');
    return { event: ev!.slice('event: '.length), data: JSON.parse(data!.slice('data: '.length)) };
  });
}
