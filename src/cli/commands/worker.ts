/** `seqserve worker`: a training worker (the same as `npm run start:worker`). */
import { num, str } from '../args.ts';
import type { Command } from '../command.ts';
import { runEntry } from '../run-entry.ts';

export const worker: Command = {
  name: 'worker',
  summary: 'run a training worker (as npm run start:worker)',
  help: `usage: seqserve worker [--concurrency N] [--models DIR] [--data DIR]

Consumes the training queue in Redis (REDIS_URL, QUEUE_PREFIX) and publishes trained models into
MODELS_DIR; it must share MODELS_DIR and DATA_DIR with the API. Ctrl-C stops it: a running job
checkpoints and resumes on the next worker.

options:
  --concurrency N    WORKER_CONCURRENCY (default 1)
  --models DIR       MODELS_DIR (default ./models)
  --data DIR         DATA_DIR: datasets and checkpoints (default ./data)`,
  options: { concurrency: { type: 'string' }, models: { type: 'string' }, data: { type: 'string' } },
  async run({ values, io }) {
    const concurrency = num(values, 'concurrency', { integer: true });
    const env: NodeJS.ProcessEnv = { ...io.env };
    if (concurrency !== undefined) env.WORKER_CONCURRENCY = String(concurrency);
    if (str(values, 'models')) env.MODELS_DIR = str(values, 'models');
    if (str(values, 'data')) env.DATA_DIR = str(values, 'data');
    return runEntry('worker.ts', env);
  },
};
