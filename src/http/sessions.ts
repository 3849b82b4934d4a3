/** GET /sessions/:id (what the server keeps for a chat session) and DELETE /sessions/:id (drop it and its state). */
import type { FastifyPluginAsync } from 'fastify';
import { ServiceError } from '../errors.ts';
import { ErrorResponse } from '../schemas/common.ts';
import { ChatSessionInfo, SessionDeleted, SessionParams } from '../schemas/chat.ts';
import { ownerFilter, ownerOf, type Principal } from '../auth/scopes.ts';
import type { Viewer } from '../infer/sessions.ts';

/** A key sees its own sessions; admin (and auth off) every session. */
const viewer = (p: Principal | null): Viewer => ({ owner: ownerOf(p), all: ownerFilter(p) === null });

const notFound = (id: string) =>
  new ServiceError('session_not_found', `no session "${id}" (sessions are created by a chat turn with \`session\` and dropped after SESSION_TTL_S unused, by LRU, or on restart)`, { param: 'id' });

export const sessionRoutes: FastifyPluginAsync = async (app) => {
  const { sessions } = app.services.inference;
  app.get<{ Params: { id: string } }>(
    '/sessions/:id',
    { config: { scope: 'infer' }, schema: { tags: ['inference'], summary: 'A chat session: its model version, kept messages and state size, expiry', params: SessionParams, response: { 200: ChatSessionInfo, '4xx': ErrorResponse } } },
    async (req) => {
      const info = sessions.info(req.params.id, viewer(req.auth));
      if (!info) throw notFound(req.params.id);
      return info;
    },
  );
  app.delete<{ Params: { id: string } }>(
    '/sessions/:id',
    { config: { scope: 'infer' }, schema: { tags: ['inference'], summary: 'Drop a chat session and free its kept model state', params: SessionParams, response: { 200: SessionDeleted, '4xx': ErrorResponse } } },
    async (req) => {
      if (!sessions.delete(req.params.id, viewer(req.auth))) throw notFound(req.params.id);
      return { deleted: req.params.id };
    },
  );
};
