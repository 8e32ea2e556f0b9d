// Graceful shutdown with calls in flight: health NOT_SERVING, new calls
// refused, in-flight unary calls finish, streams end with UNAVAILABLE.
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport, Http2SessionManager } from '@connectrpc/connect-node';
import {
  ErrorDetailSchema,
  ErrorType,
  Health,
  HealthCheckResponse_ServingStatus,
  SessionService,
  VariableEventKind,
  VariableService,
} from '@unified-bridge/proto';
import { MemoryStore } from '@unified-bridge/store';
import type { SessionStore } from '@unified-bridge/store';
import { startBridgeServer } from '../src/index.js';
import { silentLogger } from '../src/logger.js';

/** A store whose getVariable waits on a gate, and reports when a call entered it. */
function gatedStore() {
  const real = new MemoryStore({ sweepIntervalMs: 0 });
  let release!: () => void;
  let entered!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const inside = new Promise<void>((r) => (entered = r));
  const store = new Proxy(real, {
    get(target, prop, receiver) {
      if (prop === 'getVariable') {
        return async (sid: string, id: string) => {
          entered();
          await gate;
          return target.getVariable(sid, id);
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as SessionStore;
  return { store, real, release, inside };
}

async function endOf(stream: AsyncIterator<unknown>): Promise<ConnectError> {
  for (;;) {
    try {
      const r = await stream.next();
      if (r.done === true) throw new Error('stream ended without an error');
    } catch (err) {
      return ConnectError.from(err);
    }
  }
}

describe('graceful shutdown', () => {
  it('should drain: in-flight unary finishes, streams end UNAVAILABLE, new calls are refused', async () => {
    const { store, real, release, inside } = gatedStore();
    const server = await startBridgeServer({ store, logger: silentLogger, graceMs: 5000 });
    const sessionManager = new Http2SessionManager(server.url);
    const grpc = createGrpcTransport({ baseUrl: server.url, sessionManager });
    const sessions = createClient(SessionService, grpc);
    const vars = createClient(VariableService, grpc);
    try {
      await sessions.createSession({ sessionId: 's' });
      await real.registerVariable('s', { name: 'x', type: 'integer', value: 1 });

      const watch = vars.watchVariables({ sessionId: 's' })[Symbol.asyncIterator]();
      expect(((await watch.next()).value as { kind: number }).kind).toBe(VariableEventKind.SYNCED);
      const healthWatch = createClient(Health, grpc).watch({ service: '' })[Symbol.asyncIterator]();
      expect(((await healthWatch.next()).value as { status: number }).status).toBe(
        HealthCheckResponse_ServingStatus.SERVING,
      );
      const inFlight = vars.getVariable({ sessionId: 's', identifier: 'x' });
      await inside; // the unary call is inside the store

      const stopped = server.stop();

      // Health watchers see NOT_SERVING, then their stream ends.
      expect(((await healthWatch.next()).value as { status: number }).status).toBe(
        HealthCheckResponse_ServingStatus.NOT_SERVING,
      );
      const healthEnd = await endOf(healthWatch);
      expect(healthEnd.code).toBe(Code.Unavailable);
      // Watch streams end with UNAVAILABLE "server shutting down".
      const watchEnd = await endOf(watch);
      expect([watchEnd.code, watchEnd.rawMessage]).toEqual([Code.Unavailable, 'server shutting down']);
      expect(watchEnd.findDetails(ErrorDetailSchema)[0]?.type).toBe(ErrorType.UNAVAILABLE);
      // New calls are refused (on the GOAWAYed connection, or by the closed listener).
      const refused = await createClient(
        SessionService,
        createConnectTransport({ baseUrl: server.url, httpVersion: '1.1' }),
      )
        .createSession({})
        .then(
          () => undefined,
          (e: unknown) => ConnectError.from(e),
        );
      // Either the server answered UNAVAILABLE (draining) or the closed listener refused the connection.
      expect(refused).toBeDefined();
      if (refused!.code === Code.Unavailable) {
        expect([refused!.rawMessage, refused!.findDetails(ErrorDetailSchema)[0]?.type]).toEqual([
          'server shutting down',
          ErrorType.UNAVAILABLE,
        ]);
      } else {
        // connect-node reports the refused TCP connection of its HTTP/1.1 client as INTERNAL.
        expect([refused!.code, refused!.rawMessage]).toEqual([
          Code.Internal,
          expect.stringMatching(/^Error: connect ECONNREFUSED \S+:\d+$/),
        ]);
      }

      // The in-flight unary call still completes.
      release();
      const res = await inFlight;
      expect(res.variable?.value?.kind).toEqual({ case: 'intValue', value: 1n });
      await stopped;
    } finally {
      release();
      sessionManager.abort();
      await server.stop();
      await real.close();
    }
  });

  it('should abort calls still running when the grace period ends', async () => {
    const { store, real, release, inside } = gatedStore();
    const server = await startBridgeServer({ store, logger: silentLogger, graceMs: 50 });
    const sessions = createClient(SessionService, createConnectTransport({ baseUrl: server.url, httpVersion: '1.1' }));
    const vars = createClient(VariableService, createConnectTransport({ baseUrl: server.url, httpVersion: '1.1' }));
    try {
      await sessions.createSession({ sessionId: 's' });
      await real.registerVariable('s', { name: 'x', type: 'integer', value: 1 });
      const inFlight = vars.getVariable({ sessionId: 's', identifier: 'x' }).then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
      await inside;
      await server.stop();
      const err = await inFlight;
      expect(err?.code).toBe(Code.Unavailable);
    } finally {
      release();
      await real.close();
    }
  });

  it('should send GOAWAY to open HTTP/2 connections', async () => {
    const server = await startBridgeServer({ logger: silentLogger });
    const client = http2.connect(server.url);
    await new Promise<void>((resolve) => client.once('remoteSettings', () => resolve()));
    const goaway = new Promise<number>((resolve) => client.once('goaway', (code: number) => resolve(code)));
    const stopped = server.stop();
    expect(await goaway).toBe(http2.constants.NGHTTP2_NO_ERROR);
    client.close();
    await stopped;
  });

  it('should be idempotent and work with await using', async () => {
    let url: string;
    {
      await using server = await startBridgeServer({ logger: silentLogger });
      url = server.url;
      await Promise.all([server.stop(), server.stop()]);
    }
    await expect(fetch(`${url}/grpc.health.v1.Health/Check`, { method: 'POST', body: '{}' })).rejects.toThrow();
  });
});

describe('shutdown with idle connections', () => {
  it('should close idle keep-alive, not-yet-used and idle HTTP/2 connections at once, not after the grace period', async () => {
    // graceMs is far above the test timeout: stop() only resolves in time if idle connections are closed.
    const server = await startBridgeServer({ logger: silentLogger, graceMs: 60_000 });
    const closed = (s: { once(e: 'close', f: () => void): unknown }) => new Promise<void>((r) => s.once('close', r));
    // HTTP/1.1 keep-alive connection after one request.
    const agent = new http.Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      const req = http.request(
        `${server.url}/grpc.health.v1.Health/Check`,
        { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
        (res) => {
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      req.end('{}');
    });
    const [keptAlive] = Object.values(agent.freeSockets).flat();
    expect(keptAlive).toBeDefined();
    const keptAliveClosed = closed(keptAlive!);
    // A connection that never sent a byte.
    const silent = net.connect(server.port, '127.0.0.1');
    silent.on('error', () => {});
    await new Promise<void>((r) => silent.once('connect', () => r()));
    const silentClosed = closed(silent);
    // An idle HTTP/2 connection.
    const h2 = http2.connect(server.url);
    h2.on('error', () => {});
    await new Promise<void>((r) => h2.once('remoteSettings', () => r()));
    const h2Closed = closed(h2);

    await server.stop();
    await Promise.all([keptAliveClosed, silentClosed, h2Closed]);
    agent.destroy();
    // Below the 10 s after which a silent connection is dropped anyway, so a regression cannot pass late.
  }, 8000);
});
