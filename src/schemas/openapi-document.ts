/**
 * Builds the OpenAPI document from the app's route schemas (via @fastify/swagger) and adds the
 * WebSocket frames as components, without binding a port or reaching Redis. Used by
 * scripts/generate-openapi.ts and the drift test.
 */
import { stringify } from 'yaml';
import { loadConfig } from '../config.ts';
import { buildApp } from '../app.ts';
import { WS_CLIENT_FRAMES, WsAuthenticatedFrame, WsDoneFrame, WsErrorFrame, WsProgressFrame, WsTokenFrame } from './ws.ts';

export async function buildOpenApiYaml(): Promise<string> {
  // Fixed config: the document must not depend on the environment it is generated in.
  const config = loadConfig({}, { logLevel: 'silent', redisUrl: 'redis://127.0.0.1:1' });
  const backend = { name: 'none', requested: 'auto' as const, native: false, threads: 1, fixes: [] };
  const app = await buildApp(config, backend);
  try {
    await app.ready();
    const doc = app.swagger() as { components?: { schemas?: Record<string, unknown> } };
    doc.components ??= {};
    doc.components.schemas ??= {};
    for (const schema of [...Object.values(WS_CLIENT_FRAMES), WsTokenFrame, WsDoneFrame, WsProgressFrame, WsAuthenticatedFrame, WsErrorFrame]) {
      const { $id, ...rest } = schema as { $id: string };
      doc.components.schemas[$id] = JSON.parse(JSON.stringify(rest, (k, v) => (k === '$id' ? undefined : v)));
    }
    return stringify(doc, { sortMapEntries: false, lineWidth: 0 });
  } finally {
    await app.close();
  }
}
