/** API process entry: config → compute backend → Fastify app → listen; graceful shutdown on SIGTERM/SIGINT. */
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { loadConfig, type Config } from './config.ts';
import { initBackend } from './backend/select.ts';
import { buildApp, type App } from './app.ts';

export async function startServer(config: Config = loadConfig()): Promise<App> {
  // The backend is chosen before the app exists; its fallbacks (e.g. tfjs-node missing) are logged here.
  const backend = await initBackend(config.tfjsBackend, pino({ level: config.logLevel, name: 'seqserve-backend' }));
  const app = await buildApp(config, backend);
  app.log.info({ backend: app.services.backend }, 'compute backend ready');
  await app.listen({ port: config.port, host: config.host });
  if (!app.services.keys.enabled && !isLoopback(config.host)) {
    app.log.warn({ host: config.host }, 'no API keys configured (API_KEYS_FILE / API_KEYS) and listening beyond loopback: anyone who can reach this port can train, delete models and read datasets (docs/auth.md)');
  } else if (app.services.keys.enabled) {
    app.log.info({ keys: app.services.keys.size }, 'API keys required (docs/auth.md)');
  }
  return app;
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const app = await startServer().catch((err) => {
    console.error(`seqserve: failed to start: ${(err as Error).message}`);
    process.exit(1);
  });
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: no new requests; in-flight ones get the grace period');
    const timer = setTimeout(() => {
      app.log.warn('grace period over; exiting');
      process.exit(1);
    }, app.services.config.shutdownTimeoutMs);
    timer.unref();
    app.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  // SIGHUP re-reads the API keys (the file is also watched); a bad file keeps the current keys.
  process.on('SIGHUP', () => app.services.keys.reload('SIGHUP'));
}
