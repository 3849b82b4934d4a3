/**
 * Writes the real-data sets as JSONL for uploads, benchmarks and the demos:
 *   node --import tsx scripts/real-data/export.ts [outDir]   (default data/real)
 * → translate-de-en.jsonl {source, target}, summarize-man.jsonl {source, target, group}.
 * Needs `apt-get download` (Debian) and groff (Debian groff-base) for the manual pages.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REAL_DATA_DIR } from './debian-packages.ts';
import { loadManpageSummaries } from './manpages.ts';
import { loadTransDeEn } from './trans-de-en.ts';

const outDir = path.resolve(process.argv[2] ?? REAL_DATA_DIR);
mkdirSync(outDir, { recursive: true });
const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

const de = loadTransDeEn();
writeFileSync(path.join(outDir, 'translate-de-en.jsonl'), jsonl(de.rows));
console.log(`translate-de-en.jsonl: ${de.rows.length} pairs (trans-de-en ${de.version})`);

const man = loadManpageSummaries((m) => console.log(`  ${m}`));
writeFileSync(path.join(outDir, 'summarize-man.jsonl'), jsonl(man.rows));
console.log(`summarize-man.jsonl: ${man.rows.length} pairs`);
