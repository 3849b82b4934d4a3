// Chat over a real server and a real WebSocket client: chat frames, sessions that keep the model
// state (and give the same replies as re-reading the history), GET/DELETE /sessions/:id, cancel,
// eviction, and every bad input answered with an error frame naming the field.
import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import { TINY_CHAT_ROWS, get, post, publishTinyChatModel, publishTinyModel, startServer, waitFor, wsClient } from '../helpers/app.ts';
import { ModelStore } from '../../src/store/registry.ts';
import { normalizeTrainRequest } from '../../src/train/request.ts';
import { trainSeq2Seq } from '../../src/train/train-seq2seq.ts';
import { publishSeq2Seq } from '../../src/train/publish.ts';

const GREEDY = { do_sample: false, max_new_tokens: 24 };
const HISTORY = [
  { role: 'system', content: 'be brief.' },
  { role: 'user', content: 'hi' },
];

t.test('chat over /ws', async (t) => {
  const s = await startServer(t, { maxSessions: 2 });
  await publishTinyChatModel(s.config, 'tinychat');
  await publishTinyModel(s.config, 'tiny');
  const svc = s.app.services.inference;
  let id = 0;
  /** Sends one chat frame and resolves with its done (or error) frame and its token frames. */
  const turn = async (c: Awaited<ReturnType<typeof wsClient>>, frame: Record<string, unknown>) => {
    const rid = `r${++id}`;
    c.send({ type: 'chat', id: rid, model: 'tinychat', ...frame });
    const end = await c.next((f) => (f.type === 'done' || f.type === 'error') && f.id === rid);
    return { end, tokens: c.frames.filter((f) => f.type === 'token' && f.id === rid) };
  };

  await t.test('token frames then done; the learned replies; same seed, same text', async (t) => {
    const c = await wsClient(t, s.ws);
    const { end, tokens } = await turn(c, { messages: HISTORY, parameters: GREEDY });
    t.equal(end.type, 'done');
    t.equal(end.text, 'hello there.', 'the tiny model learned its reply');
    t.equal(end.details.finish_reason, 'eos', 'the reply ends at <|end|>');
    t.equal(tokens.map((f) => f.text).join(''), end.text, 'tokens make the text');
    t.same(tokens.map((f) => f.index), [...tokens.keys()]);
    const a = await turn(c, { messages: HISTORY, parameters: { seed: 5, max_new_tokens: 16 } });
    const b = await turn(c, { messages: HISTORY, parameters: { seed: 5, max_new_tokens: 16 } });
    t.equal(a.end.text, b.end.text, 'seeded sampling repeats');
  });

  await t.test('a session keeps the state: only new tokens run, replies equal the stateless ones', async (t) => {
    const baseline = tf.memory().numTensors;
    const c = await wsClient(t, s.ws);
    const users = ['hi', 'how are you?', 'what is your name?', 'bye', 'hi'];
    const history: Array<{ role: string; content: string }> = [{ role: 'system', content: 'be brief.' }];
    for (const [k, user] of users.entries()) {
      const params = { seed: 100 + k, max_new_tokens: 24, temperature: 0.8 };
      const withSession = await turn(c, k === 0 ? { messages: [...history, { role: 'user', content: user }], session: 'conv-1', parameters: params } : { message: user, session: 'conv-1', parameters: params });
      history.push({ role: 'user', content: user });
      const stateless = await turn(c, { messages: history, parameters: params });
      t.equal(withSession.end.type, 'done', `turn ${k + 1} answered`);
      t.equal(withSession.end.text, stateless.end.text, `turn ${k + 1}: session reply = stateless reply`);
      t.equal(withSession.end.details.input_tokens, stateless.end.details.input_tokens, 'same prompt');
      if (k > 0) t.ok(withSession.end.details.cached_tokens > 0 && withSession.end.details.cached_tokens < withSession.end.details.input_tokens, `turn ${k + 1}: ${withSession.end.details.cached_tokens} of ${withSession.end.details.input_tokens} prompt tokens from the kept state`);
      history.push({ role: 'assistant', content: withSession.end.text });
    }
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    t.match(metrics, /^seqserve_chat_sessions 1$/m, 'sessions gauge');
    t.match(metrics, /^seqserve_chat_session_bytes [1-9][0-9]*$/m, 'session memory gauge');
    const info = await get(`${s.url}/sessions/conv-1`);
    t.equal(info.status, 200);
    t.equal(info.json.model, 'tinychat@1');
    t.equal(info.json.messages, history.length);
    t.ok(info.json.state_bytes > 0 && info.json.tokens > 0, 'a state is kept');
    // Full messages on an existing session: reuses the state too.
    const full = await turn(c, { messages: [...history, { role: 'user', content: 'bye' }], session: 'conv-1', parameters: GREEDY });
    t.ok(full.end.details.cached_tokens > 0, 'messages on a session reuse its state');
    const del = await fetch(`${s.url}/sessions/conv-1`, { method: 'DELETE' });
    t.equal(del.status, 200);
    t.equal(tf.memory().numTensors, baseline, 'DELETE frees the kept state');
    t.equal((await get(`${s.url}/sessions/conv-1`)).status, 404);
    t.equal((await fetch(`${s.url}/sessions/conv-1`, { method: 'DELETE' })).status, 404);
    const expired = await turn(c, { message: 'hi', session: 'conv-1', parameters: GREEDY });
    t.equal(expired.end.type, 'error');
    t.equal(expired.end.error.code, 'session_expired');
    t.equal(expired.end.error.param, 'session');
    const rebuilt = await turn(c, { messages: HISTORY, session: 'conv-1', parameters: GREEDY });
    t.equal(rebuilt.end.text, 'hello there.', 'a lost session is rebuilt from messages');
    t.equal(rebuilt.end.details.cached_tokens, 0);
    svc.sessions.delete('conv-1');
  });

  await t.test('LRU cap: the least recently used session is evicted and its tensors freed', async (t) => {
    const baseline = tf.memory().numTensors;
    const c = await wsClient(t, s.ws);
    for (const sid of ['a', 'b', 'c']) await turn(c, { messages: HISTORY, session: sid, parameters: GREEDY });
    t.equal(svc.sessions.size, 2, 'MAX_SESSIONS = 2');
    t.equal((await get(`${s.url}/sessions/a`)).status, 404, 'the oldest went');
    t.equal((await get(`${s.url}/sessions/c`)).status, 200);
    svc.sessions.delete('b');
    svc.sessions.delete('c');
    t.equal(tf.memory().numTensors, baseline, 'evicted and deleted sessions free their state');
  });

  await t.test('cancel ends a chat turn; closing the socket frees everything', async (t) => {
    const baseline = tf.memory().numTensors;
    const c = await wsClient(t, s.ws);
    // The tiny model ends its replies within a few tokens, so the cancel follows the frame at once.
    c.send({ type: 'chat', id: 'long', model: 'tinychat', messages: HISTORY, session: 'cx', parameters: { max_new_tokens: 1000, seed: 1 } });
    c.send({ type: 'cancel', id: 'long' });
    const done = await c.next((f) => f.type === 'done' && f.id === 'long');
    t.equal(done.details.finish_reason, 'cancelled');
    svc.sessions.delete('cx');
    c.ws.close();
    await waitFor(() => svc.inFlight === 0, 5000, 'turns to stop');
    t.equal(tf.memory().numTensors, baseline);
  });

  await t.test('bad input: an error frame naming the field; the socket stays open', async (t) => {
    // A Seq2Seq model to send a chat frame to.
    const job = normalizeTrainRequest({ name: 'tinys2s', task: 'translate', dataset: { rows: [{ source: 'a b', target: 'b a' }, { source: 'c d', target: 'd c' }] }, hyperparameters: { units: 8, embedding_dim: 4, epochs: 1, batch_size: 2 } });
    const outcome = await trainSeq2Seq({ ...job, task: 'translate' }, [{ source: 'a b', target: 'b a' }, { source: 'c d', target: 'd c' }], { onProgress: () => undefined, log: () => undefined, shouldStop: () => false });
    await publishSeq2Seq(new ModelStore(s.config.modelsDir), job, outcome, { dataset: { sha256: 'x', bytes: 1 }, backend: 'test' });
    outcome.model.dispose();
    const c = await wsClient(t, s.ws);
    await turn(c, { messages: HISTORY, session: 'mine', parameters: GREEDY });
    const cases: Array<[string, Record<string, unknown>, string, string | null]> = [
      ['empty messages', { messages: [] }, 'invalid_parameter', 'messages'],
      ['last message not from the user', { messages: [...HISTORY, { role: 'assistant', content: 'x' }] }, 'invalid_parameter', 'messages[2].role'],
      ['unknown role', { messages: [{ role: 'wizard', content: 'x' }] }, 'invalid_parameter', 'messages[0].role'],
      ['neither messages nor message', {}, 'invalid_parameter', 'messages'],
      ['message without session', { message: 'hi' }, 'invalid_parameter', 'message'],
      ['both messages and message', { messages: HISTORY, message: 'hi', session: 'mine' }, 'invalid_parameter', 'message'],
      ['session id too long', { messages: HISTORY, session: 'x'.repeat(65) }, 'invalid_parameter', 'session'],
      ['malformed session id', { messages: HISTORY, session: 'a b/c' }, 'invalid_parameter', 'session'],
      ['bad parameter', { messages: HISTORY, parameters: { top_p: 2 } }, 'invalid_parameter', 'parameters.top_p'],
      ['a Seq2Seq model', { model: 'tinys2s', messages: HISTORY }, 'model_task_mismatch', 'model'],
      ['a generate model', { model: 'tiny', messages: HISTORY }, 'model_task_mismatch', 'model'],
      ['unknown model', { model: 'nope', messages: HISTORY }, 'model_not_found', 'model'],
    ];
    for (const [what, frame, code, param] of cases) {
      const { end } = await turn(c, frame);
      t.equal(end.type, 'error', what);
      t.equal(end.error.code, code, `${what}: ${end.error.message}`);
      t.equal(end.error.param, param, `${what}: param`);
    }
    // A session of another model: the session belongs to tinychat.
    await publishTinyChatModel(s.config, 'otherchat', { epochs: 1 });
    const other = await turn(c, { model: 'otherchat', messages: HISTORY, session: 'mine' });
    t.equal(other.end.error?.code, 'invalid_parameter');
    t.equal(other.end.error?.param, 'session');
    t.match(other.end.error?.message, /tinychat/);
    t.equal((await get(`${s.url}/sessions/${'x'.repeat(65)}`)).json.error.param, 'id');
    const ok = await turn(c, { message: 'how are you?', session: 'mine', parameters: GREEDY });
    t.equal(ok.end.type, 'done', 'the socket and the session still work');
    svc.sessions.delete('mine');
  });

  await t.test('a new model version: the session is rebuilt from its messages, never reused', async (t) => {
    const c = await wsClient(t, s.ws);
    const first = await turn(c, { messages: HISTORY, session: 'ver', parameters: GREEDY });
    t.equal(first.end.details.model, 'tinychat@1');
    await publishTinyChatModel(s.config, 'tinychat', { epochs: 2 });
    const next = await turn(c, { message: 'bye', session: 'ver', parameters: GREEDY });
    t.equal(next.end.type, 'done');
    t.equal(next.end.details.model, 'tinychat@2');
    t.equal(next.end.details.cached_tokens, 0, 'the v1 state is not used for v2');
    const stateless = await turn(c, { messages: [...HISTORY, { role: 'assistant', content: first.end.text }, { role: 'user', content: 'bye' }], parameters: GREEDY });
    t.equal(next.end.text, stateless.end.text);
    svc.sessions.delete('ver');
  });

  await t.test('GRU chat models too; concurrent turns are batched and get their solo replies', async (t) => {
    await publishTinyChatModel(s.config, 'gruchat', { architecture: 'gru' });
    const c = await wsClient(t, s.ws);
    const solo = [];
    const convs = [HISTORY, [...HISTORY, { role: 'assistant', content: 'hello there.' }, { role: 'user', content: 'bye' }], [{ role: 'user', content: 'what is your name?' }]];
    for (const [k, messages] of convs.entries()) solo.push((await turn(c, { model: 'gruchat', messages, parameters: { seed: k, max_new_tokens: 20 } })).end);
    t.equal(solo[0].text, 'hello there.', 'the GRU model learned its reply');
    const lease = await s.app.services.cache.acquire('gruchat', 'chat');
    const peakBefore = lease.model.batcher.peakBatch;
    // One of them keeps a session (MAX_SESSIONS is 2 on this server).
    const together = await Promise.all(convs.map((messages, k) => turn(c, { model: 'gruchat', messages, ...(k === 0 ? { session: 'g0' } : {}), parameters: { seed: k, max_new_tokens: 20 } })));
    t.same(together.map((r) => r.end.text), solo.map((d) => d.text), 'batched replies = solo replies');
    t.ok(lease.model.batcher.peakBatch >= 2, `turns stepped together (peak batch ${lease.model.batcher.peakBatch}, was ${peakBefore})`);
    lease.release();
    // A session turn joining while others run: still its stateless reply.
    const next = await Promise.all([
      turn(c, { model: 'gruchat', message: 'how are you?', session: 'g0', parameters: GREEDY }),
      turn(c, { model: 'gruchat', messages: convs[2]!, parameters: GREEDY }),
    ]);
    const ref = await turn(c, { model: 'gruchat', messages: [...HISTORY, { role: 'assistant', content: solo[0].text }, { role: 'user', content: 'how are you?' }], parameters: GREEDY });
    t.equal(next[0].end.text, ref.end.text, JSON.stringify(next[0].end));
    t.ok(next[0].end.details.cached_tokens > 0);
    svc.sessions.delete('g0');
  });

  await t.test('POST /models/:name/evaluate on a chat model: assistant-token perplexity', async (t) => {
    const baseline = tf.memory().numTensors;
    const r = await post(`${s.url}/models/gruchat/evaluate`, { dataset: { rows: TINY_CHAT_ROWS.slice(0, 8) } });
    t.equal(r.status, 200, JSON.stringify(r.json));
    t.equal(r.json.task, 'chat');
    t.equal(r.json.examples, 8);
    t.ok(r.json.metrics.perplexity > 1 && r.json.metrics.perplexity < 3, `perplexity ${r.json.metrics.perplexity} on conversations it learned`);
    const bad = await post(`${s.url}/models/gruchat/evaluate`, { dataset: { rows: [{ text: 'x' }] } });
    t.equal(bad.status, 400);
    t.equal(tf.memory().numTensors, baseline);
  });
});
