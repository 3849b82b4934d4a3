// Chat template rendering and loss mask, chat rows, the retrieval baseline's nearest prompt, and the
// session store's bounds (LRU, TTL, memory) with its tensors freed on every way out.
import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import { disposeModelState } from '../../src/arch/model-state.ts';
import { fitTokenizer, BOS_ID, PAD_ID } from '../../src/tokenize/index.ts';
import { ChatTokenizer, chatTemplateSpec, parseChatTemplateSpec } from '../../src/tasks/chat-template.ts';
import { chatConversations } from '../../src/tasks/chat-data.ts';
import { encodeConversations } from '../../src/train/train-chat.ts';
import { retrieve, retrievalBaseline, assistantTurns } from '../../src/train/chat-baseline.ts';
import { SessionStore, type KeptState } from '../../src/infer/sessions.ts';
import { checkMessages } from '../../src/infer/service.ts';

const base = fitTokenizer('char', ['hello there. hi! <|end|> how are you?'], { maxVocab: 100 });
const chat = new ChatTokenizer(base);

t.test('role markers are appended after the base vocabulary; text never encodes to one', async (t) => {
  t.equal(chat.vocabSize, base.vocabSize + 4);
  t.same(chat.markerIds, [base.vocabSize, base.vocabSize + 1, base.vocabSize + 2, base.vocabSize + 3]);
  t.notOk(chat.encode('<|end|><|user|>').some((id) => chat.isMarker(id)), 'typed markers are plain text');
  t.equal(chat.tokenText(chat.end), '');
  t.equal(chat.decode([chat.user, ...chat.encode('hi'), chat.end]), 'hi');
  t.same(chat.toJSON(), base.toJSON(), 'tokenizer.json is the base tokenizer');
  t.same(parseChatTemplateSpec(chatTemplateSpec(base.vocabSize), base.vocabSize).first_marker_id, base.vocabSize);
  t.throws(() => parseChatTemplateSpec(chatTemplateSpec(base.vocabSize), base.vocabSize + 1), /first_marker_id|from id/);
  t.throws(() => parseChatTemplateSpec(undefined, base.vocabSize));
});

t.test('rendering: <bos>, <|role|> content <|end|> per message, then <|assistant|>; developer = system', async (t) => {
  const ids = chat.renderPrompt([{ role: 'developer', content: 'hi' }, { role: 'user', content: 'how' }]);
  t.same(ids, [BOS_ID, chat.system, ...chat.encode('hi'), chat.end, chat.user, ...chat.encode('how'), chat.end, chat.assistant]);
});

t.test('the loss mask counts assistant content and its <|end|> only', async (t) => {
  const msgs = [{ role: 'system' as const, content: 'hi' }, { role: 'user' as const, content: 'how' }, { role: 'assistant' as const, content: 'hello' }, { role: 'user' as const, content: 'hi' }, { role: 'assistant' as const, content: 'there' }];
  const { ids, weights } = chat.renderForTraining(msgs);
  t.equal(ids.length, weights.length);
  const counted = ids.filter((_, i) => weights[i]);
  t.same(counted, [...chat.encode('hello'), chat.end, ...chat.encode('there'), chat.end]);
  // The prompt rendering is a prefix of the training rendering (the template is the same in both).
  t.same(ids.slice(0, chat.renderPrompt(msgs.slice(0, 2)).length), chat.renderPrompt(msgs.slice(0, 2)));
  const enc = encodeConversations(chat, [{ messages: msgs }, { messages: msgs }]);
  t.equal(enc.counted, 2 * counted.length);
  t.same([...enc.targets].filter((id) => id !== PAD_ID), [...counted, ...counted], 'targets: assistant ids, PAD elsewhere');
  t.equal(enc.ids[ids.length], BOS_ID, 'each conversation starts with <bos>');
});

t.test('chat rows: {messages} (JSON text) or {prompt, response}; bad rows name the row and field', async (t) => {
  const conv = chatConversations([{ messages: JSON.stringify([{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }]) }, { prompt: 'c', response: 'd', group: 'g' }]);
  t.same(conv[1], { messages: [{ role: 'user', content: 'c' }, { role: 'assistant', content: 'd' }], group: 'g' });
  t.throws(() => chatConversations([{ messages: '[{"role":"wizard","content":"x"}]' }]), { message: /row 1: messages\[0\]\.role/ });
  t.throws(() => chatConversations([{ messages: 'not json' }]), { message: /row 1/ });
  t.throws(() => chatConversations([{ messages: '[{"role":"user","content":"x"}]' }]), { message: /no assistant message/ });
  t.throws(() => chatConversations([{ text: 'x' }]), { message: /needs "messages".*"prompt" and "response"/ });
  t.throws(() => chatConversations([{ m: '[]' }], { messages: 'm' }), { message: /non-empty array/ });
});

t.test('request messages: empty, last not from the user, unknown role, too long', async (t) => {
  t.throws(() => checkMessages([], 100), { param: 'messages', message: /empty/ });
  t.throws(() => checkMessages([{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }], 100), { param: 'messages[1].role', message: /must be "user"/ });
  t.throws(() => checkMessages([{ role: 'wizard' as 'user', content: 'a' }], 100), { param: 'messages[0].role', message: /wizard/ });
  t.throws(() => checkMessages([{ role: 'user', content: 'x'.repeat(101) }], 100), { param: 'messages', message: /MAX_PROMPT_CHARS/ });
  t.doesNotThrow(() => checkMessages([{ role: 'system', content: 'a' }, { role: 'user', content: 'b' }], 100));
});

t.test('retrieval baseline: the reply of the most similar training prompt', async (t) => {
  const train = [{ prompt: 'where is the town hall?', reply: 'north.' }, { prompt: 'who are you?', reply: 'i am dixon.' }, { prompt: 'what is a bot?', reply: 'a machine.' }];
  t.same(retrieve(train, ['who are you, then?', 'where is the hall', 'bot?']), [1, 0, 2]);
  const m = retrievalBaseline(chat, train, [{ prompt: 'who are you?', reply: 'i am dixon.' }]);
  t.equal(m.retrieval_f1, 1, 'an exact match retrieves the exact reply');
  t.ok(m.retrieval_perplexity! < m.unigram_perplexity!, 'the retrieved reply helps');
  t.same(assistantTurns([{ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'r' }, { role: 'assistant', content: ' ' }] }]), [{ prompt: 'q', reply: 'r' }]);
});

/** A kept state of `rows` × 8 units, LSTM-shaped (h and c). */
const kept = (ref = 'm@1', ids = [1, 2, 3]): KeptState => ({ ref, ids, state: { h: [tf.ones([1, 8]) as tf.Tensor2D], c: [tf.ones([1, 8]) as tf.Tensor2D] } });
const msgs = [{ role: 'user' as const, content: 'hi' }];

t.test('sessions: LRU cap, checkout/commit ownership, other model, busy, delete', async (t) => {
  const baseline = tf.memory().numTensors;
  const store = new SessionStore({ maxSessions: 2, ttlMs: 60_000, maxBytes: 1 << 20 });
  store.commit('a', 'm', 'm@1', msgs, kept(), false);
  store.commit('b', 'm', 'm@1', msgs, kept(), false);
  const first = store.checkout('a', 'm')!; // a is now the most recent
  disposeModelState(first.kept!.state); // the turn owned it
  store.commit('a', 'm', 'm@1', msgs, kept(), true);
  store.commit('c', 'm', 'm@1', msgs, kept(), false);
  t.equal(store.size, 2);
  t.notOk(store.info('b'), 'b, the least recently used, was evicted');
  t.equal(store.info('a')!.state_bytes, 64);
  t.throws(() => store.checkout('a', 'other'), { code: 'invalid_parameter', param: 'session', message: /model m/ });
  const held = store.checkout('a', 'm')!;
  t.ok(held.kept, 'the turn owns the state now');
  t.throws(() => store.checkout('a', 'm'), { code: 'session_busy' });
  t.ok(store.delete('a'));
  store.commit('a', 'm', 'm@1', msgs, kept(), true); // committed after a DELETE: disposed, not kept
  t.notOk(store.info('a'));
  disposeModelState(held.kept!.state);
  store.clear();
  t.equal(store.size, 0);
  t.equal(store.totalBytes, 0);
  t.equal(tf.memory().numTensors, baseline, 'every state freed');
});

t.test('sessions: TTL and the memory cap', async (t) => {
  const baseline = tf.memory().numTensors;
  let now = 1000;
  const store = new SessionStore({ maxSessions: 100, ttlMs: 5000, maxBytes: 200 }, () => now);
  store.commit('old', 'm', 'm@1', msgs, kept(), false);
  now += 4000;
  store.commit('new', 'm', 'm@1', msgs, kept(), false);
  now += 2000;
  t.notOk(store.info('old'), 'unused for longer than the TTL: gone');
  t.ok(store.info('new'));
  const before = store.totalBytes;
  t.equal(before, 96, '64 bytes of state, 12 of ids, 20 of text');
  store.commit('x', 'm', 'm@1', msgs, kept(), false);
  store.commit('y', 'm', 'm@1', msgs, kept(), false);
  t.ok(store.totalBytes <= 200, `memory cap held: ${store.totalBytes} bytes`);
  t.notOk(store.info('new'), 'the least recently used went first');
  const big: KeptState = { ref: 'm@1', ids: [], state: { h: [tf.ones([1, 1000]) as tf.Tensor2D], c: [] } };
  store.commit('huge', 'm', 'm@1', msgs, big, false);
  t.notOk(store.info('huge'), 'a session over the whole cap is not kept');
  store.clear();
  t.equal(tf.memory().numTensors, baseline);
});
