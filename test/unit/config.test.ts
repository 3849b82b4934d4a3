import t from 'tap';
import { CONFIG_VARS, ConfigError, loadConfig } from '../../src/config.ts';

t.test('defaults', async (t) => {
  const c = loadConfig({});
  t.equal(c.port, 8080);
  t.equal(c.tfjsBackend, 'auto');
  t.equal(c.redisUrl, 'redis://127.0.0.1:6379');
  t.ok(c.modelsDir.startsWith('/'), 'dirs are absolute');
});

t.test('env values are parsed and every bad one is reported at once', async (t) => {
  t.equal(loadConfig({ PORT: '9000', MAX_NEW_TOKENS: '50' }).maxNewTokens, 50);
  let err: unknown;
  try {
    loadConfig({ PORT: 'abc', TFJS_BACKEND: 'gpu', MAX_NEW_TOKENS: '0' });
  } catch (e) {
    err = e;
  }
  t.type(err, ConfigError);
  const message = (err as Error).message;
  t.match(message, /PORT must be an integer/);
  t.match(message, /TFJS_BACKEND must be one of auto\|tensorflow\|wasm\|cpu/);
  t.match(message, /MAX_NEW_TOKENS must be ≥ 1/);
});

t.test('every variable is documented', async (t) => {
  for (const v of CONFIG_VARS) t.ok(v.description.length > 10, v.env);
});

t.test("the README's configuration table lists every variable with its default", async (t) => {
  const { readFile } = await import('node:fs/promises');
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  for (const v of CONFIG_VARS) t.ok(readme.includes(`| \`${v.env}\` | \`${v.default}\` |`), `${v.env} = ${v.default}`);
});
