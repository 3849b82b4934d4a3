/**
 * `npm start`: the API and one training worker on a single machine, supervised (src/supervisor.ts):
 * a child that dies is restarted with backoff while the other keeps running — killing the worker
 * never stops serving. SIGINT/SIGTERM stop both gracefully (a second signal kills them at once).
 * In production run them separately (`npm run start:api`, `npm run start:worker`) or with docker
 * compose, whose restart policy does this job. Redis must be reachable at REDIS_URL.
 */
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { loadConfig } from '../src/config.ts';
import { Supervisor } from '../src/supervisor.ts';

const config = loadConfig(); // fails here, once, on a bad variable rather than in both children
const log = pino({ level: config.logLevel, name: 'seqserve-supervisor' });
const supervisor = new Supervisor(
  [
    { name: 'api', args: ['--import', 'tsx', 'src/server.ts'] },
    { name: 'worker', args: ['--import', 'tsx', 'src/worker.ts'] },
  ],
  { backoffMs: config.restartBackoffMs, backoffMaxMs: config.restartBackoffMaxMs, stableMs: config.restartStableMs },
  log,
  // The worker's own shutdown deadline is SHUTDOWN_TIMEOUT_MS + 35 s (a checkpoint mid-batch); a little more here.
  { cwd: fileURLToPath(new URL('..', import.meta.url)), env: process.env, killAfterMs: config.shutdownTimeoutMs + 40_000 },
);

// Ctrl-C on `npm start` delivers SIGINT twice within milliseconds (the terminal signals the whole
// process group and npm forwards its own copy): repeats within a second are the same request.
let firstSignalAt = 0;
const onSignal = (signal: NodeJS.Signals) => {
  if (firstSignalAt === 0) {
    firstSignalAt = Date.now();
    supervisor.stop(signal);
  } else if (Date.now() - firstSignalAt > 1000) supervisor.kill(`second ${signal}`);
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
supervisor.start();
const code = await supervisor.stopped;
log.info({ code }, 'stopped');
process.exit(code);
