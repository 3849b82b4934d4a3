/**
 * `npm run key:new -- <name> <scope>[,<scope>…] [--rate N] [--concurrent N]`: makes a random API key,
 * prints the secret once (give it to the client) and the key-file entry holding only its sha256
 * (add it to API_KEYS_FILE; the server reloads the file on change). docs/auth.md.
 */
import { randomBytes } from 'node:crypto';
import { hashKey } from '../src/auth/key-store.ts';
import { SCOPES } from '../src/auth/scopes.ts';

const args = process.argv.slice(2);
const flag = (name: string): number | undefined => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const n = Number(args.splice(i, 2)[1]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} needs an integer ≥ 1`);
  return n;
};
const rate = flag('--rate');
const concurrent = flag('--concurrent');
const [name, scopeList] = args;
const scopes = (scopeList ?? '').split(',').filter(Boolean);
if (!name || scopes.length === 0 || !scopes.every((s) => (SCOPES as readonly string[]).includes(s))) {
  console.error(`usage: npm run key:new -- <name> <${SCOPES.join('|')}>[,…] [--rate N] [--concurrent N]`);
  process.exit(2);
}
const secret = `sk-seqserve-${randomBytes(24).toString('base64url')}`;
const entry = { name, sha256: hashKey(secret), scopes, ...(rate ? { rate_limit_per_minute: rate } : {}), ...(concurrent ? { max_concurrent: concurrent } : {}) };
console.log(`key (shown once; the server keeps only its hash):\n  ${secret}\nentry for API_KEYS_FILE's "keys" array:\n  ${JSON.stringify(entry)}`);
