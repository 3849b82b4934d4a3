/**
 * `npm run openapi`: writes openapi.yaml from the routes' TypeBox schemas (the one source), plus
 * the WebSocket frame schemas as components. `--check` exits 1 when the committed file differs.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { buildOpenApiYaml } from '../src/schemas/openapi-document.ts';

const file = fileURLToPath(new URL('../openapi.yaml', import.meta.url));
const yaml = await buildOpenApiYaml();
if (process.argv.includes('--check')) {
  const committed = await readFile(file, 'utf8').catch(() => '');
  if (committed !== yaml) {
    console.error('openapi.yaml is out of date with the schemas: run `npm run openapi` and commit it');
    process.exit(1);
  }
  console.log('openapi.yaml matches the schemas');
} else {
  await writeFile(file, yaml);
  console.log(`wrote ${file}`);
}
