// The not-found handler: 405 with Allow for a path served under other methods, 404 otherwise; a
// catch-all route (a CORS plugin's `OPTIONS *`) does not turn every unknown path into a 405.
import t from 'tap';
import Fastify from 'fastify';
import { routeMiss } from '../../src/http/fastify-errors.ts';

t.test('405 with Allow vs 404', async (t) => {
  const app = Fastify();
  app.setNotFoundHandler(routeMiss(app));
  app.get('/models/:name', async () => ({}));
  app.delete('/models/:name', async () => ({}));
  app.post('/models/:name/evaluate', async () => ({}));
  app.options('*', async () => '');
  t.teardown(() => app.close());

  const put = await app.inject({ method: 'PUT', url: '/models/tiny' });
  t.equal(put.statusCode, 405);
  t.equal(put.headers.allow, 'DELETE, GET, HEAD');
  t.equal(put.json().error.code, 'method_not_allowed');
  t.match(put.json().error.message, /PUT is not allowed on \/models\/tiny; allowed: DELETE, GET, HEAD/);
  t.equal((await app.inject({ method: 'GET', url: '/models/tiny/evaluate' })).headers.allow, 'POST', 'a parameter matches one segment only');

  for (const url of ['/nothing', '/models', '/models/a/b/c']) {
    const r = await app.inject({ method: 'GET', url });
    t.equal(r.statusCode, 404, `GET ${url}: 404 despite OPTIONS *`);
    t.equal(r.json().error.code, 'route_not_found');
  }
});
