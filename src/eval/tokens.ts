/**
 * Tokenizers shared by the text-quality metrics in `src/eval/`.
 *
 * Contract (pure functions, no dependencies, never throw on any string input):
 *
 * - `metricTokens(text, { chars?, lang? })` / `bleuTokens(text, lang?)` — BLEU tokenization.
 *   Case is PRESERVED (BLEU is case-sensitive, as in sacreBLEU's default).
 *   * Character mode (`chars: true`, or `lang` whose primary subtag is a Chinese or
 *     Japanese code: zh, zho, chi, cmn, yue, ja, jpn — case-insensitive, e.g. "zh-CN",
 *     "ja_JP"): every non-whitespace Unicode code point is one token (like sacreBLEU's
 *     `char` tokenizer; note sacreBLEU's `zh` tokenizer would instead keep Latin words
 *     whole, and `ja-mecab` uses a morphological analyser — neither is reproduced).
 *     Surrogate pairs are kept together (code points, not UTF-16 units). Note "jav"
 *     (Javanese) is NOT treated as Japanese: only the whole primary subtag is compared.
 *   * Otherwise: a port of sacreBLEU's `13a` tokenizer (mteval-v13a.pl): removes
 *     "<skipped>", joins "-\n" hyphenation, turns newlines into spaces, unescapes
 *     &quot; &amp; &lt; &gt;, then separates the ASCII punctuation/symbols
 *     { | } ~ [ \ ] ^ _ ` ! " # $ % & ( ) * + : ; < = > ? @ /  from words; separates
 *     "." and "," unless they sit between two digits (so "3.5" and "1,000" stay whole);
 *     separates "-" when preceded by a digit; then splits on whitespace.
 *     Exactly as in 13a, the apostrophe and a hyphen inside words are NOT split
 *     ("don't", "state-of-the-art" stay one token), and non-ASCII punctuation
 *     (e.g. « » “ ” ¿ 。) is not separated.
 *   Empty / whitespace-only text → [].
 *
 * - `normalizeAnswer(text)` — SQuAD v1.1 answer normalization, Unicode-aware:
 *   NFC-normalize (a no-op for composed text) → lowercase → delete punctuation (every
 *   \p{P} character plus the ASCII symbols of Python's string.punctuation:
 *   $ + < = > ^ ` | ~) → replace the whole words "a", "an", "the" by a space (word
 *   boundaries are Unicode letters/digits/marks, so "théa" keeps its "a") → collapse
 *   whitespace runs to one space and trim. Whitespace-split, this is the SQuAD token bag;
 *   text without spaces (Chinese, Japanese) therefore forms a single token.
 *   Punctuation is deleted, not replaced by a space, as in SQuAD: "don't" → "dont",
 *   "U.S." → "us". Returns a string ("" for empty / all-punctuation input).
 *
 * - `wordTokens(text)` — ROUGE tokenization: NFC-normalize, lowercase; every Han, Hiragana
 *   or Katakana letter/number (by Unicode Script_Extensions, so "ー" and "々" count too,
 *   while CJK punctuation such as "。" and "「" is dropped) is its own token;
 *   other tokens are maximal runs of letters/digits (\p{L}\p{N}, plus combining marks
 *   \p{M} so that e.g. Devanagari vowel signs do not split words); everything else
 *   (punctuation, symbols, whitespace) separates tokens and is dropped.
 *   Empty / punctuation-only text → [].
 */

const CHAR_LANGS = new Set(['zh', 'zho', 'chi', 'cmn', 'yue', 'ja', 'jpn']);

/** True when BLEU for `lang` should be computed on characters (Chinese / Japanese). */
export function isCharLang(lang: string | undefined): boolean {
  if (!lang) return false;
  const primary = lang.trim().toLowerCase().split(/[-_]/)[0];
  return CHAR_LANGS.has(primary);
}

// sacreBLEU TokenizerRegexp (13a post-tokenizer), applied in order.
const RE_13A: Array<[RegExp, string]> = [
  // ASCII punctuation and symbols except ' - . , (ranges {-~, [-`, space-&, (-+, :-@, and /)
  [/([\{-\~\[-\`\x20-\&\(-\+\:-\@\/])/g, ' $1 '],
  // period and comma unless preceded by a digit
  [/([^0-9])([\.,])/g, '$1 $2 '],
  // period and comma unless followed by a digit
  [/([\.,])([^0-9])/g, ' $1 $2'],
  // dash when preceded by a digit
  [/([0-9])(-)/g, '$1 $2 '],
];

function tokenize13a(text: string): string[] {
  let line = text.replaceAll('<skipped>', '').replaceAll('-\n', '').replace(/\r?\n/g, ' ');
  if (line.includes('&')) {
    line = line
      .replaceAll('&quot;', '"')
      .replaceAll('&amp;', '&')
      .replaceAll('&lt;', '<')
      .replaceAll('&gt;', '>');
  }
  line = ` ${line} `;
  for (const [re, repl] of RE_13A) line = line.replace(re, repl);
  return line.split(/\s+/).filter((s) => s.length > 0);
}

function tokenizeChars(text: string): string[] {
  const out: string[] = [];
  for (const ch of text) if (!/\s/u.test(ch)) out.push(ch);
  return out;
}

/** BLEU tokenization with options; see the file header for the contract. */
export function metricTokens(text: string, opts?: { chars?: boolean; lang?: string }): string[] {
  if (opts?.chars || isCharLang(opts?.lang)) return tokenizeChars(text);
  return tokenize13a(text);
}

/** BLEU tokenization: characters for zh/ja targets, sacreBLEU-13a otherwise. Case-sensitive. */
export function bleuTokens(text: string, lang?: string): string[] {
  return metricTokens(text, { lang });
}

const SQUAD_PUNCT = /[\p{P}$+<=>^`|~]/gu;
const ARTICLES = /(?<![\p{L}\p{N}\p{M}_])(?:a|an|the)(?![\p{L}\p{N}\p{M}_])/gu;

/** SQuAD-style answer normalization; see the file header for the contract. */
export function normalizeAnswer(text: string): string {
  return text
    .normalize('NFC')
    .toLowerCase()
    .replace(SQUAD_PUNCT, '')
    .replace(ARTICLES, ' ')
    .split(/\s+/u)
    .filter((s) => s.length > 0)
    .join(' ');
}

const CJK = '\\p{scx=Han}\\p{scx=Hiragana}\\p{scx=Katakana}';
// A CJK token must itself be a letter/number (Script_Extensions=Han also covers 。「」 etc.).
const WORD_RE = new RegExp(`(?=[\\p{L}\\p{N}])[${CJK}]|(?:(?![${CJK}])[\\p{L}\\p{N}\\p{M}])+`, 'gu');

/** ROUGE tokenization: lowercase words of letters/digits, one token per CJK character. */
export function wordTokens(text: string): string[] {
  return text.normalize('NFC').toLowerCase().match(WORD_RE) ?? [];
}
