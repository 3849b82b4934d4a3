/**
 * German → English sentence pairs from the Ding dictionary (Debian `trans-de-en`, GPL-2+).
 * Each dictionary line is `de-part | de-part … :: en-part | en-part …`; aligned parts whose both
 * sides are whole sentences (end in . ? !, at least 4 words, no `;` alternatives) are kept after
 * removing annotations ({m}, [coll.], <variant>). Order is the file's; duplicates dropped.
 * ~17k pairs from trans-de-en 1.9-6.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { packageVersion, unpackDebianPackage } from './debian-packages.ts';

export interface PairRow {
  source: string;
  target: string;
}

export const TRANS_DE_EN_SOURCE = {
  name: 'Ding German–English dictionary: example sentences',
  package: 'Debian trans-de-en',
  license: 'GPL-2+ (see /usr/share/doc/trans-de-en/copyright)',
};

function clean(s: string): string {
  return s.replace(/\{[^}]*\}|\[[^\]]*\]|<[^>]*>/g, '').replace(/\s+/g, ' ').trim();
}

const isSentence = (s: string) => /[.?!]$/.test(s) && s.split(' ').length >= 4 && !s.includes(';');

export function loadTransDeEn(): { rows: PairRow[]; version: string } {
  const root = unpackDebianPackage('trans-de-en');
  const text = readFileSync(path.join(root, 'usr/share/trans/de-en'), 'utf8');
  const rows: PairRow[] = [];
  const seen = new Set<string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.includes('::')) continue;
    const [de, en] = line.split('::', 2) as [string, string];
    const dParts = de.split(' | ');
    const eParts = en.split(' | ');
    if (dParts.length !== eParts.length) continue;
    for (let i = 0; i < dParts.length; i++) {
      const source = clean(dParts[i]!);
      const target = clean(eParts[i]!);
      if (!isSentence(source) || !isSentence(target)) continue;
      const key = `${source}\u0000${target}`;
      if (seen.has(key)) continue;
      seen.add(key);
      rows.push({ source, target });
    }
  }
  return { rows, version: packageVersion('trans-de-en') };
}
