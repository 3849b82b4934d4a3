// API keys (docs/auth.md) on a real server: every registered route × {no key, wrong key, wrong scope,
// right scope}, the WebSocket (upgrade header, auth frame, frames before auth, scopes per frame),
// ownership of jobs, datasets and sessions, per-key limits, reload, CORS and the openai client.
import t, { type Test } from 'tap';
type Tap = Pick<Test, 'testdir' | 'teardown'>;
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import OpenAI, { AuthenticationError } from 'openai';
import { hashKey, KeyStore } from '../../src/auth/key-store.ts';
import { KeyConcurrency } from '../../src/auth/concurrency.ts';
import { installAuth } from '../../src/http/auth.ts';
import type { Scope } from '../../src/auth/scopes.ts';
import { publishTinyChatModel, publishTinyModel, startServer, TINY_TEXT, testConfig, waitFor, wsClient, type Server } from '../helpers/app.ts';

interface KeySpec {
  name: string;
  scopes: Scope[];
  rate_limit_per_minute?: number;
  max_concurrent?: number;
}
const SPECS: KeySpec[] = [
  { name: 'admin', scopes: ['admin'] },
  { name: 'alice', scopes: ['infer'] },
  { name: 'bob', scopes: ['infer'] },
  { name: 'trainer', scopes: ['train'] },
  { name: 'trainer2', scopes: ['train'] },
  { name: 'both', scopes: ['infer', 'train'] },
  { name: 'limited', scopes: ['infer'], rate_limit_per_minute: 3 },
  { name: 'single', scopes: ['infer'], max_concurrent: 1 },
];
const secret = (name: string) => `sk-test-${name}-0123456789abcdef`;
const keyFile = (specs: KeySpec[]) => JSON.stringify({ keys: specs.map((s) => ({ ...s, sha256: hashKey(secret(s.name)) })) });
const bearer = (name: string) => ({ authorization: `Bearer ${secret(name)}` });

async function call(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  const res = await fetch(url, { method: opts.method ?? 'GET', headers: opts.headers, body: opts.body });
  const text = await res.text();
  let json: any = text;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, json, headers: res.headers };
}

/** A concrete URL for a route pattern (ids that do not exist: delete routes must delete nothing). */
function concrete(url: string): string {
  return url
    .replace(/^\/train\/:id/, '/train/999999999')
    .replace(/^\/datasets\/:id/, `/datasets/ds_${'0'.repeat(24)}`)
    .replace(':name', 'absent-model')
    .replace(':version', '1')
    .replace(':id', 'absent')
    .replace('*', 'x');
}

/** A key without `scope` (for admin: one with every other scope). */
const WRONG: Record<Scope, string> = { infer: 'trainer', train: 'alice', admin: 'both' };
const RIGHT: Record<Scope, string> = { infer: 'alice', train: 'trainer', admin: 'admin' };

async function keyedServer(t: Tap, extra: Parameters<typeof startServer>[1] = {}, specs = SPECS): Promise<Server & { file: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'seqserve-keys-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'keys.json');
  writeFileSync(file, keyFile(specs));
  const s = await startServer(t, { apiKeysFile: file, ...extra });
  return { ...s, file };
}

t.test('API keys on a real server', async (t) => {
  const s = await keyedServer(t);
  await publishTinyModel(s.config, 'tiny');

  await t.test('every registered route declares a scope, and each answers no key / wrong key / wrong scope / right scope as declared', async (t) => {
    const routes = s.app.routeScopes.filter((r) => !r.methods.every((m) => m === 'HEAD' || m === 'OPTIONS'));
    t.ok(routes.length >= 25, `enumerated ${routes.length} routes from the app`);
    for (const r of s.app.routeScopes) t.not(r.scope, undefined, `${r.methods.join(',')} ${r.url} declares config.scope`);
    t.equal(s.app.routeScopes.find((r) => r.methods.includes('HEAD') && r.url === '/health')?.scope, 'public', 'HEAD routes carry their GET route\'s scope');
    for (const r of routes) {
      for (const method of r.methods.filter((m) => m !== 'HEAD' && m !== 'OPTIONS')) {
        const url = s.url + concrete(r.url);
        const body = method === 'POST' ? '{}' : undefined;
        const json: Record<string, string> = method === 'POST' ? { 'content-type': 'application/json' } : {};
        const what = `${method} ${r.url}`;
        const noKey = await call(url, { method, body, headers: json });
        const wrongKey = await call(url, { method, body, headers: { ...json, authorization: 'Bearer sk-not-a-key-000000000000' } });
        t.equal(wrongKey.status, 401, `${what}: wrong key → 401`);
        t.equal(wrongKey.json.error?.code, 'invalid_api_key', `${what}: wrong key code`);
        if (r.scope === 'public') {
          t.not(noKey.status, 401, `${what}: public, no key needed`);
          t.not(noKey.status, 403, `${what}: public, no scope needed`);
          continue;
        }
        const scope = r.scope ?? 'admin';
        t.equal(noKey.status, 401, `${what}: no key → 401`);
        t.same(noKey.json.error, { code: 'invalid_api_key', type: 'authentication_error', param: null, message: noKey.json.error?.message }, `${what}: 401 in the error shape`);
        const wrongScope = await call(url, { method, body, headers: { ...json, ...bearer(WRONG[scope]) } });
        t.equal(wrongScope.status, 403, `${what}: key without ${scope} → 403`);
        t.equal(wrongScope.json.error?.code, 'insufficient_scope');
        t.equal(wrongScope.json.error?.type, 'permission_error');
        t.match(wrongScope.json.error?.message, `"${scope}"`, `${what}: the message names the scope`);
        for (const who of [RIGHT[scope], 'admin']) {
          const right = await call(url, { method, body, headers: { ...json, ...bearer(who) } });
          t.ok(right.status !== 401 && right.status !== 403 && right.status < 500, `${what}: key ${who} passes auth (got ${right.status} ${right.json.error?.code ?? ''})`);
        }
      }
    }
  });

  await t.test('x-api-key works like Bearer; a malformed Authorization is 401; unknown routes need a key', async (t) => {
    t.equal((await call(`${s.url}/models`, { headers: { 'x-api-key': secret('alice') } })).status, 200);
    const basic = await call(`${s.url}/models`, { headers: { authorization: 'Basic YWxpY2U6eA==' } });
    t.equal(basic.status, 401);
    t.match(basic.json.error.message, /Bearer/);
    t.equal(basic.headers.get('www-authenticate'), 'Bearer');
    t.equal((await call(`${s.url}/nope`)).status, 401);
    t.equal((await call(`${s.url}/nope`, { headers: bearer('alice') })).json.error.code, 'route_not_found');
    t.equal((await call(`${s.url}/health`)).status, 200, 'health open');
    t.equal((await call(`${s.url}/ready`)).status, 200, 'ready open');
  });

  await t.test('the openai client: apiKey works; a wrong key raises AuthenticationError (401)', async (t) => {
    const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: secret('alice'), maxRetries: 0 });
    const models = await client.models.list();
    t.ok(models.data.some((m) => m.id === 'tiny'));
    const done = await client.completions.create({ model: 'tiny', prompt: 'the ', max_tokens: 4, seed: 1 });
    t.equal(done.choices[0]!.finish_reason, 'length');
    const wrong = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'sk-wrong-000000000000000', maxRetries: 0 });
    const err = await wrong.models.list().then(() => undefined, (e: unknown) => e);
    t.type(err, AuthenticationError);
    t.equal((err as AuthenticationError).status, 401);
    t.equal((err as AuthenticationError).code, 'invalid_api_key');
    const scoped = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: secret('trainer'), maxRetries: 0 });
    const denied = await scoped.completions.create({ model: 'tiny', prompt: 'x', max_tokens: 1 }).then(() => undefined, (e: unknown) => e);
    t.type(denied, OpenAI.PermissionDeniedError, 'a key without infer: 403');
  });

  await t.test('WebSocket: upgrade header, auth frame, frames before auth, scopes per frame', async (t) => {
    const gen = { type: 'generate', model: 'tiny', prompt: 'the ', parameters: { max_new_tokens: 3, seed: 1 } };

    const byHeader = await wsClient(t, s.ws, bearer('alice'));
    byHeader.send({ ...gen, id: 'h' });
    t.equal((await byHeader.next((f) => f.id === 'h' && (f.type === 'done' || f.type === 'error'))).type, 'done', 'a key in the upgrade request authenticates the socket');

    const xKey = await wsClient(t, s.ws, { 'x-api-key': secret('alice') });
    xKey.send({ ...gen, id: 'x' });
    t.equal((await xKey.next((f) => f.id === 'x' && (f.type === 'done' || f.type === 'error'))).type, 'done', 'x-api-key on the upgrade');

    const refused = await new Promise<number>((resolve) => {
      const ws = new (byHeader.ws.constructor as typeof import('ws').default)(s.ws, { headers: { authorization: 'Bearer sk-wrong-0000000000000000' } });
      ws.on('unexpected-response', (req, res) => {
        resolve(res.statusCode ?? 0);
        req.destroy(); // with this listener attached, ending the request is ours to do
      });
      ws.on('open', () => {
        resolve(101);
        ws.close();
      });
      ws.on('error', () => undefined);
    });
    t.equal(refused, 401, 'a wrong key in the upgrade request is refused with 401');

    const c = await wsClient(t, s.ws);
    c.send({ ...gen, id: 'early' });
    const early = await c.next((f) => f.type === 'error' && f.id === 'early');
    t.equal(early.error.code, 'invalid_api_key');
    t.equal(early.error.param, null);
    c.send({ type: 'subscribe', job_id: '1' });
    t.equal((await c.next((f) => f.type === 'error' && f.error.code === 'invalid_api_key' && f.id === undefined)).error.code, 'invalid_api_key', 'subscribe before auth too');
    t.equal(c.ws.readyState, c.ws.OPEN, 'the socket stays open for the auth frame');
    c.send({ type: 'auth', api_key: secret('alice') });
    t.same(await c.next((f) => f.type === 'authenticated'), { type: 'authenticated', key: { name: 'alice', scopes: ['infer'] } });
    c.send({ ...gen, id: 'after' });
    t.equal((await c.next((f) => f.id === 'after' && (f.type === 'done' || f.type === 'error'))).type, 'done', 'generation after the auth frame');
    c.send({ type: 'subscribe', job_id: '1' });
    const sub = await c.next((f) => f.type === 'error' && f.error.code === 'insufficient_scope');
    t.match(sub.error.message, /"train"/, 'subscribe needs train');

    const trainer = await wsClient(t, s.ws, bearer('trainer'));
    for (const frame of [{ ...gen, id: 'g' }, { type: 'chat', id: 'c', model: 'tiny', messages: [{ role: 'user', content: 'hi' }] }]) {
      trainer.send(frame);
      const e = await trainer.next((f) => f.type === 'error' && f.id === frame.id);
      t.equal(e.error.code, 'insufficient_scope', `${frame.type} frame with a train-only key`);
      t.match(e.error.message, /"infer"/);
    }

    const bad = await wsClient(t, s.ws);
    const closed = new Promise<number>((resolve) => bad.ws.on('close', (code) => resolve(code)));
    bad.send({ type: 'auth', api_key: 'sk-wrong-0000000000000000' });
    t.equal((await bad.next((f) => f.type === 'error')).error.code, 'invalid_api_key');
    t.equal(await closed, 1008, 'a bad auth frame closes the socket with 1008');
  });

  await t.test('ownership: a key sees and cancels only its own jobs and datasets; admin sees all', async (t) => {
    const upload = await call(`${s.url}/datasets`, { method: 'POST', headers: { 'content-type': 'text/plain', ...bearer('trainer') }, body: TINY_TEXT });
    t.equal(upload.status, 201);
    const ds = upload.json.id as string;
    t.notOk('owners' in upload.json, 'owner names are not sent with a dataset');
    const listed = async (who: string) => (await call(`${s.url}/datasets`, { headers: bearer(who) })).json.datasets.map((d: { id: string }) => d.id);
    t.ok((await listed('trainer')).includes(ds), 'the uploader lists it');
    t.notOk((await listed('trainer2')).includes(ds), 'another key does not');
    t.ok((await listed('admin')).includes(ds), 'admin does');
    const other = await call(`${s.url}/datasets/${ds}`, { headers: bearer('trainer2') });
    t.equal(other.status, 404);
    t.equal(other.json.error.code, 'dataset_not_found');
    const foreignTrain = await call(`${s.url}/train`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer('trainer2') }, body: JSON.stringify({ name: 'x', dataset: { id: ds } }) });
    t.equal(foreignTrain.json.error?.code, 'dataset_not_found', 'another key cannot train on it');

    const submit = await call(`${s.url}/train`, {
      method: 'POST', headers: { 'content-type': 'application/json', ...bearer('trainer') },
      body: JSON.stringify({ name: 'owned', dataset: { id: ds }, hyperparameters: { epochs: 1, units: 8, embedding_dim: 4 } }),
    });
    t.equal(submit.status, 202);
    const job = submit.json.job_id as string;
    const mine = await call(`${s.url}/train/${job}`, { headers: bearer('trainer') });
    t.equal(mine.json.owner, 'trainer', 'the job records the key name');
    t.notOk(JSON.stringify(mine.json).includes(secret('trainer')), 'never the secret');
    const jobs = async (who: string) => (await call(`${s.url}/train`, { headers: bearer(who) })).json.jobs.map((j: { id: string }) => j.id);
    t.ok((await jobs('trainer')).includes(job));
    t.notOk((await jobs('trainer2')).includes(job), 'GET /train lists only the key\'s own jobs');
    t.ok((await jobs('admin')).includes(job));
    for (const [method, suffix] of [['GET', ''], ['GET', '/logs'], ['POST', '/cancel']] as const) {
      const r = await call(`${s.url}/train/${job}${suffix}`, { method, headers: bearer('trainer2') });
      t.equal(r.status, 404, `${method} /train/:id${suffix} of another key's job: 404`);
      t.equal(r.json.error.code, 'job_not_found');
    }
    const ws2 = await wsClient(t, s.ws, bearer('trainer2'));
    ws2.send({ type: 'subscribe', job_id: job });
    t.equal((await ws2.next((f) => f.job_id === job)).error?.code, 'job_not_found', 'subscribe to another key\'s job: job_not_found');
    const ws1 = await wsClient(t, s.ws, bearer('trainer'));
    ws1.send({ type: 'subscribe', job_id: job });
    t.equal((await ws1.next((f) => f.job_id === job)).type, 'progress', 'the owner follows it');
    const cancel = await call(`${s.url}/train/${job}/cancel`, { method: 'POST', headers: bearer('admin') });
    t.equal(cancel.status, 202, 'admin cancels any job');
    t.equal(cancel.json.status, 'cancelled');
    t.equal((await call(`${s.url}/datasets/${ds}`, { method: 'DELETE', headers: bearer('trainer') })).status, 403, 'deleting a dataset needs admin');
  });

  await t.test('ownership: chat sessions live per key; admin sees them all', async (t) => {
    await publishTinyChatModel(s.config, 'tinychat', { epochs: 2 });
    const turn = async (who: string, id: string) => {
      const c = await wsClient(t, s.ws, bearer(who));
      c.send({ type: 'chat', id, model: 'tinychat', session: 'shared-id', messages: [{ role: 'user', content: `hi from ${who}` }], parameters: { max_new_tokens: 3, seed: 1 } });
      return c.next((f) => f.id === id && (f.type === 'done' || f.type === 'error'));
    };
    t.equal((await turn('alice', 'a1')).type, 'done');
    const get = (who: string) => call(`${s.url}/sessions/shared-id`, { headers: bearer(who) });
    t.equal((await get('alice')).status, 200, 'the owner sees its session');
    t.equal((await get('bob')).json.error?.code, 'session_not_found', 'another key does not');
    t.equal((await get('admin')).status, 200, 'admin does');
    t.equal((await call(`${s.url}/sessions/shared-id`, { method: 'DELETE', headers: bearer('bob') })).status, 404, 'another key cannot delete it');
    t.equal((await turn('bob', 'b1')).type, 'done', 'the same id under another key is a separate session');
    t.equal((await get('alice')).json.messages, 2, 'alice\'s conversation untouched by bob\'s turn');
    t.equal((await call(`${s.url}/sessions/shared-id`, { method: 'DELETE', headers: bearer('admin') })).status, 200, 'admin deletes it');
  });

  await t.test('per-key rate limit: 429 rate_limited with Retry-After; other keys unaffected', async (t) => {
    for (let i = 0; i < 3; i++) t.equal((await call(`${s.url}/models`, { headers: bearer('limited') })).status, 200);
    const over = await call(`${s.url}/models`, { headers: bearer('limited') });
    t.equal(over.status, 429);
    t.equal(over.json.error.code, 'rate_limited');
    t.match(over.json.error.message, /key "limited"/);
    t.ok(Number(over.headers.get('retry-after')) >= 1, 'Retry-After in seconds');
    t.equal((await call(`${s.url}/models`, { headers: bearer('alice') })).status, 200, 'another key is not limited');
  });

  await t.test('per-key concurrency: over max_concurrent → 429 with Retry-After until one ends', async (t) => {
    const port = new URL(s.url).port;
    // A request whose body never finishes stays in flight (its hooks ran; it waits for the body).
    const held = http.request({ host: '127.0.0.1', port, path: '/generate', method: 'POST', headers: { ...bearer('single'), 'content-type': 'application/json', 'content-length': '100' } });
    held.on('error', () => undefined);
    held.write('{"model":');
    await waitFor(() => s.app.services.concurrency.count('single') === 1, 5000, 'the held request to count');
    const over = await call(`${s.url}/models`, { headers: bearer('single') });
    t.equal(over.status, 429);
    t.equal(over.json.error.code, 'rate_limited');
    t.match(over.json.error.message, /max_concurrent 1/);
    t.equal(over.headers.get('retry-after'), '1');
    held.destroy();
    await waitFor(() => s.app.services.concurrency.count('single') === 0, 5000, 'the aborted request to be released');
    t.equal((await call(`${s.url}/models`, { headers: bearer('single') })).status, 200);
  });
});

t.test('keys reload when the file changes; a broken file keeps the previous keys', async (t) => {
  const s = await keyedServer(t, {}, [{ name: 'alice', scopes: ['infer'] }]);
  const models = (who: string) => call(`${s.url}/models`, { headers: bearer(who) }).then((r) => r.status);
  t.equal(await models('alice'), 200);
  t.equal(await models('late'), 401);
  writeFileSync(s.file, keyFile([{ name: 'late', scopes: ['infer'] }]));
  await waitFor(async () => (await models('late')) === 200, 15000, 'the new key to be accepted');
  t.equal(await models('alice'), 401, 'a key removed from the file is revoked');
  writeFileSync(s.file, '{"keys": [ broken');
  await new Promise((r) => setTimeout(r, 2500));
  t.equal(await models('late'), 200, 'a file that does not parse keeps the keys in force');
  writeFileSync(s.file, keyFile([{ name: 'alice', scopes: ['infer'] }]));
  t.ok(s.app.services.keys.reload('SIGHUP'), 'reload() (what SIGHUP calls) re-reads at once');
  t.equal(await models('alice'), 200);
});

t.test('CORS: preflight answered without a key; errors carry the CORS headers', async (t) => {
  const s = await keyedServer(t, { corsOrigins: 'https://app.example' });
  const pre = await fetch(`${s.url}/generate`, {
    method: 'OPTIONS',
    headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
  });
  t.equal(pre.status, 204);
  t.equal(pre.headers.get('access-control-allow-origin'), 'https://app.example');
  t.match(pre.headers.get('access-control-allow-headers') ?? '', /authorization/);
  const denied = await call(`${s.url}/models`, { headers: { origin: 'https://app.example' } });
  t.equal(denied.status, 401);
  t.equal(denied.headers.get('access-control-allow-origin'), 'https://app.example', 'a browser can read the 401');
  const other = await call(`${s.url}/models`, { headers: { origin: 'https://evil.example', ...bearer('alice') } });
  t.equal(other.status, 200);
  t.equal(other.headers.get('access-control-allow-origin'), null, 'an origin not listed gets no CORS header');
});

t.test('auth off by default: no key needed anywhere, no owner recorded', async (t) => {
  const s = await startServer(t);
  t.equal(s.app.services.keys.enabled, false);
  t.equal((await call(`${s.url}/metrics`)).status, 200);
  t.equal((await call(`${s.url}/models`, { headers: { authorization: 'Bearer whatever' } })).status, 200, 'a key sent to a server without keys is ignored');
});

t.test('a route without a declared scope needs admin (fail closed) and shows up undeclared', async (t) => {
  const app = Fastify();
  t.teardown(() => app.close());
  const keys = new KeyStore({ file: '', env: `root:admin:${secret('root')},user:infer+train:${secret('user')}` });
  await installAuth(app, testConfig(t), keys, new KeyConcurrency());
  app.get('/undeclared', async () => ({ ok: true }));
  app.setErrorHandler((err: { status?: number; toBody?: () => unknown }, _req, reply) => void reply.code(err.status ?? 500).send(err.toBody?.() ?? {}));
  await app.ready();
  t.equal(app.routeScopes.find((r) => r.url === '/undeclared')?.scope, undefined, 'the enumeration test above would flag it');
  t.equal((await app.inject({ url: '/undeclared', headers: bearer('user') })).statusCode, 403);
  t.equal((await app.inject({ url: '/undeclared', headers: bearer('root') })).statusCode, 200);
});
