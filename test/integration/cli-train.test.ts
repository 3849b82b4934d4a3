// The `seqserve` CLI as a child process against a real server (port 0), a real worker process and
// real Redis: train --follow to the end, --json output, and Ctrl-C during --follow (detach, cancel).
// (test/integration/cli-infer.test.ts: generate, chat and errors.)
import t from 'tap';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { TINY_TEXT, get, startServer, startWorker, waitFor } from '../helpers/app.ts';
import { cli, runCli } from '../helpers/cli.ts';

const TINY_HP = ['--hp', 'units=16', '--hp', 'embedding_dim=8', '--hp', 'sequence_length=16', '--hp', 'batch_size=16', '--hp', 'seed=3'];

t.test('seqserve train, jobs, models against a real server and worker', async (t) => {
  const s = await startServer(t);
  startWorker(t, s.config);
  const env = { SEQSERVE_URL: s.url };
  // (t.testdir holds the server's models/ and data/: a second call would replace them)
  const dir = path.dirname(s.config.modelsDir);
  const tiny = path.join(dir, 'tiny.txt');
  writeFileSync(tiny, TINY_TEXT);

  t.test('train --follow: uploads, queues, shows progress, ends with the model published', async (t) => {
    const r = await cli(t, ['train', tiny, '--task', 'generate', '--name', 't', '--hp', 'epochs=1', ...TINY_HP, '--follow'], env);
    t.equal(r.code, 0, `exit 0 (stderr: ${r.stderr})`);
    t.match(r.stderr, /uploaded .*tiny\.txt: ds_[0-9a-f]{24} \(text/);
    t.match(r.stderr, /job \d+ queued: training t/);
    t.match(r.stderr, /running {2}epoch 1\/1 .*loss [0-9.]+/, 'progress lines with epoch and loss (plain lines: stderr is not a TTY)');
    t.match(r.stderr, /val_loss [0-9.]+/, 'validation loss shown');
    t.notMatch(r.stderr, /\x1b\[/, 'no terminal escapes when not on a TTY');
    t.match(r.stdout, /^completed: t@1 \(stopped: max_epochs\)\nheld-out: .*perplexity [0-9.]+/);
    const model = await get(`${s.url}/models/t`);
    t.equal(model.status, 200);
    t.equal(model.json.latest, 1);
    t.equal(model.json.versions[0].manifest.training.epochs_completed, 1);
  });
  t.test('--json output parses: models, jobs', async (t) => {
    const models = await cli(t, ['models', '--json'], env);
    t.equal(models.code, 0);
    t.same(JSON.parse(models.stdout).models.map((m: { name: string }) => m.name).sort(), ['t']);
    const human = await cli(t, ['models'], env);
    t.match(human.stdout, /^NAME +TASK +ARCH[^\n]*\nt +generate +lstm +1 /);
    const jobs = await cli(t, ['jobs', '--json'], env);
    t.match(JSON.parse(jobs.stdout).jobs, [{ name: 't', status: 'completed', result: { model: 't', version: 1 } }]);
  });
  t.test('Ctrl-C during --follow: "n" detaches (job keeps running), then "y" cancels it', async (t) => {
    const run = runCli(t, ['train', tiny, '--name', 'long', '--hp', 'epochs=1000', ...TINY_HP, '--hp', 'units=64', '--follow'], env);
    await run.waitOutput((_, err) => /running {2}epoch \d+\/1000/.test(err), 'progress');
    const jobId = /job (\d+) queued/.exec(run.stderr())![1]!;
    run.signal('SIGINT');
    await run.waitOutput((_, err) => err.includes(`cancel the job ${jobId}? [y/N]`), 'the question');
    run.write('n\n');
    t.equal(await run.exit, 130, 'detached: exit 130');
    t.match(run.stderr(), `detached; job ${jobId} keeps running`);
    const view = JSON.parse((await cli(t, ['jobs', jobId, '--json'], env)).stdout);
    t.match(view, { id: jobId, name: 'long', status: 'running' }, 'the job still runs');
    t.equal(view.request.hyperparameters.max_epochs, 1000, '--hp values are sent typed (numbers)');
    t.equal(view.request.hyperparameters.units, 64, 'the last --hp wins');

    const follow = runCli(t, ['jobs', jobId, '--follow', '--json'], env);
    await follow.waitOutput((_, err) => err.includes(`following job ${jobId}`), 'the follow to start'); // --json: no progress lines
    follow.signal('SIGINT');
    await follow.waitOutput((_, err) => err.includes('[y/N]'), 'the question');
    follow.write('y\n');
    t.equal(await follow.exit, 1, 'a cancelled job: exit 1');
    t.match(follow.stderr(), `cancelling job ${jobId}`);
    const end = JSON.parse(follow.stdout());
    t.match(end, { id: jobId, status: 'cancelled' }, '--json: the final job view');
    t.ok(end.progress.epoch < 1000);
    t.equal((await get(`${s.url}/train/${jobId}`)).json.status, 'cancelled');
    t.equal((await get(`${s.url}/models/long`)).status, 404, 'nothing published');
  });
});
