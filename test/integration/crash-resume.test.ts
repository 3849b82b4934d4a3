// A worker killed mid-training: the job is recovered by another worker and resumes from its checkpoint.
import t from 'tap';
import { TINY_TEXT, get, post, startServer, startWorker, waitFor, waitForJob } from '../helpers/app.ts';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

t.test('kill -9 the worker; a new worker resumes the job from its last checkpoint', async (t) => {
  const s = await startServer(t);
  const first = startWorker(t, s.config);
  // ~5 s of training on wasm (30 epochs of 27 steps): still running when the worker is killed.
  const epochs = 30;
  const accepted = await post(`${s.url}/train`, {
    name: 'survivor',
    dataset: { text: TINY_TEXT.repeat(4) },
    hyperparameters: { units: 16, embedding_dim: 8, epochs, sequence_length: 16, batch_size: 16, seed: 5 },
  });
  const id = accepted.json.job_id;
  await waitFor(async () => (await get(`${s.url}/train/${id}`)).json.progress?.epoch >= 2, 60000, 'two epochs (checkpointed)');
  const logsBefore: string[] = (await get(`${s.url}/train/${id}/logs`)).json.logs;
  const childPid = Number(/pid (\d+)/.exec(logsBefore.join('\n'))?.[1]);
  first.kill('SIGKILL');
  await waitFor(() => !alive(childPid), 10000, 'the orphaned training process to exit');
  t.pass('the sandboxed training process exits with its worker');

  startWorker(t, s.config);
  const done = await waitForJob(s.url, id, 120000);
  t.equal(done.status, 'completed', done.error ?? '');
  const logs: string[] = (await get(`${s.url}/train/${id}/logs`)).json.logs;
  const resumed = logs.map((l) => /resumed from checkpoint: epoch (\d+)/.exec(l)).find(Boolean);
  t.ok(resumed, `logs say it resumed: ${logs.join(' | ')}`);
  t.ok(Number(resumed![1]) >= 2, 'from epoch 2 or later, not from scratch');
  const model = await get(`${s.url}/models/survivor`);
  t.equal(model.json.versions[0].manifest.training.epochs_completed, epochs);
});

t.test('SIGTERM: the worker checkpoints mid-epoch and exits; the next worker resumes from that step', async (t) => {
  const s = await startServer(t);
  const first = startWorker(t, s.config);
  const accepted = await post(`${s.url}/train`, {
    name: 'graceful',
    dataset: { text: TINY_TEXT.repeat(4) },
    // 40 epochs of 108 steps (~30 s on wasm): long enough to be stopped while it runs.
    hyperparameters: { units: 32, embedding_dim: 8, epochs: 40, sequence_length: 16, batch_size: 4, seed: 6 },
  });
  const id = accepted.json.job_id;
  // Progress is reported ≤ 2/s and at epoch ends, so count steps across epochs.
  const stepsDone = (p: any) => (p ? p.epoch * p.steps + p.step : 0);
  await waitFor(async () => stepsDone((await get(`${s.url}/train/${id}`)).json.progress) >= 5, 60000, 'a few steps');
  const exited = new Promise<number | null>((resolve) => first.once('exit', (code) => resolve(code)));
  first.kill('SIGTERM');
  const code = await exited;
  t.equal(code, 0, 'the worker exits cleanly on SIGTERM');
  const logs: string[] = (await get(`${s.url}/train/${id}/logs`)).json.logs;
  t.ok(logs.some((l) => /worker shutting down: checkpoint saved/.test(l)), 'the attempt ended with a checkpoint');

  startWorker(t, s.config);
  const done = await waitForJob(s.url, id, 120000);
  t.equal(done.status, 'completed', done.error ?? '');
  const after: string[] = (await get(`${s.url}/train/${id}/logs`)).json.logs;
  const resumed = after.map((l) => /resumed from checkpoint: epoch (\d+), step (\d+)/.exec(l)).find(Boolean);
  t.ok(resumed, 'resumed from the shutdown checkpoint');
  t.ok(Number(resumed![1]) > 0 || Number(resumed![2]) > 0, 'not from scratch');
});
