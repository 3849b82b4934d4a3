/**
 * tokenizer.type "bpe" end to end: the request checks, a translate model trained by a real worker
 * process with separate source and target BPE tokenizers, its tokenizer files read by Hugging
 * Face's Tokenizers.js, and generation over HTTP and SSE in whole characters; plus a language
 * model trained in-process and served.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { loadTokenizer } from '../../src/tokenize/index.ts';
import { ModelStore } from '../../src/store/registry.ts';
import { publishLanguageModel } from '../../src/train/publish.ts';
import { normalizeTrainRequest } from '../../src/train/request.ts';
import { trainLanguageModel } from '../../src/train/train-lm.ts';
import { get, post, startServer, startWorker, waitForJob } from '../helpers/app.ts';

const DE = ['Schöne Grüße aus München', 'Die Straße ist groß', 'Ich esse gern Äpfel', 'Das Öl ist teuer', 'Wir fahren nach Köln', 'Der Bär schläft', 'Grüße an Jürgen'];
const EN = ['Greetings from Munich', 'The street is big', 'I like eating apples', 'The oil is expensive', 'We drive to Cologne', 'The bear sleeps', 'Greetings to Jürgen'];
const ROWS = Array.from({ length: 84 }, (_, i) => ({ source: `${DE[i % 7]} 😀 北京`, target: `${EN[i % 7]} 😀 北京` }));

async function sse(url: string, body: unknown): Promise<Array<{ event: string; data: any }>> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  return text.trim().split('\n\n').map((block) => {
    const [ev, data] = block.split('\n');
    return { event: ev!.slice('event: '.length), data: JSON.parse(data!.slice('data: '.length)) };
  });
}

t.test('bpe through the worker: translate trains, saves Hugging Face files, serves whole characters', async (t) => {
  const s = await startServer(t);
  startWorker(t, s.config);

  const base = { name: 'bad', task: 'translate', dataset: { rows: ROWS.slice(0, 4) } };
  for (const [what, tokenizer, param] of [
    ['max_vocab with bpe', { type: 'bpe', max_vocab: 500 }, 'tokenizer.max_vocab'],
    ['vocab_size with char', { type: 'char', vocab_size: 500 }, 'tokenizer.vocab_size'],
    ['vocab_size with the default type', { vocab_size: 500 }, 'tokenizer.vocab_size'],
  ] as const) {
    const r = await post(`${s.url}/train`, { ...base, tokenizer });
    t.equal(r.status, 400, what);
    t.equal(r.json.error.code, 'invalid_parameter', what);
    t.equal(r.json.error.param, param, what);
  }
  const small = await post(`${s.url}/train`, { ...base, tokenizer: { type: 'bpe', vocab_size: 100 } });
  t.equal(small.status, 400, 'vocab_size below 300');
  t.match(small.json.error.message, /vocab_size/);

  const job = await post(`${s.url}/train`, {
    name: 'de-en-bpe', task: 'translate', languages: { source: 'de', target: 'en' }, dataset: { rows: ROWS }, tokenizer: { type: 'bpe', vocab_size: 400 },
    hyperparameters: { units: 32, embedding_dim: 16, batch_size: 16, epochs: 8, learning_rate: 0.01, seed: 1, max_source_length: 32, max_target_length: 32 },
  });
  t.equal(job.status, 202);
  const done = await waitForJob(s.url, job.json.job_id, 120000);
  t.equal(done.status, 'completed', done.error ?? '');

  const model = (await get(`${s.url}/models/de-en-bpe`)).json;
  const manifest = model.versions[0].manifest;
  t.equal(manifest.tokenizer.type, 'bpe');
  t.ok(manifest.tokenizer.vocab_size > 260 && manifest.tokenizer.vocab_size <= 400, `vocab ${manifest.tokenizer.vocab_size}`);
  t.equal(manifest.tokenizer.vocab_size_requested, 400);
  t.equal((await get(`${s.url}/train/${job.json.job_id}`)).json.request.tokenizer.vocab_size, 400, 'the job shows the request as sent');

  const dir = path.join(s.config.modelsDir, 'de-en-bpe', String(model.versions[0].version));
  const target = loadTokenizer(JSON.parse(await readFile(path.join(dir, 'target-tokenizer.json'), 'utf8')));
  for (const [file, texts] of [['tokenizer.json', DE], ['target-tokenizer.json', EN]] as const) {
    const json = JSON.parse(await readFile(path.join(dir, file), 'utf8'));
    t.equal(json.model.type, 'BPE', `${file} is a Hugging Face BPE file`);
    const ours = loadTokenizer(json);
    const ref = new HfTokenizer(json, {});
    for (const text of [...texts, 'unseen ☃ Zeichen 東京']) {
      t.same(ref.encode(text, { add_special_tokens: false }).ids, ours.encode(text), `${file}: Tokenizers.js gives our ids for ${text}`);
    }
  }

  const source = `${DE[0]} 😀 北京`;
  const plain = await post(`${s.url}/translate`, { model: 'de-en-bpe', text: source, parameters: { max_new_tokens: 16 } });
  t.equal(plain.status, 200);
  t.ok(plain.json.translation.isWellFormed(), 'well-formed text');
  t.ok(plain.json.details.input_tokens < Array.from(source).length, `the source is fewer tokens (${plain.json.details.input_tokens}) than characters`);

  const events = await sse(`${s.url}/translate`, { model: 'de-en-bpe', text: source, stream: true, parameters: { max_new_tokens: 16 } });
  const tokens = events.filter((e) => e.event === 'token').map((e) => e.data);
  for (const { text } of tokens) t.ok(text.isWellFormed(), `streamed ${JSON.stringify(text)} is well-formed`);
  const streamed = tokens.map((e) => e.text as string).join('');
  t.equal(streamed, plain.json.translation, 'the stream spells the same translation');
  t.equal(streamed, target.decode(tokens.map((e) => e.token_id as number)), 'and what decoding its ids gives: bytes joined into characters, none cut');
});

t.test('bpe language model trained in-process generates from a prompt with unseen characters', async (t) => {
  const s = await startServer(t);
  const text = 'Die Straße in München ist groß. Grüße aus Köln! 北京很大。 '.repeat(30);
  const job = normalizeTrainRequest({
    name: 'lm-bpe', dataset: { text }, tokenizer: { type: 'bpe', vocab_size: 320 },
    hyperparameters: { units: 24, embedding_dim: 8, epochs: 2, sequence_length: 16, batch_size: 8, learning_rate: 0.01, seed: 3 },
  });
  const outcome = await trainLanguageModel(job, [text], { onProgress: () => undefined, log: () => undefined, shouldStop: () => false });
  t.equal(outcome.tokenizer.type, 'bpe');
  await publishLanguageModel(new ModelStore(s.config.modelsDir), job, outcome, { dataset: { sha256: 'test', bytes: text.length }, backend: 'test' });
  outcome.model.dispose();

  const prompt = 'Grüße ☃';
  const gen = await post(`${s.url}/generate`, { model: 'lm-bpe', prompt, parameters: { max_new_tokens: 12, seed: 1, do_sample: true } });
  t.equal(gen.status, 200, JSON.stringify(gen.json));
  t.equal(gen.json.details.input_tokens, 1 + outcome.tokenizer.encode(prompt).length, '<bos> + the prompt pieces');
  t.ok(gen.json.generated_text.isWellFormed());
  t.ok(gen.json.generated_text.length > 0, `generated ${JSON.stringify(gen.json.generated_text)}`);

  // A hot sampler on a barely trained model emits byte tokens the training text never had (valid
  // characters and broken ones): the stream must still be exactly what decoding the ids gives.
  const events = await sse(`${s.url}/generate`, { model: 'lm-bpe', prompt, stream: true, parameters: { max_new_tokens: 64, seed: 5, do_sample: true, temperature: 8 } });
  const tokens = events.filter((e) => e.event === 'token').map((e) => e.data);
  t.ok(tokens.filter((e) => e.token_id >= 4 && e.token_id < 260).length >= 3, 'byte tokens were sampled');
  for (const { text } of tokens) t.ok(text.isWellFormed(), `streamed ${JSON.stringify(text)} is well-formed`);
  t.equal(tokens.map((e) => e.text).join(''), outcome.tokenizer.decode(tokens.map((e) => e.token_id)), 'the stream is what decoding the ids gives');
});
