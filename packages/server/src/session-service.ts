// unified_bridge.v1.SessionService on a SessionStore.
import type { ServiceImpl } from '@connectrpc/connect';
import type { SessionService } from '@unified-bridge/proto';
import { nonNegative, sessionToProto } from './convert.js';
import { checkSession, principalOf, run, visibleSession } from './service-context.js';
import type { ServiceDeps } from './service-context.js';

/** The SessionService implementation (independent of any HTTP adapter). */
export function createSessionServiceImpl(deps: ServiceDeps): ServiceImpl<typeof SessionService> {
  const { store } = deps;
  return {
    async createSession(req, ctx) {
      const principal = principalOf(ctx);
      const ttlMs = req.ttlSeconds > 0 ? req.ttlSeconds * 1000 : deps.sessionTtlMs;
      const record = await run(ctx, () =>
        store.createSession({
          ...(req.sessionId !== '' ? { id: req.sessionId } : {}),
          ...(ttlMs !== undefined ? { ttlMs } : {}),
          metadata: { ...req.metadata },
          ...(principal !== undefined ? { owner: principal } : {}),
        }),
      );
      return { session: sessionToProto(record) };
    },

    async getSession(req, ctx) {
      const record = await visibleSession(deps, ctx, req.sessionId);
      return { session: sessionToProto(record) };
    },

    async heartbeat(req, ctx) {
      await checkSession(deps, ctx, req.sessionId);
      const record = await run(ctx, () => store.touchSession(req.sessionId));
      return { session: sessionToProto(record) };
    },

    async closeSession(req, ctx) {
      await checkSession(deps, ctx, req.sessionId);
      await run(ctx, () => store.closeSession(req.sessionId));
      return {};
    },

    async listSessions(req, ctx) {
      const principal = principalOf(ctx);
      const pageSize = nonNegative('page_size', req.pageSize);
      const page = await run(ctx, () =>
        store.listSessions({
          pageSize,
          pageToken: req.pageToken,
          ...(principal !== undefined ? { owner: principal } : {}),
        }),
      );
      return { sessions: page.sessions.map(sessionToProto), nextPageToken: page.nextPageToken };
    },
  };
}
