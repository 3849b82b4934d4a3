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
  return app;
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
}
