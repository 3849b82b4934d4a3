/** Minimal Server-Sent Events writer on a hijacked Fastify reply. */
import type { FastifyReply } from 'fastify';

/** Takes the reply over from Fastify and writes the event-stream head (200, no caching or proxy buffering). */
export function writeSseHead(reply: FastifyReply): void {
  reply.hijack();
  reply.raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': String(reply.request.id),
  });
}

export function openSse(reply: FastifyReply) {
  writeSseHead(reply);
  return {
    send(event: string, data: unknown): void {
      if (!reply.raw.writableEnded) reply.raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    end(): void {
      if (!reply.raw.writableEnded) reply.raw.end();
    },
  };
}
