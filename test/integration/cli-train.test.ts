// The `seqserve` CLI as a child process against a real server (port 0), a real worker process and
// real Redis: train --follow to the end, --json output. (cli-cancel.test.ts: Ctrl-C during --follow;
// cli-infer.test.ts: generate, chat and errors.)
import t from 'tap';
import { get } from '../helpers/app.ts';
import { TINY_CLI_HP, cli, cliInProcess, cliTrainingServer } from '../helpers/cli.ts';

t.test('seqserve train, jobs, models against a real server and worker', async (t) => {
  const { s, env, tiny } = await cliTrainingServer(t);

  t.test('train --follow: uploads, queues, shows progress, ends with the model published', async (t) => {
    // 40 epochs (about a second on wasm): long enough that progress is reported while the job runs.
    const r = await cli(t, ['train', tiny, '--task', 'generate', '--name', 't', '--hp', 'epochs=40', ...TINY_CLI_HP, '--follow'], env);
    t.equal(r.code, 0, `exit 0 (stderr: ${r.stderr})`);
    t.match(r.stderr, /uploaded .*tiny\.txt: ds_[0-9a-f]{24} \(text/);
    t.match(r.stderr, /job \d+ queued: training t/);
    t.match(r.stderr, /running {2}epoch \d+\/40 .*loss [0-9.]+/, 'progress lines with epoch and loss (plain lines: stderr is not a TTY)');
    t.match(r.stderr, /val_loss [0-9.]+/, 'validation loss shown');
    t.notMatch(r.stderr, /\x1b\[/, 'no terminal escapes when not on a TTY');
    t.match(r.stdout, /^completed: t@1 \(stopped: max_epochs\)\nheld-out: .*perplexity [0-9.]+/);
    const model = await get(`${s.url}/models/t`);
    t.equal(model.status, 200);
    t.equal(model.json.latest, 1);
    t.equal(model.json.versions[0].manifest.training.epochs_completed, 40);
  });
  t.test('--json output parses: models, jobs', async (t) => {
    const models = await cliInProcess(['models', '--json'], env);
    t.equal(models.code, 0);
    t.same(JSON.parse(models.stdout).models.map((m: { name: string }) => m.name).sort(), ['t']);
    const human = await cliInProcess(['models'], env);
    t.match(human.stdout, /^NAME +TASK +ARCH[^\n]*\nt +generate +lstm +1 /);
    const jobs = await cliInProcess(['jobs', '--json'], env);
    t.match(JSON.parse(jobs.stdout).jobs, [{ name: 't', status: 'completed', result: { model: 't', version: 1 } }]);
  });
});
