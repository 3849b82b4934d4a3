// Every 4xx the server itself produces — Fastify's own rejections included — answers the one error
// shape; the leftovers of the bad-input probe (issue 9) each have a case here.
import http from 'node:http';
import t, { type Test } from 'tap';
import WebSocket from 'ws';
import { startServer, post, wsClient } from '../helpers/app.ts';

/** A raw HTTP request: the path is sent exactly as given (fetch would normalise it). */
function raw(url: string, method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, method, path, headers: { ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}), ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Asserts the one error shape and returns the parsed body. */
function errorShape(t: Test, what: string, r: { status: number; text: string }, status: number, code: string, message?: RegExp): any {
  t.equal(r.status, status, `${what}: status`);
  let body: any;
  try {
    body = JSON.parse(r.text);
  } catch {
    t.fail(`${what}: body is not JSON: ${JSON.stringify(r.text.slice(0, 200))}`);
    return undefined;
  }
  t.same(Object.keys(body), ['error'], `${what}: only "error" at the top`);
  t.same(Object.keys(body.error ?? {}).sort(), ['code', 'message', 'param', 'type'], `${what}: code, message, type, param`);
  t.equal(body.error?.code, code, `${what}: code`);
  t.type(body.error?.message, 'string', `${what}: message`);
  if (message) t.match(body.error.message, message, `${what}: message names the problem`);
  return body;
}

t.test('the server\'s own 4xx answers, walked one by one', async (t) => {
  const s = await startServer(t, { maxBodyBytes: 4096, maxInlineTextBytes: 2048 });
  const json = { 'content-type': 'application/json' };

  // Malformed percent-escapes: Fastify rejects them before routing (FST_ERR_BAD_URL).
  for (const path of ['/%ff', '/%', '/models/%ff%fe', '/models/%']) {
    errorShape(t, `GET ${path}`, await raw(s.url, 'GET', path), 400, 'invalid_request', /not a valid URL.*percent-escape/);
  }
  // A path parameter longer than the router's limit (FST_ERR_MAX_PARAM_LENGTH).
  errorShape(t, 'over-long path parameter', await raw(s.url, 'GET', `/models/${'a'.repeat(300)}`), 414, 'uri_too_long', /longer than 100 characters/);
  // A WebSocket endpoint asked over plain HTTP.
  const ws = await raw(s.url, 'GET', '/ws');
  errorShape(t, 'GET /ws without Upgrade', ws, 426, 'upgrade_required', /WebSocket/);
  t.equal(ws.headers.upgrade, 'websocket', '426 names the protocol to upgrade to');
  // Content-Type the route does not parse.
  errorShape(t, 'text/xml body', await raw(s.url, 'POST', '/generate', { 'content-type': 'text/xml' }, '<x/>'), 415, 'unsupported_media_type');
  errorShape(t, 'upload with an unknown Content-Type', await raw(s.url, 'POST', '/datasets', { 'content-type': 'image/png' }, 'abc'), 415, 'unsupported_media_type');
  // Bodies over the limit.
  errorShape(t, 'JSON body over MAX_BODY_BYTES', await raw(s.url, 'POST', '/generate', json, JSON.stringify({ model: 'x', prompt: 'y'.repeat(5000) })), 413, 'payload_too_large');
  // Broken and empty JSON.
  errorShape(t, 'malformed JSON', await raw(s.url, 'POST', '/generate', json, '{"model": '), 400, 'invalid_json');
  errorShape(t, 'empty JSON body', await raw(s.url, 'POST', '/generate', json, ''), 400, 'invalid_json');
  // Unknown paths and methods.
  errorShape(t, 'unknown path', await raw(s.url, 'GET', '/nothing-here'), 404, 'route_not_found', /GET \/nothing-here/);
  const put = await raw(s.url, 'PUT', '/generate', json, '{}');
  errorShape(t, 'PUT /generate', put, 405, 'method_not_allowed', /PUT.*allowed: POST/);
  t.equal(put.headers.allow, 'POST', '405 lists the allowed methods');
  const patch = await raw(s.url, 'PATCH', '/models/tiny');
  errorShape(t, 'PATCH /models/:name', patch, 405, 'method_not_allowed');
  t.match(patch.headers.allow, /DELETE.*GET/, 'Allow lists every method of the path');
  // The server is unharmed.
  t.equal((await raw(s.url, 'GET', '/health')).status, 200);
});

t.test('unknown query parameters are refused by name on every route', async (t) => {
  const s = await startServer(t);
  const cases: Array<[string, string, unknown?]> = [
    ['GET', '/health'],
    ['GET', '/ready'],
    ['GET', '/metrics'],
    ['GET', '/openapi.yaml'],
    ['GET', '/datasets'],
    ['GET', `/datasets/ds_${'0'.repeat(24)}`],
    ['DELETE', `/datasets/ds_${'0'.repeat(24)}`],
    ['GET', '/train'],
    ['GET', '/train/1'],
    ['GET', '/train/1/logs'],
    ['POST', '/train/1/cancel'],
    ['POST', '/train', { name: 'never', dataset: { text: 'abc '.repeat(200) } }],
    ['GET', '/models'],
    ['GET', '/models/tiny'],
    ['DELETE', '/models/tiny'],
    ['DELETE', '/models/tiny/versions/1'],
    ['POST', '/generate', { model: 'tiny', prompt: 'x' }],
    ['POST', '/summarize', { model: 'tiny', text: 'x' }],
    ['GET', '/v1/models'],
    ['GET', '/v1/models/tiny'],
    ['GET', '/sessions/abc'],
    ['DELETE', '/sessions/abc'],
  ];
  for (const [method, path, body] of cases) {
    const r = await raw(s.url, method, `${path}?bogus=1`, body === undefined ? {} : { 'content-type': 'application/json' }, body === undefined ? undefined : JSON.stringify(body));
    const b = errorShape(t, `${method} ${path}?bogus=1`, r, 400, 'invalid_request', /bogus is not a known query parameter/);
    t.equal(b?.error.param, 'bogus', `${method} ${path}: param names it`);
  }
  const upload = (query: string) => raw(s.url, 'POST', `/datasets${query}`, { 'content-type': 'text/plain' }, 'a line\nanother line\n');
  errorShape(t, 'POST /datasets?bogus=1', await upload('?bogus=1'), 400, 'invalid_request', /bogus is not a known query parameter/);
  const emptyName = errorShape(t, 'POST /datasets?name=', await upload('?name='), 400, 'invalid_parameter', /name must be at least 1 character/);
  t.equal(emptyName?.error.param, 'name');
  t.equal((await upload('?name=lines')).status, 201, 'a known parameter still works');
  t.equal((await raw(s.url, 'GET', '/models')).status, 200, 'no query: fine');
});

t.test('inline dataset.text with NUL bytes is refused like the same text uploaded', async (t) => {
  const s = await startServer(t);
  const text = 'the cat sat on the mat.\n'.repeat(20) + 'a NUL \u0000 here\n';
  const upload = await raw(s.url, 'POST', '/datasets', { 'content-type': 'text/plain' }, text);
  const up = errorShape(t, 'upload', upload, 400, 'invalid_dataset', /NUL byte \(line 21\)/);
  const inline = await post(`${s.url}/train`, { name: 'nul', dataset: { text } });
  t.equal(inline.status, 400);
  t.equal(inline.json.error.code, up.error.code, 'same code');
  t.equal(inline.json.error.message, up.error.message, 'same message');
  t.equal(inline.json.error.param, 'dataset.text');
  const controls = await post(`${s.url}/train`, { name: 'ctl', dataset: { text: 'ab\u0001\u0002'.repeat(100) } });
  t.equal(controls.json.error.code, 'invalid_dataset', 'binary-looking inline text too');
  t.match(controls.json.error.message, /control characters \(limit 1%\)/);
  t.equal((await post(`${s.url}/train`, { name: 'blank', dataset: { text: ' \n\t ' } })).json.error.code, 'invalid_dataset', 'whitespace-only inline text too');
});

t.test('oversized WebSocket frames: an error frame under the hard cap, a 1009 close over it — never a bare 1006', async (t) => {
  const s = await startServer(t, { maxWsFrameBytes: 65536 }); // hard cap: max(4 × 64 KiB, 1 MiB) = 1 MiB
  const over = await wsClient(t, s.ws);
  over.send({ type: 'generate', id: 'big', model: 'tiny', prompt: 'x'.repeat(200_000) });
  const err = await over.next((f) => f.type === 'error');
  t.equal(err.id, undefined, 'the frame was not parsed, so no id');
  t.equal(err.error.code, 'payload_too_large');
  t.match(err.error.message, /200\d{3} bytes; the limit is 65536 \(MAX_WS_FRAME_BYTES\)/);
  over.send({ type: 'cancel', id: 'ghost' });
  t.equal((await over.next((f) => f.error?.code === 'unknown_request_id')).type, 'error', 'the socket stays usable');

  const fiveMb = 5 * 1024 * 1024;
  for (const [what, payload] of [
    ['5 MB prompt', JSON.stringify({ type: 'generate', id: 'huge', model: 'tiny', prompt: 'x'.repeat(fiveMb) })],
    ['5 MB of non-JSON text', 'y'.repeat(fiveMb)],
  ] as const) {
    const ws = new WebSocket(s.ws);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const errors: string[] = [];
    ws.on('error', (e) => errors.push(e.message));
    const socket = (ws as unknown as { _socket: import('node:net').Socket })._socket;
    const reset = new Promise<boolean>((resolve) => socket.once('close', (hadError) => resolve(hadError)));
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    const sent = new Promise<string | undefined>((resolve) => ws.send(payload, (e) => resolve(e?.message)));
    t.equal(await closed, 1009, `${what}: closed with 1009 (message too big)`);
    // A server that reset the connection (rather than closing it after its close frame) makes the
    // client's write fail with ECONNRESET; on any network slower than loopback the reset also
    // overtakes the close frame and the client sees a bare 1006.
    t.equal(await sent, undefined, `${what}: the client's write was not reset`);
    t.equal(await reset, false, `${what}: the TCP connection ended without a reset`);
    t.same(errors, [], `${what}: no connection error on the client`);
  }
  const after = await wsClient(t, s.ws);
  after.send({ type: 'cancel', id: 'ghost' });
  t.equal((await after.next((f) => f.type === 'error')).error.code, 'unknown_request_id', 'the server still serves new sockets');
});
