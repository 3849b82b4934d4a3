// Import directions (DESIGN.md "Layout"): src/infer and src/train never import each other — code both
// need lives in src/tasks — and src/tasks imports neither side (nor http/stream); src/cli (the
// command line) is an API client and imports no serving or training code. Scans every .ts file
// under those folders for static imports, re-exports, side-effect imports and dynamic import() calls.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');
const SPECIFIER = /(?:\bfrom|\bimport)\s*\(?\s*['"]([^'"]+)['"]/g;

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Top-level src folder (or file) each relative import of `folder`'s files lands in, with the importing file. */
function importsOf(folder: string): { file: string; specifier: string; target: string }[] {
  const out: { file: string; specifier: string; target: string }[] = [];
  for (const file of tsFiles(join(SRC, folder))) {
    for (const m of readFileSync(file, 'utf8').matchAll(SPECIFIER)) {
      const specifier = m[1]!;
      if (!specifier.startsWith('.')) continue;
      const rel = relative(SRC, resolve(dirname(file), specifier));
      out.push({ file: relative(SRC, file), specifier, target: rel.split(sep)[0]! });
    }
  }
  return out;
}

const RULES: Record<string, string[]> = {
  infer: ['train', 'worker.ts'],
  train: ['infer', 'http', 'stream', 'server.ts', 'app.ts'],
  tasks: ['infer', 'train', 'http', 'stream', 'worker.ts', 'server.ts', 'app.ts'],
  // The CLI is a client of the HTTP/WS API (it starts server.ts / worker.ts as child processes): it
  // loads none of the serving or training code, so `seqserve generate` starts fast and needs no tf.js.
  cli: ['infer', 'train', 'tasks', 'http', 'stream', 'arch', 'decode', 'tokenize', 'store', 'queue', 'backend', 'eval', 'server.ts', 'worker.ts', 'app.ts'],
};

for (const [folder, banned] of Object.entries(RULES)) {
  t.test(`src/${folder} imports none of ${banned.join(', ')}`, async (t) => {
    const imports = importsOf(folder);
    // The scan must see this folder's own imports, or the check below would pass vacuously.
    t.ok(imports.length > 10, `found ${imports.length} relative imports in src/${folder}`);
    const bad = imports.filter((i) => banned.includes(i.target)).map((i) => `src/${i.file}: '${i.specifier}'`);
    t.same(bad, [], bad.length ? `forbidden imports:\n  ${bad.join('\n  ')}` : 'no forbidden imports');
  });
}

t.test('the scanner recognises every import form', async (t) => {
  const src = `import a from '../train/x.ts';\nimport type { B } from "../train/y.ts";\nexport { c } from '../train/z.ts';\nimport '../train/w.ts';\nconst d = await import('../train/v.ts');`;
  t.same([...src.matchAll(SPECIFIER)].map((m) => m[1]), ['../train/x.ts', '../train/y.ts', '../train/z.ts', '../train/w.ts', '../train/v.ts']);
});
