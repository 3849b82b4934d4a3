/**
 * Would the retrieved target have won? For a summarizer trained by `npm run bench:quality -- --task
 * summarize --keep STORE --out OUT.json` (retrieval-augmented), this scores, for each of the same 200
 * held-out rows, the model's decoded output (OUT.json's held_out.outputs) and the retrieved summary
 * under the model (Σ ln P of the tokens and <eos>, teacher-forced, divided by length^α) and keeps the
 * higher — what beamDecodeSource's `candidates` do at α = 1 (src/tasks/seq2seq-beam.ts) — then prints
 * ROUGE-L of the model, of the choice, and of retrieval.
 *
 *   node --import tsx bench/retrieved-candidate.ts STORE OUT.json
 *
 * Results: docs/training.md, "Decoding defaults (Seq2Seq)".
 */
import { readFileSync } from 'node:fs';
import { loadConfig } from '../src/config.ts';
import { initBackend } from '../src/backend/select.ts';
import { ModelStore } from '../src/store/registry.ts';
import { ModelCache } from '../src/infer/model-cache.ts';
import { encodeSourceIds } from '../src/tasks/pair-encoding.ts';
import { tokenLogProbs } from '../src/tasks/seq2seq-forward.ts';
import { sourceLimit } from '../src/store/manifest.ts';
import { EOS_ID } from '../src/tokenize/index.ts';
import { rougeL } from '../src/eval/rouge.ts';
import { loadRealRows, splitRealRows, type RealTask } from '../scripts/real-data/splits.ts';

const [storeDir, outFile] = process.argv.slice(2);
if (!storeDir || !outFile) throw new Error('usage: bench/retrieved-candidate.ts STORE OUT.json');
await initBackend(loadConfig().tfjsBackend);
const run = JSON.parse(readFileSync(outFile, 'utf8')) as { task: RealTask; seed: number; held_out: { rows: number; outputs: string[]; retrieved: string[] } };
const { heldOut } = splitRealRows(loadRealRows(run.task), { rows: run.task === 'translate' ? 3000 : undefined, heldOut: run.held_out.rows, seed: run.seed });
const cache = new ModelCache(new ModelStore(storeDir), 1);
const lease = await cache.acquire(`quality-${run.task}`, run.task);
const m = lease.model;
const { outputs, retrieved } = run.held_out;
const scoreOf = (src: number[], text: string, alpha: number) => {
  const ids = [...m.targetTokenizer.encode(text), EOS_ID];
  return tokenLogProbs(m.s2s, src, ids).reduce((a, b) => a + b, 0) / ids.length ** alpha;
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log('| α | model | model or retrieved, by the model\'s score | retrieved chosen | retrieval |\n|---|---|---|---|---|');
for (const alpha of [0, 0.5, 1]) {
  let chosen = 0;
  const picked = heldOut.map((row, i) => {
    const src = encodeSourceIds(m.tokenizer, { source: row.source, retrieved: retrieved[i]! }, sourceLimit(m.manifest)).ids;
    const useRetrieved = retrieved[i]! !== '' && scoreOf(src, retrieved[i]!, alpha) > scoreOf(src, outputs[i]!, alpha);
    if (useRetrieved) chosen++;
    return useRetrieved ? retrieved[i]! : outputs[i]!;
  });
  const r = (texts: string[]) => mean(texts.map((x, i) => rougeL(x, heldOut[i]!.target).f1)).toFixed(3);
  console.log(`| ${alpha} | ${r(outputs)} | ${r(picked)} | ${chosen} | ${r(retrieved)} |`);
}
lease.release();
await cache.clear();
