/**
 * Runs one of seqserve's process entries (src/server.ts, src/worker.ts) as a child Node process
 * through tsx, in the caller's directory and environment (so MODELS_DIR=./models means the current
 * directory's), forwarding SIGINT/SIGTERM so the entry's own graceful shutdown runs. Resolves with
 * the child's exit code.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export function runEntry(entry: 'server.ts' | 'worker.ts', env: NodeJS.ProcessEnv): Promise<number> {
  const file = fileURLToPath(new URL(`../${entry}`, import.meta.url));
  // tsx resolved from this package, not from the caller's directory (a global install runs anywhere).
  const tsx = import.meta.resolve('tsx');
  const child = spawn(process.execPath, ['--import', tsx, file], { stdio: 'inherit', env });
  const forward = (signal: NodeJS.Signals) => () => {
    if (child.exitCode === null) child.kill(signal);
  };
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(code ?? (signal ? 128 + (signal === 'SIGINT' ? 2 : 15) : 1));
    });
    child.on('error', (err) => {
      process.stderr.write(`error: cannot start ${entry}: ${err.message}\n`);
      resolve(1);
    });
  });
}
