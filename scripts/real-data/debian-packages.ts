/**
 * Real-data sources from Debian packages: downloads a package's .deb with `apt-get download` (no
 * install, no root needed beyond apt's cache) and unpacks it with `dpkg-deb -x` under a cache
 * folder, once. Everything the real-data demos and `bench:quality` train on comes through here, so
 * the data is reproducible from package names and versions alone.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** Cache folder for .debs and their unpacked trees (REAL_DATA_DIR, default ./data/real). */
export const REAL_DATA_DIR = path.resolve(process.env.REAL_DATA_DIR ?? 'data/real');

/** Unpacks `pkg` (latest candidate) and returns its root folder; downloads only on first use. */
export function unpackDebianPackage(pkg: string): string {
  const debs = path.join(REAL_DATA_DIR, 'debs');
  const root = path.join(REAL_DATA_DIR, 'unpacked', pkg);
  if (existsSync(path.join(root, '.complete'))) return root;
  mkdirSync(debs, { recursive: true });
  let deb = readdirSync(debs).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  if (!deb) {
    try {
      execFileSync('apt-get', ['download', pkg], { cwd: debs, stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (err) {
      throw new Error(`could not download Debian package ${pkg} (run \`apt-get update\` first?): ${(err as Error).message}`);
    }
    deb = readdirSync(debs).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download ${pkg} produced no .deb in ${debs}`);
  }
  mkdirSync(root, { recursive: true });
  execFileSync('dpkg-deb', ['-x', path.join(debs, deb), root]);
  execFileSync('touch', [path.join(root, '.complete')]);
  return root;
}

/** `name_version_arch.deb` → version, for the data's provenance record. */
export function packageVersion(pkg: string): string {
  const deb = readdirSync(path.join(REAL_DATA_DIR, 'debs')).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  return deb ? decodeURIComponent(deb.split('_')[1] ?? 'unknown') : 'unknown';
}
