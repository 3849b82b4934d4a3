// Redis unreachable: generation keeps working, training endpoints answer 503 queue_unavailable.
import t from 'tap';
import { TINY_TEXT, get, post, publishTinyModel, startServer, wsClient } from '../helpers/app.ts';

t.test('without Redis', async (t) => {
  const s = await startServer(t, { redisUrl: 'redis://127.0.0.1:1' });
  await publishTinyModel(s.config, 'tiny');

  const train = await post(`${s.url}/train`, { name: 'x', dataset: { text: TINY_TEXT }, hyperparameters: { sequence_length: 16 } });
  t.equal(train.status, 503);
  t.equal(train.json.error.code, 'queue_unavailable');
  t.match(train.json.error.message, /Redis/);
  for (const path of ['/train', '/train/1', '/train/1/logs']) {
    const r = await get(`${s.url}${path}`);
    t.equal(r.status, 503, path);
    t.equal(r.json.error.code, 'queue_unavailable', path);
  }
  const ready = await get(`${s.url}/ready`);
  t.equal(ready.status, 503);
  t.equal(ready.json.checks.redis.ok, false);
  t.equal(ready.json.checks.store.ok, true);
  t.equal((await get(`${s.url}/health`)).json.queue, 'down');

  // Greedy: a random seed could sample <eos> before 5 tokens.
  const gen = await post(`${s.url}/generate`, { model: 'tiny', prompt: 'the ', parameters: { max_new_tokens: 5, do_sample: false } });
  t.equal(gen.status, 200, 'generation still works');
  t.equal(gen.json.details.generated_tokens, 5);

  const c = await wsClient(t, s.ws);
  c.send({ type: 'subscribe', job_id: '1' });
  const err = await c.next((f) => f.type === 'error');
  t.equal(err.error.code, 'queue_unavailable');
  t.equal(err.job_id, '1');
});
