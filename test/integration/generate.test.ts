// POST /generate over a real server: JSON, SSE, determinism, stop sequences, limits, bad input, tensor hygiene.
import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import { get, post, publishTinyModel, sseEvents, startServer, waitFor } from '../helpers/app.ts';

t.test('generate over HTTP and SSE', async (t) => {
  const s = await startServer(t, { maxNewTokens: 200, maxPromptChars: 500 });
  await publishTinyModel(s.config, 'tiny');

  await t.test('JSON answer with details', async (t) => {
    const r = await post(`${s.url}/generate`, { model: 'tiny', prompt: 'the ', parameters: { max_new_tokens: 20, seed: 3 } });
    t.equal(r.status, 200);
    t.type(r.json.generated_text, 'string');
    t.equal(r.json.details.generated_tokens, 20);
    t.equal(r.json.details.finish_reason, 'length');
    t.equal(r.json.details.seed, 3);
    t.equal(r.json.details.model, 'tiny@1');
    t.equal(r.json.details.input_tokens, 5, '<bos> + 4 prompt characters');
    t.ok(r.headers.get('x-request-id'));
  });

  await t.test('same seed, same output; greedy is deterministic', async (t) => {
    const body = { model: 'tiny', prompt: 'the d', parameters: { max_new_tokens: 40, seed: 11, temperature: 1.2 } };
    const a = await post(`${s.url}/generate`, body);
    const b = await post(`${s.url}/generate`, body);
    t.equal(a.json.generated_text, b.json.generated_text);
    const outs = new Set<string>();
    for (const seed of [1, 2, 3, 4, 5]) outs.add((await post(`${s.url}/generate`, { ...body, parameters: { ...body.parameters, seed } })).json.generated_text);
    t.ok(outs.size > 1, 'different seeds give different samples');
    const g1 = await post(`${s.url}/generate`, { model: 'tiny', prompt: 'the ', parameters: { do_sample: false, max_new_tokens: 30, seed: 1 } });
    const g2 = await post(`${s.url}/generate`, { model: 'tiny', prompt: 'the ', parameters: { do_sample: false, max_new_tokens: 30, seed: 2 } });
    t.equal(g1.json.generated_text, g2.json.generated_text, 'greedy ignores the seed');
  });

  await t.test('stop sequences end generation before them', async (t) => {
    const g = await post(`${s.url}/generate`, { model: 'tiny', prompt: 'the ', parameters: { do_sample: false, max_new_tokens: 60 } });
    const full: string = g.json.generated_text;
    const stop = full.slice(6, 8);
    const r = await post(`${s.url}/generate`, { model: 'tiny', prompt: 'the ', parameters: { do_sample: false, max_new_tokens: 60, stop: [stop] } });
    t.equal(r.json.details.finish_reason, 'stop_sequence');
    t.equal(r.json.generated_text, full.slice(0, full.indexOf(stop)));
    t.notOk(r.json.generated_text.includes(stop));
  });

  await t.test('SSE streams token events whose texts make the done text', async (t) => {
    const res = await fetch(`${s.url}/generate`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tiny', prompt: 'the ', stream: true, parameters: { max_new_tokens: 15, seed: 9 } }),
    });
    t.equal(res.status, 200);
    t.match(res.headers.get('content-type'), /text\/event-stream/);
    const events = sseEvents(await res.text());
    const tokens = events.filter((e) => e.event === 'token');
    const done = events.at(-1)!;
    t.equal(done.event, 'done');
    t.equal(tokens.length, 15);
    t.same(tokens.map((e) => e.data.index), [...Array(15).keys()]);
    t.equal(tokens.map((e) => e.data.text).join(''), done.data.text);
    const json = await post(`${s.url}/generate`, { model: 'tiny', prompt: 'the ', parameters: { max_new_tokens: 15, seed: 9 } });
    t.equal(done.data.text, json.json.generated_text, 'stream and JSON agree for the same seed');
  });

  await t.test('a new version is served as soon as it is published', async (t) => {
    await publishTinyModel(s.config, 'tiny', { epochs: 1, seed: 99 });
    const r = await post(`${s.url}/generate`, { model: 'tiny', prompt: 'the ', parameters: { max_new_tokens: 3 } });
    t.equal(r.json.details.model, 'tiny@2');
    const old = await post(`${s.url}/generate`, { model: 'tiny@1', prompt: 'the ', parameters: { max_new_tokens: 3 } });
    t.equal(old.json.details.model, 'tiny@1');
  });

  await t.test('models: list, detail, delete a version, delete a model', async (t) => {
    await publishTinyModel(s.config, 'doomed', { epochs: 1 });
    await publishTinyModel(s.config, 'doomed', { epochs: 1 });
    t.ok((await get(`${s.url}/models`)).json.models.some((m: any) => m.name === 'doomed' && m.latest === 2 && m.versions === 2));
    t.equal((await post(`${s.url}/generate`, { model: 'doomed@2', prompt: 'a', parameters: { max_new_tokens: 2 } })).status, 200);
    const delVersion = await fetch(`${s.url}/models/doomed/versions/2`, { method: 'DELETE' });
    t.equal(delVersion.status, 200);
    t.equal((await get(`${s.url}/models/doomed`)).json.latest, 1, 'latest moves back');
    const gone = await post(`${s.url}/generate`, { model: 'doomed@2', prompt: 'a', parameters: { max_new_tokens: 2 } });
    t.equal(gone.json.error.code, 'version_not_found', 'a deleted version is no longer served from the cache');
    t.equal((await post(`${s.url}/generate`, { model: 'doomed', prompt: 'a', parameters: { max_new_tokens: 2 } })).json.details.model, 'doomed@1');
    t.equal((await fetch(`${s.url}/models/doomed`, { method: 'DELETE' })).status, 200);
    t.equal((await get(`${s.url}/models/doomed`)).json.error.code, 'model_not_found');
    t.equal((await get(`${s.url}/models/Bad..Name`)).json.error.code, 'invalid_model_name');
  });

  await t.test('no tensors leak across 100 generations', async (t) => {
    await post(`${s.url}/generate`, { model: 'tiny', prompt: 'warm up', parameters: { max_new_tokens: 5 } });
    const baseline = tf.memory().numTensors;
    for (let i = 0; i < 100; i++) {
      const r = await post(`${s.url}/generate`, { model: 'tiny', prompt: 'the c', parameters: { max_new_tokens: 8, seed: i, stop: i % 3 === 0 ? ['a'] : [] } });
      if (r.status !== 200) t.fail(`status ${r.status}`);
    }
    t.equal(tf.memory().numTensors, baseline);
  });

  await t.test('/metrics counts generations and tokens', async (t) => {
    const res = await fetch(`${s.url}/metrics`);
    t.equal(res.status, 200);
    const text = await res.text();
    const tokens = Number(/^seqserve_generated_tokens_total (\d+)/m.exec(text)?.[1]);
    t.ok(tokens > 800, `generated tokens counted (${tokens})`);
    t.match(text, /seqserve_generations_total\{finish_reason="length"\} \d+/);
    t.match(text, /seqserve_http_requests_total\{method="POST",route="\/generate",status="200"\} \d+/);
    t.match(text, /seqserve_time_to_first_token_seconds_count \d+/);
    t.match(text, /seqserve_tensors \d+/);
  });

  await t.test('bad input gets 4xx in the error shape', async (t) => {
    const cases: Array<[string, unknown, number, string, RegExp?]> = [
      ['malformed JSON', '{"model": "tiny",', 400, 'invalid_json'],
      ['missing prompt', { model: 'tiny' }, 400, 'invalid_request', /prompt is required/],
      ['unknown field', { model: 'tiny', prompt: 'x', temp: 1 }, 400, 'invalid_request', /temp is not a known field/],
      ['unknown parameter', { model: 'tiny', prompt: 'x', parameters: { beams: 2 } }, 400, 'invalid_request', /parameters\.beams/],
      ['wrong type', { model: 'tiny', prompt: 12 }, 400, 'invalid_parameter', /prompt must be a string/],
      ['temperature < 0', { model: 'tiny', prompt: 'x', parameters: { temperature: -0.5 } }, 400, 'invalid_parameter', /temperature must be ≥ 0/],
      ['top_p > 1', { model: 'tiny', prompt: 'x', parameters: { top_p: 1.5 } }, 400, 'invalid_parameter', /top_p must be ≤ 1/],
      ['string number', { model: 'tiny', prompt: 'x', parameters: { temperature: '0.5' } }, 400, 'invalid_parameter', /temperature must be a number/],
      ['max_new_tokens over the cap', { model: 'tiny', prompt: 'x', parameters: { max_new_tokens: 201 } }, 400, 'invalid_parameter', /max_new_tokens.*200/],
      ['prompt over the cap', { model: 'tiny', prompt: 'x'.repeat(501) }, 400, 'invalid_parameter', /prompt.*500/],
      ['unknown model', { model: 'nope', prompt: 'x' }, 404, 'model_not_found', /nope/],
      ['unknown version', { model: 'tiny@9', prompt: 'x' }, 404, 'version_not_found'],
      ['name with ..', { model: '../etc', prompt: 'x' }, 400, 'invalid_model_name'],
      ['name with /', { model: 'a/b', prompt: 'x' }, 400, 'invalid_model_name'],
      ['upper case name', { model: 'Tiny', prompt: 'x' }, 400, 'invalid_model_name'],
      ['body is an array', [1, 2], 400, 'invalid_request'],
    ];
    for (const [what, body, status, code, msg] of cases) {
      const r = await post(`${s.url}/generate`, body);
      t.equal(r.status, status, `${what}: status`);
      t.equal(r.json?.error?.code, code, `${what}: code`);
      t.type(r.json?.error?.message, 'string');
      t.type(r.json?.error?.type, 'string');
      if (msg) t.match(r.json.error.message, msg, `${what}: message`);
    }
    const wrongType = await fetch(`${s.url}/generate`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: '<x/>' });
    t.equal(wrongType.status, 415);
    t.equal(((await wrongType.json()) as any).error.code, 'unsupported_media_type');
    const notFound = await get(`${s.url}/nothing-here`);
    t.equal(notFound.status, 404);
    t.equal(notFound.json.error.code, 'route_not_found');
    const health = await get(`${s.url}/health`);
    t.equal(health.status, 200, 'service unharmed');
  });
});

t.test('long generations: 429 over the concurrency cap; closing an SSE connection cancels', async (t) => {
  const s = await startServer(t, { maxConcurrentGenerations: 1, maxNewTokens: 50000 });
  await publishTinyModel(s.config, 'tiny');
  // Greedy: the tiny model never picks <eos>, so this runs until it is stopped. Streamed, so the
  // test knows it is running (holding the only slot) before it sends the second request.
  const longAbort = new AbortController();
  const long = await fetch(`${s.url}/generate`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, signal: longAbort.signal,
    body: JSON.stringify({ model: 'tiny', prompt: 'the ', stream: true, parameters: { max_new_tokens: 50000, do_sample: false } }),
  });
  t.equal(long.status, 200);
  await long.body!.getReader().read();
  const r = await post(`${s.url}/generate`, { model: 'tiny', prompt: 'the ', parameters: { max_new_tokens: 5 } });
  t.equal(r.status, 429);
  t.equal(r.json.error.code, 'overloaded');
  t.equal(r.headers.get('retry-after'), '1');
  longAbort.abort();
  await waitFor(() => s.app.services.inference.inFlight === 0, 5000, 'the long generation to stop');

  await t.test('closing an SSE connection cancels its generation', async (t) => {
    const abort = new AbortController();
    const res = await fetch(`${s.url}/generate`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, signal: abort.signal,
      body: JSON.stringify({ model: 'tiny', prompt: 'the ', stream: true, parameters: { max_new_tokens: 4000, do_sample: false } }),
    });
    const reader = res.body!.getReader();
    await reader.read();
    abort.abort();
    await waitFor(() => s.app.services.inference.inFlight === 0, 5000, 'the generation to stop');
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    // the long generation above was the first one cancelled, this is the second
    t.match(metrics, /seqserve_generations_total\{finish_reason="cancelled"\} 2/);
  });
});

t.test('RATE_LIMIT_PER_MINUTE: 429 rate_limited in the error shape; health is exempt', async (t) => {
  const s = await startServer(t, { rateLimitPerMinute: 3 });
  await publishTinyModel(s.config, 'tiny');
  for (let i = 0; i < 3; i++) t.equal((await post(`${s.url}/generate`, { model: 'tiny', prompt: 'a', parameters: { max_new_tokens: 1 } })).status, 200);
  const r = await post(`${s.url}/generate`, { model: 'tiny', prompt: 'a', parameters: { max_new_tokens: 1 } });
  t.equal(r.status, 429);
  t.equal(r.json.error.code, 'rate_limited');
  t.match(r.json.error.message, /3 requests per minute/);
  t.ok(Number(r.headers.get('retry-after')) > 0);
  for (let i = 0; i < 5; i++) t.equal((await get(`${s.url}/health`)).status, 200);
});
