// The README's embedding examples, each run against a real socket: the routes
// work unchanged with connect-node (node:http and node:http2), Fastify and Express.
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { Code, createClient } from '@connectrpc/connect';
import type { Transport } from '@connectrpc/connect';
import {
  connectNodeAdapter,
  createConnectTransport,
  createGrpcTransport,
  Http2SessionManager,
} from '@connectrpc/connect-node';
import { fastifyConnectPlugin } from '@connectrpc/connect-fastify';
import { expressConnectMiddleware } from '@connectrpc/connect-express';
import express from 'express';
import { fastify } from 'fastify';
import { ErrorType, HealthCheckResponse_ServingStatus, Health, SessionService } from '@unified-bridge/proto';
import { createBridgeRoutes } from '../src/index.js';
import type { BridgeRoutes } from '../src/index.js';
import { silentLogger } from '../src/logger.js';
import { expectFailure } from './helpers.js';

/** Creates, reads and misses a session; checks health; then shuts the routes down. */
async function checkEmbedded(transport: Transport, routes: BridgeRoutes): Promise<void> {
  const sessions = createClient(SessionService, transport);
  const { session } = await sessions.createSession({ sessionId: 'embedded' });
  expect(session?.id).toBe('embedded');
  expect((await sessions.getSession({ sessionId: 'embedded' })).session?.id).toBe('embedded');
  await expectFailure(sessions.getSession({ sessionId: 'other' }), Code.NotFound, ErrorType.SESSION_NOT_FOUND);
  const health = createClient(Health, transport);
  expect((await health.check({ service: '' })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
  await routes.shutdown({ graceMs: 1000 });
  expect((await health.check({ service: '' })).status).toBe(HealthCheckResponse_ServingStatus.NOT_SERVING);
  await expectFailure(sessions.getSession({ sessionId: 'embedded' }), Code.Unavailable, ErrorType.UNAVAILABLE);
}

const urlOf = (server: { address(): AddressInfo | string | null }) =>
  `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

describe('embedding createBridgeRoutes', () => {
  it('should work with connectNodeAdapter on node:http (HTTP/1.1)', async () => {
    // README: node:http
    const routes = createBridgeRoutes({ logger: silentLogger });
    const server = http.createServer(connectNodeAdapter({ routes }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      await checkEmbedded(createConnectTransport({ baseUrl: urlOf(server), httpVersion: '1.1' }), routes);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('should work with connectNodeAdapter on node:http2 (h2c, gRPC)', async () => {
    // README: node:http2
    const routes = createBridgeRoutes({ logger: silentLogger });
    const server = http2.createServer(connectNodeAdapter({ routes }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const sessionManager = new Http2SessionManager(urlOf(server));
    try {
      await checkEmbedded(createGrpcTransport({ baseUrl: urlOf(server), sessionManager }), routes);
    } finally {
      sessionManager.abort();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('should work as a Fastify plugin', async () => {
    // README: Fastify
    const routes = createBridgeRoutes({ logger: silentLogger });
    const app = fastify();
    await app.register(fastifyConnectPlugin, { routes });
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      await checkEmbedded(createConnectTransport({ baseUrl: urlOf(app.server), httpVersion: '1.1' }), routes);
    } finally {
      await app.close();
    }
  });

  it('should work as Express middleware', async () => {
    // README: Express
    const routes = createBridgeRoutes({ logger: silentLogger });
    const app = express();
    app.use(expressConnectMiddleware({ routes }));
    const server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      await checkEmbedded(createConnectTransport({ baseUrl: urlOf(server), httpVersion: '1.1' }), routes);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
