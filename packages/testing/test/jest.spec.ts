import { createBridgeClient, isBridgeError, type Session } from '@unified-bridge/client';
import { type InProcessServer, type StartedServer } from '@unified-bridge/testing';
import {
  BRIDGE_URL_ENV,
  createGlobalSetup,
  createGlobalTeardown,
  useBridgeServer,
  withSession,
} from '@unified-bridge/testing/jest';
import globalSetup from '@unified-bridge/testing/jest/global-setup';
import globalTeardown from '@unified-bridge/testing/jest/global-teardown';

async function sessionExists(baseUrl: string, id: string): Promise<boolean> {
  const client = createBridgeClient({ baseUrl });
  try {
    await client.session(id).info();
    return true;
  } catch (err) {
    if (isBridgeError(err, 'SessionNotFound')) return false;
    throw err;
  } finally {
    await client.close();
  }
}

const bridge = useBridgeServer({ sessionTtlMs: 120_000 });

describe('useBridgeServer + withSession (real CLI server)', () => {
  let seen: { id: string; url: string } | undefined;

  it('should expose the running server inside tests', () => {
    expect(bridge.url).toBe(`http://127.0.0.1:${bridge.port}`);
    expect((bridge.server as StartedServer).running).toBe(true);
    expect(bridge.pid).not.toBe(process.pid);
  });

  it(
    'should hand the test a fresh, uniquely named session',
    withSession(async (session, { client, sessionId, baseUrl }) => {
      expect(session.id).toBe(sessionId);
      expect(sessionId).toMatch(/^test-useBridgeServer-withSession-real-CLI-server-should-hand-the-test-[0-9a-f]{12}$/);
      expect(baseUrl).toBe(bridge.url);
      await session.register('n', 'integer', 1);
      expect(await client.session(sessionId).get('n')).toBe(1);
      seen = { id: sessionId, url: baseUrl };
    }),
  );

  it('should have closed the previous session after its test', async () => {
    expect(seen).toBeDefined();
    expect(await sessionExists(seen!.url, seen!.id)).toBe(false);
  });

  it('should close the session even when the test fails, and rethrow the failure', async () => {
    let id = '';
    const body = withSession({ idPrefix: 'failing' }, (session) => {
      id = session.id;
      throw new Error('test failed on purpose');
    });
    await expect(body()).rejects.toThrow('test failed on purpose');
    expect(id).toMatch(/^failing-/);
    expect(await sessionExists(bridge.url, id)).toBe(false);
  });

  it('should not fail when the test closed the session itself', async () => {
    const body = withSession({ client: { protocol: 'connect', httpVersion: '1.1' } }, async (session: Session) => {
      await session.close();
    });
    await expect(body()).resolves.toBeUndefined();
  });

  it('should reject misuse with a clear error', async () => {
    expect(() => withSession({ idPrefix: 'bad prefix!' }, () => {})).toThrow(/idPrefix/);
    expect(() => (withSession as (o: object) => unknown)({})).toThrow(/pass the test body/);
    await expect(withSession({ baseUrl: 'not-a-url' }, () => {})()).rejects.toThrow(/baseUrl/);
  });

  describe('with an in-process server in a nested describe', () => {
    const inner = useBridgeServer({ inProcess: true });

    it(
      'should use the innermost server by default',
      withSession(async (session, { baseUrl }) => {
        expect(baseUrl).toBe(inner.url);
        expect(inner.pid).toBe(process.pid);
        expect((inner.server as InProcessServer).logs().length).toBeGreaterThan(0);
        expect(await session.info()).toMatchObject({ id: session.id });
      }),
    );
  });

  it(
    'should go back to the outer server after the nested describe',
    withSession(async (_session, { baseUrl }) => {
      expect(baseUrl).toBe(bridge.url);
    }),
  );
});

describe('useBridgeServer outside tests', () => {
  it('should throw when the handle is read before beforeAll ran', () => {
    // A handle created inside a test registers hooks Jest never runs for it (Jest rejects hooks
    // inside tests), so reading it shows the error users get at module level.
    const g = globalThis as unknown as { beforeAll: unknown; afterAll: unknown };
    const saved = [g.beforeAll, g.afterAll];
    g.beforeAll = () => {};
    g.afterAll = () => {};
    try {
      const handle = useBridgeServer();
      expect(() => handle.url).toThrow(/not running; use the handle inside tests/);
    } finally {
      [g.beforeAll, g.afterAll] = saved;
    }
  });
});

describe('global setup and teardown', () => {
  const saved = process.env[BRIDGE_URL_ENV];
  afterEach(() => {
    if (saved === undefined) delete process.env[BRIDGE_URL_ENV];
    else process.env[BRIDGE_URL_ENV] = saved;
  });

  it('should start one server, publish its URL in the environment, and stop it', async () => {
    delete process.env[BRIDGE_URL_ENV];
    await globalSetup();
    const url = process.env[BRIDGE_URL_ENV];
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await withSession(async (session, { baseUrl }) => {
      expect(baseUrl).toBe(bridge.url); // a useBridgeServer of the file wins over the env
      expect(session.id).toMatch(/^test-/);
    })();
    await withSession({ baseUrl: url! }, async (session) => {
      expect(await session.info()).toMatchObject({ id: session.id });
    })();
    await globalTeardown();
    expect(process.env[BRIDGE_URL_ENV]).toBeUndefined();
    await expect(sessionExists(url!, 'any')).rejects.toMatchObject({ type: 'Unavailable' });
  });

  it('should reuse a server named in the environment and start nothing', async () => {
    process.env[BRIDGE_URL_ENV] = bridge.url;
    const setup = createGlobalSetup({ inProcess: true });
    await setup();
    expect(process.env[BRIDGE_URL_ENV]).toBe(bridge.url);
    await createGlobalTeardown()();
    expect(process.env[BRIDGE_URL_ENV]).toBe(bridge.url);
    expect((bridge.server as StartedServer).running).toBe(true);
  });
});
