// The shipped demo language models load from models/ and write recognisably English text at temperature 0.8.
import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../../src/backend/select.ts';
import { ModelStore } from '../../src/store/registry.ts';
import { ModelCache } from '../../src/infer/model-cache.ts';
import { generateText } from '../../src/infer/generate.ts';
import { resolveParams } from '../../src/infer/params.ts';

// Frequent words of English (and of the KJV): a sample of real text is mostly made of them.
const COMMON = new Set(`the and of unto he his they that in to i said lord a with be shall all was for them him thou not is it thy
thee which my me god came were upon land before out also this from as by when have are you then into an son sons children israel
moses pharaoh egypt people house day days made did her she went go let come there their so up we had hath at on but or no over men
man king earth place even will what behold say saith brought took father fathers name hand one two three seven am if after every
because set make now our may do these those bring give gave given heard spake called eat bread water hundred years year things
thing abraham jacob joseph aaron isaac sarah thus commanded according among against great good evil sent put again mount done
tabernacle sea way wife brethren blessed ye your own well camp morning night wilderness servant servants brother daughter
daughters shalt wilt art went forth under about who whom whose more than other first second heaven field cattle gold silver`.split(/\s+/));

// kjv-char: LSTM (npm run train:demo); kjv-gpt: Transformer served through its KV cache (npm run train:demo:gpt).
// Perplexity bounds: kjv-char 2.71, kjv-gpt 5.46 when trained (each in ~18-21 minutes on this corpus).
// kjv-gpt reads at most 64 positions (its context_length), so a reply ends after ~50 characters
// (finish_reason "length", docs/transformer.md): it gets more prompts for a sample of similar size.
const PROMPTS = ['And God said', 'And Moses', 'In the beginning', 'And the LORD spake', 'And Jacob', 'Then Pharaoh', 'And it came to pass', 'And the children of Israel'];
for (const [name, architecture, maxPerplexity, prompts, minWords] of [['kjv-char', 'lstm', 4, 3, 100], ['kjv-gpt', 'transformer', 6, 8, 60]] as const) {
  t.test(`models/${name}`, async (t) => {
    await initBackend('wasm');
    const cache = new ModelCache(new ModelStore(fileURLToPath(new URL('../../models', import.meta.url))), 1);
    const lease = await cache.acquire(name);
    const m = lease.model;
    t.equal(m.manifest.task, 'generate');
    t.equal(m.manifest.architecture, architecture);
    t.match(String(m.manifest.license), /public domain/i, 'licence named in the manifest');
    t.ok(m.manifest.metrics.perplexity < maxPerplexity, `held-out perplexity ${m.manifest.metrics.perplexity}`);
    const bigram = m.manifest.metrics.bigram_perplexity;
    if (bigram !== undefined) t.ok(m.manifest.metrics.perplexity < bigram, `beats the bigram baseline (${bigram})`);
    const before = tf.memory().numTensors;
    let words: string[] = [];
    for (const [i, prompt] of PROMPTS.slice(0, prompts).entries()) {
      const seed = i + 1;
      const out = await generateText(m, prompt, resolveParams({ max_new_tokens: 300, temperature: 0.8, seed }, { maxNewTokens: 300, maxPromptChars: 100 }));
      words = words.concat(out.text.toLowerCase().split(/[^a-z]+/).filter(Boolean));
    }
    t.equal(tf.memory().numTensors, before, 'no tensors left behind');
    const share = words.filter((w) => COMMON.has(w)).length / words.length;
    t.ok(words.length > minWords, `${words.length} words`);
    t.ok(share > 0.5, `${(share * 100).toFixed(0)}% of the generated words are common English words`);
    lease.release();
    await cache.clear();
  });
}
