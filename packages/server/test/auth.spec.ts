// Bearer-token auth over real sockets: UNAUTHENTICATED without a valid token,
// sessions bound to their creator, no existence oracle, health stays open.
import { Code, createClient } from '@connectrpc/connect';
import type { Interceptor, Transport } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport, Http2SessionManager } from '@connectrpc/connect-node';
import {
  ErrorType,
  Health,
  HealthCheckResponse_ServingStatus,
  SessionService,
  ToolService,
  ToolWorkerService,
  VariableService,
} from '@unified-bridge/proto';
import { MemoryStore } from '@unified-bridge/store';
import { startBridgeServer } from '../src/index.js';
import type { StartedBridgeServer } from '../src/index.js';
import { silentLogger } from '../src/logger.js';
import { expectFailure, failure, FakeClock } from './helpers.js';
import { RawWorker } from './tool-helpers.js';

const bearer =
  (token: string): Interceptor =>
  (next) =>
  (req) => {
    req.header.set('authorization', `Bearer ${token}`);
    return next(req);
  };

describe('auth with static tokens', () => {
  let server: StartedBridgeServer;
  const managers: Http2SessionManager[] = [];
  const grpcAs = (token?: string): Transport => {
    const sessionManager = new Http2SessionManager(server.url);
    managers.push(sessionManager);
    return createGrpcTransport({
      baseUrl: server.url,
      sessionManager,
      interceptors: token === undefined ? [] : [bearer(token)],
    });
  };
  const connectAs = (token?: string): Transport =>
    createConnectTransport({
      baseUrl: server.url,
      httpVersion: '1.1',
      interceptors: token === undefined ? [] : [bearer(token)],
    });

  beforeAll(async () => {
    server = await startBridgeServer({ logger: silentLogger, auth: { tokens: ['alice-token', 'bob-token'] } });
  });
  afterAll(async () => {
    for (const m of managers) m.abort();
    await server.stop();
  });

  it.each([
    ['gRPC', (t?: string) => grpcAs(t)],
    ['Connect', (t?: string) => connectAs(t)],
  ])('should refuse calls without a valid token with UNAUTHENTICATED (%s)', async (_name, as) => {
    await expectFailure(
      createClient(SessionService, as()).createSession({}),
      Code.Unauthenticated,
      ErrorType.UNAUTHENTICATED,
    );
    await expectFailure(
      createClient(VariableService, as('wrong')).getVariable({ sessionId: 'x', identifier: 'y' }),
      Code.Unauthenticated,
      ErrorType.UNAUTHENTICATED,
    );
  });

  it('should keep health reachable without a token', async () => {
    const health = createClient(Health, grpcAs());
    expect((await health.check({ service: 'unified_bridge.v1.SessionService' })).status).toBe(
      HealthCheckResponse_ServingStatus.SERVING,
    );
  });

  it("should answer another principal's session exactly like a missing one", async () => {
    const alice = {
      sessions: createClient(SessionService, grpcAs('alice-token')),
      vars: createClient(VariableService, grpcAs('alice-token')),
    };
    const bob = {
      sessions: createClient(SessionService, connectAs('bob-token')),
      vars: createClient(VariableService, connectAs('bob-token')),
    };
    await alice.sessions.createSession({ sessionId: 'alice-1' });
    await alice.vars.registerVariable({
      sessionId: 'alice-1',
      name: 'secret',
      type: 'string',
      initialValue: { kind: { case: 'stringValue', value: 's' } },
    });
    expect((await alice.sessions.getSession({ sessionId: 'alice-1' })).session?.variableCount).toBe(1);

    const theirs = await failure(bob.sessions.getSession({ sessionId: 'alice-1' }));
    const missing = await failure(bob.sessions.getSession({ sessionId: 'nobody-1' }));
    const shape = (f: typeof theirs) => ({
      code: f.err.code,
      type: f.detail.type,
      message: f.err.rawMessage.replace(/alice-1|nobody-1/, 'ID'),
      details: JSON.stringify(f.detail.details).replace(/alice-1|nobody-1/, 'ID'),
    });
    expect(shape(theirs)).toEqual(shape(missing));
    expect(shape(theirs)).toMatchObject({ code: Code.NotFound, type: ErrorType.SESSION_NOT_FOUND });

    for (const attempt of [
      bob.sessions.heartbeat({ sessionId: 'alice-1' }),
      bob.sessions.closeSession({ sessionId: 'alice-1' }),
      bob.vars.getVariable({ sessionId: 'alice-1', identifier: 'secret' }),
      bob.vars.updateVariable({
        sessionId: 'alice-1',
        identifier: 'secret',
        value: { kind: { case: 'stringValue', value: 'stolen' } },
      }),
      bob.vars.listVariables({ sessionId: 'alice-1' }),
    ]) {
      await expectFailure(attempt, Code.NotFound, ErrorType.SESSION_NOT_FOUND);
    }
    const stream = bob.vars.watchVariables({ sessionId: 'alice-1' });
    await expectFailure(
      (async () => {
        for await (const _ of stream) {
          // must not yield
        }
      })(),
      Code.NotFound,
      ErrorType.SESSION_NOT_FOUND,
    );
    const bobList = await bob.sessions.listSessions({});
    expect(bobList.sessions.map((s) => s.id)).not.toContain('alice-1');
    const aliceList = await alice.sessions.listSessions({});
    expect(aliceList.sessions.map((s) => s.id)).toContain('alice-1');
    // Nothing of bob's attempts changed alice's session.
    const v = await alice.vars.getVariable({ sessionId: 'alice-1', identifier: 'secret' });
    expect(v.variable?.value?.kind).toEqual({ case: 'stringValue', value: 's' });
  });
});

describe('auth with a verify function', () => {
  it('should bind sessions to the principal the function returns', async () => {
    await using server = await startBridgeServer({
      logger: silentLogger,
      auth: { verify: async (token) => (token.startsWith('user-') ? token.slice(5).split('.')[0] : undefined) },
    });
    // Two tokens of the same principal share sessions; another principal does not see them.
    const as = (t: string) =>
      createClient(
        SessionService,
        createConnectTransport({ baseUrl: server.url, httpVersion: '1.1', interceptors: [bearer(t)] }),
      );
    await as('user-carol.1').createSession({ sessionId: 'carol-s' });
    expect((await as('user-carol.2').getSession({ sessionId: 'carol-s' })).session?.id).toBe('carol-s');
    await expectFailure(
      as('user-dave.1').getSession({ sessionId: 'carol-s' }),
      Code.NotFound,
      ErrorType.SESSION_NOT_FOUND,
    );
    await expectFailure(
      as('nope').getSession({ sessionId: 'carol-s' }),
      Code.Unauthenticated,
      ErrorType.UNAUTHENTICATED,
    );
  });
});

describe('auth with expired sessions and tools', () => {
  it('should tell the owner SessionExpired and others SessionNotFound, without revealing the owner', async () => {
    const clock = new FakeClock();
    const store = new MemoryStore({ clock, sweepIntervalMs: 0 });
    await using server = await startBridgeServer({ store, logger: silentLogger, auth: { tokens: ['a', 'b'] } });
    const as = (t: string) =>
      createClient(
        SessionService,
        createConnectTransport({ baseUrl: server.url, httpVersion: '1.1', interceptors: [bearer(t)] }),
      );
    await as('a').createSession({ sessionId: 'old', ttlSeconds: 1 });
    clock.advance(1000);
    const owner = await expectFailure(
      as('a').getSession({ sessionId: 'old' }),
      Code.NotFound,
      ErrorType.SESSION_EXPIRED,
    );
    expect(owner.details['owner']).toBeUndefined();
    // Later reads (tombstone) say the same to the owner, and "not found" to anyone else.
    await expectFailure(as('a').heartbeat({ sessionId: 'old' }), Code.NotFound, ErrorType.SESSION_EXPIRED);
    await expectFailure(as('b').getSession({ sessionId: 'old' }), Code.NotFound, ErrorType.SESSION_NOT_FOUND);
    await store.close();
  });

  it("should keep a principal away from another principal's session tools and workers", async () => {
    await using server = await startBridgeServer({
      logger: silentLogger,
      auth: { tokens: ['alice', 'bob'] },
      tools: [{ name: 'hello', handler: () => 'hi' }],
    });
    const transport = (t: string) =>
      createConnectTransport({ baseUrl: server.url, httpVersion: '1.1', interceptors: [bearer(t)] });
    await createClient(SessionService, transport('alice')).createSession({ sessionId: 'alice-tools' });
    const worker = new RawWorker(transport('alice'), {
      sessionId: 'alice-tools',
      workerId: 'alice-w',
      tools: [{ name: 'private' }],
    });
    await worker.registered;
    const bobTools = createClient(ToolService, transport('bob'));
    await expectFailure(bobTools.listTools({ sessionId: 'alice-tools' }), Code.NotFound, ErrorType.SESSION_NOT_FOUND);
    await expectFailure(
      bobTools.executeTool({ sessionId: 'alice-tools', toolName: 'hello' }),
      Code.NotFound,
      ErrorType.SESSION_NOT_FOUND,
    );
    const intruder = new RawWorker(transport('bob'), { sessionId: 'alice-tools', tools: [{ name: 'evil' }] });
    expect((await intruder.ended)?.code).toBe(Code.NotFound);
    // Bob cannot take over alice's worker id, nor answer its calls.
    const hijack = new RawWorker(transport('bob'), { workerId: 'alice-w', tools: [{ name: 'global_evil' }] });
    expect((await hijack.ended)?.code).toBe(Code.AlreadyExists);
    const aliceTools = createClient(ToolService, transport('alice'));
    const pending = aliceTools.executeTool({ sessionId: 'alice-tools', toolName: 'private' });
    const call = await worker.call();
    const bobWorker = createClient(ToolWorkerService, transport('bob'));
    const forged = await bobWorker.reportToolResult({
      workerId: 'alice-w',
      callId: call.callId,
      outcome: { case: 'result', value: { kind: { case: 'stringValue', value: 'forged' } } },
    });
    expect(forged.accepted).toBe(false);
    expect(await worker.result(call.callId, 'genuine')).toBe(true);
    expect((await pending).result?.kind).toEqual({ case: 'stringValue', value: 'genuine' });
    await worker.stop();
  });
});
