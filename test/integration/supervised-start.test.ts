// `npm start` (scripts/start.ts under npm) on real processes: killing the worker never stops serving,
// the restarted worker resumes the job from its checkpoint; a killed API is restarted too; Ctrl-C
// stops both children cleanly (SIGTERM takes the same path; test/unit/supervisor.test.ts covers the
// restart policy in detail).
import { spawn } from 'node:child_process';
import t, { type Test } from 'tap';
import { ROOT, TINY_TEXT, get, post, publishTinyModel, testConfig, waitFor, waitForJob } from '../helpers/app.ts';
import { initBackend } from '../../src/backend/select.ts';
import type { Config } from '../../src/config.ts';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Runs scripts/start.ts over the test's dirs and queue prefix; collects its and its children's JSON log lines. */
function startSupervised(t: Pick<Test, 'teardown'>, config: Config) {
  // `npm start` itself, in its own process group like a shell job, so a test can press Ctrl-C.
  const npm = process.env.npm_execpath;
  const proc = spawn(npm ? process.execPath : 'npm', npm ? [npm, 'start'] : ['start'], {
    cwd: ROOT,
    detached: true,
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      MODELS_DIR: config.modelsDir,
      DATA_DIR: config.dataDir,
      QUEUE_PREFIX: config.queuePrefix,
      REDIS_URL: config.redisUrl,
      TFJS_BACKEND: config.tfjsBackend,
      LOG_LEVEL: 'info',
      JOB_LOCK_MS: '4000',
      STALLED_CHECK_MS: '1000',
      RESTART_BACKOFF_MS: '500',
      // As the other tests' workers (test/helpers/app.ts): training at the runner's priority.
      TRAIN_NICE: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: any[] = [];
  let rest = '';
  const take = (d: Buffer) => {
    const parts = (rest + d.toString('utf8')).split('\n');
    rest = parts.pop()!;
    for (const l of parts) {
      try {
        lines.push(JSON.parse(l));
      } catch {
        lines.push({ text: l });
      }
    }
  };
  proc.stdout!.on('data', take);
  proc.stderr!.on('data', take);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const sup = (msg: string | RegExp) => lines.filter((l) => l.name === 'seqserve-supervisor' && (typeof msg === 'string' ? l.msg === msg : msg.test(l.msg ?? '')));
  /** Every child pid the supervisor started. */
  const childPids = () => lines.filter((l) => l.name === 'seqserve-supervisor' && typeof l.pid === 'number' && /started|restarted/.test(l.msg)).map((l) => l.pid as number);
  t.teardown(() => {
    for (const pid of childPids()) if (alive(pid)) process.kill(pid, 'SIGKILL');
    if (proc.exitCode === null && proc.signalCode === null) process.kill(-proc.pid!, 'SIGKILL');
  });
  /** The API's base URL from its latest "Server listening" line after `from` lines. */
  const apiUrl = async (from = 0) => {
    const line = await waitFor(() => lines.slice(from).reverse().find((l) => /^Server listening at http:\/\/127\.0\.0\.1:\d+/.test(l.msg ?? '')), 90000, 'the API to listen');
    return /http:\/\/127\.0\.0\.1:\d+/.exec(line.msg)![0];
  };
  const log = () => lines.map((l) => l.text ?? JSON.stringify(l)).join('\n');
  return { proc, lines, exited, sup, childPids, apiUrl, log };
}

t.test('npm start: SIGKILL the worker — /generate keeps answering, a new worker resumes the job from its checkpoint; SIGKILL the API — it comes back; Ctrl-C stops both', async (t) => {
  const config = testConfig(t);
  await initBackend(config.tfjsBackend);
  await publishTinyModel(config, 'tiny');
  const s = startSupervised(t, config);
  const url = await s.apiUrl();
  const firstWorker = (await waitFor(() => s.sup('worker started')[0], 60000, 'the worker to start')).pid as number;
  const apiPid = s.sup('api started')[0].pid as number;
  await waitFor(() => s.lines.some((l) => l.name === 'seqserve-worker' && l.msg === 'worker ready'), 60000, 'the worker to be ready');

  // ~5 s of training on wasm (30 epochs of 27 steps): still running when the worker is killed.
  const epochs = 30;
  const accepted = await post(`${url}/train`, {
    name: 'survivor',
    dataset: { text: TINY_TEXT.repeat(4) },
    hyperparameters: { units: 16, embedding_dim: 8, epochs, sequence_length: 16, batch_size: 16, seed: 5 },
  });
  t.equal(accepted.status, 202, JSON.stringify(accepted.json));
  const id = accepted.json.job_id;
  const checkpointed = await waitFor(async () => {
    const job = (await get(`${url}/train/${id}`)).json;
    return job.progress?.epoch >= 2 && (job.progress.epoch as number);
  }, 90000, 'two epochs (checkpointed)');
  const trainerPid = Number(/pid (\d+)/.exec((await get(`${url}/train/${id}/logs`)).json.logs.join('\n'))?.[1]);

  // Poll /generate from before the kill until the job is done.
  const answers: Array<{ at: number; status: number }> = [];
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const r = await post(`${url}/generate`, { model: 'tiny', prompt: 'the ', parameters: { max_new_tokens: 4, seed: 1 } }).catch(() => ({ status: 0 }));
      answers.push({ at: Date.now(), status: r.status });
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  await waitFor(() => answers.length >= 3, 30000, 'generate answers before the kill');
  // Epoch ends are checkpointed before they are reported: this epoch's checkpoint is on disk.
  const lastReported = (await get(`${url}/train/${id}`)).json.progress.epoch as number;
  const killedAt = Date.now();
  process.kill(firstWorker, 'SIGKILL');

  const exit = await waitFor(() => s.sup(/^worker exited; restarting it in/).find((l) => l.pid === firstWorker), 30000, 'the supervisor to see the worker die');
  t.equal(exit.signal, 'SIGKILL', 'the log names the signal');
  t.equal(exit.restart_in_ms, 500, 'first restart after the base backoff');
  t.equal(exit.level, 40, 'logged as a warning');
  const restarted = await waitFor(() => s.sup('worker restarted')[0], 30000, 'a new worker');
  t.not(restarted.pid, firstWorker, 'a new worker process');
  t.equal(restarted.restarts, 1);
  await waitFor(() => !alive(trainerPid), 15000, 'the dead worker\'s training process to exit');
  const newWorkerReadyAt = await waitFor(() => s.lines.filter((l) => l.name === 'seqserve-worker' && l.msg === 'worker ready').length >= 2 && Date.now(), 60000, 'the new worker to be ready');

  const done = await waitForJob(url, id, 180000);
  polling = false;
  await poller;
  t.equal(done.status, 'completed', done.error ?? '');
  const logs: string[] = (await get(`${url}/train/${id}/logs`)).json.logs;
  const resumed = logs.map((l) => /resumed from checkpoint: epoch (\d+)/.exec(l)).find(Boolean);
  t.ok(resumed, resumed ? 'the logs say it resumed' : `no resume line in: ${logs.join(' | ')}`);
  t.ok(Number(resumed![1]) >= Math.max(checkpointed, lastReported), `resumed from epoch ${resumed?.[1]}, not before the last epoch reported before the kill (${lastReported}): no checkpoint lost`);
  const runs = logs.filter((l) => /attempt \d+ started on backend \w+ \(pid (\d+)\)/.test(l));
  t.equal(runs.length, 2, 'two training processes ran it: the killed worker\'s and the new one\'s');
  const model = await get(`${url}/models/survivor`);
  t.equal(model.json.versions[0].manifest.training.epochs_completed, epochs, 'every epoch trained once the job resumed');

  const outage = answers.filter((a) => a.at >= killedAt && a.at <= newWorkerReadyAt);
  t.ok(outage.length >= 3, `/generate was polled while the worker was down (${outage.length} requests)`);
  t.same(answers.filter((a) => a.status !== 200), [], `every one of ${answers.length} /generate requests answered 200`);
  t.same(s.sup(/^api exited/), [], 'the API was never restarted');
  t.ok(alive(apiPid), 'the API process is the one started first');


  // The API dies: it is restarted the same way, and the worker is left alone.
  const worker = restarted.pid as number;
  const mark = s.lines.length;
  process.kill(apiPid, 'SIGKILL');
  const apiExit = await waitFor(() => s.sup(/^api exited; restarting it in/)[0], 30000, 'the supervisor to see the API die');
  t.equal(apiExit.signal, 'SIGKILL');
  t.equal(apiExit.restart_in_ms, 500);
  const newUrl = await s.apiUrl(mark);
  t.equal((await post(`${newUrl}/generate`, { model: 'tiny', prompt: 'the ', parameters: { max_new_tokens: 4 } })).status, 200, 'the restarted API serves');
  t.equal((await get(`${newUrl}/models/survivor`)).status, 200, 'and sees the model the job published');
  t.ok(alive(worker) && s.sup(/^worker exited/).length === 1, 'the worker was left alone');

  // Ctrl-C: SIGINT to the whole process group (npm, the supervisor, the API, the worker; npm forwards a copy).
  process.kill(-s.proc.pid!, 'SIGINT');
  t.comment(`npm start exited with ${await s.exited}`); // npm's own status after a SIGINT is npm's business; the supervisor's is ours
  t.equal(s.sup('stopped')[0]?.code, 0, 'Ctrl-C: the supervisor exits 0');
  t.same(s.sup(/^killing/), [], 'nothing had to be killed: the repeated SIGINT counts once');
  t.ok(s.sup('api stopped').length === 1 && s.sup('worker stopped').length === 1, 'both children stopped');
  t.same(s.sup(/^(api|worker) stopped$/).map((l) => l.code), [0, 0], 'both exited with code 0 (the worker after checkpointing)');
  t.same(s.childPids().filter(alive), [], 'no child process left');
});
