/**
 * The single-machine supervisor behind `npm start`: runs the API and the training worker as child
 * processes and keeps both up.
 *
 * Contract:
 *   - A child that exits on its own (crash, OOM kill, SIGKILL, even a clean exit) is restarted
 *     after an exponential backoff: `backoffMs × 2^(n-1)`, capped at `backoffMaxMs`, where n counts
 *     its consecutive short-lived runs; a run that lasted `stableMs` or longer resets n, so a child
 *     that crashes once a day restarts after `backoffMs`, one that crashes on start settles at the cap.
 *     The other child is never touched: the API keeps serving while the worker is down, and a job
 *     the dead worker was running is recovered (stalled) by the new one and resumes from its
 *     checkpoint. The API is restarted the same way (it holds no state that a restart loses besides
 *     chat sessions, which clients rebuild from their messages).
 *   - Every exit and restart is logged (pino, structured: child, pid, code, signal, uptime_ms,
 *     restart_in_ms, restarts).
 *   - `stop(signal)` (SIGINT/SIGTERM to `npm start`) cancels pending restarts and forwards the
 *     signal; children shut down gracefully (the worker checkpoints its job). Children still
 *     running after `killAfterMs` are killed; `kill()` (a second signal) kills them at once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';

export interface ChildSpec {
  /** Name in the log: `api`, `worker`. */
  name: string;
  /** Arguments to `process.execPath` (e.g. `['--import', 'tsx', 'src/worker.ts']`). */
  args: string[];
}

export interface RestartPolicy {
  /** Delay before the first restart after a short-lived run, ms. */
  backoffMs: number;
  /** Cap on the delay, ms. */
  backoffMaxMs: number;
  /** A run at least this long resets the backoff, ms. */
  stableMs: number;
}

/** Delay before restart number `failures` (≥ 1) of a run of consecutive short-lived runs, ms. */
export function restartDelay(failures: number, policy: Pick<RestartPolicy, 'backoffMs' | 'backoffMaxMs'>): number {
  const n = Math.max(1, failures);
  // 2^(n-1) overflows to Infinity for large n; min() keeps the cap.
  return Math.min(policy.backoffMaxMs, policy.backoffMs * 2 ** Math.min(n - 1, 52));
}

interface Running {
  spec: ChildSpec;
  proc: ChildProcess | null;
  startedAt: number;
  /** Consecutive runs shorter than stableMs. */
  failures: number;
  restarts: number;
  timer: NodeJS.Timeout | null;
}

export class Supervisor {
  private readonly children: Running[];
  private stopping = false;
  private exitCode = 0;
  private resolveStopped!: (code: number) => void;
  /** Resolves with the supervisor's exit code once stop() was called and every child has exited. */
  readonly stopped: Promise<number> = new Promise((resolve) => (this.resolveStopped = resolve));

  constructor(
    specs: ChildSpec[],
    private readonly policy: RestartPolicy,
    private readonly log: Logger,
    private readonly opts: { cwd: string; env: NodeJS.ProcessEnv; killAfterMs: number },
  ) {
    this.children = specs.map((spec) => ({ spec, proc: null, startedAt: 0, failures: 0, restarts: 0, timer: null }));
  }

  start(): void {
    for (const child of this.children) this.launch(child);
  }

  /** Pids of the running children by name (for logs and tests). */
  pids(): Record<string, number | undefined> {
    return Object.fromEntries(this.children.map((c) => [c.spec.name, c.proc?.pid]));
  }

  private launch(child: Running): void {
    child.timer = null;
    const proc = spawn(process.execPath, child.spec.args, { cwd: this.opts.cwd, env: this.opts.env, stdio: 'inherit' });
    child.proc = proc;
    child.startedAt = Date.now();
    proc.once('error', (err) => {
      this.log.error({ child: child.spec.name, err: err.message }, 'could not start the child process');
      if (proc.pid === undefined) this.onExit(child, proc, 1, null); // no 'exit' follows a failed spawn
    });
    proc.once('exit', (code, signal) => this.onExit(child, proc, code, signal));
    this.log.info({ child: child.spec.name, pid: proc.pid, restarts: child.restarts }, child.restarts === 0 ? `${child.spec.name} started` : `${child.spec.name} restarted`);
  }

  private onExit(child: Running, proc: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child.proc !== proc) return;
    child.proc = null;
    const uptimeMs = Date.now() - child.startedAt;
    const name = child.spec.name;
    if (this.stopping) {
      if (code !== 0 && signal === null) this.exitCode = 1;
      this.log.info({ child: name, pid: proc.pid, code, signal, uptime_ms: uptimeMs }, `${name} stopped`);
      this.settleIfDone();
      return;
    }
    child.failures = uptimeMs >= this.policy.stableMs ? 1 : child.failures + 1;
    const delay = restartDelay(child.failures, this.policy);
    child.restarts++;
    this.log.warn(
      { child: name, pid: proc.pid, code, signal, uptime_ms: uptimeMs, restart_in_ms: delay, restarts: child.restarts, consecutive_failures: child.failures },
      `${name} exited; restarting it in ${delay} ms${name === 'worker' ? ' (the API keeps serving; a job it was running resumes from its checkpoint)' : ''}`,
    );
    child.timer = setTimeout(() => this.launch(child), delay);
  }

  /** Stops supervising: cancels pending restarts and sends `signal` to every running child. */
  stop(signal: NodeJS.Signals): void {
    if (this.stopping) return;
    this.stopping = true;
    this.log.info({ signal, children: this.pids() }, 'stopping: children get the signal and their grace period');
    for (const child of this.children) {
      if (child.timer) clearTimeout(child.timer);
      child.timer = null;
      child.proc?.kill(signal);
    }
    setTimeout(() => this.kill('grace period over'), this.opts.killAfterMs).unref();
    this.settleIfDone();
  }

  /** Kills the running children at once (SIGKILL). */
  kill(reason: string): void {
    const running = this.children.filter((c) => c.proc);
    if (running.length === 0) return;
    this.exitCode = 1;
    this.log.warn({ reason, children: this.pids() }, 'killing the children');
    for (const child of running) child.proc!.kill('SIGKILL');
  }

  private settleIfDone(): void {
    if (this.stopping && this.children.every((c) => c.proc === null)) this.resolveStopped(this.exitCode);
  }
}
