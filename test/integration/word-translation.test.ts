// The word-alignment translator end to end: real server, real Redis + BullMQ, a real worker process.
// A translate job on a word-for-word language (each source word has one target word, same order)
// with a neural model far too small and short-trained to learn it: the job fits the word-alignment
// translator beside it, measures both on its held-out rows, makes the better (word alignment) the
// default, and the service answers with it over HTTP, SSE, WebSocket and /evaluate — while
// `translator: "neural"` and any neural-only parameter still reach the network.
import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import OpenAI from 'openai';
import { get, post, sseEvents, startServer, startWorker, waitForJob, wsClient, type Server } from '../helpers/app.ts';
import { mulberry32 } from '../../scripts/demo-data/rng.ts';

const SOURCE_WORDS = ['haus', 'hund', 'katze', 'baum', 'tisch', 'stuhl', 'wasser', 'feuer', 'erde', 'luft', 'sonne', 'mond', 'stern', 'berg', 'fluss', 'meer', 'wald', 'feld', 'stadt', 'dorf'];
const TARGET_WORDS = ['house', 'dog', 'cat', 'tree', 'table', 'chair', 'water', 'fire', 'earth', 'air', 'sun', 'moon', 'star', 'mountain', 'river', 'sea', 'forest', 'field', 'city', 'village'];
const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** `n` sentences of 4–6 random words: "Hund baum meer stern." → "Dog tree sea star." */
function sentences(seed: number, n: number): Array<{ source: string; target: string }> {
  const r = mulberry32(seed);
  return Array.from({ length: n }, () => {
    const picks = Array.from({ length: 4 + Math.floor(r() * 3) }, () => Math.floor(r() * SOURCE_WORDS.length));
    return { source: `${capital(picks.map((i) => SOURCE_WORDS[i]).join(' '))}.`, target: `${capital(picks.map((i) => TARGET_WORDS[i]).join(' '))}.` };
  });
}

const ROWS = sentences(1, 400);
const FRESH = sentences(2, 30).filter((f) => !ROWS.some((r) => r.source === f.source));

t.test('word alignment: chosen on held-out rows, served by default, neural on request', async (t) => {
  const s: Server = await startServer(t);
  startWorker(t, s.config);
  const submitted = await post(`${s.url}/train`, {
    name: 'gloss', task: 'translate', languages: { source: 'de', target: 'en' }, dataset: { rows: ROWS },
    hyperparameters: { units: 16, embedding_dim: 8, epochs: 1, batch_size: 32, seed: 1, max_target_length: 64 },
  });
  t.equal(submitted.status, 202, JSON.stringify(submitted.json));
  const job = await waitForJob(s.url, submitted.json.job_id, 120000);
  t.equal(job.status, 'completed', job.error ?? '');
  const logs = (await get(`${s.url}/train/${submitted.json.job_id}/logs`)).json.logs as string[];
  t.ok(logs.some((l) => /translators on 40 held-out rows: neural BLEU .* word alignment BLEU .*: word alignment serves by default/.test(l)), 'the job logs the comparison');

  await t.test('manifest: both translators measured, word alignment the default', async (t) => {
    const m = (await get(`${s.url}/models/gloss`)).json.versions[0].manifest;
    t.same(m.decoding, { translator: 'word_alignment' });
    t.match(m.word_translation, { file: 'word-translation.json', rows: 400 });
    const x = m.metrics;
    t.ok(x.word_alignment_bleu > 0.9, `word alignment BLEU ${x.word_alignment_bleu}`);
    t.ok(x.neural_bleu < 0.5, `one epoch of 16 units: neural BLEU ${x.neural_bleu}`);
    t.equal(x.bleu, x.word_alignment_bleu, 'the headline metrics are the default translator\'s');
    t.equal(x.chrf, x.word_alignment_chrf);
    t.ok(x.bleu > x.retrieval_bleu && x.bleu > x.copy_input_bleu, `BLEU ${x.bleu} vs retrieval ${x.retrieval_bleu}, copy ${x.copy_input_bleu}`);
    t.equal(m.quality_warning, null);
    t.same(job.result.metrics, x, 'the job result carries the same metrics');
  });

  // The first request loads the model (its weights stay cached); the count is taken after it.
  t.equal((await post(`${s.url}/translate`, { model: 'gloss', text: 'Hund.', parameters: { translator: 'neural' } })).status, 200);
  const baseline = tf.memory().numTensors;

  await t.test('POST /translate: the word-alignment output by default; neural on request', async (t) => {
    let right = 0;
    for (const f of FRESH) {
      const r = await post(`${s.url}/translate`, { model: 'gloss', text: f.source });
      t.equal(r.status, 200);
      if (r.json.translation === f.target) right++;
    }
    t.ok(right >= FRESH.length - 2, `${right}/${FRESH.length} unseen sentences translated exactly`);
    const f = FRESH[0]!;
    const r = await post(`${s.url}/translate`, { model: 'gloss', text: f.source });
    t.match(r.json.details, { model: 'gloss@1', num_beams: 1, finish_reason: 'eos', truncated_input_tokens: 0 });
    t.equal(r.json.details.generated_tokens, r.json.translation.length, 'one target character per token');
    const same = await post(`${s.url}/translate`, { model: 'gloss', text: f.source, parameters: { translator: 'word_alignment', seed: 5, stop: ['zzz'] } });
    t.equal(same.json.translation, r.json.translation, 'explicit word_alignment with the fields it reads');
    const neural = await post(`${s.url}/translate`, { model: 'gloss', text: f.source, parameters: { translator: 'neural' } });
    t.equal(neural.status, 200);
    t.not(neural.json.translation, r.json.translation, 'translator "neural" runs the (untrained) network');
    const beams = await post(`${s.url}/translate`, { model: 'gloss', text: f.source, parameters: { num_beams: 2 } });
    t.equal(beams.json.details.num_beams, 2, 'a neural-only field asks for the network');
    t.equal(beams.json.translation, (await post(`${s.url}/translate`, { model: 'gloss', text: f.source, parameters: { translator: 'neural', num_beams: 2 } })).json.translation);
    const capped = await post(`${s.url}/translate`, { model: 'gloss', text: f.source, parameters: { max_new_tokens: 5 } });
    t.equal(capped.json.translation, r.json.translation.slice(0, 5));
    t.equal(capped.json.details.finish_reason, 'length');
    const stopped = await post(`${s.url}/translate`, { model: 'gloss', text: f.source, parameters: { stop: [' '] } });
    t.equal(stopped.json.translation, r.json.translation.split(' ')[0], 'stop sequences cut it');
    t.equal(stopped.json.details.finish_reason, 'stop_sequence');
  });

  await t.test('SSE and WebSocket stream it token by token', async (t) => {
    const f = FRESH[1]!;
    const res = await fetch(`${s.url}/translate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gloss', text: f.source, stream: true }) });
    const events = sseEvents(await res.text());
    const tokens = events.filter((e) => e.event === 'token');
    const done = events.at(-1)!;
    t.equal(done.event, 'done');
    t.equal(done.data.text, f.target);
    t.equal(tokens.map((e) => e.data.text).join(''), done.data.text, 'tokens make the text');
    t.ok(tokens.every((e) => typeof e.data.token_id === 'number' && e.data.logprob <= 0), 'each token has an id and its log-probability under the network');
    const c = await wsClient(t, s.ws);
    c.send({ type: 'translate', id: 'w', model: 'gloss', text: FRESH[2]!.source });
    c.send({ type: 'translate', id: 'n', model: 'gloss', text: FRESH[2]!.source, parameters: { translator: 'neural' } });
    c.send({ type: 'translate', id: 'bad', model: 'gloss', text: 'x', parameters: { translator: 'word_alignment', temperature: 0.5 } });
    const w = await c.next((x) => x.type === 'done' && x.id === 'w');
    t.equal(w.text, FRESH[2]!.target);
    t.equal(c.frames.filter((x) => x.type === 'token' && x.id === 'w').map((x) => x.text).join(''), w.text);
    t.not((await c.next((x) => x.type === 'done' && x.id === 'n')).text, w.text, 'the neural frame gets the network');
    const err = await c.next((x) => x.type === 'error' && x.id === 'bad');
    t.match(err.error, { code: 'invalid_parameter', param: 'parameters.temperature' });
  });

  await t.test('the official openai client: /v1/completions gets the default translator', async (t) => {
    const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const f = FRESH[3]!;
    const c = await client.completions.create({ model: 'gloss', prompt: f.source, max_tokens: 64 });
    t.equal(c.choices[0]!.text, f.target, 'no temperature: the word-alignment output');
    const greedy = await client.completions.create({ model: 'gloss', prompt: f.source, max_tokens: 64, temperature: 0 });
    t.equal(greedy.choices[0]!.text, f.target, 'temperature 0 too');
    const sampled = await client.completions.create({ model: 'gloss', prompt: f.source, max_tokens: 64, temperature: 1, seed: 1 });
    t.not(sampled.choices[0]!.text, f.target, 'temperature 1 samples from the (untrained) network');
  });

  await t.test('bad translator requests: 400 naming the field', async (t) => {
    const cases: Array<[unknown, string, RegExp]> = [
      [{ translator: 'word_alignment', num_beams: 2 }, 'parameters.num_beams', /must be absent with translator "word_alignment"/],
      [{ translator: 'word_alignment', do_sample: true }, 'parameters.do_sample', /reads only max_new_tokens, stop and seed/],
      [{ translator: 'phrase' }, 'parameters.translator', /translator/],
    ];
    for (const [parameters, param, msg] of cases) {
      const r = await post(`${s.url}/translate`, { model: 'gloss', text: 'Hund.', parameters });
      t.equal(r.status, 400, JSON.stringify(parameters));
      t.equal(r.json.error.code, 'invalid_parameter');
      t.equal(r.json.error.param, param);
      t.match(r.json.error.message, msg);
    }
  });

  await t.test('POST /models/gloss/evaluate scores the default translator', async (t) => {
    const r = await post(`${s.url}/models/gloss/evaluate`, { dataset: { rows: FRESH } });
    t.equal(r.status, 200, JSON.stringify(r.json));
    t.ok(r.json.metrics.bleu > 0.9, `BLEU ${r.json.metrics.bleu}`);
    t.ok(r.json.metrics.exact_match >= (FRESH.length - 2) / FRESH.length, `exact match ${r.json.metrics.exact_match}`);
  });

  t.equal(tf.memory().numTensors, baseline, 'no tensor leak across the requests');
});
