/**
 * Question-answering demo data built from the npm package countries-list (MIT): for one country a
 * short paragraph states a few facts (capital, continent, currency, languages, calling code, native
 * name) in random order and with varied wording; the question asks for one of them; the answer is a
 * span of the paragraph. The model reads `question ⟨sep⟩ context` and writes the answer.
 *
 *   question: "What is the capital of Peru?"
 *   context:  "Peru lies in South America. Its capital is Lima. It uses the Peruvian Sol."
 *   answer:   "Lima"
 *
 * `group` is the country's ISO code. Hold out whole countries (splitByGroup, or pass `codes` to draw
 * train and held-out rows from disjoint country lists): the capitals, calling codes and native names of
 * held-out countries never occur in training, so the model has to find and copy the span through
 * attention rather than recall it. Continents, common currencies (Euro, US Dollar) and languages
 * (English, French) recur across countries, so report metrics per relation too.
 *
 * The first sentence names the country and the others refer back to it ("Its capital is …"), which
 * keeps contexts short: median 87 characters with the default 3 facts (max ~150), 61 with 2 (max
 * ~130). With distractorFraction > 0, some contexts also state the same kind of fact about a second
 * country and every sentence names its country ("The capital of Chile is Santiago."), so the model
 * must match the country in the question.
 * Distractors are drawn from the same `codes`: when using them, split the codes first (splitCodes)
 * and generate train and held-out rows separately, or held-out countries leak into training contexts.
 */
import { countries, languages, continents, type ICountry, type TCountryCode } from 'countries-list';
import { currencies } from 'countries-list/currencies';
import { createRng, type Rng } from './rng.ts';

export { splitByGroup } from './split.ts';

export const QA_DATA = {
  package: 'countries-list (npm)',
  version: '3.4.1',
  license: 'MIT (Copyright (c) 2014 Annexare Studio; see node_modules/countries-list/LICENSE)',
  install: 'npm install --save-dev --save-exact countries-list@3.4.1',
  language: 'en',
  description:
    'Extractive QA over generated one-paragraph country fact sheets (capital, continent, currency, languages, ' +
    'calling code, native name) from countries-list; the answer is always a span of the context. Hold out by country.',
} as const;

export const MAX_CONTEXT_CHARS = 250;

export type Relation = 'capital' | 'continent' | 'currency' | 'languages' | 'calling_code' | 'native_name';

export const ALL_RELATIONS: readonly Relation[] = ['capital', 'continent', 'currency', 'languages', 'calling_code', 'native_name'];

export interface QaRow {
  /** The country's ISO 3166-1 alpha-2 code: the key for a held-out split. */
  group: string;
  relation: Relation;
  question: string;
  context: string;
  answer: string;
}

export interface QaOptions {
  seed: number;
  count: number;
  /** Countries to draw from (ISO alpha-2 codes from qaCountryCodes()); default all of them. */
  codes?: readonly string[];
  /**
   * Which facts contexts state and questions ask about (default ALL_RELATIONS). Passing a subset
   * changes the rows drawn for a seed. Leaving out 'native_name' (only 77 countries have a
   * Latin-script native name that differs from the English one; long, with rare accented letters)
   * shortens answers and the character set.
   */
  relations?: readonly Relation[];
  /**
   * Facts per context, the asked one included (default 3, at most 6; fewer if the country has
   * fewer). 2 keeps inputs short (question + ⟨sep⟩ + context ≈ 105 characters on average) for a
   * few minutes of CPU training; 3 gives ≈ 130.
   */
  factsPerContext?: number;
  /** Fraction of rows whose context also states the same relation for another country (default 0). */
  distractorFraction?: number;
  /** Longest context (default and maximum MAX_CONTEXT_CHARS); facts other than the asked one are dropped to fit. */
  maxContextChars?: number;
}

interface Fact {
  relation: Relation;
  value: string;
}

type Template = (name: string, value: string) => string;

/** Sentences that name the country: the first sentence of a context, and every sentence when a distractor is present. */
const NAMED_TEMPLATES: Record<Relation, Template[]> = {
  capital: [(n, v) => `The capital of ${n} is ${v}.`, (n, v) => `${v} is the capital of ${n}.`],
  continent: [(n, v) => `${n} is in ${v}.`, (n, v) => `${n} lies in ${v}.`],
  currency: [(n, v) => `The currency of ${n} is the ${v}.`, (n, v) => `${n} uses the ${v}.`],
  languages: [(n, v) => `People in ${n} speak ${v}.`, (n, v) => `In ${n} people speak ${v}.`],
  calling_code: [(n, v) => `The calling code of ${n} is ${v}.`, (n, v) => `To phone ${n}, dial ${v}.`],
  native_name: [(n, v) => `In its own language ${n} is called ${v}.`, (n, v) => `Locals call ${n} ${v}.`],
};

/** Shorter follow-on sentences that refer back to the country (contexts without a distractor). */
const PRONOUN_TEMPLATES: Record<Relation, ((value: string) => string)[]> = {
  capital: [(v) => `Its capital is ${v}.`, (v) => `The capital is ${v}.`],
  continent: [(v) => `It is in ${v}.`, (v) => `It lies in ${v}.`],
  currency: [(v) => `It uses the ${v}.`, (v) => `Its currency is the ${v}.`],
  languages: [(v) => `People there speak ${v}.`, (v) => `Its people speak ${v}.`],
  calling_code: [(v) => `Its calling code is ${v}.`, (v) => `To phone it, dial ${v}.`],
  native_name: [(v) => `Locals call it ${v}.`, (v) => `In its own language it is called ${v}.`],
};

const QUESTION_TEMPLATES: Record<Relation, ((name: string) => string)[]> = {
  capital: [(n) => `What is the capital of ${n}?`, (n) => `Which city is the capital of ${n}?`],
  continent: [(n) => `Which continent is ${n} in?`, (n) => `On which continent is ${n}?`],
  currency: [(n) => `What currency does ${n} use?`, (n) => `What is the currency of ${n}?`],
  languages: [(n) => `Which languages are spoken in ${n}?`, (n) => `What do people in ${n} speak?`],
  calling_code: [(n) => `What is the calling code of ${n}?`, (n) => `What do you dial to phone ${n}?`],
  native_name: [(n) => `What is ${n} called in its own language?`, (n) => `What do locals call ${n}?`],
};

/**
 * Latin script only, precomposed (accented letters yes, combining marks no, so "M̧ajeļ" is left out):
 * keeps the character vocabulary small. Tested after NFC normalisation.
 */
const LATIN_CHARS = /^[\p{Script=Latin}0-9 '’.,()\-]+$/u;
const isLatin = (s: string): boolean => LATIN_CHARS.test(s.normalize('NFC'));

function joinList(items: string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

function factsOf(c: ICountry): Fact[] {
  const facts: Fact[] = [];
  const push = (relation: Relation, value: string): void => {
    facts.push({ relation, value: value.normalize('NFC') });
  };
  if (c.capital && isLatin(c.capital)) push('capital', c.capital);
  push('continent', continents[c.continent]);
  const cur = c.currency[0];
  if (cur && currencies[cur] && isLatin(currencies[cur].name)) push('currency', currencies[cur].name);
  // Up to three languages; longer lists (South Africa has ten) make contexts too long.
  if (c.languages.length >= 1 && c.languages.length <= 3) {
    push('languages', joinList(c.languages.map((l) => languages[l].name)));
  }
  if (c.phone.length >= 1) push('calling_code', `+${c.phone[0]}`);
  if (c.native && c.native !== c.name && isLatin(c.native)) push('native_name', c.native);
  return facts;
}

const FACTS: ReadonlyMap<string, { name: string; facts: Fact[] }> = new Map(
  (Object.entries(countries) as [TCountryCode, ICountry][])
    .filter(([, c]) => isLatin(c.name))
    .map(([code, c]) => [code, { name: c.name.normalize('NFC'), facts: factsOf(c) }] as const)
    .filter(([, e]) => e.facts.length >= 3)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
);

/** ISO codes of the countries that rows can be drawn from, sorted. */
export function qaCountryCodes(): string[] {
  return [...FACTS.keys()];
}

/** Splits country codes into train and held-out lists (for generating the two sides separately). */
export function splitCodes(heldOutFraction: number, seed: number): { train: string[]; heldOut: string[] } {
  const shuffled = createRng(seed).shuffle(qaCountryCodes());
  const k = Math.round(shuffled.length * heldOutFraction);
  return { heldOut: shuffled.slice(0, k).sort(), train: shuffled.slice(k).sort() };
}

export function qaRows(opts: QaOptions): QaRow[] {
  const factsPerContext = opts.factsPerContext ?? 3;
  const relations = new Set<Relation>(opts.relations ?? ALL_RELATIONS);
  for (const r of relations) if (!ALL_RELATIONS.includes(r)) throw new RangeError(`unknown relation: ${r}`);
  if (relations.size === 0) throw new RangeError('relations is empty');
  const distractorFraction = opts.distractorFraction ?? 0;
  const maxContextChars = opts.maxContextChars ?? MAX_CONTEXT_CHARS;
  if (!Number.isInteger(factsPerContext) || factsPerContext < 1 || factsPerContext > 6) {
    throw new RangeError(`factsPerContext must be an integer in [1, 6]; got ${factsPerContext}`);
  }
  if (!(distractorFraction >= 0 && distractorFraction <= 1)) {
    throw new RangeError(`distractorFraction must be in [0, 1]; got ${distractorFraction}`);
  }
  if (!(maxContextChars >= 40 && maxContextChars <= MAX_CONTEXT_CHARS)) {
    throw new RangeError(`maxContextChars must be in [40, ${MAX_CONTEXT_CHARS}]; got ${maxContextChars}`);
  }
  const codes = [...(opts.codes ?? qaCountryCodes())].sort();
  for (const code of codes) if (!FACTS.has(code)) throw new RangeError(`unknown or unusable country code: ${code}`);
  if (codes.length === 0) throw new RangeError('codes is empty');

  const rng = createRng(opts.seed);
  const rows: QaRow[] = [];
  const seen = new Set<string>();
  // Rows are distinct (question, context) pairs; give up after many repeats if `count` exceeds what
  // the codes can yield.
  let misses = 0;
  while (rows.length < opts.count && misses < 1000 + 10 * opts.count) {
    const code = rng.pick(codes);
    const name = FACTS.get(code)!.name;
    const facts = FACTS.get(code)!.facts.filter((f) => relations.has(f.relation));
    if (facts.length === 0) {
      misses++;
      continue;
    }
    const asked = rng.pick(facts);
    const others = rng.shuffle(facts.filter((f) => f !== asked)).slice(0, factsPerContext - 1);
    const own = [{ fact: asked, keep: true }, ...others.map((fact) => ({ fact, keep: false }))];
    let rival: { name: string; fact: Fact } | undefined;
    if (rng.next() < distractorFraction && codes.length > 1) {
      // The same relation stated for another country, with a different value, so the entity in
      // the question matters and copying the wrong country's span is always wrong.
      const rivalFact = (c: string): Fact | undefined =>
        FACTS.get(c)!.facts.find((f) => f.relation === asked.relation && f.value !== asked.value);
      const otherCodes = codes.filter((c) => c !== code && rivalFact(c) !== undefined);
      if (otherCodes.length > 0) {
        const other = rng.pick(otherCodes);
        rival = { name: FACTS.get(other)!.name, fact: rivalFact(other)! };
      }
    }
    let ordered: { text: string; keep: boolean }[];
    if (rival) {
      // Every sentence names its country.
      const items = [...own.map((o) => ({ ...o, name })), { fact: rival.fact, keep: true, name: rival.name }];
      ordered = rng.shuffle(items).map((o) => ({ text: rng.pick(NAMED_TEMPLATES[o.fact.relation])(o.name, o.fact.value), keep: o.keep }));
    } else {
      // The first sentence names the country, the rest refer back to it.
      ordered = rng.shuffle(own).map((o, i) => ({
        text: i === 0 ? rng.pick(NAMED_TEMPLATES[o.fact.relation])(name, o.fact.value) : rng.pick(PRONOUN_TEMPLATES[o.fact.relation])(o.fact.value),
        keep: o.keep,
      }));
    }
    // Drop facts other than the asked one, from the end, until the context fits. Without a
    // distractor the first sentence stays: it is the one that names the country.
    const droppable = (s: { keep: boolean }, i: number): boolean => !s.keep && (i > 0 || rival !== undefined);
    while (ordered.map((s) => s.text).join(' ').length > maxContextChars && ordered.some(droppable)) {
      const drop = ordered.findLastIndex(droppable);
      ordered = ordered.filter((_, i) => i !== drop);
    }
    const context = ordered.map((s) => s.text).join(' ');
    const question = rng.pick(QUESTION_TEMPLATES[asked.relation])(name);
    const key = `${question}\u0000${context}`;
    if (context.length > maxContextChars || seen.has(key)) {
      misses++;
      continue;
    }
    seen.add(key);
    rows.push({ group: code, relation: asked.relation, question, context, answer: asked.value });
  }
  return rows;
}
