// The whole training path: real server, real Redis + BullMQ, a real worker process.
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import { TINY_TEXT, get, post, startServer, startWorker, waitFor, waitForJob, wsClient } from '../helpers/app.ts';

const tinyJob = (name: string, hp: Record<string, unknown> = {}) => ({
  name,
  architecture: 'lstm',
  dataset: { text: TINY_TEXT },
  hyperparameters: { units: 16, embedding_dim: 8, epochs: 1, sequence_length: 16, batch_size: 16, seed: 3, ...hp },
});

t.test('train through the queue, follow progress over WebSocket, generate from the result', async (t) => {
  const s = await startServer(t);
  startWorker(t, s.config);

  const c = await wsClient(t, s.ws);
  const accepted = await post(`${s.url}/train`, tinyJob('tiny-lm', { epochs: 2 }));
  t.equal(accepted.status, 202);
  const jobId: string = accepted.json.job_id;
  t.match(jobId, /^\d+$/);
  c.send({ type: 'subscribe', job_id: jobId });
  const end = await c.next((f) => f.type === 'progress' && ['completed', 'failed', 'cancelled'].includes(f.status), 90000);
  t.equal(end.status, 'completed', JSON.stringify(end));
  const progress = c.frames.filter((f) => f.type === 'progress' && f.progress);
  t.ok(progress.length >= 2, 'several progress frames');
  t.equal(end.progress.epoch, 2);
  for (const k of ['loss', 'val_loss', 'best_val_loss', 'learning_rate', 'tokens_per_sec', 'eta_s', 'step', 'steps', 'epochs']) t.type(end.progress[k], 'number', `progress.${k}`);
  t.equal(end.progress.stop_reason, 'max_epochs', 'the last progress says why training stopped (epochs = a fixed count)');
  t.equal(end.result.stop_reason, 'max_epochs');
  t.equal(end.result.model, 'tiny-lm');
  t.equal(end.result.version, 1);
  t.ok(end.result.metrics.perplexity > 1, 'perplexity on the validation split');

  const job = await get(`${s.url}/train/${jobId}`);
  t.equal(job.json.status, 'completed');
  t.same(job.json.request.dataset, { text_bytes: TINY_TEXT.length });
  const logs = await get(`${s.url}/train/${jobId}/logs`);
  t.ok(logs.json.logs.some((l: string) => l.includes('published tiny-lm@1')));
  t.ok(logs.json.logs.some((l: string) => /stopped: max_epochs \(2\) reached; best val_loss [0-9.]+ at epoch [12]/.test(l)), 'the log says why training stopped');
  const list = await get(`${s.url}/train`);
  t.ok(list.json.jobs.some((j: any) => j.id === jobId));

  const model = await get(`${s.url}/models/tiny-lm`);
  t.equal(model.json.latest, 1);
  const manifest = model.json.versions[0].manifest;
  t.equal(manifest.task, 'generate');
  t.equal(manifest.training.epochs_completed, 2);
  t.equal(manifest.training.stop_reason, 'max_epochs');
  t.ok([1, 2].includes(manifest.training.best_epoch), 'the manifest names the published (best) epoch');
  t.type(manifest.metrics.perplexity, 'number');
  // the n-gram baselines on the same held-out ids; the tiny model is either beaten by the bigram model
  // (and the manifest says so) or beats it
  const { perplexity, unigram_perplexity, bigram_perplexity } = manifest.metrics;
  t.ok(bigram_perplexity > 1 && unigram_perplexity > bigram_perplexity, `unigram ${unigram_perplexity} > bigram ${bigram_perplexity}`);
  if (perplexity < bigram_perplexity) t.equal(manifest.quality_warning, null);
  else t.match(manifest.quality_warning, { metric: 'perplexity', baseline: 'bigram_perplexity' }, `perplexity ${perplexity} vs bigram ${bigram_perplexity}`);
  t.same(end.result.quality_warning, manifest.quality_warning, 'the job result carries the same verdict');

  const gen = await post(`${s.url}/generate`, { model: 'tiny-lm', prompt: 'the ', parameters: { max_new_tokens: 10 } });
  t.equal(gen.status, 200);
  t.equal(gen.json.details.model, 'tiny-lm@1');
});

/** Pids whose parent is `ppid` (Linux /proc). */
function childPids(ppid: number): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces, so split after the last ')'.
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === ppid) out.push(Number(d));
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

t.test('cancel a running job; cancel a queued job; bad training input; TRAIN_NICE lowers the worker and its job', async (t) => {
  const s = await startServer(t);
  const worker = startWorker(t, s.config, { TRAIN_NICE: '7' });
  const running = await post(`${s.url}/train`, tinyJob('long-one', { epochs: 500 }));
  const queued = await post(`${s.url}/train`, tinyJob('queued-one'));
  // Progress is reported ≤ 2/s and at epoch ends (step 0 of the next), so count steps across epochs.
  await waitFor(async () => {
    const p = (await get(`${s.url}/train/${running.json.job_id}`)).json.progress;
    return p && p.epoch * p.steps + p.step > 0;
  }, 60000, 'the job to start');
  t.equal(os.getPriority(worker.pid!), 7, 'the worker runs at TRAIN_NICE');
  const kids = childPids(worker.pid!);
  t.ok(kids.length >= 1, 'the job runs in a child process of the worker');
  t.same(kids.map((p) => os.getPriority(p)), kids.map(() => 7), 'the training child inherits TRAIN_NICE');
  const cancelQueued = await post(`${s.url}/train/${queued.json.job_id}/cancel`, {});
  t.equal(cancelQueued.status, 202);
  t.equal(cancelQueued.json.status, 'cancelled');
  const cancel = await post(`${s.url}/train/${running.json.job_id}/cancel`, {});
  t.equal(cancel.status, 202);
  const ended = await waitFor(async () => {
    const j = (await get(`${s.url}/train/${running.json.job_id}`)).json;
    return j.status !== 'running' && j;
  }, 30000, 'the job to stop');
  t.equal(ended.status, 'cancelled');
  t.ok(ended.progress.epoch < 500);
  const models = await get(`${s.url}/models`);
  t.notOk(models.json.models.some((m: any) => m.name === 'long-one'), 'a cancelled job publishes nothing');
  const again = await post(`${s.url}/train/${running.json.job_id}/cancel`, {});
  t.equal(again.status, 409);
  t.equal(again.json.error.code, 'job_not_cancellable');
  await waitFor(async () => (await get(`${s.url}/train/${queued.json.job_id}`)).json.finished_at, 30000, 'queued job to be skipped');
  t.equal((await get(`${s.url}/train/${queued.json.job_id}`)).json.status, 'cancelled');

  const bad: Array<[string, unknown, number, string, RegExp?]> = [
    ['text shorter than one sequence', { ...tinyJob('short'), dataset: { text: 'too short' } }, 400, 'dataset_too_small', /sequence_length = 16/],
    ['empty text', { ...tinyJob('short'), dataset: { text: '' } }, 400, 'invalid_parameter', /dataset\.text/],
    ['bad name', { ...tinyJob('x'), name: '../evil' }, 400, 'invalid_model_name'],
    ['unknown architecture', { ...tinyJob('x'), architecture: 'rnn' }, 400, 'invalid_parameter', /architecture must be one of "lstm", "gru"/],
    ['unknown hyperparameter', { ...tinyJob('x'), hyperparameters: { unitz: 3 } }, 400, 'invalid_request', /unitz/],
    ['epochs out of range', { ...tinyJob('x'), hyperparameters: { epochs: 0 } }, 400, 'invalid_parameter', /epochs must be ≥ 1/],
    ['epochs and max_epochs', { ...tinyJob('x'), hyperparameters: { epochs: 2, max_epochs: 3 } }, 400, 'invalid_parameter', /epochs and hyperparameters\.max_epochs are alternatives/],
    ['unknown lr_schedule', { ...tinyJob('x'), hyperparameters: { lr_schedule: 'step' } }, 400, 'invalid_parameter', /lr_schedule/],
    ['unknown dataset', { ...tinyJob('x'), dataset: { id: 'ds_000000000000000000000000' } }, 404, 'dataset_not_found'],
    ['both id and text', { ...tinyJob('x'), dataset: { id: 'ds_000000000000000000000000', text: 'abc' } }, 400, 'invalid_request', /dataset\.(text|id) is not a known field/],
  ];
  for (const [what, body, status, code, msg] of bad) {
    const r = await post(`${s.url}/train`, body);
    t.equal(r.status, status, `${what}: status`);
    t.equal(r.json.error?.code, code, `${what}: code`);
    if (msg) t.match(r.json.error.message, msg, `${what}: message`);
  }
  t.equal((await get(`${s.url}/train/999999`)).json.error.code, 'job_not_found');
  t.equal((await get(`${s.url}/train/abc`)).status, 400);
});

t.test('datasets: upload, validate, train from one, delete', async (t) => {
  const s = await startServer(t, { maxDatasetBytes: 4096 });
  startWorker(t, s.config);
  const upload = (body: string | Buffer, type: string, query = '') =>
    fetch(`${s.url}/datasets${query}`, { method: 'POST', headers: { 'content-type': type }, body }).then(async (r) => ({ status: r.status, json: (await r.json()) as any }));

  const text = await upload(TINY_TEXT.slice(0, 1500), 'text/plain');
  t.equal(text.status, 201);
  t.match(text.json, { id: /^ds_[0-9a-f]{24}$/, bytes: 1500, format: 'text' });
  t.equal((await upload(TINY_TEXT.slice(0, 1500), 'text/plain')).json.id, text.json.id, 'same content, same id');
  const jsonl = await upload(['{"text":"the cat sat on the mat."}', '{"text":"the dog sat on the log."}'].join('\n'), 'application/x-ndjson');
  t.equal(jsonl.status, 201);
  t.equal(jsonl.json.examples, 2);

  const badUploads: Array<[string, string | Buffer, string, number, string, string?]> = [
    ['empty', '', 'text/plain', 400, 'invalid_dataset'],
    ['oversized', 'x'.repeat(5000), 'text/plain', 413, 'payload_too_large'],
    ['invalid UTF-8', Buffer.from([0x61, 0xff, 0xfe, 0x62]), 'text/plain', 400, 'invalid_dataset'],
    ['binary', Buffer.from([0, 1, 2, 3, 0, 0, 0, 5, 6]), 'application/octet-stream', 400, 'invalid_dataset'],
    ['JSONL without text, ?task=generate', '{"body": "x"}', 'application/x-ndjson', 400, 'invalid_dataset', '?task=generate'],
    ['CSV without target, ?task=translate', 'source,tgt\na,b\n', 'text/csv', 400, 'invalid_dataset', '?task=translate'],
    ['unknown task', 'source,target\na,b\n', 'text/csv', 400, 'invalid_parameter', '?task=dance'],
    ['bad JSONL line', '{"text":"a"}\n{oops', 'application/x-ndjson', 400, 'invalid_dataset'],
    ['unsupported type', 'x', 'image/png', 415, 'unsupported_media_type'],
  ];
  for (const [what, body, type, status, code, query] of badUploads) {
    const r = await upload(body, type, query);
    t.equal(r.status, status, `${what}: status`);
    t.equal(r.json.error?.code, code, `${what}: code`);
  }

  const job = await post(`${s.url}/train`, { ...tinyJob('from-upload'), dataset: { id: text.json.id } });
  t.equal(job.status, 202);
  const done = await waitForJob(s.url, job.json.job_id, 90000);
  t.equal(done.status, 'completed', done.error ?? '');
  const model = await get(`${s.url}/models/from-upload`);
  t.equal(model.json.versions[0].manifest.dataset.id, text.json.id);

  t.equal((await get(`${s.url}/datasets`)).json.datasets.length, 2);
  const del = await fetch(`${s.url}/datasets/${text.json.id}`, { method: 'DELETE' });
  t.equal(del.status, 200);
  t.equal((await get(`${s.url}/datasets/${text.json.id}`)).status, 404);
  t.equal((await get(`${s.url}/datasets/nope`)).status, 400);
});

t.test('a GRU with the word tokenizer on JSONL records (CJK and emoji) trains and generates', async (t) => {
  const s = await startServer(t);
  startWorker(t, s.config);
  const rows = Array.from({ length: 60 }, (_, i) => JSON.stringify({ text: i % 2 ? '我们今天去北京。天气很好 😀' : 'we go to Beijing today, the weather is fine 😀' })).join('\n');
  const ds = await fetch(`${s.url}/datasets`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: rows }).then((r) => r.json() as Promise<any>);
  t.equal(ds.examples, 60);
  const job = await post(`${s.url}/train`, {
    name: 'words', architecture: 'gru', dataset: { id: ds.id }, tokenizer: { type: 'word', max_vocab: 100 },
    hyperparameters: { units: 16, embedding_dim: 8, epochs: 2, sequence_length: 8, batch_size: 8 },
  });
  t.equal(job.status, 202);
  const done = await waitForJob(s.url, job.json.job_id, 90000);
  t.equal(done.status, 'completed', done.error ?? '');
  const manifest = (await get(`${s.url}/models/words`)).json.versions[0].manifest;
  t.equal(manifest.architecture, 'gru');
  t.equal(manifest.tokenizer.type, 'word');
  const gen = await post(`${s.url}/generate`, { model: 'words', prompt: '我们', parameters: { max_new_tokens: 6, seed: 1 } });
  t.equal(gen.status, 200);
  t.equal(gen.json.details.input_tokens, 2, '<bos> + one word: 我们 is a single token');
  t.notOk(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.test(gen.json.generated_text), 'no broken surrogate pairs');
});
