// The Transformer LM end to end: continuous batching with the KV cache (a request's output is the
// one it gets alone; rows join and leave; no tensor growth over 10,000 tokens), the context rule,
// serving over HTTP, SSE, /ws and /v1, chat sessions that keep the KV cache, bad training input
// refused before queueing, and a queued job that resumes after its worker is killed.
import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import OpenAI from 'openai';
import { initBackend } from '../../src/backend/select.ts';
import { ModelStore } from '../../src/store/registry.ts';
import { ModelCache } from '../../src/infer/model-cache.ts';
import { generateText } from '../../src/infer/generate.ts';
import type { TokenEvent } from '../../src/infer/sequence.ts';
import { resolveParams } from '../../src/infer/params.ts';
import { TransformerLM } from '../../src/arch/transformer.ts';
import { TINY_GPT, TINY_TEXT, get, post, publishTinyChatModel, publishTinyModel, startServer, startWorker, testConfig, waitFor, waitForJob, wsClient } from '../helpers/app.ts';

const limits = { maxNewTokens: 500, maxPromptChars: 100 };
const requests = [
  { prompt: 'the ', p: { max_new_tokens: 40, seed: 1, temperature: 0.9 } },
  { prompt: 'the dog', p: { max_new_tokens: 7, seed: 2, top_k: 3 } },
  { prompt: '', p: { max_new_tokens: 60, seed: 3, top_p: 0.8 } },
  { prompt: 'a cat sat', p: { max_new_tokens: 25, do_sample: false } },
  { prompt: 'the m', p: { max_new_tokens: 20, seed: 5, repetition_penalty: 1.3 } },
  { prompt: 'log', p: { max_new_tokens: 50, seed: 6, stop: ['.'] } },
  { prompt: 'on the ', p: { max_new_tokens: 12, seed: 7, temperature: 1.5 } },
  { prompt: 'sat', p: { max_new_tokens: 45, seed: 8 } },
];

t.test('continuous batching with a KV cache', async (t) => {
  await initBackend('wasm');
  const config = testConfig(t);
  await publishTinyModel(config, 'gpt', { architecture: 'transformer', epochs: 4 });
  const store = new ModelStore(config.modelsDir);
  const manifest = (await store.resolve({ name: 'gpt', version: 1 })).manifest;
  t.equal(manifest.architecture, 'transformer');
  t.match(manifest.hyperparameters, { heads: 2, context_length: 32, layers: 2, embedding_dim: 16 });
  t.notOk('units' in manifest.hyperparameters, 'no recurrent-only hyperparameters in the manifest');
  t.ok(typeof manifest.metrics.bigram_perplexity === 'number' && typeof manifest.metrics.perplexity === 'number', 'held-out perplexity beside its baselines');
  const cache = new ModelCache(store, 2, 4);
  const lease = await cache.acquire('gpt');
  const model = lease.model;
  t.ok(model.lm instanceof TransformerLM, 'served as a Transformer');
  const run = (r: (typeof requests)[number], signal?: AbortSignal, onToken?: (e: TokenEvent) => void) =>
    generateText(model, r.prompt, resolveParams(r.p, limits), { signal, onToken });

  const alone: Awaited<ReturnType<typeof run>>[] = [];
  for (const r of requests) alone.push(await run(r));
  t.equal(model.batcher.peakBatch, 1, 'one at a time: batch of 1');
  // The context rule: "the " is <bos> + 4 ids; 32 positions leave room for 28 generated tokens.
  const full = await run({ prompt: 'the ', p: { max_new_tokens: 40, do_sample: false } });
  t.equal(full.details.finish_reason, 'length', JSON.stringify(full.details));
  t.equal(full.details.generated_tokens, 32 - 5 + 1, 'stops when the context is full (the last token still emitted)');
  const baseline = tf.memory().numTensors;

  const together = await Promise.all(requests.map((r) => run(r)));
  t.equal(model.batcher.peakBatch, 4, 'concurrent requests stepped together, capped at MAX_BATCH_SIZE = 4');
  together.forEach((res, i) => {
    t.equal(res.text, alone[i]!.text, `request ${i}: same text as alone`);
    t.equal(res.details.finish_reason, alone[i]!.details.finish_reason);
    t.equal(res.details.generated_tokens, alone[i]!.details.generated_tokens);
  });
  t.equal(tf.memory().numTensors, baseline, 'no tensors left after joins and leaves');

  const abort = new AbortController();
  // Aborted from its own token callback after 5 tokens (a timer may fire after it has ended).
  const abortAt5 = (e: TokenEvent) => {
    if (e.index === 4) abort.abort();
  };
  const pending = [run({ prompt: 'the ', p: { max_new_tokens: 400, do_sample: false } }, abort.signal, abortAt5), ...requests.slice(0, 3).map((r) => run(r))];
  const [cancelled, ...others] = await Promise.all(pending);
  t.equal(cancelled!.details.finish_reason, 'cancelled');
  others.forEach((res, i) => t.equal(res.text, alone[i]!.text, `request ${i} unaffected by the cancel`));

  // 10,000 generated tokens through the batcher: the tensor count comes back to the baseline.
  let tokens = 0;
  let wave = 0;
  while (tokens < 10_000) {
    const outs = await Promise.all(Array.from({ length: 8 }, (_, k) => run({ prompt: k % 2 ? 'the ' : '', p: { max_new_tokens: 100, seed: wave * 8 + k, temperature: 1 } })));
    tokens += outs.reduce((n, o) => n + o.details.generated_tokens, 0);
    wave++;
  }
  t.equal(tf.memory().numTensors, baseline, `${tokens} tokens generated: no tensor growth`);
  lease.release();
  await cache.clear();
});

t.test('served over HTTP, SSE, /ws and /v1; a prompt longer than the context is a 400', async (t) => {
  const s = await startServer(t);
  await publishTinyModel(s.config, 'gpt', { architecture: 'transformer', epochs: 2 });
  const json = await post(`${s.url}/generate`, { model: 'gpt', prompt: 'the ', parameters: { max_new_tokens: 10, seed: 9 } });
  t.equal(json.status, 200);
  t.equal(json.json.details.model, 'gpt@1');
  t.equal(json.json.details.generated_tokens, 10);

  const long = 'the cat sat on the mat. the dog sat on the log.';
  for (const stream of [false, true]) {
    const r = await post(`${s.url}/generate`, { model: 'gpt', prompt: long, stream, parameters: { max_new_tokens: 5 } });
    t.equal(r.status, 400, `stream ${stream}: status`);
    t.equal(r.json.error.param, 'prompt');
    t.match(r.json.error.message, /context_length 32/);
  }

  const res = await fetch(`${s.url}/generate`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt', prompt: 'the ', stream: true, parameters: { max_new_tokens: 10, seed: 9 } }),
  });
  const events = (await res.text()).trim().split('\n\n').map((block) => {
    const [ev, data] = block.split('\n');
    return { event: ev!.slice('event: '.length), data: JSON.parse(data!.slice('data: '.length)) };
  });
  t.equal(events.at(-1)!.event, 'done');
  t.equal(events.at(-1)!.data.text, json.json.generated_text, 'SSE = JSON for the same seed');

  const c = await wsClient(t, s.ws);
  c.send({ type: 'generate', id: 'g1', model: 'gpt', prompt: 'the ', parameters: { max_new_tokens: 10, seed: 9 } });
  const done = await c.next((f) => f.type === 'done' && f.id === 'g1');
  t.equal(done.text, json.json.generated_text, '/ws = JSON for the same seed');
  c.send({ type: 'generate', id: 'g2', model: 'gpt', prompt: long, parameters: { max_new_tokens: 10 } });
  const err = await c.next((f) => f.type === 'error' && f.id === 'g2');
  t.equal(err.error.param, 'prompt');

  const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const completion = await client.completions.create({ model: 'gpt', prompt: 'the ', max_tokens: 200, seed: 3 });
  t.equal(completion.choices[0]!.finish_reason, 'length', '/v1: the context ends it with finish_reason length');
  t.equal(completion.usage!.completion_tokens, 28, '/v1: 28 tokens fit after a 5-id prompt in 32 positions');
});

t.test('chat sessions keep the KV cache between turns', async (t) => {
  const s = await startServer(t);
  await publishTinyChatModel(s.config, 'gptchat', { architecture: 'transformer', epochs: 4 });
  const svc = s.app.services.inference;
  const c = await wsClient(t, s.ws);
  let id = 0;
  const turn = async (frame: Record<string, unknown>) => {
    const rid = `r${++id}`;
    c.send({ type: 'chat', id: rid, model: 'gptchat', ...frame });
    return c.next((f) => (f.type === 'done' || f.type === 'error') && f.id === rid);
  };
  await turn({ messages: [{ role: 'user', content: 'hi' }], parameters: { max_new_tokens: 2 } }); // loads the model
  const baseline = tf.memory().numTensors;
  const history: Array<{ role: string; content: string }> = [{ role: 'system', content: 'be brief.' }];
  for (const [k, user] of ['hi', 'bye'].entries()) {
    const params = { seed: 10 + k, max_new_tokens: 12, temperature: 0.8 };
    const withSession = await turn(k === 0 ? { messages: [...history, { role: 'user', content: user }], session: 's1', parameters: params } : { message: user, session: 's1', parameters: params });
    history.push({ role: 'user', content: user });
    const stateless = await turn({ messages: history, parameters: params });
    t.equal(withSession.type, 'done', `turn ${k + 1} answered`);
    t.equal(withSession.text, stateless.text, `turn ${k + 1}: session reply = stateless reply`);
    if (k > 0) t.ok(withSession.details.cached_tokens > 0, `turn ${k + 1}: ${withSession.details.cached_tokens} prompt tokens from the kept KV cache`);
    history.push({ role: 'assistant', content: withSession.text });
  }
  const info = await get(`${s.url}/sessions/s1`);
  // K and V per layer: [1, heads, tokens, width / heads] float32 each.
  t.equal(info.json.state_bytes, 2 * TINY_GPT.layers * info.json.tokens * TINY_GPT.embedding_dim * 4, 'the session memory counts the KV cache');
  const tooLong = await turn({ messages: [{ role: 'user', content: 'x'.repeat(80) }], parameters: { max_new_tokens: 4 } });
  t.equal(tooLong.type, 'error');
  t.equal(tooLong.error.param, 'messages');
  svc.sessions.delete('s1');
  await waitFor(() => svc.inFlight === 0, 5000, 'requests to finish');
  t.equal(tf.memory().numTensors, baseline, 'session state freed');
});

t.test('POST /train: Transformer hyperparameters are checked before queueing', async (t) => {
  const s = await startServer(t);
  const job = (architecture: string, hyperparameters: Record<string, unknown>, task = 'generate') => ({ name: 'x', task, architecture, dataset: { text: TINY_TEXT }, hyperparameters });
  const bad: Array<[string, unknown, string, RegExp]> = [
    ['heads not dividing the width', job('transformer', { heads: 3, embedding_dim: 16 }), 'hyperparameters.heads', /heads \(3\) must divide hyperparameters\.embedding_dim \(16\)/],
    ['context over the cap', job('transformer', { context_length: 5000 }), 'hyperparameters.context_length', /context_length must be ≤ 1024/],
    ['heads on an lstm', job('lstm', { heads: 2 }), 'hyperparameters.heads', /applies to architecture transformer only/],
    ['context_length on a gru', job('gru', { context_length: 32 }), 'hyperparameters.context_length', /applies to architecture transformer only/],
    ['units on a transformer', job('transformer', { units: 64 }), 'hyperparameters.units', /lstm and gru only.*embedding_dim/],
    ['sequence_length on a transformer', job('transformer', { sequence_length: 32 }), 'hyperparameters.sequence_length', /context_length/],
    ['a transformer for summarize', { ...job('transformer', {}, 'summarize'), dataset: { rows: [{ source: 'a b', target: 'a' }] } }, 'architecture', /generate and chat/],
  ];
  for (const [what, body, param, msg] of bad) {
    const r = await post(`${s.url}/train`, body);
    t.equal(r.status, 400, `${what}: status`);
    t.equal(r.json.error?.param, param, `${what}: param`);
    t.match(r.json.error?.message, msg, `${what}: message`);
  }
  t.equal((await get(`${s.url}/train`)).json.jobs.length, 0, 'nothing was queued');
});

t.test('a queued Transformer job trains, and resumes after its worker is killed', async (t) => {
  const s = await startServer(t);
  const first = startWorker(t, s.config);
  const epochs = 10;
  const accepted = await post(`${s.url}/train`, {
    name: 'gpt-survivor', architecture: 'transformer', dataset: { text: TINY_TEXT },
    hyperparameters: { ...TINY_GPT, epochs, batch_size: 16, seed: 5 },
  });
  t.equal(accepted.status, 202);
  const id = accepted.json.job_id;
  await waitFor(async () => (await get(`${s.url}/train/${id}`)).json.progress?.epoch >= 2, 90000, 'two epochs (checkpointed)');
  first.kill('SIGKILL');
  startWorker(t, s.config);
  const done = await waitForJob(s.url, id, 180000);
  t.equal(done.status, 'completed', done.error ?? '');
  const logs: string[] = (await get(`${s.url}/train/${id}/logs`)).json.logs;
  const resumed = logs.map((l) => /resumed from checkpoint: epoch (\d+)/.exec(l)).find(Boolean);
  t.ok(resumed && Number(resumed[1]) >= 2, `resumed from epoch ≥ 2: ${resumed?.[0]}`);
  t.ok(logs.some((l) => /auto-size \(Transformer/.test(l)), 'the policy sized what the request left unset');
  const model = (await get(`${s.url}/models/gpt-survivor`)).json.versions[0].manifest;
  t.equal(model.architecture, 'transformer');
  t.equal(model.training.epochs_completed, epochs);
  t.match(model.auto_sized, { lr_schedule: 'cosine', learning_rate: 0.001 });
  const r = await post(`${s.url}/generate`, { model: 'gpt-survivor', prompt: 'the ', parameters: { max_new_tokens: 5 } });
  t.equal(r.status, 200);
});
