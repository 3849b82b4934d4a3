// POST /train with task "chat" through the real queue and a real worker process: inline {messages}
// rows and a JSONL upload of {prompt, response} rows, the manifest's chat template and metrics, then a
// chat over /ws with the result; bad chat datasets are refused with a 4xx before queueing.
import t from 'tap';
import { TINY_CHAT_ROWS, get, post, startServer, startWorker, waitFor, waitForJob, wsClient } from '../helpers/app.ts';

const HP = { units: 24, embedding_dim: 8, epochs: 2, sequence_length: 32, batch_size: 16, learning_rate: 0.02, seed: 3 };

t.test('a chat model trained through the queue', async (t) => {
  const s = await startServer(t);
  startWorker(t, s.config);
  // On a loaded machine the queue's first Redis connection can take a moment.
  await waitFor(async () => (await get(`${s.url}/ready`)).json.ready === true, 30000, 'the queue to be ready');
  const rows = TINY_CHAT_ROWS.map((r) => ({ messages: JSON.parse(r.messages!) }));
  const accepted = await post(`${s.url}/train`, { name: 'queued-chat', task: 'chat', architecture: 'gru', dataset: { rows }, hyperparameters: HP });
  t.equal(accepted.status, 202, JSON.stringify(accepted.json));
  const job = await waitForJob(s.url, accepted.json.job_id, 120000);
  t.equal(job.status, 'completed', job.error ?? '');
  const { json: model } = await get(`${s.url}/models/queued-chat`);
  const text = JSON.stringify(model);
  t.match(text, /"task":"chat"/);
  t.match(text, /"chat_template":\{"version":1,"markers":\["<\|system\|>","<\|user\|>","<\|assistant\|>","<\|end\|>"\]/);
  for (const k of ['perplexity', 'retrieval_perplexity', 'unigram_perplexity', 'retrieval_f1']) t.match(text, new RegExp(`"${k}":`), `metrics.${k}`);

  const c = await wsClient(t, s.ws);
  c.send({ type: 'chat', id: 'x', model: 'queued-chat', messages: [{ role: 'user', content: 'hi' }], parameters: { max_new_tokens: 10, seed: 1 } });
  const done = await c.next((f) => (f.type === 'done' || f.type === 'error') && f.id === 'x');
  t.equal(done.type, 'done', JSON.stringify(done));
  t.equal(done.details.model, 'queued-chat@1');

  // {prompt, response} rows as an uploaded JSONL dataset.
  const jsonl = Array.from({ length: 40 }, (_, i) => JSON.stringify({ prompt: `say ${i % 5}`, response: `number ${i % 5}.` })).join('\n');
  const up = await fetch(`${s.url}/datasets`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: jsonl });
  t.equal(up.status, 201);
  const ds = (await up.json()) as { id: string };
  const pairJob = await post(`${s.url}/train`, { name: 'pair-chat', task: 'chat', dataset: { id: ds.id }, hyperparameters: { ...HP, epochs: 1 } });
  t.equal(pairJob.status, 202, JSON.stringify(pairJob.json));
  t.equal((await waitForJob(s.url, pairJob.json.job_id, 120000)).status, 'completed');
});

t.test('bad chat datasets are refused before queueing', async (t) => {
  const s = await startServer(t);
  const cases: Array<[string, unknown, RegExp]> = [
    ['an unknown role', [{ messages: [{ role: 'wizard', content: 'x' }] }], /dataset\.rows\[0\]\.messages/],
    ['an unknown role in JSON text', [{ messages: '[{"role":"wizard","content":"x"}]' }], /row 1: messages\[0\]\.role/],
    ['no assistant turn', [{ messages: [{ role: 'user', content: 'x' }] }], /no assistant message/],
    ['neither messages nor prompt/response', [{ text: 'x' }], /needs "messages"/],
  ];
  for (const [what, rows, message] of cases) {
    const r = await post(`${s.url}/train`, { name: 'bad-chat', task: 'chat', dataset: { rows }, hyperparameters: HP });
    t.equal(r.status, 400, what);
    t.match(r.json.error.message, message, `${what}: ${r.json.error.message}`);
  }
});
