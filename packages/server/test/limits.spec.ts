// Message size limits (per protocol, after decompression) and deadlines.
import { gzipSync } from 'node:zlib';
import { Code, createClient } from '@connectrpc/connect';
import { compressionGzip, createGrpcTransport, Http2SessionManager } from '@connectrpc/connect-node';
import { ErrorType, SessionService, VariableService } from '@unified-bridge/proto';
import { MemoryStore } from '@unified-bridge/store';
import type { SessionStore } from '@unified-bridge/store';
import { startBridgeServer } from '../src/index.js';
import type { StartedBridgeServer } from '../src/index.js';
import { silentLogger } from '../src/logger.js';
import { failure, TRANSPORT_NAMES, transportsFor } from './helpers.js';

describe('message size limit', () => {
  let server: StartedBridgeServer;
  let transports: ReturnType<typeof transportsFor>;
  beforeAll(async () => {
    server = await startBridgeServer({ logger: silentLogger, maxMessageBytes: 1024 });
    transports = transportsFor(server.url);
  });
  afterAll(async () => {
    transports.close();
    await server.stop();
  });

  it.each(TRANSPORT_NAMES.map((name, i) => [name, i] as const))(
    'should refuse a larger message with RESOURCE_EXHAUSTED "message too large" and keep serving (%s)',
    async (_name, i) => {
      const sessions = createClient(SessionService, transports.cases[i]!.transport);
      const { err, detail } = await failure(
        sessions.createSession({ sessionId: `big${i}`, metadata: { blob: 'x'.repeat(2000) } }),
      );
      expect(err.code).toBe(Code.ResourceExhausted);
      expect(err.rawMessage).toBe('message too large');
      expect(detail.type).toBe(ErrorType.PAYLOAD_TOO_LARGE);
      const ok = await sessions.createSession({ sessionId: `small${i}` });
      expect(ok.session?.id).toBe(`small${i}`);
    },
  );

  it('should catch a gzip bomb after decompression (gRPC, compressed envelope)', async () => {
    const sessionManager = new Http2SessionManager(server.url);
    try {
      const transport = createGrpcTransport({
        baseUrl: server.url,
        sessionManager,
        sendCompression: compressionGzip,
        compressMinBytes: 1,
      });
      const sessions = createClient(SessionService, transport);
      const { err, detail } = await failure(sessions.createSession({ metadata: { blob: '0'.repeat(100_000) } }));
      expect([Code[err.code], err.rawMessage, detail.type]).toEqual([
        'ResourceExhausted',
        'message too large',
        ErrorType.PAYLOAD_TOO_LARGE,
      ]);
      expect((await sessions.createSession({})).session?.id).toMatch(/.+/);
    } finally {
      sessionManager.abort();
    }
  });
});

describe('default message size limit (10 MiB)', () => {
  let server: StartedBridgeServer;
  beforeAll(async () => {
    server = await startBridgeServer({ logger: silentLogger });
  });
  afterAll(() => server.stop());
  const url = () => `${server.url}/unified_bridge.v1.SessionService/CreateSession`;

  it('should refuse an 11 MiB Connect request and keep serving', async () => {
    const body = JSON.stringify({ metadata: { blob: 'x'.repeat(11 * 1024 * 1024) } });
    const res = await fetch(url(), { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const json = (await res.json()) as { code: string; message: string };
    expect(json).toMatchObject({ code: 'resource_exhausted', message: 'message too large' });
    const ok = await fetch(url(), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(ok.status).toBe(200);
  });

  it('should catch a gzip bomb (20 MiB of zeros, ~20 KiB compressed) after decompression', async () => {
    const bomb = gzipSync(Buffer.alloc(20 * 1024 * 1024));
    expect(bomb.byteLength).toBeLessThan(100_000);
    const res = await fetch(url(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: bomb,
    });
    const json = (await res.json()) as { code: string; message: string };
    expect(json).toMatchObject({ code: 'resource_exhausted', message: 'message too large' });
  });
});

describe('deadlines', () => {
  /** A store whose getSession waits until released: lets a deadline expire mid-call, deterministically. */
  function gatedStore(): { store: SessionStore; release(): void; real: MemoryStore } {
    const real = new MemoryStore({ sweepIntervalMs: 0 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const store = new Proxy(real, {
      get(target, prop, receiver) {
        if (prop === 'getSession') {
          return async (id: string) => {
            await gate;
            return target.getSession(id);
          };
        }
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    return { store, release, real };
  }

  it('should fail with DEADLINE_EXCEEDED and not do the work', async () => {
    const { store, release, real } = gatedStore();
    await using server = await startBridgeServer({
      store,
      logger: silentLogger,
      auth: { tokens: ['t'] },
      graceMs: 1000,
    });
    const sessionManager = new Http2SessionManager(server.url);
    const transport = createGrpcTransport({
      baseUrl: server.url,
      sessionManager,
      interceptors: [
        (next) => (req) => {
          req.header.set('authorization', 'Bearer t');
          return next(req);
        },
      ],
    });
    try {
      const sessions = createClient(SessionService, transport);
      const vars = createClient(VariableService, transport);
      const { session } = await sessions.createSession({});
      const sid = session!.id;
      const owner = (await real.listSessions()).sessions[0]!.owner;
      expect(owner).not.toBe('');
      await real.registerVariable(sid, { name: 'x', type: 'float', value: 1 });
      // The ownership check waits on the gate; the deadline expires meanwhile.
      // Client-side: the caller's own deadline.
      await expect(
        vars.updateVariable(
          { sessionId: sid, identifier: 'x', value: { kind: { case: 'doubleValue', value: 2 } } },
          { timeoutMs: 100 },
        ),
      ).rejects.toMatchObject({ code: Code.DeadlineExceeded });
      // Server-side: a raw Connect request with a deadline header and no client timer.
      const res = await fetch(`${server.url}/unified_bridge.v1.VariableService/UpdateVariable`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'connect-timeout-ms': '100', authorization: 'Bearer t' },
        body: JSON.stringify({ sessionId: sid, identifier: 'x', value: { doubleValue: 3 } }),
      });
      const json = (await res.json()) as { code: string; details: { debug: { type: string } }[] };
      expect(json.code).toBe('deadline_exceeded');
      expect(json.details[0]?.debug.type).toBe('ERROR_TYPE_DEADLINE_EXCEEDED');
      release();
      // Once the gate opens, the handler must not go on to write.
      await sessions.getSession({ sessionId: sid });
      const x = await real.getVariable(sid, 'x');
      expect(x.version).toBe(0);
      expect(x.value).toBe(1);
    } finally {
      release();
      sessionManager.abort();
      await real.close();
    }
  });

  it('should reject a deadline above maxTimeoutMs with INVALID_ARGUMENT', async () => {
    // A cap far above any call's duration: the accepted call cannot run out of time on a loaded machine.
    await using server = await startBridgeServer({ logger: silentLogger, maxTimeoutMs: 60_000 });
    const sessionManager = new Http2SessionManager(server.url);
    try {
      const sessions = createClient(SessionService, createGrpcTransport({ baseUrl: server.url, sessionManager }));
      // Connect rejects the header before any interceptor runs, so this error carries no ErrorDetail.
      await expect(sessions.createSession({}, { timeoutMs: 60_001 })).rejects.toMatchObject({
        code: Code.InvalidArgument,
        rawMessage: 'timeout 60001ms must be <= 60000',
      });
      expect((await sessions.createSession({}, { timeoutMs: 60_000 })).session?.id).toMatch(/.+/);
    } finally {
      sessionManager.abort();
    }
  });
});
