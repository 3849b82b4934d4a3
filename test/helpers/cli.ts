/**
 * Runs the `seqserve` CLI (bin/seqserve.js) as a child process against a test server: collects its
 * stdout/stderr, lets a test write to its stdin, send it signals and wait for output or its exit.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import type { Test } from 'tap';
import { ROOT, TINY_TEXT, startServer, startWorker, type Server } from './app.ts';

/** Hyperparameters, as CLI flags, of a tiny language model that trains in seconds. */
export const TINY_CLI_HP = ['--hp', 'units=16', '--hp', 'embedding_dim=8', '--hp', 'sequence_length=16', '--hp', 'batch_size=16', '--hp', 'seed=3'];

/**
 * A real server (port 0) with a worker process, the environment that points the CLI at it, and
 * `tiny`: a text file to train on, beside the server's models/ and data/ in t.testdir (one call per test).
 */
export async function cliTrainingServer(t: Test): Promise<{ s: Server; env: Record<string, string>; tiny: string }> {
  const s = await startServer(t);
  startWorker(t, s.config);
  const tiny = path.join(path.dirname(s.config.modelsDir), 'tiny.txt');
  writeFileSync(tiny, TINY_TEXT);
  return { s, env: { SEQSERVE_URL: s.url }, tiny };
}

export interface CliRun {
  stdout: () => string;
  stderr: () => string;
  write: (text: string) => void;
  endInput: () => void;
  signal: (s: NodeJS.Signals) => void;
  /** Resolves when `pred(stdout, stderr)` holds (rejects after `timeoutMs`, naming `what`). */
  waitOutput: (pred: (out: string, err: string) => boolean, what: string, timeoutMs?: number) => Promise<void>;
  /** Resolves with the exit code. */
  exit: Promise<number>;
}

export function runCli(t: Pick<Test, 'teardown'>, args: string[], env: Record<string, string> = {}, input?: string): CliRun {
  const child = spawn(process.execPath, ['bin/seqserve.js', ...args], {
    cwd: ROOT,
    env: { ...process.env, SEQSERVE_API_KEY: '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  child.stdout.on('data', (d) => {
    out += d;
    listeners.forEach((l) => l());
  });
  child.stderr.on('data', (d) => {
    err += d;
    listeners.forEach((l) => l());
  });
  if (input !== undefined) child.stdin.end(input);
  const exit = new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? -1 : -2))));
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return {
    stdout: () => out,
    stderr: () => err,
    write: (text) => child.stdin.write(text),
    endInput: () => child.stdin.end(),
    signal: (s) => child.kill(s),
    exit,
    waitOutput: (pred, what, timeoutMs = 90000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (pred(out, err)) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`timed out waiting for ${what}; stdout: ${out.slice(-500)} stderr: ${err.slice(-500)}`));
        }, timeoutMs);
        listeners.add(check);
        check();
        void exit.then(() => setTimeout(check, 0));
      }),
  };
}

/** Runs the CLI to its end with `input` on stdin (closed); resolves with code, stdout and stderr. */
export async function cli(t: Pick<Test, 'teardown'>, args: string[], env: Record<string, string> = {}, input = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  const run = runCli(t, args, env, input);
  const code = await run.exit;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

/**
 * Runs the CLI's `main` in this process (the same code as the bin, without a child's start-up cost),
 * with `input` as stdin; resolves with the exit code and what it wrote.
 */
export async function cliInProcess(args: string[], env: Record<string, string>, input = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  const { main } = await import('../../src/cli.ts');
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk, _enc, done) {
        append(String(chunk));
        done();
      },
    });
  const code = await main(args, {
    stdout: sink((s) => (stdout += s)),
    stderr: sink((s) => (stderr += s)),
    stdin: Readable.from(input === '' ? [] : [input]),
    env,
  });
  return { code, stdout, stderr };
}
