// openapi.yaml is generated from the TypeBox schemas; this fails when the committed file drifts.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { buildOpenApiYaml } from '../../src/schemas/openapi-document.ts';

t.test('openapi.yaml matches the code', async (t) => {
  const committed = await readFile(new URL('../../openapi.yaml', import.meta.url), 'utf8');
  const generated = await buildOpenApiYaml();
  t.equal(committed, generated, 'run `npm run openapi` and commit openapi.yaml');
  const doc = parse(generated);
  for (const path of ['/generate', '/train', '/train/{id}', '/train/{id}/cancel', '/train/{id}/logs', '/datasets', '/datasets/{id}', '/models', '/models/{name}', '/health', '/ready']) {
    t.ok(doc.paths[path], `documents ${path}`);
  }
  for (const frame of ['WsGenerateFrame', 'WsCancelFrame', 'WsSubscribeFrame', 'WsTokenFrame', 'WsDoneFrame', 'WsProgressFrame', 'WsErrorFrame']) {
    t.ok(doc.components.schemas[frame], `documents the ${frame} WebSocket frame`);
  }
});
