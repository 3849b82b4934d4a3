// The supervisor's restart policy on real (tiny) child processes: backoff doubling to its cap, the
// reset after a stable run, the other child left alone, and stop() ending everything.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import t, { type Test } from 'tap';
import pino from 'pino';
import { Supervisor, restartDelay } from '../../src/supervisor.ts';

t.test('restartDelay doubles from the base and stops at the cap', async (t) => {
  const policy = { backoffMs: 1000, backoffMaxMs: 30000 };
  t.same([1, 2, 3, 4, 5, 6, 7, 100, 5000].map((n) => restartDelay(n, policy)), [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000]);
  t.equal(restartDelay(0, policy), 1000, 'n < 1 counts as the first');
});

/** A supervisor over `node -e` children whose pino log lines are collected as objects. */
function supervise(t: Pick<Test, 'teardown'>, children: Array<{ name: string; code: string }>, policy: { backoffMs: number; backoffMaxMs: number; stableMs: number }) {
  const lines: any[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l.trim()) lines.push(JSON.parse(l));
      done();
    },
  });
  const sup = new Supervisor(
    children.map((c) => ({ name: c.name, args: ['-e', c.code] })),
    policy,
    pino({ level: 'info' }, sink),
    { cwd: process.cwd(), env: process.env, killAfterMs: 10000 },
  );
  t.teardown(() => sup.kill('test teardown'));
  return { sup, lines };
}


const until = async (cond: () => boolean, ms = 20000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

t.test('a crashing child is restarted with doubling delays; the other child keeps running', async (t) => {
  const { sup, lines } = supervise(
    t,
    [
      { name: 'steady', code: 'setInterval(() => {}, 1000)' },
      { name: 'crashy', code: 'process.exit(3)' },
    ],
    { backoffMs: 50, backoffMaxMs: 200, stableMs: 60000 },
  );
  sup.start();
  const steadyPid = sup.pids().steady;
  const exits = () => lines.filter((l) => l.child === 'crashy' && l.restart_in_ms !== undefined);
  await until(() => exits().length >= 5);
  t.same(exits().slice(0, 5).map((l) => l.restart_in_ms), [50, 100, 200, 200, 200], 'doubling, capped');
  t.same(exits().slice(0, 5).map((l) => l.code), [3, 3, 3, 3, 3], 'the exit code is logged');
  t.ok(exits().every((l) => l.level === 40 && /crashy exited; restarting it in \d+ ms/.test(l.msg)), 'a warning per exit, naming the delay');
  t.ok(lines.some((l) => l.child === 'crashy' && l.msg === 'crashy restarted' && l.restarts >= 1 && typeof l.pid === 'number'), 'each restart logged with its pid');
  t.equal(sup.pids().steady, steadyPid, 'the steady child was never restarted');
  t.notOk(lines.some((l) => l.child === 'steady' && l.restart_in_ms !== undefined), 'no exit of the steady child');

  sup.stop('SIGTERM');
  const code = await sup.stopped;
  t.equal(code, 0, 'stopped cleanly');
  t.same(sup.pids(), { steady: undefined, crashy: undefined }, 'no child left');
  t.ok(lines.some((l) => l.child === 'steady' && l.msg === 'steady stopped' && l.signal === 'SIGTERM'), 'the steady child got the signal');
  const count = exits().length;
  await new Promise((r) => setTimeout(r, 400));
  t.equal(exits().length, count, 'nothing is restarted after stop()');
});

t.test('a run longer than stableMs resets the backoff', async (t) => {
  // Runs 300 ms (≥ stableMs = 200) then crashes: every restart waits the base delay again.
  const { sup, lines } = supervise(t, [{ name: 'late', code: 'setTimeout(() => process.exit(1), 300)' }], { backoffMs: 30, backoffMaxMs: 1000, stableMs: 200 });
  sup.start();
  const exits = () => lines.filter((l) => l.restart_in_ms !== undefined);
  await until(() => exits().length >= 3);
  t.same(exits().slice(0, 3).map((l) => l.restart_in_ms), [30, 30, 30]);
  t.ok(exits().every((l) => l.uptime_ms >= 200 && l.consecutive_failures === 1));
  sup.stop('SIGINT');
  await sup.stopped;
});

t.test('children that ignore the signal are killed after the grace period', async (t) => {
  const lines: any[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l.trim()) lines.push(JSON.parse(l));
      done();
    },
  });
  const ready = path.join(t.testdir({}), 'ready');
  const stubborn = `process.on('SIGTERM', () => {}); require('node:fs').writeFileSync(${JSON.stringify(ready)}, ''); setInterval(() => {}, 1000)`;
  const sup = new Supervisor([{ name: 'stubborn', args: ['-e', stubborn] }], { backoffMs: 50, backoffMaxMs: 50, stableMs: 1000 }, pino({}, sink), { cwd: process.cwd(), env: process.env, killAfterMs: 300 });
  sup.start();
  await until(() => existsSync(ready)); // its SIGTERM handler is installed
  sup.stop('SIGTERM');
  t.equal(await sup.stopped, 1, 'exit code 1: a child had to be killed');
  t.ok(lines.some((l) => l.msg === 'killing the children' && l.reason === 'grace period over'));
  t.ok(lines.some((l) => l.msg === 'stubborn stopped' && l.signal === 'SIGKILL'));
});
