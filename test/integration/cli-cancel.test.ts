// Ctrl-C during `seqserve train --follow` (the CLI as a child process, real signals and stdin) against
// a real server, worker and Redis: "n" detaches and the job runs on; "y" cancels it.
import t from 'tap';
import { get } from '../helpers/app.ts';
import { TINY_CLI_HP, cliInProcess, cliTrainingServer, runCli } from '../helpers/cli.ts';

t.test('seqserve train --follow and Ctrl-C', async (t) => {
  const { s, env, tiny } = await cliTrainingServer(t);

  t.test('Ctrl-C during --follow: "n" detaches (job keeps running), then "y" cancels it', async (t) => {
    const run = runCli(t, ['train', tiny, '--name', 'long', '--hp', 'epochs=1000', ...TINY_CLI_HP, '--hp', 'units=64', '--follow'], env);
    await run.waitOutput((_, err) => /running {2}epoch \d+\/1000/.test(err), 'progress');
    const jobId = /job (\d+) queued/.exec(run.stderr())![1]!;
    run.signal('SIGINT');
    await run.waitOutput((_, err) => err.includes(`cancel the job ${jobId}? [y/N]`), 'the question');
    run.write('n\n');
    t.equal(await run.exit, 130, 'detached: exit 130');
    t.match(run.stderr(), `detached; job ${jobId} keeps running`);
    const view = JSON.parse((await cliInProcess(['jobs', jobId, '--json'], env)).stdout);
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
