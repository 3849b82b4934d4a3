/**
 * Prints a few rows of each demo data set, their sizes and average lengths, and the baselines a
 * trained model must beat on the held-out split: copying the input, and (QA) answering each relation
 * with its most frequent training answer.
 *
 *   node --import tsx scripts/demo-data/preview.ts [--seed N] [--count N]
 */
import { parseArgs } from 'node:util';
import { translationPairs, splitByGroup, TRANSLATION_DATA } from './translation.ts';
import { qaRows, splitCodes, QA_DATA, type QaRow } from './qa.ts';
import { bleuFromTexts, exactMatch, tokenF1, rougeL } from '../../src/eval/index.ts';

const mean = (xs: readonly number[]): number => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);

const { values } = parseArgs({ options: { seed: { type: 'string', default: '1' }, count: { type: 'string', default: '8000' } } });
const seed = Number(values.seed);
const count = Number(values.count);
const SEP = ' ⟨sep⟩ ';
const avg = (xs: string[]): string => mean(xs.map((x) => x.length)).toFixed(1);
const max = (xs: string[]): number => Math.max(...xs.map((x) => x.length));
const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

// ---- translation
{
  const rows = translationPairs({ seed, count });
  const { train, heldOut } = splitByGroup(rows, 0.1, seed);
  console.log(`== translation: ${TRANSLATION_DATA.package} ${TRANSLATION_DATA.version} (${TRANSLATION_DATA.license})`);
  console.log(`   ${TRANSLATION_DATA.source_language} → ${TRANSLATION_DATA.target_language}: ${TRANSLATION_DATA.description}`);
  for (const r of rows.slice(0, 5)) console.log(`   ${JSON.stringify(r.source)} → ${JSON.stringify(r.target)}`);
  const withOrdinals = translationPairs({ seed, count: 5, ordinalFraction: 0.5 }).filter((r) => r.form === 'ordinal');
  for (const r of withOrdinals) console.log(`   (ordinal) ${JSON.stringify(r.source)} → ${JSON.stringify(r.target)}`);
  console.log(`   rows ${rows.length} (train ${train.length}, held-out ${heldOut.length}; held-out numbers never in train)`);
  console.log(`   source chars avg ${avg(rows.map((r) => r.source))} max ${max(rows.map((r) => r.source))}; target chars avg ${avg(rows.map((r) => r.target))} max ${max(rows.map((r) => r.target))}`);
  const copy = heldOut.map((r) => r.source);
  const refs = heldOut.map((r) => r.target);
  console.log(`   copy-input baseline on held-out: BLEU-4 ${(100 * bleuFromTexts(copy, refs).bleu).toFixed(2)}, exact ${pct(mean(heldOut.map((r) => exactMatch(r.source, r.target))))}, ROUGE-L ${(100 * mean(heldOut.map((r) => rougeL(r.source, r.target).f1))).toFixed(1)}`);
}

// ---- QA
{
  const split = splitCodes(0.2, seed);
  const train = qaRows({ seed, count, codes: split.train });
  const heldOut = qaRows({ seed: seed + 1, count: Math.max(1, Math.round(count / 4)), codes: split.heldOut });
  console.log(`\n== QA: ${QA_DATA.package} ${QA_DATA.version} (${QA_DATA.license})`);
  console.log(`   ${QA_DATA.description}`);
  for (const r of train.slice(0, 5)) console.log(`   Q: ${r.question}\n   C: ${r.context}\n   A: ${r.answer}\n`);
  const withDistractor = qaRows({ seed, count: 1, codes: split.train, distractorFraction: 1 })[0]!;
  console.log(`   (with a distractor) Q: ${withDistractor.question}\n   C: ${withDistractor.context}\n   A: ${withDistractor.answer}\n`);
  console.log(`   countries: train ${split.train.length}, held-out ${split.heldOut.length}; rows: train ${train.length}, held-out ${heldOut.length}`);
  console.log(`   question chars avg ${avg(train.map((r) => r.question))}; context avg ${avg(train.map((r) => r.context))} max ${max(train.map((r) => r.context))}; answer avg ${avg(train.map((r) => r.answer))} max ${max(train.map((r) => r.answer))}`);
  const input = (r: QaRow): string => `${r.question}${SEP}${r.context}`;
  console.log(`   copy-input baseline on held-out: exact ${pct(mean(heldOut.map((r) => exactMatch(input(r), r.answer))))}, F1 ${pct(mean(heldOut.map((r) => tokenF1(input(r), r.answer))))}`);
  // Memorisation baseline: the most frequent training answer for the relation asked.
  const byRelation = new Map<string, Map<string, number>>();
  for (const r of train) {
    const m = byRelation.get(r.relation) ?? new Map<string, number>();
    m.set(r.answer, (m.get(r.answer) ?? 0) + 1);
    byRelation.set(r.relation, m);
  }
  const majority = (rel: string): string => [...(byRelation.get(rel) ?? new Map<string, number>()).entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '';
  console.log(`   majority-answer-per-relation baseline on held-out: exact ${pct(mean(heldOut.map((r) => exactMatch(majority(r.relation), r.answer))))}, F1 ${pct(mean(heldOut.map((r) => tokenF1(majority(r.relation), r.answer))))}`);
  const trainAnswers = new Set(train.map((r) => r.answer));
  console.log(`   held-out answers never seen as a training answer: ${pct(mean(heldOut.map((r) => (trainAnswers.has(r.answer) ? 0 : 1))))}`);
  const relCounts = new Map<string, number>();
  for (const r of heldOut) relCounts.set(r.relation, (relCounts.get(r.relation) ?? 0) + 1);
  console.log(`   held-out rows by relation: ${[...relCounts].map(([k, v]) => `${k} ${v}`).join(', ')}`);
}
