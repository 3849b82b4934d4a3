/**
 * Document → one-line summary pairs from manual pages: the source is the start of the DESCRIPTION
 * section (whole sentences, at most MAX_SOURCE_CHARS), the target the NAME line's description
 * (`open, openat, creat - open and possibly create a file` → `open and possibly create a file`).
 * Pages are rendered by groff (Debian groff-base) with a very long line length and no hyphenation,
 * so each paragraph is one line. `.so` alias pages and pages without both sections are skipped;
 * rows repeating an earlier (source, target) are dropped. Every row's `group` is its package, so a
 * split can keep packages apart if asked.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import path from 'node:path';
import { packageVersion, unpackDebianPackage } from './debian-packages.ts';

/** The packages and their licences (each package's /usr/share/doc/<pkg>/copyright). */
export const MANPAGE_PACKAGES = [
  { package: 'manpages', license: 'GPL-2+, BSD and "verbatim" licences per page (Linux man-pages project)' },
  { package: 'manpages-dev', license: 'GPL-2+, BSD and "verbatim" licences per page (Linux man-pages project)' },
  { package: 'libssl-doc', license: 'Apache-2.0 (OpenSSL 3)' },
  { package: 'perl-doc', license: 'Artistic-1.0 or GPL-1+ (Perl)' },
  { package: 'tcl8.6-doc', license: 'TCL (BSD-style)' },
  { package: 'tk8.6-doc', license: 'TCL (BSD-style)' },
] as const;

export const MAX_SOURCE_CHARS = 600;

export interface SummaryRow {
  source: string;
  target: string;
  group: string;
}

function manFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      const st = statSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) walk(p);
      else if (name.endsWith('.gz') && p.includes(`${path.sep}man${path.sep}`)) out.push(p);
    }
  };
  walk(path.join(root, 'usr/share/man'));
  return out;
}

function render(roff: string): string {
  return execFileSync('groff', ['-man', '-Tutf8', '-rLL=4000n', '-rHY=0', '-P-cbou'], {
    input: roff,
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'ignore'],
    maxBuffer: 32 * 1024 * 1024,
  });
}

/** Section name → its lines (indented body), from groff's text output. */
function sections(text: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of text.split('\n')) {
    if (/^[A-Z][A-Z0-9 ]+$/.test(line.trim()) && !/^\s/.test(line)) {
      current = [];
      if (!map.has(line.trim())) map.set(line.trim(), current);
    } else if (current) current.push(line);
  }
  return map;
}

const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

/** Whole sentences from the start of `paragraphs`, up to `max` characters (at least one sentence). */
export function leadingSentences(text: string, max: number): string {
  const sentences = text.split(/(?<=[.!?])\s+/);
  let out = '';
  for (const s of sentences) {
    const next = squash(out + ' ' + s);
    if (next.length > max && out !== '') break;
    out = next;
    if (out.length >= max) break;
  }
  return out.slice(0, max * 2);
}

function pageRow(file: string, group: string): SummaryRow | undefined {
  const roff = gunzipSync(readFileSync(file)).toString('utf8');
  if (/^\.so\s/m.test(roff.slice(0, 200))) return undefined;
  const secs = sections(render(roff));
  const name = squash((secs.get('NAME') ?? []).join(' '));
  const dash = name.search(/\s[-−–—]\s/);
  if (dash < 0) return undefined;
  const target = squash(name.slice(dash + 3));
  const body = (secs.get('DESCRIPTION') ?? []).map((l) => l.trim()).filter((l) => l !== '').join(' ');
  const source = leadingSentences(squash(body), MAX_SOURCE_CHARS);
  if (target.length < 3 || source.length < 20) return undefined;
  return { source, target, group };
}

export function loadManpageSummaries(log: (msg: string) => void = () => undefined): { rows: SummaryRow[]; versions: Record<string, string> } {
  const rows: SummaryRow[] = [];
  const seen = new Set<string>();
  const versions: Record<string, string> = {};
  for (const { package: pkg } of MANPAGE_PACKAGES) {
    const root = unpackDebianPackage(pkg);
    versions[pkg] = packageVersion(pkg);
    let kept = 0;
    for (const file of manFiles(root)) {
      const row = pageRow(file, pkg);
      if (!row) continue;
      const key = `${row.source}\u0000${row.target}`;
      if (seen.has(key)) continue;
      seen.add(key);
      rows.push(row);
      kept++;
    }
    log(`${pkg} ${versions[pkg]}: ${kept} pages`);
  }
  return { rows, versions };
}
