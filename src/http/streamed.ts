/**
 * The shared shape of every token-producing HTTP endpoint (/generate, /summarize, /translate, /qa):
 * JSON by default, or Server-Sent Events with "stream": true — `token` events, then one `done`
 * {text, details}; a failure after the stream started is an `error` event in the one error shape.
 * Closing the connection cancels the request.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isServiceError, ServiceError } from '../errors.ts';
import type { GenerateOptions } from '../infer/generate.ts';
import { openSse } from './sse.ts';

type Run<R> = (opts: GenerateOptions & { onStart?: () => void }) => Promise<R>;

export async function respondStreamed<R extends { text: string; details: object }>(
  req: FastifyRequest,
  reply: FastifyReply,
  stream: boolean | undefined,
  run: Run<R>,
  toJson: (result: R) => object,
): Promise<object | FastifyReply> {
  // The client going away (socket closed before the answer was written) cancels the request.
  const abort = new AbortController();
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) abort.abort();
  });
  if (!stream) return toJson(await run({ signal: abort.signal }));

  let sse: ReturnType<typeof openSse> | undefined;
  try {
    const result = await run({
      signal: abort.signal,
      onStart: () => {
        sse = openSse(reply);
      },
      onToken: (e) => sse?.send('token', e),
    });
    sse!.send('done', { text: result.text, details: result.details });
  } catch (err) {
    if (!sse) throw err; // nothing sent yet: a normal status code
    const svc = isServiceError(err) ? err : new ServiceError('internal_error', 'request failed');
    if (!isServiceError(err)) req.log.error({ err }, 'request failed mid-stream');
    sse.send('error', svc.toBody());
  }
  sse?.end();
  return reply;
}
