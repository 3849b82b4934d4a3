// The `seqserve` CLI as a child process against a real server (port 0) serving copies of the shipped
// demo models: generate (HTTP and streamed over /ws), chat with a session over two turns, and the
// error line and exit code of each kind of failure. (Training: test/integration/cli-train.test.ts.)
import t from 'tap';
import { cpSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { ROOT, TINY_TEXT, get, startServer } from '../helpers/app.ts';
import { cli, cliInProcess } from '../helpers/cli.ts';


t.test('seqserve generate, chat and errors against a real server', async (t) => {
  const s = await startServer(t);
  for (const demo of ['kjv-char', 'freedroid-chat']) cpSync(path.join(ROOT, 'models', demo), path.join(s.config.modelsDir, demo), { recursive: true });
  const env = { SEQSERVE_URL: s.url };
  // (t.testdir holds the server's models/ and data/: a second call would replace them)
  const dir = path.dirname(s.config.modelsDir);
  const tiny = path.join(dir, 'tiny.txt');
  writeFileSync(tiny, TINY_TEXT);

  t.test('generate: demo model over HTTP and streamed over /ws give the same seeded text; evaluate', async (t) => {
    const args = ['generate', 'kjv-char', 'And God said', '--max-new-tokens', '30', '--seed', '5', '--temperature', '0.8'];
    const plain = await cli(t, args, env);
    t.equal(plain.code, 0, plain.stderr);
    t.ok(plain.stdout.trim().length > 0, `text: ${JSON.stringify(plain.stdout)}`);
    const streamed = await cli(t, [...args, '--stream'], env);
    t.equal(streamed.code, 0, streamed.stderr);
    t.equal(streamed.stdout, plain.stdout, 'same tokens');
    const json = JSON.parse((await cliInProcess([...args, '--json'], env)).stdout);
    t.equal(`${json.generated_text}\n`, plain.stdout);
    t.match(json.details, { model: 'kjv-char@1', generated_tokens: 30, seed: 5 });
    const evaluated = await cliInProcess(['evaluate', 'kjv-char@1', tiny, '--json'], env);
    t.equal(evaluated.code, 0, evaluated.stderr);
    t.match(JSON.parse(evaluated.stdout), { model: 'kjv-char@1', task: 'generate', examples: 1, metrics: { perplexity: Number } }, 'evaluate: upload + score');
  });
  t.test('chat: two turns from stdin keep the session; /reset starts over', async (t) => {
    const input = 'Hello! I am new here.\nWhere can I find the doctor?\n/reset\nHello! I am new here.\n';
    const r = await cli(t, ['chat', 'freedroid-chat', '--system', 'You are Bender.', '--seed', '3', '--max-new-tokens', '20', '--json'], env, input);
    t.equal(r.code, 0, r.stderr);
    const turns = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    t.equal(turns.length, 3);
    const [first, second, afterReset] = turns;
    t.ok(first.text.length > 0 && second.text.length > 0, 'replies');
    t.equal(second.session, first.session, 'one session across turns');
    t.equal(first.details.cached_tokens, 0);
    t.ok(second.details.cached_tokens > 0, `second turn served ${second.details.cached_tokens} prompt tokens from the kept state`);
    t.ok(second.details.input_tokens > first.details.input_tokens, 'the second turn continues the conversation');
    t.not(afterReset.session, first.session, '/reset: a new session');
    t.equal(afterReset.details.cached_tokens, 0);
    t.equal(afterReset.text, first.text, '/reset: the same first turn again (same seed, fresh history)');
    t.equal((await get(`${s.url}/sessions/${first.session}`)).status, 404, 'sessions the CLI made are dropped on exit');
    t.equal((await get(`${s.url}/sessions/${afterReset.session}`)).status, 404);

    const human = await cliInProcess(['chat', 'freedroid-chat', '--seed', '3', '--max-new-tokens', '10'], env, 'Hello!\n');
    t.equal(human.code, 0, human.stderr);
    t.equal(human.stdout.split('\n').length, 2, 'one reply line (no prompts when stdin is not a terminal)');
  });
  t.test('errors: one line in the server\'s shape, exit codes', async (t) => {
    const missing = await cli(t, ['generate', 'no-such-model', 'hi'], env);
    t.equal(missing.code, 1);
    t.match(missing.stderr, /^error: .*no model named "no-such-model".* \(model_not_found, model\)\n$/);
    t.equal(missing.stdout, '');
    // the rest through main() in this process: the same code without a child's start-up each time
    const streamed = await cliInProcess(['generate', 'no-such-model', 'hi', '--stream'], env);
    t.equal(streamed.code, 1);
    t.match(streamed.stderr, /^error: .* \(model_not_found, model\)\n$/, 'the same line from a WS error frame');
    const badParam = await cliInProcess(['generate', 'kjv-char', 'hi', '--top-p', '7'], env);
    t.equal(badParam.code, 1);
    t.match(badParam.stderr, /^error: .*top_p.* \(invalid_parameter, parameters\.top_p\)\n$/);
    const wrongTask = await cliInProcess(['chat', 'kjv-char'], env, 'hi\nagain\n');
    t.equal(wrongTask.code, 1);
    t.match(wrongTask.stderr, /\(model_task_mismatch, model\)\n$/);
    t.equal(wrongTask.stderr.split('\n').length, 2, 'stops after a fatal error: one line');
    const badHp = await cliInProcess(['train', tiny, '--name', 'x', '--hp', 'epochs=0'], env);
    t.equal(badHp.code, 1);
    t.match(badHp.stderr, /\(invalid_parameter, hyperparameters\.epochs\)\n$/);
    const closed = await freePort();
    const refused = await cliInProcess(['models', '--url', `http://127.0.0.1:${closed}`], env);
    t.equal(refused.code, 1);
    t.equal(refused.stderr.split('\n').length, 2, 'one line');
    t.match(refused.stderr, new RegExp(`^error: cannot reach the seqserve server at http://127\\.0\\.0\\.1:${closed} \\(connection refused\\).*seqserve serve`));
    const refusedWs = await cliInProcess(['chat', 'freedroid-chat'], { SEQSERVE_URL: `http://127.0.0.1:${closed}` }, 'hi\n');
    t.equal(refusedWs.code, 1);
    t.match(refusedWs.stderr, /^error: cannot reach .* \(connection refused\)/, 'the same over the WebSocket');
    const usage = await cliInProcess(['train', tiny], env);
    t.equal(usage.code, 2);
    t.match(usage.stderr, /--name is required[\s\S]*seqserve train --help/);
    const unknown = await cliInProcess(['frobnicate'], env);
    t.equal(unknown.code, 2);
    const noFile = await cliInProcess(['train', path.join(dir, 'absent.txt'), '--name', 'x'], env);
    t.equal(noFile.code, 2);
    t.match(noFile.stderr, /cannot read .*absent\.txt: no such file/);
    const help = await cliInProcess(['chat', '--help'], env);
    t.equal(help.code, 0);
    t.match(help.stdout, /usage: seqserve chat MODEL[\s\S]*--api-key/);
  });
});

/** A port nothing listens on (bound, then released). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
