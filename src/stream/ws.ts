/**
 * GET /ws: one socket, many requests (see DESIGN.md "WebSocket protocol").
 * Client frames: generate, chat, summarize, translate, qa, cancel, subscribe — each validated with the same TypeBox validator as
 * HTTP bodies. Server frames: token, done, progress, error. Every problem is answered with an
 * `error` frame (with the request id when there is one) and the socket stays open; closing the
 * socket cancels every generation it started and drops its subscriptions.
 *
 * Keys (docs/auth.md): with keys configured the socket acts as the key of its upgrade request
 * (Authorization / x-api-key) or of a first `auth` frame; until then every other frame gets an
 * invalid_api_key error frame (the socket stays open). The key is re-read on every frame, so a
 * revoked key stops working on open sockets too. generate/chat/summarize/translate/qa need
 * `infer`, subscribe needs `train` and only follows the key's own jobs (admin: any).
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { ServiceError, isServiceError } from '../errors.ts';
import { validate } from '../schemas/validate.ts';
import { WS_CLIENT_FRAMES, type WsCancelFrame, type WsChatFrame, type WsGenerateFrame, type WsQaFrame, type WsSubscribeFrame, type WsSummarizeFrame, type WsTranslateFrame } from '../schemas/ws.ts';
import type { GenerateOptions } from '../infer/generate.ts';
import { followJob } from './job-follow.ts';
import { hashKey } from '../auth/key-store.ts';
import { invalidKey, presentedKey } from '../auth/credentials.ts';
import { canSee, ownerOf, requireScope, type Principal } from '../auth/scopes.ts';
import type { WsAuthFrame } from '../schemas/ws.ts';

/** Unsent bytes on a socket beyond which its generations are stopped. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

export const wsRoutes: FastifyPluginAsync = async (app) => {
  const { inference, queue, config, keys, concurrency } = app.services;

  /** A plain HTTP request (no `Upgrade: websocket`) gets 426 in the error shape, not the plugin's empty 404. */
  const upgradeRequired = async (req: FastifyRequest) => {
    if (!req.ws) throw new ServiceError('upgrade_required', 'GET /ws is a WebSocket endpoint: connect with a WebSocket client (Upgrade: websocket)', { headers: { upgrade: 'websocket' } });
  };

  app.get('/ws', { config: { scope: 'public' }, websocket: true, preValidation: upgradeRequired, schema: { tags: ['inference'], summary: 'WebSocket: token streaming and job progress (frames: Ws* schemas)' } }, (socket: WebSocket, req) => {
    // The hook already refused an upgrade with a bad key; a valid one is kept by hash.
    const presented = presentedKey(req.headers);
    let keyHash: string | undefined = req.auth && presented ? hashKey(presented) : undefined;
    /** The key the socket acts as now (null: auth off); undefined: not authenticated yet. */
    const principal = (): Principal | null | undefined => (!keys.enabled ? null : keyHash === undefined ? undefined : keys.lookupHash(keyHash));
    const running = new Map<string, AbortController>();
    const subscriptions = new Map<string, () => void>(); // job id → stop following
    const send = (frame: object) => {
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(frame));
    };
    const sendError = (err: unknown, ref: { id?: string; job_id?: string } = {}) => {
      const svc = isServiceError(err) ? err : new ServiceError('internal_error', 'internal error');
      if (!isServiceError(err)) req.log.error({ err }, 'websocket request failed');
      send({ type: 'error', ...ref, error: svc.toBody().error });
    };

    /** Starts a token-producing request under the client's id: token frames, then done (or error). */
    const start = (frame: { id: string }, who: Principal | null, run: (opts: GenerateOptions) => Promise<{ text: string; details: object }>) => {
      if (running.has(frame.id)) throw new ServiceError('invalid_request', `id "${frame.id}" is already in use by a running request on this socket`);
      if (running.size >= config.maxWsInflight) {
        throw new ServiceError('overloaded', `this socket already runs ${running.size} requests (MAX_WS_INFLIGHT = ${config.maxWsInflight}); wait for one to finish`);
      }
      const release = concurrency.acquire(who);
      const abort = new AbortController();
      running.set(frame.id, abort);
      let tooSlow = false;
      const onToken = (e: object) => {
        // A client that stops reading must not make the server buffer without bound.
        if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
          tooSlow = true;
          abort.abort();
          return;
        }
        send({ type: 'token', id: frame.id, ...e });
      };
      run({ signal: abort.signal, onToken })
        .then(
          (result) =>
            tooSlow
              ? sendError(new ServiceError('overloaded', `the client read too slowly (over ${MAX_BUFFERED_BYTES} bytes unsent); generation stopped`), { id: frame.id })
              : send({ type: 'done', id: frame.id, text: result.text, details: result.details }),
          (err) => sendError(err, { id: frame.id }),
        )
        .finally(() => {
          running.delete(frame.id);
          release();
        });
    };

    const cancel = (frame: WsCancelFrame) => {
      const abort = running.get(frame.id);
      if (!abort) throw new ServiceError('unknown_request_id', `id: no running request "${frame.id}" on this socket`);
      abort.abort();
    };

    const authenticate = (frame: WsAuthFrame) => {
      if (!keys.enabled) return send({ type: 'authenticated', key: null });
      const hash = hashKey(frame.api_key);
      const p = keys.lookupHash(hash);
      if (!p) {
        sendError(invalidKey(frame.api_key));
        socket.close(1008, 'invalid API key');
        return;
      }
      keyHash = hash;
      send({ type: 'authenticated', key: { name: p.name, scopes: p.scopes } });
    };

    const subscribe = (frame: WsSubscribeFrame, who: Principal | null) => {
      if (subscriptions.has(frame.job_id)) return; // already following: its frames keep coming
      if (subscriptions.size >= config.maxWsInflight) {
        throw new ServiceError('overloaded', `this socket already follows ${subscriptions.size} jobs (MAX_WS_INFLIGHT = ${config.maxWsInflight})`);
      }
      const stop = followJob(queue, frame.job_id, (f) => send(f), (err) => sendError(err, { job_id: frame.job_id }), () => subscriptions.delete(frame.job_id), (v) => canSee(who, v.owner));
      subscriptions.set(frame.job_id, stop);
    };

    socket.on('message', (raw: Buffer, isBinary: boolean) => {
      let id: string | undefined;
      try {
        if (isBinary) throw new ServiceError('invalid_request', 'frames must be text (JSON), not binary');
        if (raw.length > config.maxWsFrameBytes) throw new ServiceError('payload_too_large', `frame is ${raw.length} bytes; the limit is ${config.maxWsFrameBytes} (MAX_WS_FRAME_BYTES)`);
        let frame: unknown;
        try {
          frame = JSON.parse(raw.toString('utf8'));
        } catch (err) {
          throw new ServiceError('invalid_json', `frame is not valid JSON: ${(err as Error).message}`);
        }
        if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) throw new ServiceError('invalid_request', 'frame must be a JSON object with a "type"');
        const f = frame as Record<string, unknown>;
        if (typeof f.id === 'string') id = f.id;
        const type = f.type;
        if (typeof type !== 'string' || !Object.hasOwn(WS_CLIENT_FRAMES, type)) {
          throw new ServiceError('unknown_frame_type', `frame.type must be one of ${Object.keys(WS_CLIENT_FRAMES).join(', ')}, got ${JSON.stringify(type ?? null)}`);
        }
        const schema = WS_CLIENT_FRAMES[type as keyof typeof WS_CLIENT_FRAMES];
        if (type === 'auth') return authenticate(validate<WsAuthFrame>(schema, frame, 'frame'));
        const who = principal();
        if (who === undefined) {
          throw new ServiceError('invalid_api_key', keyHash === undefined
            ? 'this socket is not authenticated: send {"type":"auth","api_key":"<key>"} first, or the key in the upgrade request (Authorization: Bearer or x-api-key)'
            : 'the API key of this socket is no longer valid (revoked); send an auth frame with a valid key');
        }
        if (type === 'cancel') return cancel(validate<WsCancelFrame>(schema, frame, 'frame'));
        requireScope(who, type === 'subscribe' ? 'train' : 'infer', `a ${type} frame`);
        if (type === 'generate') {
          const f = validate<WsGenerateFrame>(schema, frame, 'frame');
          start(f, who, (o) => inference.generate(f, o));
        } else if (type === 'chat') {
          const f = validate<WsChatFrame>(schema, frame, 'frame');
          const { type: _t, id: _i, ...input } = f;
          start(f, who, (o) => inference.chat({ ...input, owner: ownerOf(who) }, o));
        } else if (type === 'summarize' || type === 'translate') {
          const f = validate<WsSummarizeFrame | WsTranslateFrame>(schema, frame, 'frame');
          start(f, who, (o) => inference.seq2seq(type, { model: f.model, source: f.text, parameters: f.parameters }, o));
        } else if (type === 'qa') {
          const f = validate<WsQaFrame>(schema, frame, 'frame');
          start(f, who, (o) => inference.seq2seq('qa', { model: f.model, source: f.question, context: f.context, parameters: f.parameters }, o));
        } else subscribe(validate<WsSubscribeFrame>(schema, frame, 'frame'), who);
      } catch (err) {
        sendError(err, id === undefined ? {} : { id });
      }
    });

    socket.on('close', () => {
      for (const abort of running.values()) abort.abort();
      running.clear();
      for (const stop of subscriptions.values()) stop();
      subscriptions.clear();
    });
  });
};
