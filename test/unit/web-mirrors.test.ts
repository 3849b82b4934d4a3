// The playground (plain browser JS, no build step) keeps copies of server tables; each copy must equal its source.
import t from 'tap';
import { HEADLINE } from '../../src/eval/quality.ts';
import { TASK_ROLES } from '../../src/tasks/task-data.ts';

t.test("the playground's quality table equals src/eval/quality.ts HEADLINE", async (t) => {
  // Imported by URL: the page's modules are plain JS outside the type-checked tree.
  const web = (await import(new URL('../../src/web/js/quality.js', import.meta.url).href)) as { HEADLINE: unknown };
  t.same(web.HEADLINE, HEADLINE);
});

t.test("the playground's dataset columns per task equal src/tasks/task-data.ts TASK_ROLES (required, then optional)", async (t) => {
  const web = (await import(new URL('../../src/web/js/task-roles.js', import.meta.url).href)) as { TASK_ROLES: Record<string, string[]> };
  const server = Object.fromEntries(Object.entries(TASK_ROLES).map(([task, spec]) => [task, [...spec.required, ...spec.optional]]));
  t.same(web.TASK_ROLES, server);
});
