/**
 * `npm start`: the API and one training worker as two child processes, for a single machine.
 * (In production run them separately: `npm run start:api`, `npm run start:worker`, or docker compose.)
 * Redis must be reachable at REDIS_URL. Signals are forwarded; if either process exits, both stop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const children: ChildProcess[] = ['src/server.ts', 'src/worker.ts'].map((entry) =>
  spawn(process.execPath, ['--import', 'tsx', entry], { cwd: root, stdio: 'inherit', env: process.env }),
);
let stopping = false;
const stopAll = (signal: NodeJS.Signals) => {
  if (stopping) return;
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill(signal);
};
for (const c of children) {
  c.on('exit', (code) => {
    stopAll('SIGTERM');
    if (children.every((k) => k.exitCode !== null || k.signalCode !== null)) process.exit(code ?? 0);
  });
}
process.on('SIGINT', () => stopAll('SIGINT'));
process.on('SIGTERM', () => stopAll('SIGTERM'));
