// The OpenAI-compatible /v1 API tested with the official `openai` npm client, unchanged, against a real
// server: models, completions (JSON and SSE), n, stop, seed, usage, logprobs, Seq2Seq through
// completions, errors mapped to the client's classes, and an aborted stream freeing its batch row.
import t, { type Test } from 'tap';
import { cp, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import OpenAI, { BadRequestError, InternalServerError, NotFoundError, RateLimitError } from 'openai';
import { ROOT, post, publishTinyModel, startServer, waitFor } from '../helpers/app.ts';

/** Expects `p` to reject with the client error class `cls`, status, and our error body's code and param. */
async function rejects(t: Test, p: Promise<unknown>, cls: new (...a: never[]) => Error, code: string, param: string | null, what: string) {
  try {
    await p;
    t.fail(`${what}: expected ${cls.name}`);
  } catch (err) {
    t.type(err, cls, `${what}: ${cls.name}`);
    const e = err as InstanceType<typeof OpenAI.APIError>;
    t.equal(e.code, code, `${what}: code`);
    t.equal(e.param, param, `${what}: param`);
    t.match(e.message, /\S/, `${what}: message`);
  }
}

t.test('/v1 completions with the openai client', async (t) => {
  const s = await startServer(t, { maxNewTokens: 300, maxBatchSize: 8 });
  await publishTinyModel(s.config, 'tiny');
  await cp(path.join(ROOT, 'models', 'numbers-en-fr'), path.join(s.config.modelsDir, 'numbers-en-fr'), { recursive: true });
  const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const now = () => Math.floor(Date.now() / 1000);

  await t.test('models: list and retrieve, unknown → NotFoundError', async (t) => {
    const list = await client.models.list();
    t.same(list.data.map((m) => m.id).sort(), ['numbers-en-fr', 'tiny'], 'language and Seq2Seq models listed');
    for (const m of list.data) {
      t.equal(m.object, 'model');
      t.ok(m.created > 1.6e9 && m.created <= now(), 'created in seconds');
      t.equal(m.owned_by, 'seqserve');
    }
    t.equal((await client.models.retrieve('tiny@1')).id, 'tiny@1');
    await rejects(t, client.models.retrieve('nope'), NotFoundError, 'model_not_found', 'id', 'unknown model');
    await rejects(t, client.models.retrieve('Not A Name'), NotFoundError, 'model_not_found', 'id', 'not a model name');
  });

  await t.test('non-streamed: the wire format, and the same text as /generate with the same seed', async (t) => {
    const before = now();
    const r = await client.completions.create({ model: 'tiny', prompt: 'the ', max_tokens: 20, seed: 5, temperature: 0.9 });
    t.equal(r.object, 'text_completion');
    t.match(r.id, /^cmpl-[0-9a-f]{24}$/);
    t.ok(r.created >= before && r.created <= now(), 'created in seconds');
    t.equal(r.model, 'tiny@1');
    t.equal(r.choices.length, 1);
    t.equal(r.choices[0]!.index, 0);
    t.equal(r.choices[0]!.logprobs, null);
    t.equal(r.choices[0]!.finish_reason, 'length');
    t.same(r.usage, { prompt_tokens: 5, completion_tokens: 20, total_tokens: 25 });
    const g = await post(`${s.url}/generate`, { model: 'tiny', prompt: 'the ', parameters: { max_new_tokens: 20, seed: 5, temperature: 0.9 } });
    t.equal(r.choices[0]!.text, g.json.generated_text, 'same text as POST /generate with the same parameters');
  });

  await t.test('streamed: one id, finish chunk, include_usage totals equal the non-streamed run', async (t) => {
    const body = { model: 'tiny', prompt: 'the d', max_tokens: 30, seed: 9, temperature: 1.1 } as const;
    const whole = await client.completions.create(body);
    const stream = await client.completions.create({ ...body, stream: true, stream_options: { include_usage: true } });
    const chunks: OpenAI.Completions.Completion[] = [];
    for await (const c of stream) chunks.push(c);
    t.ok(chunks.length > 3);
    t.same(new Set(chunks.map((c) => c.id)).size, 1, 'one id across all chunks');
    t.equal(chunks[0]!.id, chunks.at(-1)!.id);
    t.ok(chunks.every((c) => c.object === 'text_completion' && c.created === chunks[0]!.created));
    const usageChunk = chunks.at(-1)!;
    t.same(usageChunk.choices, [], 'the last chunk has no choices');
    t.same(usageChunk.usage, whole.usage, 'usage totals equal the non-streamed run');
    const content = chunks.slice(0, -1);
    t.ok(content.every((c) => c.usage === null), 'usage: null on the other chunks');
    const finish = content.at(-1)!;
    t.equal(finish.choices[0]!.text, '', 'the finish chunk is empty');
    t.equal(finish.choices[0]!.finish_reason, 'length');
    t.ok(content.slice(0, -1).every((c) => c.choices[0]!.finish_reason === null), 'finish_reason null until the final chunk');
    t.equal(content.map((c) => c.choices[0]!.text).join(''), whole.choices[0]!.text, 'streamed text = non-streamed text');
  });

  await t.test('the raw stream ends with data: [DONE]', async (t) => {
    const res = await fetch(`${s.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'tiny', prompt: 'the ', max_tokens: 5, stream: true }) });
    t.match(res.headers.get('content-type'), /^text\/event-stream/);
    const text = await res.text();
    t.ok(text.endsWith('data: [DONE]\n\n'), 'ends with [DONE]');
    t.notOk(/^event:/m.test(text), 'no named events: OpenAI streams only data lines');
  });

  await t.test('n choices: each is the single request with seed + index', async (t) => {
    const r = await client.completions.create({ model: 'tiny', prompt: 'the ', max_tokens: 25, n: 3, seed: 100, temperature: 1.3 });
    t.same(r.choices.map((c) => c.index), [0, 1, 2]);
    t.ok(new Set(r.choices.map((c) => c.text)).size > 1, 'choices differ');
    for (let i = 0; i < 3; i++) {
      const one = await client.completions.create({ model: 'tiny', prompt: 'the ', max_tokens: 25, seed: 100 + i, temperature: 1.3 });
      t.equal(r.choices[i]!.text, one.choices[0]!.text, `choice ${i} = seed ${100 + i} alone`);
    }
    t.same(r.usage, { prompt_tokens: 5, completion_tokens: 75, total_tokens: 80 }, 'prompt counted once, completions summed');

    const stream = await client.completions.create({ model: 'tiny', prompt: 'the ', max_tokens: 25, n: 3, seed: 100, temperature: 1.3, stream: true });
    const texts = ['', '', ''];
    const finishes: Array<string | null> = [null, null, null];
    for await (const c of stream) {
      for (const ch of c.choices) {
        t.equal(finishes[ch.index], null, 'nothing after a choice finished');
        texts[ch.index] += ch.text;
        if (ch.finish_reason) finishes[ch.index] = ch.finish_reason;
      }
    }
    t.same(texts, r.choices.map((c) => c.text), 'streamed n choices = non-streamed');
    t.same(finishes, ['length', 'length', 'length']);
  });

  await t.test('stop as string or array: never in the output, streamed or not', async (t) => {
    const full = (await client.completions.create({ model: 'tiny', prompt: 'the ', max_tokens: 60, temperature: 0 })).choices[0]!.text;
    const stopAt = full.indexOf(' ', 4);
    t.ok(stopAt > 0, `greedy output has a later space: ${JSON.stringify(full)}`);
    const stop = full.slice(stopAt, stopAt + 2);
    for (const form of [stop, [stop, 'zzzz']]) {
      const r = await client.completions.create({ model: 'tiny', prompt: 'the ', max_tokens: 60, temperature: 0, stop: form });
      t.equal(r.choices[0]!.text, full.slice(0, full.indexOf(stop)), `text ends before the stop ${JSON.stringify(form)}`);
      t.equal(r.choices[0]!.finish_reason, 'stop');
      const stream = await client.completions.create({ model: 'tiny', prompt: 'the ', max_tokens: 60, temperature: 0, stop: form, stream: true });
      let text = '';
      for await (const c of stream) text += c.choices[0]?.text ?? '';
      t.equal(text, r.choices[0]!.text, 'streamed: same, stop not included');
      t.notOk(text.includes(stop));
    }
  });

  await t.test('seed: same seed same output, other seeds differ', async (t) => {
    const run = (seed: number) => client.completions.create({ model: 'tiny', prompt: 'the c', max_tokens: 30, seed, temperature: 1.2 }).then((r) => r.choices[0]!.text);
    t.equal(await run(77), await run(77));
    const outs = new Set(await Promise.all([1, 2, 3, 4].map(run)));
    t.ok(outs.size > 1, 'different seeds give different samples');
    t.equal(await run(-1), await run(2 ** 32 - 1), 'any integer seed, reduced modulo 2^32');
  });

  await t.test('logprobs: chosen and top alternatives, tokens concatenating to the text', async (t) => {
    const r = await client.completions.create({ model: 'tiny', prompt: 'the ', max_tokens: 15, logprobs: 3, temperature: 0 });
    const lp = r.choices[0]!.logprobs!;
    t.equal(lp.tokens!.join(''), r.choices[0]!.text);
    t.equal(lp.token_logprobs!.length, 15);
    t.ok(lp.token_logprobs!.every((x) => x <= 0 && Number.isFinite(x)));
    t.equal(lp.text_offset![0], 4, 'offsets start after the prompt');
    lp.top_logprobs!.forEach((top, i) => {
      const values = Object.values(top);
      t.ok(values.length >= 1 && values.length <= 3, 'at most 3 alternatives');
      t.ok(Math.abs(Math.max(...values) - lp.token_logprobs![i]!) < 1e-5, 'greedy: the chosen token is the most likely');
    });
  });

  await t.test('presence / frequency penalties reach the sampler; top_logprobs on /generate too', async (t) => {
    const run = (over: object) => client.completions.create({ model: 'tiny', prompt: 'the ', max_tokens: 80, temperature: 0, ...over }).then((r) => r.choices[0]!.text);
    const plain = await run({});
    const distinct = (s: string) => new Set(s).size;
    const penalised = await run({ frequency_penalty: 2 });
    t.not(penalised, plain, 'a frequency penalty changes the greedy output');
    t.ok(distinct(penalised) > distinct(plain), `more distinct characters with the penalty (${distinct(penalised)} vs ${distinct(plain)})`);
    t.not(await run({ presence_penalty: 2 }), plain, 'so does a presence penalty');
    t.equal(await run({ presence_penalty: 0, frequency_penalty: 0 }), plain, '0 is off');

    const g = await post(`${s.url}/generate`, { model: 'tiny', prompt: 'the ', stream: true, parameters: { max_new_tokens: 5, do_sample: false, top_logprobs: 2 } });
    const tokens = String(g.json).split('\n\n').filter((e) => e.startsWith('event: token')).map((e) => JSON.parse(e.split('\ndata: ')[1]!));
    t.equal(tokens.length, 5);
    t.ok(tokens.every((e) => e.top_logprobs.length === 2 && e.top_logprobs[0].token_id === e.token_id), 'token events list the alternatives, the greedy pick first');
  });

  await t.test('Seq2Seq models: the prompt is the input text', async (t) => {
    const r = await client.completions.create({ model: 'numbers-en-fr', prompt: 'twenty-one' });
    t.equal(r.choices[0]!.text, 'vingt et un');
    t.equal(r.choices[0]!.finish_reason, 'stop');
    t.equal(r.model, 'numbers-en-fr@1');
    t.ok(r.usage!.prompt_tokens > 0 && r.usage!.completion_tokens > 0);
    const stream = await client.completions.create({ model: 'numbers-en-fr', prompt: 'three hundred', stream: true });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.text ?? '';
    t.equal(text, 'trois cents');
  });

  await t.test('bad input: a 4xx naming the field, mapped to the client\'s classes', async (t) => {
    const base = { model: 'tiny', prompt: 'the ' };
    await rejects(t, client.completions.create({ ...base, model: 'missing' }), NotFoundError, 'model_not_found', 'model', 'unknown model');
    await rejects(t, client.completions.create({ ...base, n: 9 }), BadRequestError, 'invalid_parameter', 'n', 'n over the cap');
    await rejects(t, client.completions.create({ ...base, stop: ['a', 'b', 'c', 'd', 'e'] }), BadRequestError, 'invalid_parameter', 'stop', 'five stop strings');
    await rejects(t, client.completions.create({ ...base, stop: ['a', ''] }), BadRequestError, 'invalid_parameter', 'stop[1]', 'an empty stop string');
    await rejects(t, client.completions.create({ ...base, stop: '' }), BadRequestError, 'invalid_parameter', 'stop', 'an empty stop');
    await rejects(t, client.completions.create({ ...base, max_tokens: 0 }), BadRequestError, 'invalid_parameter', 'max_tokens', 'max_tokens 0');
    await rejects(t, client.completions.create({ ...base, max_tokens: 301 }), BadRequestError, 'invalid_parameter', 'max_tokens', 'max_tokens over MAX_NEW_TOKENS');
    await rejects(t, client.completions.create({ ...base, temperature: 2.5 }), BadRequestError, 'invalid_parameter', 'temperature', 'temperature over 2');
    await rejects(t, client.completions.create({ ...base, suffix: 'x' }), BadRequestError, 'unsupported_parameter', 'suffix', 'suffix');
    await rejects(t, client.completions.create({ ...base, logit_bias: { 5: 1 } }), BadRequestError, 'unsupported_parameter', 'logit_bias', 'logit_bias');
    await rejects(t, client.completions.create({ ...base, prompt: ['a', 'b'] }), BadRequestError, 'unsupported_parameter', 'prompt', 'batched prompts');
    await rejects(t, client.completions.create({ ...base, bogus: 1 } as never), BadRequestError, 'invalid_request', 'bogus', 'an unknown field');
    t.ok((await client.completions.create({ ...base, max_tokens: 2, echo: false, best_of: 1, logit_bias: {}, user: 'u-1' })).choices[0], 'no-op values of unsupported fields are accepted');
  });

  await t.test('a failure after the stream started: a data: {"error"} event, then [DONE]', async (t) => {
    // A real failure: a model whose weights are all NaN publishes and loads, but no token can be chosen.
    await publishTinyModel(s.config, 'broken');
    const weights = path.join(s.config.modelsDir, 'broken', '1', 'weights.bin');
    await writeFile(weights, new Uint8Array(new Float32Array((await stat(weights)).size / 4).fill(NaN).buffer));
    const res = await fetch(`${s.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'broken', prompt: 'the ', stream: true }) });
    t.equal(res.status, 200, 'the stream had started');
    const events = (await res.text()).split('\n\n').filter(Boolean);
    t.same(events.at(-1), 'data: [DONE]', '[DONE] last');
    const error = JSON.parse(events.at(-2)!.replace(/^data: /, ''));
    t.same(Object.keys(error.error).sort(), ['code', 'message', 'param', 'type'], 'the one error shape');
    t.equal(error.error.code, 'internal_error');
    try {
      for await (const _ of await client.completions.create({ model: 'broken', prompt: 'the ', stream: true })) void _;
      t.fail('the client should throw');
    } catch (err) {
      t.type(err, OpenAI.APIError, 'the client raises the error event');
      t.equal((err as InstanceType<typeof OpenAI.APIError>).code, 'internal_error');
    }
    await rejects(t, client.completions.create({ model: 'broken', prompt: 'the ' }), InternalServerError, 'internal_error', null, 'not streamed: a 500');
    t.equal(s.app.services.inference.inFlight, 0, 'nothing left in flight');
  });

  await t.test('429 with Retry-After → RateLimitError; an aborted stream frees its batch row at once', async (t) => {
    const small = await startServer(t, { maxConcurrentGenerations: 1, maxNewTokens: 100000 });
    await publishTinyModel(small.config, 'tiny');
    const c = new OpenAI({ baseURL: `${small.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const abort = new AbortController();
    // Greedy: deterministic, so the stream surely outlives the checks (a sampled one could end at <eos>).
    const stream = await c.completions.create({ model: 'tiny', prompt: 'the ', max_tokens: 100000, temperature: 0, stream: true }, { signal: abort.signal });
    const baseline = tf.memory().numTensors;
    let seen = 0;
    let finished = false;
    let error: unknown;
    try {
      for await (const chunk of stream) {
        if (chunk.choices[0]?.finish_reason) finished = true;
        if (chunk.choices[0]?.text) seen++;
        if (seen === 3) {
          const busy = await fetch(`${small.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'tiny', prompt: 'x' }) });
          t.equal(busy.status, 429);
          t.equal(busy.headers.get('retry-after'), '1', 'Retry-After');
          await busy.text();
          await rejects(t, c.completions.create({ model: 'tiny', prompt: 'x' }), RateLimitError, 'overloaded', null, 'over MAX_CONCURRENT_GENERATIONS');
          abort.abort();
        }
      }
    } catch (err) {
      error = err;
    }
    // The client ends the iteration quietly on its own abort (or throws APIUserAbortError).
    t.ok(error === undefined || error instanceof OpenAI.APIUserAbortError, `the client aborted the stream (${String(error)})`);
    t.equal(seen, 3, 'no chunks after the abort');
    t.notOk(finished, 'the stream did not run to its end');
    const lease = await small.app.services.cache.acquire('tiny');
    try {
      await waitFor(() => small.app.services.inference.inFlight === 0 && lease.model.batcher.size === 0, 5000, 'the row to be freed');
      t.equal(lease.model.batcher.size, 0, 'no rows left in the batch');
      t.equal(small.app.services.inference.inFlight, 0, 'nothing in flight');
    } finally {
      lease.release();
    }
    t.ok(tf.memory().numTensors <= baseline, 'no tensors left behind');
    const after = await c.completions.create({ model: 'tiny', prompt: 'the ', max_tokens: 3 });
    t.equal(after.usage!.completion_tokens, 3, 'the slot is free again');

    // Not streamed: a client that gives up on the request also frees its row.
    const gone = new AbortController();
    const pending = fetch(`${small.url}/v1/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, signal: gone.signal,
      body: JSON.stringify({ model: 'tiny', prompt: 'the ', max_tokens: 100000, temperature: 0 }),
    }).then(() => 'answered', (err: unknown) => ((err as Error).name === 'AbortError' ? 'aborted' : String(err)));
    await waitFor(() => small.app.services.inference.inFlight === 1, 5000, 'the request to be running');
    gone.abort();
    t.equal(await pending, 'aborted');
    await waitFor(() => small.app.services.inference.inFlight === 0, 5000, 'in-flight to return to 0 after the abort');
    t.pass('a non-streamed request aborted by its client is cancelled');
    // After an aborted request undici opens a spare connection that never sends a request; Node keeps
    // it until keepAliveTimeout (72 s), which would hold this server's close() that long.
    small.app.server.closeAllConnections();
  });
});
