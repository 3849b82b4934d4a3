/**
 * A word-alignment translator: the statistical translator a translate job fits beside its neural
 * Seq2Seq model from the same rows, in seconds, with no tensors. On a few thousand sentence pairs it
 * translates far better than the neural model does (docs/training.md "Word-alignment translator"):
 * the job measures both on its validation rows and the manifest names the better one as the model's
 * default translator (`decoding.translator`).
 *
 * Model (the classic noisy-channel recipe, kept monotone):
 *   - words: runs of letters, digits and `_`, or one other non-space character; a Chinese or Japanese
 *     character (Han, Hiragana, Katakana: scripts written without spaces) is a word by itself;
 *     compared lowercased;
 *   - lexicon: IBM Model 1 (Brown et al. 1993) t(e | f), source word f → target word e, with a NULL
 *     source word, EM from uniform for ITERATIONS rounds; the MAX_CANDIDATES most likely e per f kept,
 *     each with the reverse model's t(f | e) (IBM Model 1 trained the other way);
 *   - target language model: interpolated trigram over the training targets (sentence start and end
 *     marked), p = 0.2 p1 + 0.4 p2 + 0.4 p3 when the two-word context was seen, 0.4 p1 + 0.6 p2 when
 *     only the one-word context was, else p1; p1 add-0.1 smoothed over the vocabulary plus one;
 *   - decoding (DECODE_WEIGHTS): left to right over the source words, a beam of `beam` partial
 *     outputs; each source word becomes one of its candidates (score log t(e|f) + reverseWeight ·
 *     log t(f|e) + wordBonus + lmWeight · log p_LM), or is dropped (dropCost), or — a word the
 *     lexicon does not know (a name, a number) — is copied as written (lowercased when the targets
 *     hold it lowercased); the sentence end's LM score is added; the best complete output wins
 *     (ties: the first found);
 *   - surface: each output word in its most frequent non-sentence-initial casing in the targets,
 *     joined with spaces except before closing punctuation, after opening brackets and next to a
 *     Chinese or Japanese character or CJK punctuation (apostrophes
 *     keep their spaces: BLEU's 13a tokens do not split them, so a glued one spoils the word it
 *     joins), first letter upper-cased.
 * The weights (beam 10, lmWeight 0.5, wordBonus 2, dropCost −8, reverseWeight 0.5; ITERATIONS 5) were
 * chosen on German→English pairs of a different seed's split than the benchmark's
 * (`bench/word-translation.ts`, docs/training.md). Deterministic: same rows, same model, same output.
 * Cost: EM is O(ITERATIONS · Σ |source|·|target|) over the rows (capped at MAX_WORDS words per side);
 * decoding is O(|source| · beam · MAX_CANDIDATES).
 */

import { UNK_ID } from '../tokenize/vocab.ts';

export const ITERATIONS = 5;
export const MAX_CANDIDATES = 4;
/** log t(f|e) is floored at log MIN_PROB (a pair the reverse model never saw). */
export const MIN_PROB = 1e-6;

/** The decoder's weights (see the header); `bench/word-translation.ts --decode JSON` tries others. */
export interface DecodeWeights {
  beam: number;
  lmWeight: number;
  wordBonus: number;
  dropCost: number;
  /** Weight of log t(f|e), the reverse direction's lexicon, in a candidate's score. */
  reverseWeight: number;
}
export const DECODE_WEIGHTS: DecodeWeights = { beam: 10, lmWeight: 0.5, wordBonus: 2, dropCost: -8, reverseWeight: 0.5 };
/** Words per side a row contributes to the lexicon (a longer row is cut). */
export const MAX_WORDS = 100;
export const WORD_TRANSLATION_FILE = 'word-translation.json';

/** Characters of scripts written without spaces between words: each is a word, glued to its neighbours on output. */
const UNSPACED = '\\p{sc=Han}\\p{sc=Hiragana}\\p{sc=Katakana}';
const WORD_RE = new RegExp(`[${UNSPACED}]|(?:(?![${UNSPACED}])[\\p{L}\\p{N}_])+|[^\\p{L}\\p{N}_\\s]`, 'gu');
/** Starts / ends with an unspaced-script character or CJK punctuation (U+3000–303F, fullwidth forms U+FF00–FFEF). */
const UNSPACED_START = new RegExp(`^[${UNSPACED}\\u3000-\\u303f\\uff00-\\uffef]`, 'u');
const UNSPACED_END = new RegExp(`[${UNSPACED}\\u3000-\\u303f\\uff00-\\uffef]$`, 'u');
const NULL_WORD = '\u0000null';
const BOS = '\u0000s';
const EOS = '\u0000/s';

/** The words of a text, as written (see the header). */
export function words(text: string): string[] {
  return text.normalize('NFC').match(WORD_RE) ?? [];
}

/**
 * IBM Model 1 by EM from uniform, ITERATIONS rounds: t(e | f) for source rows `fs` and target rows
 * `es` (word ids; id 0 is NULL, added to every source row here, never a target word). Returns the
 * co-occurring pairs' probabilities keyed f * E + e (E = target ids).
 */
function ibmModel1(fs: readonly number[][], es: readonly number[][], F: number, E: number, iterations: number): Map<number, number> {
  let t = new Map<number, number>();
  const tOf = (key: number) => t.get(key) ?? 1 / E;
  for (let it = 0; it < iterations; it++) {
    const count = new Map<number, number>();
    const totalF = new Float64Array(F);
    for (let r = 0; r < fs.length; r++) {
      const row = [0, ...fs[r]!];
      for (const e of es[r]!) {
        let z = 0;
        for (const f of row) z += tOf(f * E + e);
        for (const f of row) {
          const key = f * E + e;
          const c = tOf(key) / z;
          count.set(key, (count.get(key) ?? 0) + c);
          totalF[f]! += c;
        }
      }
    }
    const next = new Map<number, number>();
    for (const [key, c] of count) next.set(key, c / totalF[Math.floor(key / E)]!);
    t = next;
  }
  return t;
}

/** The file stored beside a model version. */
export interface WordTranslationJson {
  format: 'seqserve-word-translation';
  version: 1;
  /** Source word (lowercased) → its candidates [target word, t(e|f), t(f|e)], most likely (by t(e|f)) first. */
  lexicon: Record<string, [string, number, number][]>;
  /** Target n-gram counts, words joined by ' ' (lowercased; sentence marks included). */
  unigrams: [string, number][];
  bigrams: [string, number][];
  trigrams: [string, number][];
  /** Lowercased target word → its usual casing, where that differs. */
  casing: [string, string][];
  rows: number;
}

interface Hypothesis {
  score: number;
  prev2: string;
  prev1: string;
  out: string[];
}

export class WordTranslator {
  private readonly uni: Map<string, number>;
  private readonly bi: Map<string, number>;
  private readonly tri: Map<string, number>;
  /** Counts of each one- and two-word context (the sums of the bigram and trigram counts that follow it). */
  private readonly ctx1 = new Map<string, number>();
  private readonly ctx2 = new Map<string, number>();
  private readonly total: number;
  private readonly vocab: number;

  private constructor(
    private readonly lexicon: Map<string, [string, number, number][]>,
    unigrams: [string, number][],
    bigrams: [string, number][],
    trigrams: [string, number][],
    private readonly casing: Map<string, string>,
    readonly rows: number,
  ) {
    this.uni = new Map(unigrams);
    this.bi = new Map(bigrams);
    this.tri = new Map(trigrams);
    for (const [k, c] of bigrams) {
      const a = k.slice(0, k.lastIndexOf(' '));
      this.ctx1.set(a, (this.ctx1.get(a) ?? 0) + c);
    }
    for (const [k, c] of trigrams) {
      const ab = k.slice(0, k.lastIndexOf(' '));
      this.ctx2.set(ab, (this.ctx2.get(ab) ?? 0) + c);
    }
    this.total = unigrams.reduce((n, [, c]) => n + c, 0);
    this.vocab = this.uni.size + 1;
  }

  /** Fits the lexicon, language model and casing on (source, target) rows. */
  /** `opts.iterations`: EM rounds of each lexicon (ITERATIONS; other values are for bench/word-translation.ts). */
  static train(rows: readonly { source: string; target: string }[], opts: { iterations?: number } = {}): WordTranslator {
    const iterations = opts.iterations ?? ITERATIONS;
    const src = rows.map((r) => words(r.source).slice(0, MAX_WORDS).map((w) => w.toLowerCase()));
    const tgt = rows.map((r) => words(r.target).slice(0, MAX_WORDS).map((w) => w.toLowerCase()));
    // Integer ids, NULL = 0 on both sides. Forward t(e|f) keyed f * E + e; reverse t(f|e) keyed e * F + f.
    const fId = new Map<string, number>([[NULL_WORD, 0]]);
    const eId = new Map<string, number>([[NULL_WORD, 0]]);
    const idOf = (m: Map<string, number>, w: string) => {
      let id = m.get(w);
      if (id === undefined) m.set(w, (id = m.size));
      return id;
    };
    const fRows = src.map((ws) => ws.map((w) => idOf(fId, w)));
    const eRows = tgt.map((ws) => ws.map((w) => idOf(eId, w)));
    const forward = ibmModel1(fRows, eRows, fId.size, eId.size, iterations);
    const reverse = ibmModel1(eRows, fRows, eId.size, fId.size, iterations);
    const E = eId.size;
    const F = fId.size;
    const fWords = [...fId.keys()];
    const eWords = [...eId.keys()];
    const byF = new Map<string, [string, number, number][]>();
    for (const [key, p] of forward) {
      const f = Math.floor(key / E);
      const e = key % E;
      if (f === 0) continue; // NULL's candidates are never read: decoding drops words instead
      const list = byF.get(fWords[f]!) ?? [];
      list.push([eWords[e]!, p, reverse.get(e * F + f) ?? 0]);
      byF.set(fWords[f]!, list);
    }
    const round = (p: number) => Math.round(p * 1e6) / 1e6;
    const lexicon = new Map<string, [string, number, number][]>();
    for (const [f, list] of byF) {
      list.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
      lexicon.set(f, list.slice(0, MAX_CANDIDATES).map(([e, p, q]) => [e, round(p), round(q)]));
    }
    const uni = new Map<string, number>();
    const bi = new Map<string, number>();
    const tri = new Map<string, number>();
    const add = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
    for (const ws of tgt) {
      const s = [BOS, BOS, ...ws, EOS];
      for (let i = 2; i < s.length; i++) {
        add(uni, s[i]!);
        add(bi, `${s[i - 1]} ${s[i]}`);
        add(tri, `${s[i - 2]} ${s[i - 1]} ${s[i]}`);
      }
    }
    // Casing: the most frequent written form of each word away from the sentence start.
    const forms = new Map<string, Map<string, number>>();
    for (const r of rows) {
      words(r.target).forEach((w, i) => {
        if (i === 0) return;
        const m = forms.get(w.toLowerCase()) ?? new Map<string, number>();
        m.set(w, (m.get(w) ?? 0) + 1);
        forms.set(w.toLowerCase(), m);
      });
    }
    const casing = new Map<string, string>();
    for (const [lower, m] of forms) {
      let best = lower;
      let n = 0;
      for (const [w, c] of m) if (c > n) [best, n] = [w, c];
      if (best !== lower) casing.set(lower, best);
    }
    return new WordTranslator(lexicon, [...uni], [...bi], [...tri], casing, rows.length);
  }

  static fromJSON(json: unknown): WordTranslator {
    const j = json as Partial<WordTranslationJson> | null;
    if (!j || j.format !== 'seqserve-word-translation' || j.version !== 1 || typeof j.lexicon !== 'object' || !Array.isArray(j.unigrams) || !Array.isArray(j.bigrams) || !Array.isArray(j.trigrams) || !Array.isArray(j.casing)) {
      throw new Error('word translation: not a seqserve-word-translation v1 file');
    }
    return new WordTranslator(new Map(Object.entries(j.lexicon!)), j.unigrams, j.bigrams, j.trigrams, new Map(j.casing), j.rows ?? 0);
  }

  toJSON(): WordTranslationJson {
    return {
      format: 'seqserve-word-translation', version: 1, lexicon: Object.fromEntries(this.lexicon),
      unigrams: [...this.uni], bigrams: [...this.bi], trigrams: [...this.tri], casing: [...this.casing], rows: this.rows,
    };
  }

  /** The lexicon's candidates for a source word (any casing), most likely first. */
  candidates(word: string): readonly [string, number, number][] {
    return this.lexicon.get(word.toLowerCase()) ?? [];
  }

  /** log p_LM(c | a b) of the interpolated trigram model (lowercased words; BOS/EOS marks). */
  private lm(a: string, b: string, c: string): number {
    const p1 = ((this.uni.get(c) ?? 0) + 0.1) / (this.total + 0.1 * this.vocab);
    const n2 = this.ctx2.get(`${a} ${b}`) ?? 0;
    const n1 = this.ctx1.get(b) ?? 0;
    const p2 = n1 > 0 ? (this.bi.get(`${b} ${c}`) ?? 0) / n1 : 0;
    if (n2 > 0) return Math.log(0.2 * p1 + 0.4 * p2 + 0.4 * ((this.tri.get(`${a} ${b} ${c}`) ?? 0) / n2));
    return Math.log(n1 > 0 ? 0.4 * p1 + 0.6 * p2 : p1);
  }

  /** The translation of `source` (see the header); '' for a source with no words. */
  translate(source: string, w: DecodeWeights = DECODE_WEIGHTS): string {
    let beam: Hypothesis[] = [{ score: 0, prev2: BOS, prev1: BOS, out: [] }];
    for (const written of words(source)) {
      const known = this.candidates(written);
      // A word the lexicon does not know is copied as written (names, numbers), scored by the LM alone.
      // (lowercased when the targets hold it lowercased: a German noun that is an English word, "Chat").
      const copied = this.uni.has(written.toLowerCase()) ? written.toLowerCase() : written;
      const options: [string, number][] = known.length > 0 ? known.map(([e, p, q]) => [e, Math.log(p) + w.reverseWeight * Math.log(Math.max(q, MIN_PROB))]) : [[copied, 0]];
      const next: Hypothesis[] = [];
      for (const h of beam) {
        next.push({ ...h, score: h.score + w.dropCost });
        for (const [e, logT] of options) {
          const lower = e.toLowerCase();
          next.push({ score: h.score + logT + w.wordBonus + w.lmWeight * this.lm(h.prev2, h.prev1, lower), prev2: h.prev1, prev1: lower, out: [...h.out, e] });
        }
      }
      // Stable sort: equal scores keep their order of creation.
      beam = next.sort((x, y) => y.score - x.score).slice(0, w.beam);
    }
    let best = beam[0]!;
    let bestScore = -Infinity;
    for (const h of beam) {
      const s = h.score + w.lmWeight * this.lm(h.prev2, h.prev1, EOS);
      if (s > bestScore) [best, bestScore] = [h, s];
    }
    return this.surface(best.out);
  }

  private surface(out: readonly string[]): string {
    let text = '';
    for (const w of out) {
      const cased = this.casing.get(w) ?? w;
      const glue = text === '' || /^[.,!?;:)\]}%]$/u.test(cased) || /[(\[{]$/u.test(text) || UNSPACED_START.test(cased) || UNSPACED_END.test(text);
      text += glue ? cased : ` ${cased}`;
    }
    return text.charAt(0).toUpperCase() + text.slice(1);
  }
}

/** Which translator a translate model's request runs: the neural Seq2Seq model or the word-alignment one. */
export type Translator = 'neural' | 'word_alignment';
export const TRANSLATORS: readonly Translator[] = ['neural', 'word_alignment'];

/**
 * The word-alignment translation of `source` as the model's target tokenizer writes it: at most
 * `maxTokens` target ids (`truncated` when cut), and their text. Serving streams these ids and the
 * held-out metrics score this text, so both see exactly what a request returns (a character the
 * target vocabulary lacks is left out of both).
 */
export function translationIds(words: WordTranslator, tgt: { encode(text: string): number[] }, source: string, maxTokens: number): { ids: number[]; truncated: boolean } {
  // An <unk> (a character or word the target vocabulary lacks) is left out: decoding skips it anyway.
  const all = tgt.encode(words.translate(source)).filter((id) => id !== UNK_ID);
  return { ids: all.slice(0, maxTokens), truncated: all.length > maxTokens };
}

export function translationText(words: WordTranslator, tgt: { encode(text: string): number[]; decode(ids: readonly number[]): string }, source: string, maxTokens: number): string {
  return tgt.decode(translationIds(words, tgt, source, maxTokens).ids);
}

/**
 * The translator a model's requests run by default: its manifest's `decoding.translator` for a
 * translate model (chosen by the training job on its held-out rows; `neural` for models published
 * before word alignment), undefined for the other tasks.
 */
export function defaultTranslator(manifest: { task: string; decoding?: unknown }): Translator | undefined {
  if (manifest.task !== 'translate') return undefined;
  const d = manifest.decoding as { translator?: unknown } | undefined;
  return d?.translator === 'word_alignment' ? 'word_alignment' : 'neural';
}
