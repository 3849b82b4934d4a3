// The key store: file and env formats, hashing, the checks that refuse a bad source, reload
// keeping the old keys on a broken file, and that no secret reaches the log.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hashKey, KeyFileError, KeyStore, parseKeyEnv, parseKeyFile } from '../../src/auth/key-store.ts';
import { canSee, hasScope, ownerFilter } from '../../src/auth/scopes.ts';
import { presentedKey } from '../../src/auth/credentials.ts';
import { isLoopback } from '../../src/server.ts';
import { corsOrigins } from '../../src/http/cors.ts';

const SECRET = 'sk-unit-0123456789abcdef';

t.test('hashKey is the hex sha256 of the key', async (t) => {
  t.equal(hashKey('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

t.test('key file: sha256 or key entries, limits, and every malformed entry refused by name', async (t) => {
  const [[hash, p]] = parseKeyFile(JSON.stringify({ keys: [{ name: 'a', sha256: hashKey(SECRET), scopes: ['infer', 'infer'], rate_limit_per_minute: 5 }] }));
  t.equal(hash, hashKey(SECRET));
  t.same(p, { name: 'a', scopes: ['infer'], rateLimitPerMinute: 5, maxConcurrent: null });
  t.equal(parseKeyFile(JSON.stringify([{ name: 'b', key: SECRET, scopes: ['admin'], max_concurrent: 2 }]))[0]![0], hashKey(SECRET), 'a plain key is hashed at load');
  const bad: Array<[unknown, RegExp]> = [
    ['not json', /not valid JSON/],
    [{ nokeys: [] }, /must be \{"keys"/],
    [{ keys: [{ name: 'a', scopes: ['infer'] }] }, /exactly one of sha256/],
    [{ keys: [{ name: 'a', sha256: 'xyz', scopes: ['infer'] }] }, /64 hex/],
    [{ keys: [{ name: 'a', key: 'short', scopes: ['infer'] }] }, /16–256 characters/],
    [{ keys: [{ name: 'a b', key: SECRET, scopes: ['infer'] }] }, /keys\[0\]\.name must match/],
    [{ keys: [{ name: 'a', key: SECRET, scopes: ['root'] }] }, /scopes must be a non-empty array of infer, train, admin/],
    [{ keys: [{ name: 'a', key: SECRET, scopes: ['infer'], rate_limit_per_minute: 0 }] }, /rate_limit_per_minute must be an integer ≥ 1/],
    [{ keys: [{ name: 'a', key: SECRET, scopes: ['infer'], extra: 1 }] }, /unknown field "extra"/],
  ];
  for (const [doc, re] of bad) {
    t.throws(() => parseKeyFile(typeof doc === 'string' ? doc : JSON.stringify(doc)), re, String(re));
  }
});

t.test('API_KEYS: name:scope+scope:key entries, or sha256=', async (t) => {
  const entries = parseKeyEnv(` a:infer+train:${SECRET} , b:admin:sha256=${hashKey('other-secret-000000')}`);
  t.same(entries.map(([h, p]) => [h, p.name, p.scopes]), [[hashKey(SECRET), 'a', ['infer', 'train']], [hashKey('other-secret-000000'), 'b', ['admin']]]);
  t.throws(() => parseKeyEnv('justakey'), /name:scope\+scope:key/);
});

t.test('KeyStore: lookup by hash, duplicates refused, reload keeps keys on a broken file, no secret in the log', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'seqserve-keys-unit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'keys.json');
  writeFileSync(file, JSON.stringify({ keys: [{ name: 'a', key: SECRET, scopes: ['infer'] }] }));
  const lines: string[] = [];
  const log = { info: (o: object, m: string) => lines.push(JSON.stringify(o) + m), error: (o: object, m: string) => lines.push(JSON.stringify(o) + m) };
  const keys = new KeyStore({ file, env: '' }, log);
  t.equal(keys.enabled, true);
  t.equal(keys.lookup(SECRET)?.name, 'a');
  t.equal(keys.lookup('sk-unit-wrong-0000000000'), undefined);
  t.equal(keys.lookup('x'.repeat(300)), undefined, 'an over-long key is malformed, not hashed');
  writeFileSync(file, '{ broken');
  t.equal(keys.reload(), false);
  t.equal(keys.lookup(SECRET)?.name, 'a', 'the previous keys stay');
  writeFileSync(file, JSON.stringify({ keys: [{ name: 'b', key: SECRET.replace('unit', 'next'), scopes: ['train'] }] }));
  t.equal(keys.reload(), true);
  t.equal(keys.lookup(SECRET), undefined);
  t.equal(keys.lookup(SECRET.replace('unit', 'next'))?.name, 'b');
  t.notOk(lines.join('\n').includes(SECRET) || lines.join('\n').includes(SECRET.replace('unit', 'next')), 'no secret in the log');
  t.ok(lines.some((l) => l.includes('"names":["b"]')), 'the log names the keys');
  t.throws(() => new KeyStore({ file: '', env: `a:infer:${SECRET},a:train:${SECRET}x` }), KeyFileError, 'duplicate names');
  t.throws(() => new KeyStore({ file: '', env: `a:infer:${SECRET},b:train:${SECRET}` }), /same secret/);
  t.throws(() => new KeyStore({ file: path.join(dir, 'missing.json'), env: '' }), /cannot be read: ENOENT/);
  t.equal(new KeyStore({ file: '', env: '' }).enabled, false, 'no sources: auth off');
});

t.test('scopes and ownership rules', async (t) => {
  const infer = { name: 'i', scopes: ['infer'] as const, rateLimitPerMinute: null, maxConcurrent: null };
  const admin = { ...infer, name: 'root', scopes: ['admin'] as const };
  t.ok(hasScope(infer, 'infer'));
  t.notOk(hasScope(infer, 'train'));
  t.ok(hasScope(admin, 'train'), 'admin holds every scope');
  t.ok(hasScope(null, 'admin'), 'auth off: everything');
  t.equal(ownerFilter(infer), 'i');
  t.equal(ownerFilter(admin), null);
  t.ok(canSee(infer, 'i'));
  t.notOk(canSee(infer, 'j'));
  t.notOk(canSee(infer, null), 'things made with auth off are admin-only once keys exist');
  t.ok(canSee(admin, 'j'));
});

t.test('presented keys, loopback, CORS origins', async (t) => {
  t.equal(presentedKey({ authorization: 'Bearer abc' }), 'abc');
  t.equal(presentedKey({ authorization: 'bearer   abc ' }), 'abc');
  t.equal(presentedKey({ authorization: 'Basic abc' }), '');
  t.equal(presentedKey({ 'x-api-key': 'k' }), 'k');
  t.equal(presentedKey({}), undefined);
  t.ok(isLoopback('127.0.0.1'));
  t.ok(isLoopback('::1'));
  t.ok(isLoopback('localhost'));
  t.notOk(isLoopback('0.0.0.0'));
  t.notOk(isLoopback('::'));
  t.equal(corsOrigins(''), undefined);
  t.equal(corsOrigins('*'), true);
  t.same(corsOrigins('https://a.example, https://b.example'), ['https://a.example', 'https://b.example']);
});
