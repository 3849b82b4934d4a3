/**
 * `node --import tsx bench/word-translation.ts [--seed S] [--rows N] [--heldout N] [--iterations K] [--decode JSON]`:
 * the word-alignment translator (src/tasks/word-translation.ts) alone, fitted on a seeded split of the
 * real German → English pairs (scripts/real-data/splits.ts; `npm run data:real` first) and scored on
 * its held-out rows beside the translation memory and copy-the-source — how its weights were chosen
 * (docs/training.md, "Word-alignment translator"). `--decode` overrides DECODE_WEIGHTS fields, e.g.
 * '{"reverseWeight":0,"lmWeight":1}'; `--iterations` the EM rounds. Text in, text out: no tokenizer
 * round trip (the service's output also passes the model's target vocabulary).
 */
import { arg } from './lib/args.ts';
import { DECODE_WEIGHTS, ITERATIONS, WordTranslator } from '../src/tasks/word-translation.ts';
import { RetrievalIndex } from '../src/tasks/retrieval.ts';
import { bleuFromTexts } from '../src/eval/bleu.ts';
import { corpusChrf } from '../src/eval/chrf.ts';
import { loadRealRows, splitRealRows } from '../scripts/real-data/splits.ts';

const seed = Number(arg('seed', '11'));
const rows = Number(arg('rows', '3000'));
const heldOutRows = Number(arg('heldout', '200'));
const iterations = Number(arg('iterations', String(ITERATIONS)));
const weights = { ...DECODE_WEIGHTS, ...(JSON.parse(arg('decode', '{}')) as Partial<typeof DECODE_WEIGHTS>) };

const { train, heldOut } = splitRealRows(loadRealRows('translate'), { rows, heldOut: heldOutRows, seed });
const refs = heldOut.map((r) => r.target);
const started = performance.now();
const words = WordTranslator.train(train, { iterations });
const fitS = (performance.now() - started) / 1000;
const memory = RetrievalIndex.build(train);
const score = (hyps: string[]) => `BLEU ${bleuFromTexts(hyps, refs, 'en').bleu.toFixed(4)}  chrF ${corpusChrf(hyps, refs).toFixed(4)}`;

console.log(`seed ${seed}: ${train.length} training pairs, ${heldOut.length} held out; EM rounds ${iterations}; decode ${JSON.stringify(weights)}; fit ${fitS.toFixed(1)} s`);
console.log(`  word alignment      ${score(heldOut.map((r) => words.translate(r.source, weights)))}`);
console.log(`  translation memory  ${score(heldOut.map((r) => memory.nearestTarget(r.source) ?? ''))}`);
console.log(`  copy the source     ${score(heldOut.map((r) => r.source))}`);
