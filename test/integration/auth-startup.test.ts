// The API process (src/server.ts) as started in production: it warns when it listens beyond
// loopback without keys, says keys are required when they are configured, re-reads the key file
// on SIGHUP, and refuses to start with a key file it cannot use.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, waitFor } from '../helpers/app.ts';

/** Starts the API; `{dir}` in env values is the test's folder, which also holds `files`. */
function api(t: Pick<Test, 'testdir' | 'teardown'>, env: Record<string, string>, files: Record<string, string> = {}) {
  // One folder per process (t.testdir would be shared, and recreated, by the three).
  const dir = mkdtempSync(path.join(os.tmpdir(), 'seqserve-startup-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const sub of ['models', 'data']) mkdirSync(path.join(dir, sub));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  env = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.replace('{dir}', dir)]));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: {
      ...process.env, PORT: '0', LOG_LEVEL: 'info', TFJS_BACKEND: 'cpu', MODELS_DIR: path.join(dir, 'models'), DATA_DIR: path.join(dir, 'data'),
      QUEUE_PREFIX: `seqserve-test-${randomBytes(5).toString('hex')}`, API_KEYS: '', API_KEYS_FILE: '', ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, output: () => out, exited, dir };
}

const SECRET = 'sk-startup-0123456789abcdef';

// The three processes start at once: starting one takes a while on a loaded machine.
t.test('the API process: warning without keys, keys from a file reloaded on SIGHUP, a bad key file refused', async (t) => {
  const open = api(t, { HOST: '0.0.0.0' });
  const keyed = api(t, { HOST: '0.0.0.0', API_KEYS_FILE: '{dir}/keys.json', API_KEYS: `b:admin:${SECRET}-env` }, { 'keys.json': JSON.stringify({ keys: [{ name: 'a', key: SECRET, scopes: ['infer'] }] }) });
  const broken = api(t, { HOST: '127.0.0.1', API_KEYS_FILE: '/nonexistent/keys.json' });

  await waitFor(() => open.output().includes('no API keys configured'), 180000, 'the warning');
  t.match(open.output(), /"level":40[^\n]*no API keys configured/, 'no keys on 0.0.0.0: warned at start');

  await waitFor(() => keyed.output().includes('API keys required'), 180000, 'the server to listen with keys');
  t.notMatch(keyed.output(), /no API keys configured/, 'no warning with keys');
  writeFileSync(path.join(keyed.dir, 'keys.json'), JSON.stringify({ keys: [{ name: 'c', key: `${SECRET}-2`, scopes: ['train'] }] }));
  keyed.child.kill('SIGHUP');
  await waitFor(() => /"names":\["c","b"\][^\n]*API keys loaded/.test(keyed.output()), 20000, 'the reload');
  t.ok(keyed.child.exitCode === null, 'SIGHUP reloads and does not stop the server');
  t.notOk(keyed.output().includes(SECRET), 'no secret in the log');

  t.equal(await broken.exited, 1, 'a key file that cannot be read stops the start');
  t.match(broken.output(), /API_KEYS_FILE \/nonexistent\/keys\.json cannot be read: ENOENT/);

  open.child.kill('SIGTERM');
  keyed.child.kill('SIGTERM');
  await Promise.all([open.exited, keyed.exited]);
});
