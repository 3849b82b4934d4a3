/**
 * The demo corpus: books of the King James Bible (1611, public domain), as shipped by the Debian
 * package bible-kjv-text and printed by its `bible` command (package bible-kjv). One verse per
 * line, chapter headings and verse numbers removed.
 */
import { execFileSync } from 'node:child_process';

export const DEMO_CORPUS_SOURCE = {
  name: 'King James Version of the Bible (Genesis, Exodus)',
  package: 'Debian bible-kjv-text (text) + bible-kjv (the `bible` reader)',
  license: 'Public domain: the KJV translation (1611) is out of copyright (see /usr/share/doc/bible-kjv-text/copyright)',
  books: ['Gen1:1-Gen50:26', 'Exod1:1-Exod40:38'],
};

/** The demo books by default; `books` takes any verse ranges `bible` accepts (e.g. 'Gen1:1-Rev22:21'). */
export function loadDemoCorpus(books: readonly string[] = DEMO_CORPUS_SOURCE.books): string {
  let raw: string;
  try {
    raw = execFileSync('bible', books, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, COLUMNS: '100000' } });
  } catch (err) {
    throw new Error(`the demo corpus needs the \`bible\` command: apt-get install bible-kjv (${(err as Error).message})`);
  }
  const verses: string[] = [];
  for (const line of raw.split('\n')) {
    const verse = /^\s*\d+\s+(.*)$/.exec(line);
    if (verse) verses.push(verse[1]!.trim());
    else if (line.trim() !== '' && !/^[A-Z0-9][A-Za-z ]* \d+$/.test(line.trim()) && verses.length > 0) {
      verses[verses.length - 1] += ` ${line.trim()}`; // a wrapped continuation line
    }
  }
  return verses.join('\n') + '\n';
}
