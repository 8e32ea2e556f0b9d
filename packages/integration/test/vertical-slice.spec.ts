// Issue-2 acceptance: the vertical slice through a REAL `unified-bridge serve` process.
// Covers:
// - the server starts on a free port (port 0) and its URL is read from its ready line;
// - create + read a session over gRPC and over the Connect protocol with connect-node
//   transports (raw generated clients) and with @unified-bridge/client;
// - create + read a session over Connect JSON with plain `fetch` (HTTP/1.1, no Connect runtime),
//   including an unknown session as a Connect JSON error (not_found);
// - @grpc/grpc-js as an independent gRPC peer (makeGenericClientConstructor + protobuf-es
//   toBinary/fromBinary): CreateSession, GetSession, NOT_FOUND for an unknown session;
// - grpc.health.v1 Check returns SERVING (grpc-js, connect-node gRPC, Connect JSON);
// - a session created by one peer is visible to every other peer (one server state).
import * as grpc from '@grpc/grpc-js';
import { create, fromBinary, toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import { createBridgeClient } from '@unified-bridge/client';
import {
  CreateSessionRequestSchema,
  CreateSessionResponseSchema,
  ErrorDetailSchema,
  ErrorType,
  GetSessionRequestSchema,
  GetSessionResponseSchema,
  Health,
  HealthCheckRequestSchema,
  HealthCheckResponse_ServingStatus,
  HealthCheckResponseSchema,
  SessionService,
  type CreateSessionResponse,
  type GetSessionResponse,
  type HealthCheckResponse,
} from '@unified-bridge/proto';
import { useBridgeServer } from '@unified-bridge/testing/jest';
import { PROTOCOLS, uniqueId } from './support/helpers.js';

const bridge = useBridgeServer();

describe('the server process', () => {
  it('should listen on a free port and report its URL from its ready line', () => {
    expect(bridge.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(bridge.port).toBeGreaterThan(0);
    expect(new URL(bridge.url).port).toBe(String(bridge.port));
    expect(bridge.pid).not.toBe(process.pid); // a separate process, not in-process
    expect(bridge.server.running).toBe(true);
  });
});

describe.each(PROTOCOLS)('connect-node transport, %s protocol', (protocol) => {
  const transport = () =>
    protocol === 'grpc'
      ? createGrpcTransport({ baseUrl: bridge.url })
      : createConnectTransport({ baseUrl: bridge.url, httpVersion: '2' });

  it('should create a session with a generated id and read it back', async () => {
    const sessions = createClient(SessionService, transport());
    const created = await sessions.createSession({});
    const id = created.session?.id ?? '';
    expect(id).not.toBe('');
    const read = await sessions.getSession({ sessionId: id });
    expect(read.session?.id).toBe(id);
    expect(read.session?.variableCount).toBe(0);
    expect(read.session?.ttlSeconds).toBeGreaterThan(0);
    expect(read.session?.expiresAt).toBeDefined();
  });

  it('should report an unknown session as NOT_FOUND with a SessionNotFound detail', async () => {
    const sessions = createClient(SessionService, transport());
    const err = await sessions.getSession({ sessionId: uniqueId('missing') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    const connectErr = err as ConnectError;
    expect(connectErr.code).toBe(Code.NotFound);
    const [detail] = connectErr.findDetails(ErrorDetailSchema);
    expect(detail?.type).toBe(ErrorType.SESSION_NOT_FOUND);
  });

  it('should answer grpc.health.v1 Check with SERVING', async () => {
    const health = createClient(Health, transport());
    const res = await health.check({ service: '' });
    expect(res.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
  });

  it('should create and read a session with @unified-bridge/client', async () => {
    await using client = createBridgeClient({ baseUrl: bridge.url, protocol });
    const id = uniqueId(`slice-${protocol}`);
    const session = await client.createSession({ id, metadata: { via: protocol } });
    expect(session.id).toBe(id);
    const info = await session.info();
    expect(info).toMatchObject({ id, metadata: { via: protocol }, variableCount: 0, toolCount: 0 });
    await session.close();
  });
});

describe('Connect JSON with plain fetch (HTTP/1.1)', () => {
  const post = (path: string, body: unknown) =>
    fetch(`${bridge.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('should create a session from an empty JSON body and read it back', async () => {
    const createdRes = await post('/unified_bridge.v1.SessionService/CreateSession', {});
    expect(createdRes.status).toBe(200);
    expect(createdRes.headers.get('content-type')).toMatch(/^application\/json/);
    const created = (await createdRes.json()) as { session?: { id?: string; ttlSeconds?: number } };
    const id = created.session?.id;
    expect(typeof id).toBe('string');
    expect(id).not.toBe('');

    const readRes = await post('/unified_bridge.v1.SessionService/GetSession', { sessionId: id });
    expect(readRes.status).toBe(200);
    const read = (await readRes.json()) as { session?: { id?: string } };
    expect(read.session?.id).toBe(id);
  });

  it('should create a session with a caller-chosen id', async () => {
    const id = uniqueId('fetch');
    const res = await post('/unified_bridge.v1.SessionService/CreateSession', { sessionId: id, ttlSeconds: 120 });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { session?: { id?: string; ttlSeconds?: number } };
    expect(body.session).toMatchObject({ id, ttlSeconds: 120 });
  });

  it('should answer an unknown session with a Connect not_found error', async () => {
    const res = await post('/unified_bridge.v1.SessionService/GetSession', { sessionId: uniqueId('missing') });
    expect(res.status).toBe(404);
    const body = (await res.json()) as { code?: string; message?: string; details?: Array<{ type?: string }> };
    expect(body.code).toBe('not_found');
    expect(body.message).toMatch(/not found/);
    expect(body.details?.[0]?.type).toBe('unified_bridge.v1.ErrorDetail');
  });

  it('should answer the health check with SERVING', async () => {
    const res = await post('/grpc.health.v1.Health/Check', {});
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'SERVING' });
  });
});

// --- @grpc/grpc-js as an independent peer -------------------------------------------------------

function unary<I extends DescMessage, O extends DescMessage>(path: string, input: I, output: O) {
  return {
    path,
    requestStream: false,
    responseStream: false,
    requestSerialize: (m: MessageShape<I>) => Buffer.from(toBinary(input, m)),
    requestDeserialize: (b: Buffer) => fromBinary(input, b),
    responseSerialize: (m: MessageShape<O>) => Buffer.from(toBinary(output, m)),
    responseDeserialize: (b: Buffer) => fromBinary(output, b),
  } as const;
}

const peerDefinition = {
  createSession: unary(
    '/unified_bridge.v1.SessionService/CreateSession',
    CreateSessionRequestSchema,
    CreateSessionResponseSchema,
  ),
  getSession: unary('/unified_bridge.v1.SessionService/GetSession', GetSessionRequestSchema, GetSessionResponseSchema),
  check: unary('/grpc.health.v1.Health/Check', HealthCheckRequestSchema, HealthCheckResponseSchema),
};

type UnaryFn = (req: unknown, callback: (err: grpc.ServiceError | null, res?: unknown) => void) => void;
type PeerClient = grpc.Client & Record<keyof typeof peerDefinition, UnaryFn>;

function callPeer<T>(client: PeerClient, method: keyof typeof peerDefinition, req: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    client[method].call(client, req, (err, res) => (err ? reject(err) : resolve(res as T)));
  });
}

describe('@grpc/grpc-js as an independent peer', () => {
  let peer: PeerClient;
  beforeAll(() => {
    const Ctor = grpc.makeGenericClientConstructor(peerDefinition, 'UnifiedBridgePeer');
    peer = new Ctor(`127.0.0.1:${bridge.port}`, grpc.credentials.createInsecure()) as unknown as PeerClient;
  });
  afterAll(() => peer.close());

  it('should answer grpc.health.v1 Check with SERVING', async () => {
    const res = await callPeer<HealthCheckResponse>(peer, 'check', create(HealthCheckRequestSchema, {}));
    expect(res.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
  });

  it('should create a session and read it back', async () => {
    const created = await callPeer<CreateSessionResponse>(
      peer,
      'createSession',
      create(CreateSessionRequestSchema, {}),
    );
    const id = created.session?.id ?? '';
    expect(id).not.toBe('');
    const read = await callPeer<GetSessionResponse>(
      peer,
      'getSession',
      create(GetSessionRequestSchema, { sessionId: id }),
    );
    expect(read.session?.id).toBe(id);
    expect(read.session?.variableCount).toBe(0);
  });

  it('should fail GetSession of an unknown session with NOT_FOUND', async () => {
    const err = await callPeer(
      peer,
      'getSession',
      create(GetSessionRequestSchema, { sessionId: uniqueId('missing') }),
    ).catch((e: unknown) => e);
    expect((err as grpc.ServiceError).code).toBe(grpc.status.NOT_FOUND);
    expect((err as grpc.ServiceError).metadata.get('grpc-status-details-bin')).toHaveLength(1);
  });

  it('should share one server state with the other peers', async () => {
    // grpc-js creates, fetch (Connect JSON) and the bridge client (Connect) read.
    const id = uniqueId('shared');
    await callPeer(peer, 'createSession', create(CreateSessionRequestSchema, { sessionId: id }));
    const res = await fetch(`${bridge.url}/unified_bridge.v1.SessionService/GetSession`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sessionId: id }),
    });
    expect(((await res.json()) as { session?: { id?: string } }).session?.id).toBe(id);
    await using client = createBridgeClient({ baseUrl: bridge.url, protocol: 'connect' });
    expect((await client.session(id).info()).id).toBe(id);
    await client.session(id).close();
    const gone = await callPeer(peer, 'getSession', create(GetSessionRequestSchema, { sessionId: id })).catch(
      (e: unknown) => e,
    );
    expect((gone as grpc.ServiceError).code).toBe(grpc.status.NOT_FOUND);
  });
});
