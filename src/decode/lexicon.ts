/**
 * Word-constrained decoding: every word of an output must be a word of a lexicon (the words of the
 * model's training targets plus those of the request's own input). A subword or character model
 * trained on a few thousand rows, with a copy mechanism, otherwise spells new words out of pieces
 * ("Routines forting and settingting", "Perl Salloc Filterter") that no reader wants and that
 * word-level metrics score as misses (docs/training.md, "Decoding defaults (Seq2Seq)").
 *
 * Contract:
 * - A word is a maximal run of letters and digits (\p{L}\p{N}); everything else (spaces,
 *   punctuation, symbols) is free and ends a word. Words compare lowercased, so "Routines" at the
 *   start of an output is allowed by "routines".
 * - `wordBans(pieces, lexicon, eosId)` returns, for a hypothesis's generated ids, the ids that may
 *   not come next: those whose text would extend the trailing partial word to something no lexicon
 *   word starts with, or would end it (a free character) when it is not a whole lexicon word; and
 *   the eos while the trailing partial word is not a whole word. `pieces[id]` is the token's text
 *   (tokenizer.tokenText). A piece with no text (a special token) is never banned here.
 * - A partial word holding U+FFFD (a byte token of a multi-byte character, shown alone) is not
 *   constrained: the lexicon cannot judge half a character.
 * - Never a dead end: when every id with text would be banned, nothing is banned for that
 *   hypothesis (the search goes on unconstrained rather than stop).
 * Cost: the bans depend only on the trailing partial word, so they are computed once per distinct
 * partial word (V pieces, each walked character by character) and cached for the function's life.
 */

const WORD_CHAR = /[\p{L}\p{N}]/u;

/** The lowercased words of texts and all their prefixes. */
export class WordLexicon {
  private readonly words = new Set<string>();
  private readonly prefixes = new Set<string>();

  static fromTexts(texts: Iterable<string>): WordLexicon {
    return new WordLexicon().add(texts);
  }

  /** Adds the words of `texts`; returns this. */
  add(texts: Iterable<string>): this {
    for (const text of texts) {
      for (const m of text.toLowerCase().matchAll(/[\p{L}\p{N}]+/gu)) {
        const w = m[0];
        if (this.words.has(w)) continue;
        this.words.add(w);
        // Prefixes by code point, so an astral character is never split.
        let p = '';
        for (const c of w) this.prefixes.add((p += c));
      }
    }
    return this;
  }

  get size(): number {
    return this.words.size;
  }

  isWord(w: string): boolean {
    return this.words.has(w);
  }

  isPrefix(p: string): boolean {
    return this.prefixes.has(p);
  }
}

/** A lexicon read through two others: a word (prefix) of either is one of this. */
export function unionLexicon(a: Pick<WordLexicon, 'isWord' | 'isPrefix'>, b: Pick<WordLexicon, 'isWord' | 'isPrefix'>): Pick<WordLexicon, 'isWord' | 'isPrefix'> {
  return { isWord: (w) => a.isWord(w) || b.isWord(w), isPrefix: (p) => a.isPrefix(p) || b.isPrefix(p) };
}

/** Lowercased characters of each piece, per pieces array (a caller that keeps its array, like tasks/known-words.ts, computes them once). */
const loweredOf = new WeakMap<readonly string[], string[][]>();

/** The trailing partial word of the text of `ids` (lowercased; '' after a free character). */
export function trailingWord(pieces: readonly string[], ids: readonly number[]): string {
  let tail = '';
  for (let i = ids.length - 1; i >= 0; i--) {
    const piece = pieces[ids[i]!] ?? '';
    const chars = Array.from(piece);
    let j = chars.length - 1;
    while (j >= 0 && WORD_CHAR.test(chars[j]!)) j--;
    tail = chars.slice(j + 1).join('') + tail;
    if (j >= 0) break;
  }
  return tail.toLowerCase();
}

export function wordBans(pieces: readonly string[], lexicon: Pick<WordLexicon, 'isWord' | 'isPrefix'>, eosId: number): (ids: readonly number[]) => number[] {
  const cache = new Map<string, number[]>();
  let lowered = loweredOf.get(pieces);
  if (!lowered) loweredOf.set(pieces, (lowered = pieces.map((p) => Array.from(p.toLowerCase()))));
  const free = (w: string) => w.includes('\uFFFD');
  /** Can `piece` follow the partial word `run`? */
  const allowed = (run: string, chars: readonly string[]): boolean => {
    let w = run;
    for (const c of chars) {
      if (WORD_CHAR.test(c) || c === '\uFFFD') {
        w += c;
        if (!free(w) && !lexicon.isPrefix(w)) return false;
      } else {
        if (w !== '' && !free(w) && !lexicon.isWord(w)) return false;
        w = '';
      }
    }
    return true;
  };
  return (ids) => {
    const run = trailingWord(pieces, ids);
    let bans = cache.get(run);
    if (bans === undefined) {
      bans = [];
      let open = 0;
      for (let v = 0; v < lowered.length; v++) {
        const chars = lowered[v]!;
        if (v === eosId) {
          if (run !== '' && !free(run) && !lexicon.isWord(run)) bans.push(v);
          else open++;
        } else if (chars.length > 0) {
          if (allowed(run, chars)) open++;
          else bans.push(v);
        }
      }
      if (open === 0) bans = [];
      cache.set(run, bans);
    }
    return bans;
  };
}
