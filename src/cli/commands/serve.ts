/** `seqserve serve`: the API process (the same as `npm run start:api`), configured by env vars or a few flags. */
import { num, str } from '../args.ts';
import type { Command } from '../command.ts';
import { runEntry } from '../run-entry.ts';

export const serve: Command = {
  name: 'serve',
  summary: 'run the API server (as npm run start:api); training needs a worker too',
  help: `usage: seqserve serve [--port N] [--host HOST] [--models DIR] [--data DIR]

Runs the HTTP/WebSocket API in the foreground. Every setting is an environment variable
(README "Configuration": PORT, REDIS_URL, MODELS_DIR, …); these flags set the common ones.
Relative paths are taken from the current directory. Ctrl-C shuts down gracefully.

options:
  --port N           PORT (default 8080)
  --host HOST        HOST (default 0.0.0.0)
  --models DIR       MODELS_DIR (default ./models)
  --data DIR         DATA_DIR: datasets and checkpoints (default ./data)`,
  options: { port: { type: 'string' }, host: { type: 'string' }, models: { type: 'string' }, data: { type: 'string' } },
  async run({ values, io }) {
    const port = num(values, 'port', { integer: true });
    const env: NodeJS.ProcessEnv = { ...io.env };
    if (port !== undefined) env.PORT = String(port);
    if (str(values, 'host')) env.HOST = str(values, 'host');
    if (str(values, 'models')) env.MODELS_DIR = str(values, 'models');
    if (str(values, 'data')) env.DATA_DIR = str(values, 'data');
    return runEntry('server.ts', env);
  },
};
