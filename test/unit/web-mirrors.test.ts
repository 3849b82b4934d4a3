// The playground (plain browser JS, no build step) keeps copies of server tables; each copy must equal its source.
import t from 'tap';
import { HEADLINE } from '../../src/eval/quality.ts';

t.test("the playground's quality table equals src/eval/quality.ts HEADLINE", async (t) => {
  // Imported by URL: the page's modules are plain JS outside the type-checked tree.
  const web = (await import(new URL('../../src/web/js/quality.js', import.meta.url).href)) as { HEADLINE: unknown };
  t.same(web.HEADLINE, HEADLINE);
});
