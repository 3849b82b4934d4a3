// POST /models/:name/evaluate on a language model: perplexity on an uploaded plain-text dataset or on
// inline rows, computed by stepping the model statefully; bad datasets are 4xx; no tensors left.
import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import { TINY_TEXT, post, publishTinyModel, startServer } from '../helpers/app.ts';

t.test('evaluate a language model', async (t) => {
  const s = await startServer(t);
  await publishTinyModel(s.config, 'tiny');
  const upload = await fetch(`${s.url}/datasets`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: TINY_TEXT });
  const { id } = (await upload.json()) as { id: string };
  const fromUpload = await post(`${s.url}/models/tiny/evaluate`, { dataset: { id } });
  t.equal(fromUpload.status, 200, JSON.stringify(fromUpload.json));
  t.match(fromUpload.json, { model: 'tiny@1', task: 'generate', examples: 1 });
  const ppl = fromUpload.json.metrics.perplexity;
  t.ok(ppl > 1 && ppl < 12, `perplexity ${ppl} on the text it learned (vocabulary ~15)`);
  t.ok(Math.abs(Math.log(ppl) - fromUpload.json.metrics.val_loss) < 1e-9, 'perplexity = exp(val_loss)');

  const before = tf.memory().numTensors; // the model is loaded (cached) by now

  const fromRows = await post(`${s.url}/models/tiny@1/evaluate`, { dataset: { rows: [{ text: TINY_TEXT }] } });
  t.equal(fromRows.status, 200);
  t.ok(Math.abs(fromRows.json.metrics.perplexity - ppl) < 1e-6, 'inline rows score the same text the same');
  const noise = await post(`${s.url}/models/tiny/evaluate`, { dataset: { rows: [{ text: 'zq xv kj wq '.repeat(30) }] } });
  t.ok(noise.json.metrics.perplexity > ppl * 2, `unfamiliar text scores worse (${noise.json.metrics.perplexity})`);

  const bad: Array<[string, unknown, number, string]> = [
    ['no text column', { dataset: { rows: [{ body: 'x' }] } }, 400, 'dataset_too_small'],
    ['unknown dataset', { dataset: { id: 'ds_000000000000000000000000' } }, 404, 'dataset_not_found'],
    ['max_examples 0', { dataset: { id }, max_examples: 0 }, 400, 'invalid_parameter'],
  ];
  for (const [what, body, status, code] of bad) {
    const r = await post(`${s.url}/models/tiny/evaluate`, body);
    t.equal(r.status, status, `${what}: status`);
    t.equal(r.json.error?.code, code, `${what}: ${JSON.stringify(r.json)}`);
  }
  const unknown = await post(`${s.url}/models/nope/evaluate`, { dataset: { id } });
  t.equal(unknown.json.error?.code, 'model_not_found');
  t.equal(tf.memory().numTensors, before, 'no tensors left behind');
});
