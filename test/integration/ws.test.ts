// The WebSocket protocol over a real server and a real ws client.
import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import { publishTinyModel, startServer, waitFor, wsClient } from '../helpers/app.ts';

t.test('WebSocket generation', async (t) => {
  const s = await startServer(t, { maxWsFrameBytes: 2048, maxNewTokens: 5000 });
  await publishTinyModel(s.config, 'tiny');

  await t.test('token frames then a done frame; several requests on one socket', async (t) => {
    const c = await wsClient(t, s.ws);
    c.send({ type: 'generate', id: 'a', model: 'tiny', prompt: 'the ', parameters: { max_new_tokens: 12, seed: 1 } });
    c.send({ type: 'generate', id: 'b', model: 'tiny', prompt: 'the d', parameters: { max_new_tokens: 7, seed: 2 } });
    const doneA = await c.next((f) => f.type === 'done' && f.id === 'a');
    const doneB = await c.next((f) => f.type === 'done' && f.id === 'b');
    for (const [id, done, n] of [['a', doneA, 12], ['b', doneB, 7]] as const) {
      const tokens = c.frames.filter((f) => f.type === 'token' && f.id === id);
      t.equal(tokens.length, n, `${id}: token frames`);
      t.same(tokens.map((f) => f.index), [...Array(n).keys()]);
      t.equal(tokens.map((f) => f.text).join(''), done.text, `${id}: tokens make the text`);
      t.equal(done.details.finish_reason, 'length');
      for (const f of tokens) if (typeof f.logprob !== 'number' || f.logprob > 0 || typeof f.token_id !== 'number') t.fail('bad token frame');
    }
    const again = await wsClient(t, s.ws);
    again.send({ type: 'generate', id: 'x', model: 'tiny', prompt: 'the ', parameters: { max_new_tokens: 12, seed: 1 } });
    t.equal((await again.next((f) => f.type === 'done')).text, doneA.text, 'same seed, same text');
  });

  await t.test('cancel frame stops a stream with finish_reason cancelled', async (t) => {
    const c = await wsClient(t, s.ws);
    c.send({ type: 'generate', id: 'long', model: 'tiny', prompt: 'the ', parameters: { max_new_tokens: 4000, do_sample: false } });
    await c.next((f) => f.type === 'token' && f.index >= 3);
    c.send({ type: 'cancel', id: 'long' });
    const done = await c.next((f) => f.type === 'done');
    t.equal(done.details.finish_reason, 'cancelled');
    t.ok(done.details.generated_tokens < 4000);
  });

  await t.test('closing the socket cancels its generations and frees their tensors', async (t) => {
    const baseline = tf.memory().numTensors;
    const c = await wsClient(t, s.ws);
    c.send({ type: 'generate', id: 'g1', model: 'tiny', prompt: 'the ', parameters: { max_new_tokens: 4000, do_sample: false } });
    c.send({ type: 'generate', id: 'g2', model: 'tiny', prompt: 'a ', parameters: { max_new_tokens: 4000, do_sample: false } });
    await c.next((f) => f.type === 'token' && f.index >= 2);
    c.ws.close();
    await waitFor(() => s.app.services.inference.inFlight === 0, 5000, 'generations to stop');
    t.equal(tf.memory().numTensors, baseline);
  });

  await t.test('bad frames get error frames and the socket stays usable', async (t) => {
    const c = await wsClient(t, s.ws);
    const cases: Array<[string, unknown, string, RegExp?]> = [
      ['not JSON', '{"type": "generate",', 'invalid_json'],
      ['not an object', '[1,2]', 'invalid_request'],
      ['unknown type', { type: 'dance', id: '1' }, 'unknown_frame_type', /generate, summarize, translate, qa, cancel, subscribe/],
      ['missing type', { id: '1' }, 'unknown_frame_type'],
      ['too large', { type: 'generate', id: 'big', model: 'tiny', prompt: 'x'.repeat(3000) }, 'payload_too_large', /2048/],
      ['cancel unknown id', { type: 'cancel', id: 'ghost' }, 'unknown_request_id', /ghost/],
      ['missing prompt', { type: 'generate', id: 'p', model: 'tiny' }, 'invalid_request', /prompt is required/],
      ['bad parameter', { type: 'generate', id: 'q', model: 'tiny', prompt: 'x', parameters: { top_p: 2 } }, 'invalid_parameter', /parameters\.top_p must be ≤ 1/],
      ['unknown field', { type: 'generate', id: 'r', model: 'tiny', prompt: 'x', extra: 1 }, 'invalid_request', /extra/],
      ['unknown model', { type: 'generate', id: 's', model: 'nope', prompt: 'x' }, 'model_not_found'],
      ['bad model name', { type: 'generate', id: 'u', model: '../x', prompt: 'x' }, 'invalid_model_name'],
    ];
    for (const [what, frame, code, msg] of cases) {
      const before = c.frames.length;
      c.send(frame);
      const err = await c.next((f) => c.frames.indexOf(f) >= before && f.type === 'error');
      t.equal(err.error.code, code, what);
      t.type(err.error.message, 'string');
      if (msg) t.match(err.error.message, msg, `${what}: message`);
    }
    const idErr = c.frames.find((f) => f.type === 'error' && f.error.code === 'model_not_found');
    t.equal(idErr.id, 's', 'errors carry the request id');
    c.send({ type: 'generate', id: 'ok', model: 'tiny', prompt: 'the ', parameters: { max_new_tokens: 3 } });
    t.equal((await c.next((f) => f.type === 'done' && f.id === 'ok')).details.generated_tokens, 3, 'still usable');
  });
});
