/** OpenAI request fields → service inputs (mapping.ts), and results → OpenAI objects (responses.ts). */
import t from 'tap';
import { ServiceError } from '../../src/errors.ts';
import { completionPrompt, planGeneration, prepareBody, toChatMessages, toOpenAIParam } from '../../src/http/v1/mapping.ts';
import { ChunkWriter, chatCompletion, completionLogprobs, finishReason, newEnvelope, usageOf } from '../../src/http/v1/responses.ts';
import type { ChatCompletionRequest, CompletionRequest } from '../../src/schemas/openai.ts';
import type { GenerationResult, TokenEvent } from '../../src/infer/generate.ts';

function refusal(fn: () => unknown): { code: string; param: string | null; message: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof ServiceError) return { code: err.code, param: err.param, message: err.message };
    throw err;
  }
  throw new Error('did not throw');
}

const limits = { maxNewTokens: 100 };
const chat = (over: Partial<ChatCompletionRequest> = {}): ChatCompletionRequest => ({ model: 'm', messages: [{ role: 'user', content: 'hi' }], ...over });
const completion = (over: Partial<CompletionRequest> = {}): CompletionRequest => ({ model: 'm', prompt: 'hi', ...over });

t.test('prepareBody: null is absent; unsupported fields refused by name unless a no-op', async (t) => {
  t.same(prepareBody({ model: 'm', n: null, stop: null, response_format: { type: 'text' }, tools: [], store: false }), { model: 'm' });
  for (const [field, value] of [['tools', [{ type: 'function' }]], ['tool_choice', 'auto'], ['response_format', { type: 'json_schema', json_schema: {} }], ['logit_bias', { 1: 2 }], ['audio', {}], ['echo', true], ['best_of', 3], ['suffix', 'x'], ['store', true], ['parallel_tool_calls', true]] as const) {
    const r = refusal(() => prepareBody({ model: 'm', [field]: value }));
    t.equal(r.code, 'unsupported_parameter', field);
    t.equal(r.param, field);
    t.match(r.message, new RegExp(`^${field} is not supported by this server: `));
  }
  const m = refusal(() => prepareBody({ messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: null, tool_calls: [] }] }));
  t.same([m.code, m.param], ['unsupported_parameter', 'messages[1].tool_calls']);
  t.same(prepareBody({ messages: [{ role: 'assistant', content: 'x', refusal: null, name: null }] }), { messages: [{ role: 'assistant', content: 'x' }] });
  t.equal(prepareBody('text'), 'text', 'a non-object is left to the schema');
});

t.test('toChatMessages: roles, order, text parts', async (t) => {
  t.same(
    toChatMessages([
      { role: 'developer', content: 'be brief' },
      { role: 'system', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] },
      { role: 'assistant', content: 'ok' },
      { role: 'user', content: [{ type: 'text', text: 'q' }] },
    ]),
    [{ role: 'developer', content: 'be brief' }, { role: 'system', content: 'ab' }, { role: 'assistant', content: 'ok' }, { role: 'user', content: 'q' }],
  );
  const cases: Array<[Parameters<typeof toChatMessages>[0], string, string]> = [
    [[], 'messages', 'invalid_parameter'],
    [[{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }], 'messages[1].role', 'invalid_parameter'],
    [[{ role: 'robot', content: 'a' }, { role: 'user', content: 'b' }], 'messages[0].role', 'invalid_parameter'],
    [[{ role: 'tool', content: 'a' }, { role: 'user', content: 'b' }], 'messages[0].role', 'unsupported_parameter'],
    [[{ role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'image_url' }] }], 'messages[0].content[1].type', 'unsupported_parameter'],
    [[{ role: 'user', content: [{ type: 'text' }] }], 'messages[0].content[0].text', 'invalid_parameter'],
    [[{ role: 'user', content: 'a', name: 'bob' }], 'messages[0].name', 'unsupported_parameter'],
  ];
  for (const [messages, param, code] of cases) {
    const r = refusal(() => toChatMessages(messages));
    t.same([r.param, r.code], [param, code], `${JSON.stringify(messages)} → ${param}`);
  }
});

t.test('completionPrompt: a string or one string in an array', async (t) => {
  t.equal(completionPrompt('a'), 'a');
  t.equal(completionPrompt(['b']), 'b');
  t.equal(refusal(() => completionPrompt(['a', 'b'])).param, 'prompt');
  t.equal(refusal(() => completionPrompt([])).param, 'prompt');
});

t.test('planGeneration: OpenAI fields → GenerationParameters', async (t) => {
  const p = planGeneration(chat({ max_tokens: 5, max_completion_tokens: 7, temperature: 0.5, top_p: 0.9, stop: 'x', seed: 3, n: 2, presence_penalty: 1, frequency_penalty: -1, logprobs: true, top_logprobs: 2 }), limits);
  t.same(p.parameters, { stop: ['x'], max_new_tokens: 7, temperature: 0.5, top_p: 0.9, presence_penalty: 1, frequency_penalty: -1, top_logprobs: 2, seed: 3 });
  t.equal(p.n, 2);
  t.same(p.logprobs, { top: 2 });
  t.same([p.seedOf(0), p.seedOf(1)], [3, 4]);
  t.same([p.stream, p.includeUsage], [false, false]);
  t.equal(refusal(() => planGeneration(chat({ stream_options: { include_usage: true } }), limits)).param, 'stream_options', 'stream_options needs stream: true');
  t.equal(planGeneration(chat({ stream: true, stream_options: { include_usage: true } }), limits).includeUsage, true);

  t.equal(planGeneration(chat({ temperature: 0 }), limits).parameters.do_sample, false, 'temperature 0 = greedy');
  t.equal(planGeneration(chat({ top_p: 0 }), limits).parameters.do_sample, false, 'top_p 0 = greedy');
  t.equal(planGeneration(completion(), limits, { seq2seq: true }).parameters.do_sample, false, 'Seq2Seq: greedy by default');
  t.equal(planGeneration(completion({ temperature: 0.7 }), limits, { seq2seq: true }).parameters.do_sample, true, 'Seq2Seq: sampling when asked');
  t.equal(planGeneration(completion(), limits).parameters.do_sample, undefined, 'LM: the service default (sampling)');
  t.equal(planGeneration(completion(), limits).parameters.max_new_tokens, undefined, 'no max_tokens: the service default');

  const wrap = planGeneration(completion({ seed: -1 }), limits);
  t.same([wrap.seedOf(0), wrap.seedOf(1)], [2 ** 32 - 1, 0], 'seeds reduced modulo 2^32');
  t.ok(Number.isInteger(planGeneration(completion(), limits).parameters.seed), 'a random seed when none is given');

  t.same(planGeneration(completion({ logprobs: 0 }), limits).logprobs, { top: 0 }, 'completions logprobs: 0 = the chosen tokens only');
  t.equal(planGeneration(completion({ logprobs: 0 }), limits).parameters.top_logprobs, undefined);
  t.equal(planGeneration(chat({ logprobs: false }), limits).logprobs, null);
});

t.test('planGeneration: bad values name the OpenAI field', async (t) => {
  const cases: Array<[ChatCompletionRequest | CompletionRequest, string]> = [
    [completion({ max_tokens: 101 }), 'max_tokens'],
    [chat({ max_completion_tokens: 101 }), 'max_completion_tokens'],
    [chat({ stop: ['a', 'b', 'c', 'd', 'e'] }), 'stop'],
    [chat({ stop: ['a', ''] }), 'stop[1]'],
    [chat({ stop: '' }), 'stop'],
    [chat({ top_logprobs: 2 }), 'top_logprobs'],
  ];
  for (const [req, param] of cases) t.equal(refusal(() => planGeneration(req, limits)).param, param, JSON.stringify(req));
});

t.test('toOpenAIParam: service parameter names → the fields the client sent', async (t) => {
  t.equal(toOpenAIParam('parameters.max_new_tokens', completion()), 'max_tokens');
  t.equal(toOpenAIParam('parameters.max_new_tokens', chat({ max_completion_tokens: 3 })), 'max_completion_tokens');
  t.equal(toOpenAIParam('parameters.temperature', chat()), 'temperature');
  t.equal(toOpenAIParam('parameters.top_logprobs', completion()), 'logprobs');
  t.equal(toOpenAIParam('parameters.stop[0]', chat({ stop: 'x' })), 'stop');
  t.equal(toOpenAIParam('parameters.stop[1]', chat({ stop: ['x', 'y'] })), 'stop[1]');
  t.equal(toOpenAIParam('model', chat()), 'model');
  t.equal(toOpenAIParam(null, chat()), null);
});

const result = (text: string, finish: GenerationResult['details']['finish_reason'], generated: number): GenerationResult => ({
  text, details: { finish_reason: finish, generated_tokens: generated, input_tokens: 4, seed: 1, elapsed_ms: 1, model: 'm@2' },
});
const ev = (index: number, text: string, logprob: number, top?: TokenEvent['top_logprobs']): TokenEvent => ({ index, text, token_id: index + 10, logprob, ...(top ? { top_logprobs: top } : {}) });

t.test('responses: objects, finish reasons, usage, logprobs', async (t) => {
  t.same([finishReason('eos'), finishReason('stop_sequence'), finishReason('length')], ['stop', 'stop', 'length']);
  t.same(usageOf([result('a', 'eos', 3), result('b', 'length', 5)]), { prompt_tokens: 4, completion_tokens: 8, total_tokens: 12 });
  const env = newEnvelope('chat', 'm@2');
  t.match(env.id, /^chatcmpl-[0-9a-f]{24}$/);
  t.ok(Math.abs(env.created - Date.now() / 1000) < 2, 'created in seconds');
  const events = [ev(0, 'h', -0.5, [{ token_id: 10, text: 'h', logprob: -0.5 }, { token_id: 3, text: 'é', logprob: -1 }]), ev(1, 'i', -0.25)];
  const c = chatCompletion(env, [{ result: result('hi', 'eos', 2), events }], true);
  t.same(c.choices[0], {
    index: 0,
    message: { role: 'assistant', content: 'hi', refusal: null },
    logprobs: {
      content: [
        { token: 'h', logprob: -0.5, bytes: [104], top_logprobs: [{ token: 'h', logprob: -0.5, bytes: [104] }, { token: 'é', logprob: -1, bytes: [195, 169] }] },
        { token: 'i', logprob: -0.25, bytes: [105], top_logprobs: [] },
      ],
      refusal: null,
    },
    finish_reason: 'stop',
  });
  t.same([c.object, c.model, c.system_fingerprint], ['chat.completion', 'm@2', 'm@2']);
  t.same(completionLogprobs(events, 7), { tokens: ['h', 'i'], token_logprobs: [-0.5, -0.25], top_logprobs: [{ h: -0.5, é: -1 }, {}], text_offset: [7, 8] });
});

t.test('ChunkWriter: role first, content, an empty finish delta, the usage chunk', async (t) => {
  const env = newEnvelope('chat', 'm@2');
  const w = new ChunkWriter('chat', env, 2, { logprobs: false, includeUsage: true, promptChars: 0 });
  const base = { id: env.id, object: 'chat.completion.chunk', created: env.created, model: 'm@2', system_fingerprint: 'm@2', usage: null };
  t.same(w.role(1), { ...base, choices: [{ index: 1, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] });
  t.same(w.token(0, ev(0, 'x', -1)), { ...base, choices: [{ index: 0, delta: { content: 'x' }, logprobs: null, finish_reason: null }] });
  t.equal(w.token(0, ev(1, '', -1)), undefined, 'an empty token without logprobs sends nothing');
  t.same(w.finish(0, result('x', 'length', 1)), { ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'length' }] });
  t.same(w.usage([result('x', 'length', 1), result('yz', 'eos', 2)]), { ...base, choices: [], usage: { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 } });

  const cw = new ChunkWriter('completion', newEnvelope('completion', 'm@2'), 1, { logprobs: true, includeUsage: false, promptChars: 3 });
  const first = cw.token(0, ev(0, 'ab', -1)) as { choices: Array<{ text: string; logprobs: { text_offset: number[] } }>; usage?: unknown };
  const second = cw.token(0, ev(1, 'c', -1)) as typeof first;
  t.same([first.choices[0]!.text, first.choices[0]!.logprobs.text_offset, second.choices[0]!.logprobs.text_offset], ['ab', [3], [5]], 'offsets advance over streamed text');
  t.notOk('usage' in first, 'no usage field without include_usage');
  t.same((cw.finish(0, result('abc', 'eos', 2)) as { choices: unknown[] }).choices, [{ index: 0, text: '', logprobs: null, finish_reason: 'stop' }]);
});
