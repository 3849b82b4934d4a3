// The shipped chat demo (models/freedroid-chat) loads from models/, records its data licence and the
// chat template, beats the retrieval baseline on held-out perplexity, and answers fresh messages with
// a turn that ends at <|end|>; a session gives the same replies as re-reading the history.
import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../../src/backend/select.ts';
import { ModelStore } from '../../src/store/registry.ts';
import { ModelCache } from '../../src/infer/model-cache.ts';
import { InferenceService } from '../../src/infer/service.ts';
import type { ChatMessage } from '../../src/schemas/chat.ts';

const store = new ModelStore(fileURLToPath(new URL('../../models', import.meta.url)));

t.test('models/freedroid-chat', async (t) => {
  await initBackend('wasm');
  const cache = new ModelCache(store, 1);
  const service = new InferenceService(cache, { maxNewTokens: 200, maxPromptChars: 8192, maxConcurrentGenerations: 8 });
  t.teardown(async () => {
    service.sessions.clear();
    await cache.clear();
  });
  const lease = await cache.acquire('freedroid-chat', 'chat');
  const m = lease.model.manifest;
  lease.release();
  t.match(String(m.license), /GPL-2\.0-or-later/, 'licence named in the manifest');
  t.match(String(m.data_package), /freedroidrpg-data/);
  t.same((m.chat_template as { markers: string[] }).markers, ['<|system|>', '<|user|>', '<|assistant|>', '<|end|>']);
  const { perplexity, retrieval_perplexity, unigram_perplexity } = m.metrics;
  t.ok(perplexity! < retrieval_perplexity! && perplexity! < unigram_perplexity!, `held-out perplexity ${perplexity} vs retrieval baseline ${retrieval_perplexity}`);

  const before = tf.memory().numTensors;
  const history: ChatMessage[] = [{ role: 'system', content: 'You are Bender.' }];
  let ended = 0;
  for (const [k, line] of ['Hello! I am new here.', 'What is wrong with you?', 'Where can I find the doctor?'].entries()) {
    const params = { temperature: 0.7, seed: 10 + k, max_new_tokens: 80 };
    const withSession = await service.chat({ model: 'freedroid-chat', session: 'demo', ...(k === 0 ? { messages: [...history, { role: 'user' as const, content: line }] } : { message: line }), parameters: params });
    history.push({ role: 'user' as const, content: line });
    const stateless = await service.chat({ model: 'freedroid-chat', messages: history, parameters: params });
    t.equal(withSession.text, stateless.text, `turn ${k + 1}: session = stateless (${JSON.stringify(withSession.text)})`);
    t.ok(withSession.text.trim().length > 0, 'a non-empty reply');
    if (withSession.details.finish_reason === 'eos') ended++;
    history.push({ role: 'assistant' as const, content: withSession.text });
  }
  t.ok(ended >= 2, `${ended}/3 replies ended with <|end|> within 80 tokens`);
  service.sessions.delete('demo');
  t.equal(tf.memory().numTensors, before, 'no tensors left behind');
});
