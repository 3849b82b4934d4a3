/**
 * Errors on an established WebSocket (@fastify/websocket's `errorHandler`).
 *
 * ws reports protocol violations by the client — a frame over `maxPayload` (WS_ERR_UNSUPPORTED_MESSAGE_LENGTH),
 * invalid UTF-8, a bad opcode — after it has already queued a close frame with the matching code
 * (1009, 1007, 1002) and stopped reading. It then discards what the client still sends and ends
 * the connection once the close frame is out (or after its close timeout). Terminating the socket
 * here, as the plugin's default handler does, would reset the connection under that close frame
 * and the client would see a bare 1006; so protocol errors are only logged. Anything else (a
 * handler that threw, a reset by the peer) ends the socket as before.
 */
import type { FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';

export function wsErrorHandler(err: Error & { code?: unknown }, socket: WebSocket, req: FastifyRequest): void {
  if (typeof err.code === 'string' && err.code.startsWith('WS_ERR_')) {
    req.log.info({ code: err.code, msg: err.message }, 'websocket closed by the server: client broke the protocol');
    return;
  }
  req.log.error({ err }, 'websocket error');
  socket.terminate();
}
