// /v1/chat/completions with the official `openai` client, unchanged, against a real server and a tiny
// trained chat model: JSON and SSE wire format, the client's stream helper, n, stop, seed, usage,
// logprobs, roles and text parts, every bad input as a 4xx naming the field, and an aborted stream.
import t, { type Test } from 'tap';
import * as tf from '@tensorflow/tfjs';
import OpenAI, { BadRequestError, NotFoundError } from 'openai';
import type { ChatCompletionChunk, ChatCompletionCreateParamsNonStreaming, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { publishTinyChatModel, publishTinyModel, startServer, waitFor } from '../helpers/app.ts';

async function rejects(t: Test, p: Promise<unknown>, cls: new (...a: never[]) => Error, code: string, param: string | null, what: string) {
  try {
    await p;
    t.fail(`${what}: expected ${cls.name}`);
  } catch (err) {
    t.type(err, cls, `${what}: ${cls.name}`);
    const e = err as InstanceType<typeof OpenAI.APIError>;
    t.equal(e.code, code, `${what}: code`);
    t.equal(e.param, param, `${what}: param`);
  }
}

const HI: ChatCompletionMessageParam[] = [
  { role: 'system', content: 'be brief.' },
  { role: 'user', content: 'hi' },
];

t.test('/v1/chat/completions with the openai client', async (t) => {
  const s = await startServer(t, { maxNewTokens: 400 });
  await publishTinyChatModel(s.config, 'tinychat');
  await publishTinyModel(s.config, 'tiny');
  const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const greedy: ChatCompletionCreateParamsNonStreaming = { model: 'tinychat', messages: HI, temperature: 0, max_tokens: 24 };

  await t.test('non-streamed: the wire format and the learned reply', async (t) => {
    const before = Math.floor(Date.now() / 1000);
    const r = await client.chat.completions.create(greedy);
    t.equal(r.object, 'chat.completion');
    t.match(r.id, /^chatcmpl-[0-9a-f]{24}$/);
    t.ok(r.created >= before && r.created <= Math.floor(Date.now() / 1000), 'created in seconds');
    t.equal(r.model, 'tinychat@1');
    t.equal(r.choices.length, 1);
    t.same(r.choices[0]!.message, { role: 'assistant', content: 'hello there.', refusal: null });
    t.equal(r.choices[0]!.finish_reason, 'stop');
    t.equal(r.choices[0]!.logprobs, null);
    t.equal(r.usage!.completion_tokens, 'hello there.'.length, 'one token per character');
    t.ok(r.usage!.prompt_tokens > 10);
    t.equal(r.usage!.total_tokens, r.usage!.prompt_tokens + r.usage!.completion_tokens);
    t.equal((await client.models.retrieve('tinychat')).id, 'tinychat', 'chat models are listed');
  });

  await t.test('streamed: role first, one id, empty finish delta, include_usage = non-streamed totals', async (t) => {
    const body = { model: 'tinychat', messages: HI, seed: 3, temperature: 0.9, max_tokens: 40 };
    const whole = await client.chat.completions.create(body);
    const stream = await client.chat.completions.create({ ...body, stream: true, stream_options: { include_usage: true } });
    const chunks: ChatCompletionChunk[] = [];
    for await (const c of stream) chunks.push(c);
    t.equal(new Set(chunks.map((c) => c.id)).size, 1, 'one id across all chunks');
    t.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.created === chunks[0]!.created));
    t.same(chunks[0]!.choices[0]!.delta, { role: 'assistant', content: '' }, 'the first delta carries the role');
    const usage = chunks.at(-1)!;
    t.same(usage.choices, []);
    t.same(usage.usage, whole.usage, 'usage totals equal the non-streamed run');
    const finish = chunks.at(-2)!;
    t.same(finish.choices[0]!.delta, {}, 'the final chunk has an empty delta');
    t.equal(finish.choices[0]!.finish_reason, whole.choices[0]!.finish_reason);
    t.ok(chunks.slice(0, -2).every((c) => c.choices[0]!.finish_reason === null), 'finish_reason null before');
    t.equal(chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''), whole.choices[0]!.message.content, 'streamed text = non-streamed text (same seed)');
  });

  await t.test('chat.completions.stream().finalChatCompletion()', async (t) => {
    const body = { model: 'tinychat', messages: HI, seed: 8, temperature: 1, max_tokens: 30 };
    const whole = await client.chat.completions.create(body);
    const runner = client.chat.completions.stream(body);
    let deltas = '';
    runner.on('content', (delta) => (deltas += delta));
    const final = await runner.finalChatCompletion();
    t.equal(final.choices[0]!.message.content, whole.choices[0]!.message.content);
    t.equal(final.choices[0]!.message.role, 'assistant');
    t.equal(final.choices[0]!.finish_reason, whole.choices[0]!.finish_reason);
    t.equal(deltas, whole.choices[0]!.message.content, 'content events');
  });

  await t.test('n choices with seeds; stop never in the output; seed reproducibility', async (t) => {
    const body = { model: 'tinychat', messages: HI, seed: 40, temperature: 1.5, max_tokens: 20 };
    const r = await client.chat.completions.create({ ...body, n: 3 });
    t.same(r.choices.map((c) => c.index), [0, 1, 2]);
    for (let i = 0; i < 3; i++) {
      const one = await client.chat.completions.create({ ...body, seed: 40 + i });
      t.equal(r.choices[i]!.message.content, one.choices[0]!.message.content, `choice ${i} = seed ${40 + i} alone`);
    }
    t.equal((await client.chat.completions.create(body)).choices[0]!.message.content, r.choices[0]!.message.content, 'same seed, same reply');

    const stream = await client.chat.completions.create({ ...body, n: 3, stream: true });
    const texts = ['', '', ''];
    const roles = [0, 0, 0];
    for await (const c of stream) {
      for (const ch of c.choices) {
        if (ch.delta.role) roles[ch.index]!++;
        texts[ch.index] += ch.delta.content ?? '';
      }
    }
    t.same(roles, [1, 1, 1], 'each choice opens with one role delta');
    t.same(texts, r.choices.map((c) => c.message.content), 'streamed n = non-streamed n');

    for (const [stop, expected] of [['there', 'hello '], [['zz', ' there'], 'hello']] as const) {
      const cut = await client.chat.completions.create({ ...greedy, stop: stop as string | string[] });
      t.equal(cut.choices[0]!.message.content, expected, `stop ${JSON.stringify(stop)} ends before it`);
      t.equal(cut.choices[0]!.finish_reason, 'stop');
      let text = '';
      for await (const c of await client.chat.completions.create({ ...greedy, stop: stop as string | string[], stream: true })) text += c.choices[0]?.delta.content ?? '';
      t.equal(text, expected, 'streamed: the stop is not sent');
    }
    const short = await client.chat.completions.create({ ...greedy, max_completion_tokens: 3 });
    t.same([short.choices[0]!.message.content, short.choices[0]!.finish_reason], ['hel', 'length']);
  });

  await t.test('logprobs and top_logprobs', async (t) => {
    const r = await client.chat.completions.create({ ...greedy, logprobs: true, top_logprobs: 2 });
    const content = r.choices[0]!.logprobs!.content!;
    t.equal(content.map((c) => c.token).join(''), r.choices[0]!.message.content, 'tokens make the text');
    for (const c of content) {
      t.ok(c.logprob <= 0);
      t.same(c.bytes, [...Buffer.from(c.token)]);
      t.ok(c.top_logprobs.length >= 1 && c.top_logprobs.length <= 2);
      t.ok(Math.abs(c.top_logprobs[0]!.logprob - c.logprob) < 1e-6, 'greedy: the chosen token is the most likely');
    }
    let streamed = 0;
    for await (const c of await client.chat.completions.create({ ...greedy, logprobs: true, stream: true })) streamed += c.choices[0]?.logprobs?.content?.length ?? 0;
    t.equal(streamed, content.length, 'streamed chunks carry the same number of token logprobs');
  });

  await t.test('developer role and text parts are the same conversation', async (t) => {
    const asParts = await client.chat.completions.create({
      ...greedy,
      messages: [
        { role: 'developer', content: [{ type: 'text', text: 'be ' }, { type: 'text', text: 'brief.' }] },
        { role: 'user', content: [{ type: 'text', text: 'hi' }] },
      ],
    });
    const asSystem = await client.chat.completions.create({ ...greedy, messages: [{ role: 'system', content: 'be brief.' }, { role: 'user', content: 'hi' }] });
    t.equal(asParts.choices[0]!.message.content, asSystem.choices[0]!.message.content);
    t.equal(asParts.usage!.prompt_tokens, asSystem.usage!.prompt_tokens);
  });

  await t.test('bad input: 4xx naming the field', async (t) => {
    const c = (over: Record<string, unknown>) => client.chat.completions.create({ ...greedy, ...over } as ChatCompletionCreateParamsNonStreaming);
    await rejects(t, c({ messages: [] }), BadRequestError, 'invalid_parameter', 'messages', 'empty messages');
    await rejects(t, c({ messages: [...HI, { role: 'assistant', content: 'x' }] }), BadRequestError, 'invalid_parameter', 'messages[2].role', 'last message not from the user');
    await rejects(t, c({ messages: [{ role: 'robot', content: 'x' }, { role: 'user', content: 'hi' }] }), BadRequestError, 'invalid_parameter', 'messages[0].role', 'unknown role');
    await rejects(t, c({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'http://x/y.png' } }] }] }), BadRequestError, 'unsupported_parameter', 'messages[0].content[0].type', 'an image part');
    await rejects(t, c({ messages: [{ role: 'tool', content: 'x', tool_call_id: 'a' }, { role: 'user', content: 'hi' }] }), BadRequestError, 'unsupported_parameter', 'messages[0].tool_call_id', 'a tool message');
    await rejects(t, c({ n: 9 }), BadRequestError, 'invalid_parameter', 'n', 'n over the cap');
    await rejects(t, c({ stop: ['a', 'b', 'c', 'd', 'e'] }), BadRequestError, 'invalid_parameter', 'stop', 'five stop strings');
    await rejects(t, c({ stop: [''] }), BadRequestError, 'invalid_parameter', 'stop[0]', 'an empty stop string');
    await rejects(t, c({ max_tokens: 0 }), BadRequestError, 'invalid_parameter', 'max_tokens', 'max_tokens 0');
    await rejects(t, c({ max_completion_tokens: 401 }), BadRequestError, 'invalid_parameter', 'max_completion_tokens', 'over MAX_NEW_TOKENS');
    await rejects(t, c({ top_logprobs: 3 }), BadRequestError, 'invalid_parameter', 'top_logprobs', 'top_logprobs without logprobs');
    await rejects(t, c({ tools: [{ type: 'function', function: { name: 'f' } }] }), BadRequestError, 'unsupported_parameter', 'tools', 'tools');
    await rejects(t, c({ response_format: { type: 'json_schema', json_schema: { name: 'x', schema: {} } } }), BadRequestError, 'unsupported_parameter', 'response_format', 'json_schema');
    await rejects(t, c({ model: 'nope' }), NotFoundError, 'model_not_found', 'model', 'unknown model');
    await rejects(t, c({ model: 'tiny' }), BadRequestError, 'model_task_mismatch', 'model', 'a language model without a chat template');
    t.ok((await c({ response_format: { type: 'text' }, user: 'u-1', max_tokens: 2 })).choices[0], 'no-op values are accepted');
  });

  await t.test('an aborted chat stream frees its batch row at once', async (t) => {
    const baseline = tf.memory().numTensors;
    const abort = new AbortController();
    const stream = await client.chat.completions.create({ model: 'tinychat', messages: HI, max_tokens: 400, temperature: 2, seed: 1, stream: true }, { signal: abort.signal });
    let seen = 0;
    try {
      for await (const c of stream) {
        if (c.choices[0]?.delta.content) seen++;
        if (seen === 2) abort.abort();
      }
    } catch (err) {
      t.type(err, OpenAI.APIUserAbortError);
    }
    t.equal(seen, 2, 'nothing after the abort');
    await waitFor(() => s.app.services.inference.inFlight === 0, 5000, 'in-flight to return to 0');
    t.equal(s.app.services.inference.inFlight, 0);
    t.ok(tf.memory().numTensors <= baseline, 'no tensors left behind');
  });
});
