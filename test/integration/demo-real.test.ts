// The shipped real-data demos, trained by `npm run train:demo:real`: models/man-summary (Debian manual
// pages) and models/de-en (Debian trans-de-en sentence pairs). Each manifest names the packages and
// licences and carries held-out figures that beat the copy-the-input, lead-sentence and retrieval
// baselines on the same rows; each loads through the service's model cache and answers text it never
// saw with the default parameters (summarize: 4 beams, known words only; de-en: its word-alignment
// translator, which its job measured better than its network), leaving no tensors behind.
import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../../src/backend/select.ts';
import { ModelStore } from '../../src/store/registry.ts';
import { ModelCache } from '../../src/infer/model-cache.ts';
import { runSeq2Seq } from '../../src/infer/seq2seq-generate.ts';
import { resolveSeq2SeqParams } from '../../src/infer/params.ts';
import { seq2seqDecodingDefaults } from '../../src/tasks/seq2seq-forward.ts';
import { defaultTranslator } from '../../src/tasks/word-translation.ts';

const limits = { maxNewTokens: 256, maxPromptChars: 100000 };
const store = new ModelStore(fileURLToPath(new URL('../../models', import.meta.url)));

// Descriptions written for this test (not from the packages): what each does is in its first words.
const FRESH: Array<[string, RegExp]> = [
  ['The strlen() function calculates the length of the string pointed to by s, excluding the terminating null byte.', /length|string/i],
  ['The socket() function creates an endpoint for communication and returns a file descriptor that refers to that endpoint.', /socket|endpoint|communication/i],
  ['The EVP_CIPHER_CTX_new() function allocates and initialises a cipher context for the EVP symmetric cipher routines.', /cipher|EVP|context/i],
];

t.test('models/man-summary: provenance, held-out figures above every baseline, and fresh summaries', async (t) => {
  await initBackend('wasm');
  const cache = new ModelCache(store, 1);
  const lease = await cache.acquire('man-summary', 'summarize');
  const m = lease.model;
  const manifest = m.manifest as Record<string, any>;
  t.equal(manifest.task, 'summarize');
  for (const p of ['manpages', 'manpages-dev', 'libssl-doc', 'perl-doc']) {
    t.ok(manifest.data_packages.some((d: { package: string; license: string }) => d.package === p && d.license.length > 0), `${p} and its licence are recorded`);
  }
  t.match(manifest.trained_by, /train:demo:real -- summarize/);
  t.same(manifest.request_overrides, {}, 'trained with the service defaults');
  const h = manifest.held_out;
  t.ok(h.rows >= 200, `${h.rows} held-out rows`);
  t.ok(h.model.rougeL > h.retrieval.rougeL, `held-out ROUGE-L ${h.model.rougeL} > retrieval ${h.retrieval.rougeL}`);
  t.ok(h.model.rougeL > h.lead.rougeL + 0.05, `> lead ${h.lead.rougeL} + 0.05`);
  t.ok(h.model.rougeL > h.copy_input.rougeL, `> copy the input ${h.copy_input.rougeL}`);
  t.equal(manifest.quality_warning ?? null, null, 'no quality warning on its own validation split either');

  const before = tf.memory().numTensors;
  const lexicon = (await m.lexicon())!;
  t.ok(lexicon.size > 1000, `the lexicon holds the training summaries' ${lexicon.size} words`);
  const params = resolveSeq2SeqParams(undefined, limits, 128, seq2seqDecodingDefaults(m.targetTokenizer.type, 'summarize'));
  t.match(params, { num_beams: 4, known_words_only: true }, 'the defaults a request gets');
  let topical = 0;
  for (const [source, about] of FRESH) {
    const out = await runSeq2Seq(m, { source }, params);
    const words = out.text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
    t.ok(words.length >= 2 && words.length <= 20, `a one-line summary: ${JSON.stringify(out.text)}`);
    const own = new Set(source.toLowerCase().match(/[\p{L}\p{N}]+/gu));
    t.ok(words.every((w) => lexicon.isWord(w) || own.has(w)), `known words only: ${JSON.stringify(out.text)}`);
    if (about.test(out.text)) topical++;
  }
  t.ok(topical >= 2, `${topical}/${FRESH.length} summaries name what the text is about`);
  t.equal(tf.memory().numTensors, before, 'no tensors left behind');
  lease.release();
  await cache.clear();
});

// German sentences written for this test (not from the package), with a word their translation needs.
const FRESH_DE: Array<[string, RegExp]> = [
  ['Das Wetter ist heute sehr schön.', /weather/i],
  ['Mein Bruder wohnt in einer kleinen Stadt.', /brother/i],
  ['Die Kinder spielen im Garten.', /children/i],
  ['Wir trinken am Morgen Kaffee.', /coffee/i],
  ['Wo ist der Bahnhof?', /station/i],
];

t.test('models/de-en: provenance, held-out BLEU ≥ 1.5 × the translation memory, and fresh translations', async (t) => {
  await initBackend('wasm');
  const cache = new ModelCache(store, 1);
  const lease = await cache.acquire('de-en', 'translate');
  const m = lease.model;
  const manifest = m.manifest as Record<string, any>;
  t.equal(manifest.task, 'translate');
  t.same(manifest.languages, { source: 'de', target: 'en' });
  t.ok(manifest.data_packages.some((d: { package: string; license: string }) => d.package === 'trans-de-en' && /GPL-2\+/.test(d.license)), 'trans-de-en and its licence are recorded');
  t.match(manifest.trained_by, /train:demo:real -- translate/);
  t.same(manifest.request_overrides, {}, 'trained with the service defaults');
  t.same(manifest.decoding, { translator: 'word_alignment' }, 'its job measured word alignment better than the network');
  t.ok(manifest.metrics.word_alignment_bleu > manifest.metrics.neural_bleu, `validation: word alignment ${manifest.metrics.word_alignment_bleu} vs network ${manifest.metrics.neural_bleu}`);
  const h = manifest.held_out;
  t.ok(h.rows >= 500, `${h.rows} held-out rows`);
  t.ok(h.model.bleu >= 1.5 * h.retrieval.bleu, `held-out BLEU ${h.model.bleu} ≥ 1.5 × translation memory ${h.retrieval.bleu}`);
  t.ok(h.model.bleu > h.copy_input.bleu && h.model.chrf > h.copy_input.chrf, `> copy the input ${h.copy_input.bleu} / ${h.copy_input.chrf}`);
  t.ok(h.model.chrf > h.retrieval.chrf, `chrF ${h.model.chrf} > translation memory ${h.retrieval.chrf}`);
  t.equal(manifest.quality_warning ?? null, null);

  const before = tf.memory().numTensors;
  t.ok(await m.wordTranslator(), 'word-translation.json is loaded');
  const params = resolveSeq2SeqParams(undefined, limits, 128, { ...seq2seqDecodingDefaults(m.targetTokenizer.type, 'translate'), translator: defaultTranslator(manifest as never) });
  t.match(params, { num_beams: 1, translator: 'word_alignment' }, 'the defaults a request gets');
  let right = 0;
  for (const [source, needs] of FRESH_DE) {
    const out = await runSeq2Seq(m, { source }, params);
    t.equal(out.details.finish_reason, 'eos');
    if (needs.test(out.text)) right++;
    else t.comment(`${source} → ${out.text}`);
  }
  t.ok(right >= FRESH_DE.length - 1, `${right}/${FRESH_DE.length} fresh sentences carry the word they need`);
  const neural = await runSeq2Seq(m, { source: FRESH_DE[0]![0] }, { ...params, translator: 'neural' });
  t.type(neural.text, 'string', 'the network still answers translator "neural"');
  t.equal(tf.memory().numTensors, before, 'no tensors left behind');
  lease.release();
  await cache.clear();
});
