// The CLI's dense logic without a seqserve server: option values, key=value pairs, the error line,
// the progress line, dataset formats — and that the key goes out as `Authorization: Bearer` on both
// HTTP requests and the WebSocket upgrade (a plain node:http server records what arrives).
import t from 'tap';
import http from 'node:http';
import { WebSocketServer } from 'ws';
import { UsageError, keyValues, num, parseCommandLine, DEFAULT_URL } from '../../src/cli/args.ts';
import { ApiClient, ApiError, ConnectionError } from '../../src/cli/client.ts';
import { formatError, table } from '../../src/cli/output.ts';
import { fmtDuration, fractionDone, renderProgress } from '../../src/cli/progress.ts';
import { formatOf } from '../../src/cli/dataset-upload.ts';
import { StreamSocket } from '../../src/cli/socket.ts';

t.test('options: --url / SEQSERVE_URL / default; --api-key / SEQSERVE_API_KEY', async (t) => {
  t.equal(DEFAULT_URL, 'http://127.0.0.1:8080', 'the server default port (config.ts PORT)');
  t.equal(parseCommandLine('models', [], {}, {}).url, DEFAULT_URL);
  t.equal(parseCommandLine('models', [], {}, { SEQSERVE_URL: 'http://h:1' }).url, 'http://h:1');
  t.equal(parseCommandLine('models', ['--url', 'http://a:2'], {}, { SEQSERVE_URL: 'http://h:1' }).url, 'http://a:2', 'the flag wins');
  t.equal(parseCommandLine('models', [], {}, { SEQSERVE_API_KEY: 'k1' }).apiKey, 'k1');
  t.equal(parseCommandLine('models', ['--api-key', 'k2'], {}, { SEQSERVE_API_KEY: 'k1' }).apiKey, 'k2');
  t.equal(parseCommandLine('models', [], {}, { SEQSERVE_API_KEY: ' ' }).apiKey, undefined, 'blank env = none');
  t.throws(() => parseCommandLine('models', ['--url', 'localhost:8080'], {}, {}), UsageError);
  t.throws(() => parseCommandLine('models', ['--nope'], {}, {}), { name: 'UsageError', command: 'models' });
});

t.test('--hp key=value: typed scalars; bad pairs and numbers are usage errors', async (t) => {
  t.same(keyValues(['epochs=3', 'learning_rate=1e-3', 'dropout=.2', 'bidirectional=false', 'lr_schedule=cosine', 'max_steps=null', 'x=-4'], 'hp'), {
    epochs: 3, learning_rate: 0.001, dropout: 0.2, bidirectional: false, lr_schedule: 'cosine', max_steps: null, x: -4,
  });
  t.same(keyValues(['source=en col', 'a=1.2.3'], 'column'), { source: 'en col', a: '1.2.3' });
  t.throws(() => keyValues(['epochs'], 'hp'), { message: '--hp takes key=value, got "epochs"' });
  t.throws(() => keyValues(['=3'], 'hp'), UsageError);
  t.equal(num({ seed: '7' }, 'seed', { integer: true }), 7);
  t.throws(() => num({ seed: '7.5' }, 'seed', { integer: true }), { message: '--seed must be an integer, got "7.5"' });
  t.throws(() => num({ 'top-p': 'x' }, 'top-p'), { message: '--top-p must be a number, got "x"' });
});

t.test('the error line', async (t) => {
  t.equal(formatError(new ApiError('parameters.top_p must be ≤ 1', 'invalid_parameter', 'parameters.top_p', 400)), 'error: parameters.top_p must be ≤ 1 (invalid_parameter, parameters.top_p)');
  t.equal(formatError(new ApiError('no such job', 'job_not_found', null, 404)), 'error: no such job (job_not_found)');
  t.match(formatError(new ConnectionError('http://127.0.0.1:9', 'connection refused')), /^error: cannot reach the seqserve server at http:\/\/127\.0\.0\.1:9 \(connection refused\)/);
  t.equal(formatError(new UsageError('--name is required', 'train')), 'error: --name is required\nsee `seqserve train --help`');
  t.match(ApiError.fromBody('<html>bad gateway</html>', 502), { code: 'http_502', message: /502 <html>bad gateway/ });
});

t.test('progress line and bar', async (t) => {
  const p = { epoch: 1, epochs: 4, step: 5, steps: 10, loss: 2.34567, val_loss: 2.5, tokens_per_sec: 1520.4, eta_s: 75 };
  t.equal(renderProgress('running', p), 'running  epoch 2/4  step 5/10  loss 2.346  val_loss 2.5  1,520 tok/s  ETA 1:15');
  t.equal(renderProgress('running', p, { bar: 8 }), 'running  epoch 2/4  step 5/10  [###.....]  37%  loss 2.346  val_loss 2.5  1,520 tok/s  ETA 1:15');
  t.equal(fractionDone(p), 0.375);
  t.equal(fractionDone({ epoch: 4, epochs: 4, step: 10, steps: 10 }), 1, 'the end: not past 1');
  t.equal(fractionDone({ epoch: 0, epochs: 2, step: 10, steps: 10 }), 0.5, 'the first epoch\'s last step');
  t.equal(renderProgress('completed', { epoch: 4, epochs: 4, step: 0, steps: 10, loss: 1, val_loss: null, tokens_per_sec: null, eta_s: 0 }), 'completed  epoch 4/4  loss 1', 'no step or ETA once ended');
  t.equal(renderProgress('queued', null), 'queued');
  t.equal(fmtDuration(3725), '1:02:05');
  t.equal(fmtDuration(59.6), '1:00');
});

t.test('dataset formats by extension; tables', async (t) => {
  t.equal(formatOf('a.txt'), 'text');
  t.equal(formatOf('a.JSONL'), 'jsonl');
  t.equal(formatOf('a.ndjson'), 'jsonl');
  t.equal(formatOf('a.csv'), 'csv');
  t.equal(formatOf('a.tsv'), 'tsv');
  t.equal(formatOf('noext'), 'text');
  t.equal(formatOf('a.txt', 'csv'), 'csv');
  t.throws(() => formatOf('a.txt', 'xml'), UsageError);
  t.equal(table([{ a: 'x', b: 1.23456 }, { a: 'long', b: null }], [['a', 'A'], ['b', 'B']]), 'A     B\nx     1.235\nlong  -\n');
});

t.test('the key goes out as Authorization: Bearer on HTTP and on the WebSocket upgrade', async (t) => {
  const seen: Array<{ url: string; auth: string | undefined }> = [];
  const server = http.createServer((req, res) => {
    seen.push({ url: req.url!, auth: req.headers.authorization });
    if (req.url === '/denied') {
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'invalid_api_key', message: 'unknown API key', type: 'authentication_error', param: null } }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"models":[]}');
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    seen.push({ url: req.url!, auth: req.headers.authorization });
    if (req.headers.authorization !== 'Bearer good') {
      socket.end('HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{"error":{"code":"invalid_api_key","message":"unknown API key","type":"authentication_error","param":null}}');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => ws.close());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

  await new ApiClient(url, 'good').get('/models');
  t.same(seen.pop(), { url: '/models', auth: 'Bearer good' });
  await new ApiClient(url).get('/models');
  t.same(seen.pop(), { url: '/models', auth: undefined }, 'no key, no header');
  await t.rejects(new ApiClient(url, 'bad').get('/denied'), { name: 'ApiError', code: 'invalid_api_key', status: 401 });

  const socket = await StreamSocket.open(new ApiClient(url, 'good'));
  socket.close();
  t.same(seen.pop(), { url: '/ws', auth: 'Bearer good' });
  await t.rejects(StreamSocket.open(new ApiClient(url, 'bad')), { name: 'ApiError', code: 'invalid_api_key', message: 'unknown API key', status: 401 }, 'a refused upgrade reports the server\'s error');
});
