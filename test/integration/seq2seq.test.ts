// Seq2Seq end to end: real server, real Redis + BullMQ, a real worker process. A tiny translate model
// learns to reverse space-separated letters ("a b c" → "c b a") and a tiny QA model learns to read a
// value out of its context, both trained through POST /train in seconds; then they are served over
// HTTP (JSON and SSE) and WebSocket, scored with POST /models/:name/evaluate, refused on the wrong
// endpoints, and leave the API process's tensor count where it was.
import t, { type Test } from 'tap';
import * as tf from '@tensorflow/tfjs';
import { get, post, sseEvents, startServer, startWorker, waitFor, waitForJob, wsClient, type Server } from '../helpers/app.ts';

/** mulberry32: a small seeded PRNG, so the synthetic data is the same on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), a | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const LETTERS = 'abcdefgh';
const reverse = (s: string) => s.split(' ').reverse().join(' ');

/** `n` distinct strings of 3–5 letters, space-separated, none in `exclude` (and no palindromes when asked). */
function letterStrings(seed: number, n: number, exclude: ReadonlySet<string> = new Set(), noPalindromes = false): string[] {
  const r = rng(seed);
  const out = new Set<string>();
  while (out.size < n) {
    const len = 3 + Math.floor(r() * 3);
    const s = Array.from({ length: len }, () => LETTERS[Math.floor(r() * LETTERS.length)]).join(' ');
    if (exclude.has(s) || (noPalindromes && reverse(s) === s)) continue;
    out.add(s);
  }
  return [...out];
}

/** QA rows: context "x=5 y=7", question "y?", answer "7" (a span of the context). */
function qaRows(seed: number, n: number, keep: (x: number, y: number) => boolean = () => true) {
  const r = rng(seed);
  const rows: Array<{ question: string; context: string; answer: string }> = [];
  while (rows.length < n) {
    const x = Math.floor(r() * 10);
    const y = Math.floor(r() * 10);
    const asked = r() < 0.5 ? 'x' : 'y';
    if (!keep(x, y)) continue;
    rows.push({ question: `${asked}?`, context: `x=${x} y=${y}`, answer: String(asked === 'x' ? x : y) });
  }
  return rows;
}
// Value pairs never seen in training: /qa is asked about these.
const heldOutPair = (x: number, y: number) => (x * 10 + y) % 9 === 4;

const TRAIN_STRINGS = letterStrings(1, 800);
const TRAIN_SET = new Set(TRAIN_STRINGS);

const translateJob = {
  name: 'rev',
  task: 'translate',
  languages: { source: 'en', target: 'en' },
  dataset: { rows: TRAIN_STRINGS.map((s) => ({ source: s, target: reverse(s) })) },
  hyperparameters: {
    units: 128, embedding_dim: 16, batch_size: 32, learning_rate: 0.005, dropout: 0, epochs: 12, seed: 3,
    max_source_length: 16, max_target_length: 16,
  },
};

const qaJob = {
  name: 'kv-qa',
  task: 'qa',
  dataset: { rows: qaRows(2, 800, (x, y) => !heldOutPair(x, y)) },
  hyperparameters: { units: 64, embedding_dim: 16, batch_size: 32, learning_rate: 0.01, dropout: 0, epochs: 12, seed: 3, max_source_length: 32, max_target_length: 8 },
};

const summarizeJob = {
  name: 'tiny-sum',
  task: 'summarize',
  dataset: { rows: Array.from({ length: 24 }, (_, i) => ({ source: `the meeting on day ${i} was long and it was about the budget`, target: `budget day ${i}` })) },
  hyperparameters: { units: 16, embedding_dim: 8, batch_size: 8, epochs: 1, seed: 1, max_target_length: 12 },
};

const CSV = 'en,fr\none,un\ntwo,deux\nthree,trois\nfour,quatre\nfive,cinq\nsix,six\nseven,sept\neight,huit\nnine,neuf\nten,dix\n';

/** POST with `stream: true`: the SSE events, or the JSON body when the answer is not a stream. */
async function streamPost(url: string, body: unknown) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const type = res.headers.get('content-type') ?? '';
  const text = await res.text();
  return { status: res.status, type, events: type.startsWith('text/event-stream') ? sseEvents(text) : [], json: type.startsWith('text/event-stream') ? undefined : JSON.parse(text) };
}

function checkErrorShape(t: Test, r: { status: number; json: any }, status: number, code: string, what: string, msg?: RegExp) {
  t.equal(r.status, status, `${what}: status`);
  t.equal(r.json?.error?.code, code, `${what}: code`);
  t.type(r.json?.error?.message, 'string', `${what}: message`);
  t.type(r.json?.error?.type, 'string', `${what}: type`);
  if (msg) t.match(r.json?.error?.message, msg, `${what}: message text`);
}

t.test('Seq2Seq: train translate and qa through the worker; serve over HTTP, SSE and WebSocket', async (t) => {
  const started = Date.now();
  const s: Server = await startServer(t, { maxWsFrameBytes: 8192 });
  const worker = startWorker(t, s.config, { WORKER_CONCURRENCY: '2' });

  const submitted: string[] = [];
  const submit = async (body: unknown) => {
    const r = await post(`${s.url}/train`, body);
    t.equal(r.status, 202, `${(body as any).name}: accepted ${JSON.stringify(r.json)}`);
    submitted.push(r.json.job_id);
    return r.json.job_id as string;
  };
  const revId = await submit(translateJob);
  const qaId = await submit(qaJob);
  const sumId = await submit(summarizeJob);

  // While those train: requests that cannot succeed are refused before anything is queued.
  await t.test('bad training requests get 4xx in the error shape and queue nothing', async (t) => {
    const base = { name: 'bad', task: 'translate', dataset: { rows: [{ source: 'a', target: 'b' }, { source: 'c', target: 'd' }] }, hyperparameters: { epochs: 1 } };
    const cases: Array<[string, unknown, number, string, RegExp?]> = [
      ['translate on plain text', { ...base, dataset: { text: 'some plain text that is long enough' } }, 400, 'invalid_dataset', /dataset\.text is plain text/],
      ['rows without the target column', { ...base, dataset: { rows: [{ source: 'a' }, { source: 'b' }] } }, 400, 'invalid_dataset', /no column "target"/],
      ['columns.target naming an unknown column', { ...base, columns: { target: 'nope' } }, 400, 'invalid_dataset', /no column "nope" \(columns\.target\)/],
      ['a row with an empty target', { ...base, dataset: { rows: [{ source: 'a', target: 'b' }, { source: 'c', target: '  ' }] } }, 400, 'invalid_dataset', /row 2: column "target" \(target\) is empty/],
      ['classify with a single label', { name: 'bad', task: 'classify', dataset: { rows: [{ text: 'a', label: 'x' }, { text: 'b', label: 'x' }] } }, 400, 'invalid_dataset', /at least 2 distinct labels/],
      ['languages on a summarize task', { ...base, task: 'summarize', languages: { source: 'en', target: 'fr' } }, 400, 'invalid_parameter', /languages applies to task translate only/],
      ['columns.label on a translate task', { ...base, columns: { label: 'y' } }, 400, 'invalid_parameter', /columns\.label does not apply to task translate/],
      ['qa rows without a question', { name: 'bad', task: 'qa', dataset: { rows: [{ context: 'x=1', answer: '1' }] } }, 400, 'invalid_dataset', /no column "question"/],
      ['bad language tag', { ...base, languages: { source: 'english!', target: 'fr' } }, 400, 'invalid_parameter', /languages\.source/],
      ['max_source_length below 4', { ...base, hyperparameters: { max_source_length: 2 } }, 400, 'invalid_parameter', /max_source_length must be ≥ 4/],
      ['unknown task', { ...base, task: 'dance' }, 400, 'invalid_parameter', /task must be one of/],
      ['no rows', { ...base, dataset: { rows: [] } }, 400, 'invalid_parameter', /dataset\.rows/],
    ];
    for (const [what, body, status, code, msg] of cases) checkErrorShape(t, await post(`${s.url}/train`, body), status, code, what, msg);

    const upload = (query: string) =>
      fetch(`${s.url}/datasets${query}`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: CSV }).then(async (r) => ({ status: r.status, json: (await r.json()) as any }));
    checkErrorShape(t, await upload('?task=translate'), 400, 'invalid_dataset', '?task=translate on an en,fr CSV');
    const ds = await upload('');
    t.equal(ds.status, 201);
    t.equal(ds.json.examples, 10);
    const unmapped = await post(`${s.url}/train`, { name: 'csv-pairs', task: 'translate', dataset: { id: ds.json.id } });
    checkErrorShape(t, unmapped, 400, 'invalid_dataset', 'the CSV without columns', /no column "source"/);
    const mapped = await post(`${s.url}/train`, {
      name: 'csv-pairs', task: 'translate', dataset: { id: ds.json.id }, columns: { source: 'en', target: 'fr' }, languages: { source: 'en', target: 'fr' },
      hyperparameters: { units: 8, embedding_dim: 4, epochs: 1, batch_size: 4, seed: 1 },
    });
    t.equal(mapped.status, 202, 'the CSV with columns {source: en, target: fr} is accepted');
    submitted.push(mapped.json.job_id);
    t.same((await get(`${s.url}/train/${mapped.json.job_id}`)).json.request.columns, { source: 'en', target: 'fr' });

    const jobs = (await get(`${s.url}/train`)).json.jobs.map((j: any) => j.id).sort();
    t.same(jobs, [...submitted].sort(), 'only the accepted requests were queued');
  });

  const [rev, qa] = await Promise.all([waitForJob(s.url, revId, 150000), waitForJob(s.url, qaId, 150000)]);
  t.comment(`translate and qa trained through the worker in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (rev.status !== 'completed' || qa.status !== 'completed') t.comment(worker.output().slice(-3000));
  t.equal(rev.status, 'completed', rev.error ?? '');
  t.equal(qa.status, 'completed', qa.error ?? '');

  await t.test('translate manifest: task, languages, held-out exact match and BLEU well above copying the input', async (t) => {
    const model = (await get(`${s.url}/models/rev`)).json;
    const m = model.versions[0].manifest;
    t.equal(m.task, 'translate');
    t.same(m.languages, { source: 'en', target: 'en' });
    t.equal(m.tokenizer.shared, false, 'translate keeps a source and a target vocabulary');
    t.type(m.tokenizer.target_vocab_size, 'number');
    t.equal(m.hyperparameters.max_source_length, 16);
    t.equal(m.training.epochs_completed, 12);
    const { exact_match, bleu, copy_input_bleu, copy_input_exact_match, perplexity, eval_examples } = m.metrics;
    t.ok(exact_match >= 0.9, `held-out exact match ${exact_match}`);
    t.ok(bleu > copy_input_bleu + 0.5, `held-out BLEU ${bleu} vs copy-the-input ${copy_input_bleu}`);
    t.ok(copy_input_exact_match < 0.2, `copying the input rarely matches (palindromes only): ${copy_input_exact_match}`);
    t.ok(perplexity >= 1 && perplexity < 1.5, `perplexity ${perplexity}`);
    t.equal(eval_examples, 80, '10% of 800 rows held out');
    t.ok(bleu > m.metrics.retrieval_bleu, `held-out BLEU ${bleu} vs the translation memory's ${m.metrics.retrieval_bleu}`);
    t.equal(m.quality_warning, null, 'it beats its baselines: no quality warning');
    t.same(m.decoding, { translator: 'neural' }, 'reversing is beyond a monotone word translator: the network serves');
    t.ok(m.metrics.neural_bleu > m.metrics.word_alignment_bleu, `neural BLEU ${m.metrics.neural_bleu} vs word alignment ${m.metrics.word_alignment_bleu}`);
    t.equal(bleu, m.metrics.neural_bleu);
    t.match(m.retrieval, { file: 'retrieval.json', rows: 800, rows_total: 800 }, 'the retrieval index of every row (training and validation) is stored');
    t.equal(m.training.steps, 12 * 23, 'optimizer steps: 12 epochs of ceil(720 / 32)');
    t.same(rev.result, { model: 'rev', version: 1, metrics: m.metrics, quality_warning: null, stop_reason: 'max_epochs' }, 'the job result carries the same metrics');
  });

  const fresh = letterStrings(99, 20, TRAIN_SET);

  await t.test('POST /translate on unseen strings: greedy and beam search', async (t) => {
    let right = 0;
    let beamSame = 0;
    for (const text of fresh) {
      const r = await post(`${s.url}/translate`, { model: 'rev', text });
      t.equal(r.status, 200);
      if (r.json.translation === reverse(text)) right++;
      const b = await post(`${s.url}/translate`, { model: 'rev', text, parameters: { num_beams: 4 } });
      t.equal(b.json.details.num_beams, 4);
      if (b.json.translation === r.json.translation) beamSame++;
    }
    t.ok(right >= 16, `${right}/${fresh.length} unseen strings reversed exactly`);
    t.ok(beamSame >= 18, `beam search agrees with greedy on ${beamSame}/${fresh.length} (an easy task)`);

    const one = await post(`${s.url}/translate`, { model: 'rev', text: fresh[0] });
    t.match(one.json.details, { model: 'rev@1', num_beams: 1, truncated_input_tokens: 0, input_tokens: fresh[0]!.length, finish_reason: 'eos' });
    t.equal(one.json.details.generated_tokens, fresh[0]!.length, 'one token per character, then <eos>');
    t.ok(one.headers.get('x-request-id'));
    const pinned = await post(`${s.url}/translate`, { model: 'rev@1', text: fresh[0], parameters: { num_beams: 3, length_penalty: 0.5, no_repeat_ngram_size: 0 } });
    t.equal(pinned.json.translation, one.json.translation, 'name@version and beam options');
    const capped = await post(`${s.url}/translate`, { model: 'rev', text: 'a b c d e', parameters: { max_new_tokens: 3 } });
    t.equal(capped.json.details.finish_reason, 'length');
    t.equal(capped.json.translation, 'e d', 'three tokens of "e d c b a"');
  });

  await t.test('an input longer than max_source_length is truncated and says so', async (t) => {
    const long = 'a b c d e f g h a b'; // 19 characters; the model keeps 16
    const r = await post(`${s.url}/translate`, { model: 'rev', text: long });
    t.equal(r.status, 200);
    t.equal(r.json.details.truncated_input_tokens, 3);
    t.equal(r.json.details.input_tokens, 16);
    t.type(r.json.translation, 'string');
  });

  await t.test('SSE: token events make the done text, greedy and beam', async (t) => {
    for (const parameters of [{}, { num_beams: 4 }]) {
      const text = fresh[1]!;
      const r = await streamPost(`${s.url}/translate`, { model: 'rev', text, stream: true, parameters });
      t.equal(r.status, 200);
      t.match(r.type, /text\/event-stream/);
      const tokens = r.events.filter((e) => e.event === 'token');
      const done = r.events.at(-1)!;
      t.equal(done.event, 'done');
      t.ok(tokens.length > 0);
      t.same(tokens.map((e) => e.data.index), [...Array(tokens.length).keys()]);
      t.equal(tokens.map((e) => e.data.text).join(''), done.data.text, 'tokens concatenate to the done text');
      for (const e of tokens) if (!(e.data.logprob <= 0) || typeof e.data.token_id !== 'number') t.fail(`bad token event ${JSON.stringify(e.data)}`);
      t.equal(done.data.text, reverse(text));
      t.equal(done.data.details.num_beams, (parameters as { num_beams?: number }).num_beams ?? 1);
      t.equal(done.data.details.generated_tokens, tokens.length);
    }
    const bad = await streamPost(`${s.url}/translate`, { model: 'nope', text: 'a b', stream: true });
    t.equal(bad.status, 404, 'an error before the first token is a plain status code, even with stream: true');
    t.equal(bad.json.error.code, 'model_not_found');
  });

  await t.test('WebSocket: translate frames, two on one socket, a cancel, errors', async (t) => {
    const c = await wsClient(t, s.ws);
    c.send({ type: 'translate', id: 'a', model: 'rev', text: fresh[2] });
    c.send({ type: 'translate', id: 'b', model: 'rev', text: fresh[3], parameters: { num_beams: 2 } });
    for (const [id, text, beams] of [['a', fresh[2]!, 1], ['b', fresh[3]!, 2]] as const) {
      const done = await c.next((f) => f.type === 'done' && f.id === id);
      const tokens = c.frames.filter((f) => f.type === 'token' && f.id === id);
      t.ok(tokens.length > 0, `${id}: token frames`);
      t.same(tokens.map((f) => f.index), [...Array(tokens.length).keys()], `${id}: indexes`);
      t.ok(c.frames.indexOf(tokens.at(-1)) < c.frames.indexOf(done), `${id}: tokens before done`);
      t.equal(tokens.map((f) => f.text).join(''), done.text, `${id}: tokens make the text`);
      t.equal(done.text, reverse(text), `${id}: reversed`);
      t.match(done.details, { model: 'rev@1', num_beams: beams, finish_reason: 'eos', truncated_input_tokens: 0 });
    }

    // A cancel sent in the same write as its request: the request ends cancelled, before its first token.
    const raw = (c.ws as unknown as { _socket: import('node:net').Socket })._socket;
    raw.cork();
    c.send({ type: 'translate', id: 'c', model: 'rev', text: 'a b c d e' });
    c.send({ type: 'cancel', id: 'c' });
    process.nextTick(() => raw.uncork());
    const cancelled = await c.next((f) => f.type === 'done' && f.id === 'c');
    t.equal(cancelled.details.finish_reason, 'cancelled');
    t.ok(cancelled.details.generated_tokens < 9, 'stopped before the whole answer');
    t.notOk(c.frames.some((f) => f.type === 'error' && f.id === 'c'), 'no error for a cancel that found its request');

    const errors: Array<[string, unknown, string, RegExp?]> = [
      ['num_beams 17', { type: 'translate', id: 'e1', model: 'rev', text: 'a b', parameters: { num_beams: 17 } }, 'invalid_parameter', /num_beams/],
      ['sampling with beams', { type: 'translate', id: 'e2', model: 'rev', text: 'a b', parameters: { num_beams: 2, do_sample: true } }, 'invalid_parameter', /do_sample/],
      ['translate model in a summarize frame', { type: 'summarize', id: 'e3', model: 'rev', text: 'a b' }, 'model_task_mismatch', /translate/],
      ['translate model in a qa frame', { type: 'qa', id: 'e4', model: 'rev', question: 'a b' }, 'model_task_mismatch'],
      ['unknown model', { type: 'translate', id: 'e5', model: 'nope', text: 'a b' }, 'model_not_found'],
      ['missing text', { type: 'translate', id: 'e6', model: 'rev' }, 'invalid_request', /text is required/],
    ];
    for (const [what, frame, code, msg] of errors) {
      const before = c.frames.length;
      c.send(frame);
      const err = await c.next((f) => c.frames.indexOf(f) >= before && f.type === 'error');
      t.equal(err.error.code, code, what);
      t.equal(err.id, (frame as { id: string }).id, `${what}: the error names the request`);
      if (msg) t.match(err.error.message, msg, `${what}: message`);
    }
    c.send({ type: 'translate', id: 'again', model: 'rev', text: fresh[4] });
    t.equal((await c.next((f) => f.type === 'done' && f.id === 'again')).text, reverse(fresh[4]!), 'the socket is still usable');
  });

  await t.test('bad /translate input and the translate model on other endpoints', async (t) => {
    const cases: Array<[string, string, unknown, number, string, RegExp?]> = [
      ['num_beams 0', '/translate', { model: 'rev', text: 'a b', parameters: { num_beams: 0 } }, 400, 'invalid_parameter', /num_beams must be ≥ 1/],
      ['num_beams 17', '/translate', { model: 'rev', text: 'a b', parameters: { num_beams: 17 } }, 400, 'invalid_parameter', /num_beams must be ≤ 16/],
      ['do_sample with num_beams 2', '/translate', { model: 'rev', text: 'a b', parameters: { num_beams: 2, do_sample: true } }, 400, 'invalid_parameter', /do_sample must be false when num_beams > 1/],
      ['length_penalty 6', '/translate', { model: 'rev', text: 'a b', parameters: { length_penalty: 6 } }, 400, 'invalid_parameter', /length_penalty/],
      ['no_repeat_ngram_size 17', '/translate', { model: 'rev', text: 'a b', parameters: { no_repeat_ngram_size: 17 } }, 400, 'invalid_parameter', /no_repeat_ngram_size/],
      ['empty text', '/translate', { model: 'rev', text: '' }, 400, 'invalid_parameter', /text must be at least 1 character/],
      ['missing text', '/translate', { model: 'rev' }, 400, 'invalid_request', /text is required/],
      ['a prompt field', '/translate', { model: 'rev', prompt: 'a b' }, 400, 'invalid_request'],
      ['unknown model', '/translate', { model: 'nope', text: 'a b' }, 404, 'model_not_found', /nope/],
      ['unknown version', '/translate', { model: 'rev@7', text: 'a b' }, 404, 'version_not_found'],
      ['on /summarize', '/summarize', { model: 'rev', text: 'a b' }, 400, 'model_task_mismatch', /rev@1 is a translate model \(serve it with \/translate\)/],
      ['on /qa', '/qa', { model: 'rev', question: 'a b', context: 'c d' }, 400, 'model_task_mismatch', /\/qa needs a qa model/],
      ['on /classify', '/classify', { model: 'rev', text: 'a b' }, 400, 'model_task_mismatch', /\/classify needs a classify model/],
      ['on /generate', '/generate', { model: 'rev', prompt: 'a b' }, 400, 'model_task_mismatch', /\/generate needs a generate model/],
      ['the qa model on /translate', '/translate', { model: 'kv-qa', text: 'a b' }, 400, 'model_task_mismatch', /kv-qa@1 is a qa model/],
    ];
    for (const [what, route, body, status, code, msg] of cases) checkErrorShape(t, await post(`${s.url}${route}`, body), status, code, what, msg);
    t.equal((await get(`${s.url}/health`)).status, 200, 'service unharmed');
  });

  await t.test('POST /models/rev/evaluate scores fresh rows', async (t) => {
    const evalStrings = letterStrings(123, 40, TRAIN_SET, true);
    const r = await post(`${s.url}/models/rev/evaluate`, { dataset: { rows: evalStrings.map((x) => ({ source: x, target: reverse(x) })) } });
    t.equal(r.status, 200, JSON.stringify(r.json));
    t.equal(r.json.model, 'rev@1');
    t.equal(r.json.task, 'translate');
    t.equal(r.json.examples, 40);
    const m = r.json.metrics;
    t.ok(m.exact_match >= 0.85, `exact match ${m.exact_match}`);
    t.equal(m.copy_input_exact_match, 0, 'no palindromes: copying the input never matches');
    t.ok(m.bleu > m.copy_input_bleu + 0.5, `BLEU ${m.bleu} vs copy ${m.copy_input_bleu}`);
    t.ok(m.bleu > m.retrieval_bleu, `BLEU ${m.bleu} vs retrieval ${m.retrieval_bleu} (the stored index)`);
    t.equal(r.json.quality_warning, null);
    t.ok(m.perplexity >= 1 && m.perplexity < 2, `perplexity ${m.perplexity}`);
    const renamed = await post(`${s.url}/models/rev@1/evaluate`, {
      dataset: { rows: evalStrings.map((x) => ({ in: x, out: reverse(x) })) }, columns: { source: 'in', target: 'out' }, max_examples: 10,
    });
    t.equal(renamed.status, 200);
    t.equal(renamed.json.examples, 10, 'max_examples caps the rows scored');
    checkErrorShape(t, await post(`${s.url}/models/rev/evaluate`, { dataset: { rows: [{ text: 'a b', label: 'x' }] } }), 400, 'invalid_dataset', 'rows without the task columns', /no column "source"/);
    checkErrorShape(t, await post(`${s.url}/models/nope/evaluate`, { dataset: { rows: [{ source: 'a', target: 'a' }] } }), 404, 'model_not_found', 'unknown model');
  });

  await t.test('qa: manifest, and answers about value pairs never seen in training', async (t) => {
    const m = (await get(`${s.url}/models/kv-qa`)).json.versions[0].manifest;
    t.equal(m.task, 'qa');
    t.equal(m.tokenizer.shared, true, 'qa shares one vocabulary');
    t.equal(m.source_format, 'question <eos> context');
    t.equal(m.context, 'required');
    t.notOk('languages' in m);
    t.ok(m.metrics.exact_match >= 0.9, `held-out exact match ${m.metrics.exact_match}`);
    t.ok(m.metrics.f1 > m.metrics.copy_input_f1 + 0.5, `held-out F1 ${m.metrics.f1} vs copying the context ${m.metrics.copy_input_f1}`);

    const asks = qaRows(77, 12, heldOutPair);
    let right = 0;
    for (const row of asks) {
      const r = await post(`${s.url}/qa`, { model: 'kv-qa', question: row.question, context: row.context });
      t.equal(r.status, 200);
      t.type(r.json.answer, 'string');
      if (r.json.answer === row.answer) right++;
    }
    t.ok(right >= 10, `${right}/${asks.length} answered exactly`);

    const sse = await streamPost(`${s.url}/qa`, { model: 'kv-qa', question: 'y?', context: 'x=3 y=8', stream: true });
    const done = sse.events.at(-1)!;
    t.equal(done.event, 'done');
    t.equal(sse.events.filter((e) => e.event === 'token').map((e) => e.data.text).join(''), done.data.text);
    t.equal(done.data.text, '8');

    const c = await wsClient(t, s.ws);
    c.send({ type: 'qa', id: 'q1', model: 'kv-qa', question: 'x?', context: 'x=6 y=1' });
    const wsDone = await c.next((f) => f.type === 'done' && f.id === 'q1');
    t.equal(wsDone.text, '6');
    t.ok(c.frames.some((f) => f.type === 'token' && f.id === 'q1'));

    const noContext = await post(`${s.url}/qa`, { model: 'kv-qa', question: 'x?' });
    t.equal(noContext.status, 200, 'a question without its context is still served');
    t.type(noContext.json.answer, 'string');
    const ev = await post(`${s.url}/models/kv-qa/evaluate`, { dataset: { rows: asks } });
    t.equal(ev.json.task, 'qa');
    t.ok(ev.json.metrics.exact_match >= 0.8, `evaluate exact match ${ev.json.metrics.exact_match}`);
    t.type(ev.json.metrics.f1, 'number');
    t.type(ev.json.metrics.copy_input_f1, 'number');
  });

  await t.test('summarize smoke test: one epoch, served over HTTP and WebSocket', async (t) => {
    const job = await waitForJob(s.url, sumId, 120000);
    t.equal(job.status, 'completed', job.error ?? '');
    const m = (await get(`${s.url}/models/tiny-sum`)).json.versions[0].manifest;
    t.equal(m.task, 'summarize');
    t.equal(m.tokenizer.shared, true);
    for (const k of ['rouge1', 'rouge2', 'rougeL', 'exact_match', 'copy_input_rougeL', 'lead_rougeL', 'retrieval_rougeL']) t.type(m.metrics[k], 'number', `metrics.${k}`);
    // One epoch of 3 steps cannot beat the summary of the nearest training document ("budget day 1…"):
    // the manifest, the job result, the model list and the log say so.
    const w = m.quality_warning;
    t.match(w, { metric: 'rougeL', baseline: 'retrieval_rougeL', reason: /^(too_few_steps|too_little_data)$/ }, JSON.stringify(w));
    t.ok(w.baseline_value > w.value, `${w.value} vs ${w.baseline_value}`);
    t.match(w.message, /does not beat the retrieval baseline/);
    t.same(job.result.quality_warning, w, 'the job result carries the warning');
    t.same((await get(`${s.url}/models`)).json.models.find((x: any) => x.name === 'tiny-sum').quality_warning, w, 'GET /models carries it');
    const logs = (await get(`${s.url}/train/${sumId}/logs`)).json.logs as string[];
    t.ok(logs.some((l) => l.includes(`QUALITY WARNING (${w.reason}): ${w.message}`)), 'the job log says so');
    const r = await post(`${s.url}/summarize`, { model: 'tiny-sum', text: 'the meeting on day 30 was long' });
    t.equal(r.status, 200);
    t.type(r.json.summary, 'string');
    t.match(r.json.details, { model: 'tiny-sum@1', num_beams: 4 }, 'summarize decodes with 4 beams by default');
    t.ok(r.json.details.generated_tokens <= 12, 'max_target_length bounds the default max_new_tokens');
    // known_words_only (summarize's default with beams): every output word is a training target's or the input's.
    const allowed = new Set(`${summarizeJob.dataset.rows.map((row) => row.target).join(' ')} the meeting on day 30 was long`.toLowerCase().match(/[\p{L}\p{N}]+/gu));
    for (const word of r.json.summary.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) t.ok(allowed.has(word), `"${word}" is a known word`);
    const free = await post(`${s.url}/summarize`, { model: 'tiny-sum', text: 'the meeting on day 30 was long', parameters: { known_words_only: false } });
    t.equal(free.status, 200, 'known_words_only: false is accepted');
    checkErrorShape(t, await post(`${s.url}/summarize`, { model: 'tiny-sum', text: 'x', parameters: { num_beams: 1, known_words_only: true } }), 400, 'invalid_parameter', 'known_words_only with one beam', /known_words_only must be false when num_beams is 1/);
    checkErrorShape(t, await post(`${s.url}/summarize`, { model: 'tiny-sum', text: 'x', parameters: { translator: 'word_alignment' } }), 400, 'invalid_parameter', 'a word-alignment translator on a summarize model', /tiny-sum@1 has no word-alignment translator/);
    const c = await wsClient(t, s.ws);
    c.send({ type: 'summarize', id: 's', model: 'tiny-sum', text: 'the meeting on day 3', parameters: { max_new_tokens: 5, do_sample: true, seed: 4 } });
    const done = await c.next((f) => f.type === 'done' && f.id === 's');
    t.equal(done.text, c.frames.filter((f) => f.type === 'token' && f.id === 's').map((f) => f.text).join(''));
    t.ok(done.details.generated_tokens <= 5);
    checkErrorShape(t, await post(`${s.url}/translate`, { model: 'tiny-sum', text: 'x' }), 400, 'model_task_mismatch', 'summarize model on /translate');
  });

  await t.test('the uploaded CSV job trains with its renamed columns', async (t) => {
    const csvJob = submitted[3]!;
    const job = await waitForJob(s.url, csvJob, 120000);
    t.equal(job.status, 'completed', job.error ?? '');
    const m = (await get(`${s.url}/models/csv-pairs`)).json.versions[0].manifest;
    t.same(m.languages, { source: 'en', target: 'fr' });
    t.match(m.dataset.id, /^ds_/);
  });

  await t.test('tensors in the API process are back at baseline after every kind of request', async (t) => {
    // Every model is loaded by now (the cache holds it), so loading adds nothing below.
    await post(`${s.url}/translate`, { model: 'rev', text: 'a b c' });
    const baseline = tf.memory().numTensors;
    const requests: Array<Promise<unknown>> = [];
    for (const [i, text] of fresh.slice(0, 8).entries()) {
      requests.push(post(`${s.url}/translate`, { model: 'rev', text, parameters: i % 2 ? { num_beams: 3 + (i % 4) } : { do_sample: true, seed: i, temperature: 1.5 } }));
    }
    requests.push(streamPost(`${s.url}/translate`, { model: 'rev', text: fresh[5], stream: true, parameters: { num_beams: 4, no_repeat_ngram_size: 2 } }));
    requests.push(post(`${s.url}/translate`, { model: 'rev', text: 'a b c d e f g h a b c d' }));
    requests.push(post(`${s.url}/qa`, { model: 'kv-qa', question: 'y?', context: 'x=1 y=2' }));
    requests.push(post(`${s.url}/summarize`, { model: 'tiny-sum', text: 'the meeting', parameters: { num_beams: 2 } }));
    requests.push(post(`${s.url}/models/rev/evaluate`, { dataset: { rows: fresh.map((x) => ({ source: x, target: reverse(x) })) } }));
    requests.push(post(`${s.url}/translate`, { model: 'rev', text: 'a b', parameters: { num_beams: 0 } }));
    requests.push(post(`${s.url}/summarize`, { model: 'rev', text: 'a b' }));
    await Promise.all(requests);
    const c = await wsClient(t, s.ws);
    for (const id of ['w1', 'w2', 'w3']) c.send({ type: 'translate', id, model: 'rev', text: fresh[6], parameters: id === 'w2' ? { num_beams: 4 } : {} });
    c.send({ type: 'cancel', id: 'w3' });
    for (const id of ['w1', 'w2', 'w3']) await c.next((f) => (f.type === 'done' || f.type === 'error') && f.id === id);
    c.ws.close();
    await waitFor(() => s.app.services.inference.inFlight === 0, 5000, 'requests to finish');
    t.equal(tf.memory().numTensors, baseline, 'tf.memory().numTensors');
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    t.equal(Number(/^seqserve_tensors (\d+)/m.exec(metrics)?.[1]), baseline, 'the /metrics tensor gauge agrees');
  });
  t.comment(`whole test: ${((Date.now() - started) / 1000).toFixed(1)} s`);
});
