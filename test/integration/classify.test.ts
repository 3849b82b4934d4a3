// Text classification end to end: real server, real Redis + BullMQ, a real worker process. A tiny
// classifier learns a topic from the keyword in a synthetic sentence (labels deliberately imbalanced
// 70/20/10), trained through POST /train; then POST /classify, POST /models/:name/evaluate, the
// wrong-endpoint and bad-input errors, and the API process's tensor count back at its baseline.
import t, { type Test } from 'tap';
import * as tf from '@tensorflow/tfjs';
import { get, post, startServer, startWorker, waitFor, waitForJob, wsClient } from '../helpers/app.ts';

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

const KEYWORDS: Record<string, string[]> = {
  sports: ['goal', 'match', 'team', 'coach'],
  music: ['song', 'band', 'guitar', 'drums'],
  food: ['pizza', 'soup', 'bread', 'salad'],
};
const FILLER = ['the', 'a', 'was', 'very', 'today', 'we', 'saw', 'nice', 'old', 'new', 'and', 'it', 'big', 'late'];
const LABELS = ['food', 'music', 'sports'];

/**
 * Sentences of 3–6 filler words with one topic keyword somewhere. Labels: 70% sports, 20% music,
 * 10% food, or only `only` when given.
 */
function topicRows(seed: number, n: number, only?: string): Array<{ text: string; label: string }> {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  return Array.from({ length: n }, () => {
    const u = r();
    const label = only ?? (u < 0.7 ? 'sports' : u < 0.9 ? 'music' : 'food');
    const words = Array.from({ length: 3 + Math.floor(r() * 4) }, () => pick(FILLER));
    words.splice(Math.floor(r() * (words.length + 1)), 0, pick(KEYWORDS[label]!));
    return { text: words.join(' '), label };
  });
}

function checkErrorShape(t: Test, r: { status: number; json: any }, status: number, code: string, what: string, msg?: RegExp) {
  t.equal(r.status, status, `${what}: status`);
  t.equal(r.json?.error?.code, code, `${what}: code`);
  t.type(r.json?.error?.message, 'string', `${what}: message`);
  t.type(r.json?.error?.type, 'string', `${what}: type`);
  if (msg) t.match(r.json?.error?.message, msg, `${what}: message text`);
}

const TRAIN_ROWS = topicRows(1, 1000);

t.test('classify: train through the worker, then serve, evaluate and refuse the wrong endpoints', async (t) => {
  const started = Date.now();
  const s = await startServer(t);
  const worker = startWorker(t, s.config);

  const accepted = await post(`${s.url}/train`, {
    name: 'topics',
    task: 'classify',
    architecture: 'gru',
    dataset: { rows: TRAIN_ROWS },
    hyperparameters: { units: 32, embedding_dim: 16, batch_size: 32, learning_rate: 0.01, dropout: 0, epochs: 12, seed: 5, max_source_length: 48 },
  });
  t.equal(accepted.status, 202, JSON.stringify(accepted.json));

  await t.test('bad classify training requests are refused before queueing', async (t) => {
    const base = { name: 'bad', task: 'classify', dataset: { rows: [{ text: 'a goal', label: 'sports' }, { text: 'a song', label: 'music' }] } };
    const cases: Array<[string, unknown, number, string, RegExp?]> = [
      ['a single label', { ...base, dataset: { rows: [{ text: 'a', label: 'x' }, { text: 'b', label: ' x ' }] } }, 400, 'invalid_dataset', /at least 2 distinct labels/],
      ['rows without a label column', { ...base, dataset: { rows: [{ text: 'a' }, { text: 'b' }] } }, 400, 'invalid_dataset', /no column "label"/],
      ['an empty label', { ...base, dataset: { rows: [{ text: 'a', label: 'x' }, { text: 'b', label: '' }] } }, 400, 'invalid_dataset', /row 2: column "label" \(label\) is empty/],
      ['columns.label naming an unknown column', { ...base, columns: { label: 'topic' } }, 400, 'invalid_dataset', /no column "topic" \(columns\.label\)/],
      ['columns.source on a classify task', { ...base, columns: { source: 'text' } }, 400, 'invalid_parameter', /columns\.source does not apply to task classify/],
      ['languages on a classify task', { ...base, languages: { source: 'en', target: 'fr' } }, 400, 'invalid_parameter', /languages applies to task translate only/],
      ['classify on plain text', { ...base, dataset: { text: 'plain text is not rows' } }, 400, 'invalid_dataset', /plain text/],
    ];
    for (const [what, body, status, code, msg] of cases) checkErrorShape(t, await post(`${s.url}/train`, body), status, code, what, msg);
    t.equal((await get(`${s.url}/train`)).json.jobs.length, 1, 'nothing else was queued');
  });

  const job = await waitForJob(s.url, accepted.json.job_id, 150000);
  t.comment(`classifier trained through the worker in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (job.status !== 'completed') t.comment(worker.output().slice(-3000));
  t.equal(job.status, 'completed', job.error ?? '');

  await t.test('manifest: labels, held-out accuracy and macro-F1 well above the majority class', async (t) => {
    const m = (await get(`${s.url}/models/topics`)).json.versions[0].manifest;
    t.equal(m.task, 'classify');
    t.same(m.labels, LABELS, 'every label, sorted (the class index order)');
    t.equal(m.tokenizer.type, 'char');
    t.equal(m.architecture, 'gru');
    t.notOk('languages' in m);
    const { accuracy, macro_f1, majority_class_accuracy, majority_class_macro_f1, eval_examples } = m.metrics;
    t.ok(accuracy >= 0.95, `held-out accuracy ${accuracy}`);
    t.ok(macro_f1 >= 0.9, `held-out macro-F1 ${macro_f1}`);
    t.ok(majority_class_accuracy > 0.5 && majority_class_accuracy < 0.9, `always "sports" scores ${majority_class_accuracy}`);
    t.ok(macro_f1 > majority_class_macro_f1 + 0.4, `macro-F1 ${macro_f1} vs the majority class's ${majority_class_macro_f1}`);
    t.equal(eval_examples, 100, '10% of 1000 rows held out');
    t.equal(m.quality_warning, null, 'the classifier beats the majority class: no quality warning');
    t.same(job.result, { model: 'topics', version: 1, metrics: m.metrics, quality_warning: null, stop_reason: 'max_epochs' });
  });

  const fresh = topicRows(42, 30);
  const rare = topicRows(43, 10, 'food');

  await t.test('POST /classify: the right label for fresh texts, every label scored, scores sum to 1', async (t) => {
    let right = 0;
    for (const row of [...fresh, ...rare]) {
      const r = await post(`${s.url}/classify`, { model: 'topics', text: row.text });
      t.equal(r.status, 200);
      if (r.json.label === row.label) right++;
      t.same(Object.keys(r.json.scores).sort(), LABELS);
      const values = Object.values(r.json.scores) as number[];
      const sum = values.reduce((a, b) => a + b, 0);
      if (Math.abs(sum - 1) > 1e-4 || values.some((v) => !(v >= 0 && v <= 1))) t.fail(`scores ${JSON.stringify(r.json.scores)}`);
      t.equal(r.json.scores[r.json.label], Math.max(...values), 'the label is the most probable one');
    }
    t.ok(right >= 37, `${right}/40 fresh texts labelled correctly (10 of them from the 10% class)`);
    const rareRight = (await Promise.all(rare.map((row) => post(`${s.url}/classify`, { model: 'topics', text: row.text })))).filter((r) => r.json.label === 'food').length;
    t.ok(rareRight >= 8, `the rare class is still found: ${rareRight}/10`);

    const one = await post(`${s.url}/classify`, { model: 'topics@1', text: fresh[0]!.text });
    t.match(one.json.details, { model: 'topics@1', input_tokens: fresh[0]!.text.length, truncated_input_tokens: 0 });
    t.type(one.json.details.elapsed_ms, 'number');
    const long = `we saw a new band today ${'and it was very nice '.repeat(8)}`;
    const truncated = await post(`${s.url}/classify`, { model: 'topics', text: long });
    t.equal(truncated.status, 200);
    t.equal(truncated.json.details.input_tokens, 48, 'max_source_length 48 characters are read');
    t.equal(truncated.json.details.truncated_input_tokens, long.length - 48);
    t.ok(LABELS.includes(truncated.json.label));
  });

  await t.test('bad /classify input, and the classifier on the other endpoints', async (t) => {
    const cases: Array<[string, string, unknown, number, string, RegExp?]> = [
      ['empty text', '/classify', { model: 'topics', text: '' }, 400, 'invalid_parameter', /text must be at least 1 character/],
      ['missing text', '/classify', { model: 'topics' }, 400, 'invalid_request', /text is required/],
      ['stream is not a classify field', '/classify', { model: 'topics', text: 'a goal', stream: true }, 400, 'invalid_request', /stream is not a known field/],
      ['parameters are not a classify field', '/classify', { model: 'topics', text: 'a goal', parameters: {} }, 400, 'invalid_request', /parameters/],
      ['unknown model', '/classify', { model: 'nope', text: 'a goal' }, 404, 'model_not_found', /nope/],
      ['unknown version', '/classify', { model: 'topics@2', text: 'a goal' }, 404, 'version_not_found'],
      ['bad model name', '/classify', { model: 'Topics', text: 'a goal' }, 400, 'invalid_model_name'],
      ['on /translate', '/translate', { model: 'topics', text: 'a goal' }, 400, 'model_task_mismatch', /topics@1 is a classify model \(serve it with \/classify\); \/translate needs a translate model/],
      ['on /summarize', '/summarize', { model: 'topics', text: 'a goal' }, 400, 'model_task_mismatch', /\/summarize needs a summarize model/],
      ['on /qa', '/qa', { model: 'topics', question: 'a goal?' }, 400, 'model_task_mismatch', /\/qa needs a qa model/],
      ['on /generate', '/generate', { model: 'topics', prompt: 'a goal' }, 400, 'model_task_mismatch', /\/generate needs a generate model/],
    ];
    for (const [what, route, body, status, code, msg] of cases) checkErrorShape(t, await post(`${s.url}${route}`, body), status, code, what, msg);
    const sse = await fetch(`${s.url}/translate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'topics', text: 'a goal', stream: true }) });
    t.equal(sse.status, 400, 'the mismatch is a status code on a streaming request too');
    t.equal(((await sse.json()) as any).error.code, 'model_task_mismatch');

    const c = await wsClient(t, s.ws);
    c.send({ type: 'translate', id: 'w', model: 'topics', text: 'a goal' });
    const err = await c.next((f) => f.type === 'error' && f.id === 'w');
    t.equal(err.error.code, 'model_task_mismatch', 'a WebSocket translate frame gets an error frame');
    t.notOk(c.frames.some((f) => f.type === 'token' || f.type === 'done'));
  });

  await t.test('POST /models/topics/evaluate: accuracy and macro-F1 on fresh rows', async (t) => {
    const rows = topicRows(44, 80);
    const r = await post(`${s.url}/models/topics/evaluate`, { dataset: { rows } });
    t.equal(r.status, 200, JSON.stringify(r.json));
    t.match(r.json, { model: 'topics@1', task: 'classify', examples: 80 });
    t.ok(r.json.metrics.accuracy >= 0.95, `accuracy ${r.json.metrics.accuracy}`);
    t.ok(r.json.metrics.macro_f1 >= 0.9, `macro-F1 ${r.json.metrics.macro_f1}`);
    t.notOk('copy_input_accuracy' in r.json.metrics);

    const renamed = await post(`${s.url}/models/topics/evaluate`, { dataset: { rows: rows.map((x) => ({ body: x.text, topic: x.label })) }, columns: { text: 'body', label: 'topic' }, max_examples: 20 });
    t.equal(renamed.status, 200, JSON.stringify(renamed.json));
    t.equal(renamed.json.examples, 20);
    const oneLabel = await post(`${s.url}/models/topics/evaluate`, { dataset: { rows: rare } });
    t.equal(oneLabel.status, 200, 'evaluating on rows of a single label is allowed');
    t.ok(oneLabel.json.metrics.accuracy >= 0.8, `accuracy on the rare class alone ${oneLabel.json.metrics.accuracy}`);
    const unseen = await post(`${s.url}/models/topics/evaluate`, { dataset: { rows: [...rows.slice(0, 8), { text: 'we saw a nice car', label: 'cars' }, { text: 'an old truck', label: 'cars' }] } });
    t.equal(unseen.status, 200, 'a label the model never learned counts as a miss, not an error');
    t.ok(unseen.json.metrics.accuracy <= 0.8 + 1e-9, `accuracy ${unseen.json.metrics.accuracy}`);
    checkErrorShape(t, await post(`${s.url}/models/topics/evaluate`, { dataset: { rows: [{ source: 'a', target: 'b' }] } }), 400, 'invalid_dataset', 'rows without text and label', /no column "text"/);
    checkErrorShape(t, await post(`${s.url}/models/topics/evaluate`, { dataset: { rows: [{ text: 'a goal', label: 'sports' }] }, max_examples: 0 }), 400, 'invalid_parameter', 'max_examples 0');
  });

  await t.test('tensors in the API process are back at baseline', async (t) => {
    await post(`${s.url}/classify`, { model: 'topics', text: 'warm up' });
    const baseline = tf.memory().numTensors;
    const requests: Array<Promise<{ status: number }>> = [];
    for (const row of topicRows(45, 50)) requests.push(post(`${s.url}/classify`, { model: 'topics', text: row.text }));
    requests.push(post(`${s.url}/classify`, { model: 'topics', text: 'x'.repeat(500) }));
    requests.push(post(`${s.url}/models/topics/evaluate`, { dataset: { rows: topicRows(46, 100) } }));
    requests.push(post(`${s.url}/translate`, { model: 'topics', text: 'a goal' }));
    requests.push(post(`${s.url}/classify`, { model: 'topics', text: '' }));
    const statuses = (await Promise.all(requests)).map((r) => r.status);
    t.equal(statuses.filter((x) => x === 200).length, 52);
    await waitFor(() => s.app.services.inference.inFlight === 0, 5000, 'requests to finish');
    t.equal(tf.memory().numTensors, baseline, 'tf.memory().numTensors');
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    t.equal(Number(/^seqserve_tensors (\d+)/m.exec(metrics)?.[1]), baseline, 'the /metrics tensor gauge agrees');
    t.match(metrics, /seqserve_http_requests_total\{method="POST",route="\/classify",status="200"\} \d+/);
  });
  t.comment(`whole test: ${((Date.now() - started) / 1000).toFixed(1)} s`);
});
