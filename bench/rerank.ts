/**
 * How should a retrieval-augmented Seq2Seq model choose its output among its beam search's
 * hypotheses and the targets of the k nearest training examples? For a model trained by
 * `npm run bench:quality -- --task T --keep STORE --out OUT.json`, on two samples of rows the model
 * never trained on — the bench's held-out rows (index: every training row, as served) and the job's
 * own validation rows (index: the job's training rows, as the job retrieved them) — this decodes each
 * row once with beam search (the model's input as served: source ⟨sep⟩ nearest target for a
 * retrieval-augmented model, else the source), scores the
 * k nearest targets under the model (teacher-forced Σ ln P of the ids and <eos>, divided by length,
 * as seq2seq-beam.ts scores candidates) and prints the task's metric for each policy:
 *   beam        the search's best (no candidates);
 *   score k     the best-scoring of the beam hypotheses and the k nearest targets (k = 1 is the
 *               shipped default);
 *   mbr k       minimum-Bayes-risk: of the same pool, the text with the highest mean ROUGE-L (chrF
 *               for translate) against the others, each weighted by the model's probability
 *               (softmax of the scores);
 *   retrieval   the nearest target.
 *
 *   node --import tsx bench/rerank.ts STORE OUT.json [BEAMS=4] [--words]
 * --words: beam search writes only words of the index's targets and the row's source (decode/lexicon.ts).
 *
 * Results: docs/training.md, "Decoding defaults (Seq2Seq)".
 */
import { readFileSync } from 'node:fs';
import { loadConfig } from '../src/config.ts';
import { initBackend } from '../src/backend/select.ts';
import { ModelStore } from '../src/store/registry.ts';
import { ModelCache } from '../src/infer/model-cache.ts';
import { encodeSourceIds } from '../src/tasks/pair-encoding.ts';
import { seq2seqDecodingDefaults, tokenLogProbs } from '../src/tasks/seq2seq-forward.ts';
import { beamDecodeSource } from '../src/tasks/seq2seq-beam.ts';
import { isRetrievalAugmented, RetrievalIndex } from '../src/tasks/retrieval.ts';
import { WordLexicon, unionLexicon, wordBans } from '../src/decode/lexicon.ts';
import { sourceLimit } from '../src/store/manifest.ts';
import { EOS_ID } from '../src/tokenize/index.ts';
import { rougeL } from '../src/eval/rouge.ts';
import { corpusChrf } from '../src/eval/chrf.ts';
import { generationMetrics } from '../src/eval/task-metrics.ts';
import { splitExamples } from '../src/train/epoch-order.ts';
import { HYPERPARAMETER_DEFAULTS } from '../src/schemas/train.ts';
import { loadRealRows, splitRealRows, type RealRow, type RealTask } from '../scripts/real-data/splits.ts';

const [storeDir, outFile, beamsArg] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
if (!storeDir || !outFile) throw new Error('usage: bench/rerank.ts STORE OUT.json [BEAMS]');
const numBeams = Number(beamsArg ?? 4);
await initBackend(loadConfig().tfjsBackend);
const run = JSON.parse(readFileSync(outFile, 'utf8')) as { task: RealTask; seed: number; held_out: { rows: number } };
const task = run.task;
const { train, heldOut } = splitRealRows(loadRealRows(task), { rows: task === 'translate' ? 3000 : undefined, heldOut: run.held_out.rows, seed: run.seed });
// The bench's request sends rows without `group`, so the job split them by row: do the same.
const ungrouped: RealRow[] = train.map((r) => ({ source: r.source, target: r.target }));
const jobSplit = splitExamples(ungrouped, HYPERPARAMETER_DEFAULTS.validation_split, HYPERPARAMETER_DEFAULTS.seed);
const cache = new ModelCache(new ModelStore(storeDir), 1);
const lease = await cache.acquire(`quality-${task}`, task);
const m = lease.model;
if (m.kind !== 'seq2seq') throw new Error('not a Seq2Seq model');
const K = [0, 1, 2, 4, 8];
const similarity = (a: string, b: string) => (task === 'translate' ? corpusChrf([a], [b]) : rougeL(a, b).f1);
const metricOf = (outs: string[], rows: readonly RealRow[]) => {
  const g = generationMetrics(task, outs, rows.map((r) => r.target), task === 'translate' ? 'en' : undefined);
  return task === 'translate' ? `BLEU ${g.bleu!.toFixed(3)} chrF ${g.chrf!.toFixed(3)}` : `ROUGE-L ${g.rougeL!.toFixed(3)}`;
};

interface Pool { texts: string[]; scores: number[]; beamCount: number; retrieved: string[] }

const pieces = Array.from({ length: m.targetTokenizer.vocabSize }, (_, id) => m.targetTokenizer.tokenText(id));
const augmented = isRetrievalAugmented(m.manifest);
const lexicons = new Map<RetrievalIndex, WordLexicon>();
/** --words: beam search may only write words of the index's targets and the row's source. */
const constrained = process.argv.includes('--words');

async function poolFor(row: RealRow, index: RetrievalIndex): Promise<Pool> {
  if (!lexicons.has(index)) lexicons.set(index, WordLexicon.fromTexts(index.targets));
  const bans = constrained ? wordBans(pieces, unionLexicon(lexicons.get(index)!, WordLexicon.fromTexts([row.source])), EOS_ID) : undefined;
  const nearest = index.nearestK(row.source, 8).map((n) => index.targets[n.index]!);
  // A retrieval-augmented model reads the nearest target; another reads the source alone (the nearest targets are then only candidates).
  const src = encodeSourceIds(m.tokenizer, augmented ? { source: row.source, retrieved: nearest[0] ?? '' } : { source: row.source }, sourceLimit(m.manifest)).ids;
  const maxNew = Number(m.manifest.hyperparameters.max_target_length ?? 128);
  const d = seq2seqDecodingDefaults(m.targetTokenizer.type, task);
  const found = await beamDecodeSource(m.s2s, src, { numBeams, maxNewTokens: maxNew, lengthPenalty: d.length_penalty, noRepeatNgramSize: d.no_repeat_ngram_size, ...(bans ? { bans } : {}) });
  const texts = found.hypotheses.map((h) => m.targetTokenizer.decode(h.ids).trim());
  const scores = found.hypotheses.map((h) => h.score);
  for (const t of nearest) {
    const ids = [...m.targetTokenizer.encode(t), EOS_ID];
    texts.push(t);
    scores.push(ids.length > maxNew ? -Infinity : tokenLogProbs(m.s2s, src, ids).reduce((a, b) => a + b, 0) / ids.length);
  }
  return { texts, scores, beamCount: found.hypotheses.length, retrieved: nearest };
}

function pick(p: Pool, k: number, policy: 'score' | 'mbr'): string {
  const idx = [...Array(p.beamCount).keys(), ...Array.from({ length: Math.min(k, p.retrieved.length) }, (_, j) => p.beamCount + j)];
  if (policy === 'score') return p.texts[idx.reduce((b, i) => (p.scores[i]! > p.scores[b]! ? i : b), idx[0]!)]!;
  const finite = idx.filter((i) => Number.isFinite(p.scores[i]!));
  const top = Math.max(...finite.map((i) => p.scores[i]!));
  const w = new Map(finite.map((i) => [i, Math.exp(p.scores[i]! - top)]));
  let best = finite[0]!;
  let bestGain = -Infinity;
  for (const i of finite) {
    let gain = 0;
    for (const j of finite) if (j !== i) gain += w.get(j)! * similarity(p.texts[i]!, p.texts[j]!);
    if (gain > bestGain) [best, bestGain] = [i, gain];
  }
  return p.texts[best]!;
}

for (const [name, rows, index] of [
  ['bench held-out rows', heldOut, RetrievalIndex.build(train)],
  ["job's validation rows", jobSplit.val, RetrievalIndex.build(jobSplit.train)],
] as const) {
  const pools: Pool[] = [];
  for (const r of rows) pools.push(await poolFor(r, index));
  console.log(`\n${name} (${rows.length}), ${numBeams} beams${constrained ? ', words of the lexicon only' : ''}`);
  for (let i = 0; i < 8; i++) console.log(`  ${JSON.stringify(pick(pools[i]!, 1, 'score'))} | reference ${JSON.stringify(rows[i]!.target)}`);
  console.log(`retrieval: ${metricOf(pools.map((p) => p.retrieved[0] ?? ''), rows)}`);
  for (const policy of ['score', 'mbr'] as const) {
    for (const k of K) console.log(`${policy} k=${k}: ${metricOf(pools.map((p) => pick(p, k, policy)), rows)}`);
  }
  // The ceiling: each row's best text of the pool (k = 8) by the metric against its reference.
  console.log(`oracle k=8: ${metricOf(pools.map((p, i) => p.texts.reduce((b, t) => (similarity(t, rows[i]!.target) > similarity(b, rows[i]!.target) ? t : b))), rows)}`);
}
lease.release();
await cache.clear();
