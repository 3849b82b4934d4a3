/**
 * `node --import tsx bench/heldout-decode.ts STORE MODEL TASK ROWS HELDOUT PARAMS_JSON`: re-decodes a
 * published Seq2Seq model on the held-out rows of the real-data split it was trained on (seed 7,
 * scripts/real-data/splits.ts; ROWS 0 = all rows) through the service's request path, once per
 * `parameters` object in PARAMS_JSON (an array), and prints its metrics beside copy-the-input and
 * retrieval on the same rows — e.g. a shipped translator's network alone:
 *   node --import tsx bench/heldout-decode.ts models de-en translate 0 500 '[{"translator":"neural"}]'
 * (bench:quality's --decodings does the same for the model it has just trained.)
 */
import { loadConfig } from '../src/config.ts';
import { initBackend } from '../src/backend/select.ts';
import { ModelStore } from '../src/store/registry.ts';
import { ModelCache } from '../src/infer/model-cache.ts';
import { InferenceService } from '../src/infer/service.ts';
import { loadRealRows, splitRealRows, type RealTask } from '../scripts/real-data/splits.ts';
import { scoreHeldOut } from '../scripts/real-data/score-heldout.ts';
import type { Seq2SeqParameterInput } from '../src/infer/params.ts';

const [dir, name, task, rowsArg, heldArg, params] = process.argv.slice(2);
if (!dir || !name || (task !== 'translate' && task !== 'summarize')) {
  throw new Error('usage: heldout-decode.ts STORE MODEL translate|summarize ROWS HELDOUT [PARAMS_JSON]');
}
const config = loadConfig();
await initBackend(config.tfjsBackend);
const service = new InferenceService(new ModelCache(new ModelStore(dir), 1, config.maxBatchSize), { ...config, maxConcurrentGenerations: 64 });
const { train, heldOut } = splitRealRows(loadRealRows(task as RealTask), { rows: Number(rowsArg) || undefined, heldOut: Number(heldArg ?? 200), seed: 7 });
for (const parameters of JSON.parse(params ?? '[{}]') as Seq2SeqParameterInput[]) {
  const s = await scoreHeldOut(service, name, task as RealTask, train, heldOut, { ...(task === 'translate' ? { targetLanguage: 'en' } : {}), parameters });
  console.log(`${JSON.stringify(parameters)} on ${heldOut.length} rows: model ${JSON.stringify(s.model)}; copy ${JSON.stringify(s.copy_input)}; retrieval ${JSON.stringify(s.retrieval)}`);
}
process.exit(0);
