/**
 * Where the time of Seq2Seq serving goes, one request at a time vs all at once (the two greedy rows
 * of bench/seq2seq.ts), split by batcher phase: joinState (encoding the joiners and writing their
 * slots), onRowsChanged (the step's source view), retire (dropping finished rows), step (one batched
 * decoder step including the logits readback), accept (sampling, per request). Then the cost of one
 * decoder step against the number of rows R. Phases are timed by wrapping the batcher's methods, so
 * the totals include a little wrapper overhead; "other" is event-loop yields, Sequence set-up and
 * source tokenization. With --rounds k the two runs alternate k times and the ratio of the fastest of
 * each is printed too (for a shared, noisy machine). Usage:
 *   node --import tsx bench/seq2seq-profile.ts [--n 40] [--rounds 1] [--no-steps]
 */
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { toCardinal } from 'n2words/en-US';
import { initBackend } from '../src/backend/select.ts';
import { ModelStore } from '../src/store/registry.ts';
import { ModelCache } from '../src/infer/model-cache.ts';
import { runSeq2Seq } from '../src/infer/seq2seq-generate.ts';
import { resolveSeq2SeqParams } from '../src/infer/params.ts';
import { Seq2SeqBatcher } from '../src/infer/seq2seq-batcher.ts';
import { RowBatcher } from '../src/infer/row-batcher.ts';
import { Sequence } from '../src/infer/sequence.ts';
import { encodeRows, initialDecoderState } from '../src/tasks/seq2seq-forward.ts';
import { encodeSourceIds } from '../src/tasks/pair-encoding.ts';
import { disposeEncoded } from '../src/arch/seq2seq.ts';
import { disposeState } from '../src/arch/lm-step.ts';

const { values } = parseArgs({ options: { n: { type: 'string', default: '40' }, rounds: { type: 'string', default: '1' }, 'no-steps': { type: 'boolean', default: false } } });
const n = Number(values.n);
await initBackend('wasm');
const cache = new ModelCache(new ModelStore(fileURLToPath(new URL('../models', import.meta.url))), 1, 32);
const lease = await cache.acquire('numbers-en-fr', 'translate');
const m = lease.model;
const sources = Array.from({ length: n }, (_, i) => toCardinal((i * 7919 + 13) % 99999));
const params = resolveSeq2SeqParams({}, { maxNewTokens: 256, maxPromptChars: 100000 }, 96);

const ms: Record<string, number> = {};
const calls: Record<string, number> = {};
const rowsPerStep: number[] = [];
/** Replaces proto[name] by a timed wrapper (sync or async). */
function timePhase(proto: object, name: string): void {
  const p = proto as Record<string, (...a: unknown[]) => unknown>;
  const orig = p[name]!;
  p[name] = function (this: unknown, ...a: unknown[]) {
    const t0 = performance.now();
    const done = () => {
      ms[name] = (ms[name] ?? 0) + performance.now() - t0;
      calls[name] = (calls[name] ?? 0) + 1;
    };
    if (name === 'step') rowsPerStep.push((a[0] as Int32Array).length);
    const r = orig.apply(this, a);
    if (r instanceof Promise) return r.finally(done);
    done();
    return r;
  };
}
for (const name of ['joinState', 'onRowsChanged', 'step']) timePhase(Seq2SeqBatcher.prototype, name);
timePhase(RowBatcher.prototype, 'retire');
timePhase(Sequence.prototype, 'accept');

const runs = {
  'one at a time': async () => {
    let k = 0;
    for (const source of sources) k += (await runSeq2Seq(m, { source }, params)).details.generated_tokens;
    return k;
  },
  'all at once': async () => (await Promise.all(sources.map((source) => runSeq2Seq(m, { source }, params)))).reduce((k, r) => k + r.details.generated_tokens, 0),
};
console.log(`numbers-en-fr, ${n} requests, MAX_BATCH_SIZE 32, wasm\n`);
console.log('| run | tokens | total ms | steps | mean rows | joinState | onRowsChanged | retire | step | accept | other |\n|---|---|---|---|---|---|---|---|---|---|---|');
for (const run of Object.values(runs)) await run(); // warm-up
const best: Record<string, number> = {};
for (let round = 0; round < Number(values.rounds); round++) {
  for (const [label, run] of Object.entries(runs)) {
    for (const k of Object.keys(ms)) ms[k] = calls[k] = 0;
    rowsPerStep.length = 0;
    const t0 = performance.now();
    const tokens = await run();
    const total = performance.now() - t0;
    best[label] = Math.min(best[label] ?? Infinity, total);
    const phases = ['joinState', 'onRowsChanged', 'retire', 'step', 'accept'].map((k) => ms[k] ?? 0);
    const mean = rowsPerStep.reduce((a, b) => a + b, 0) / rowsPerStep.length;
    console.log(`| ${label} | ${tokens} | ${total.toFixed(0)} | ${rowsPerStep.length} | ${mean.toFixed(1)} | ${phases.map((p) => p.toFixed(1)).join(' | ')} | ${(total - phases.reduce((a, b) => a + b)).toFixed(1)} |`);
  }
}
console.log(`\nrows per step (all at once): ${rowsPerStep.join(',')}`);
console.log(`fastest one at a time / fastest all at once = ${(best['one at a time']! / best['all at once']!).toFixed(2)}×`);

// One decoder step (with the logits readback) against R rows, sources padded to the longest of R.
if (!values['no-steps']) console.log('\n| rows R | source width S | ms per step | µs per row |\n|---|---|---|---|');
const ids = sources.map((source) => encodeSourceIds(m.tokenizer, { source }, 128).ids);
for (const R of [1, 2, 4, 8, 16, 32, 40].filter((r) => r <= n && !values['no-steps'])) {
  const enc = encodeRows(m.s2s, ids.slice(0, R));
  const state = initialDecoderState(enc);
  const input = new Int32Array(R).fill(5);
  const once = async () => {
    const r = m.s2s.step(input, state, enc);
    await r.logProbs.data();
    r.logProbs.dispose();
    disposeState(r.state);
  };
  for (let i = 0; i < 20; i++) await once();
  const t0 = performance.now();
  for (let i = 0; i < 200; i++) await once();
  const per = (performance.now() - t0) / 200;
  console.log(`| ${R} | ${enc.memory.shape[1]} | ${per.toFixed(3)} | ${((per / R) * 1000).toFixed(1)} |`);
  disposeState(state);
  disposeEncoded(enc);
}
lease.release();
await cache.clear();
