// @unified-bridge/testing/jest: Jest helpers (stable). Uses the Jest globals (beforeAll,
// afterAll, expect) of the test file it runs in; nothing here imports Jest itself.

import { randomBytes } from 'node:crypto';
import type { BridgeClient, BridgeClientOptions, Session } from '@unified-bridge/client';
import { type InProcessServer, type InProcessServerOptions, startInProcessServer } from './in-process-server.js';
import { type StartedServer, type StartServerOptions, startServer } from './start-server.js';

/** Name of the environment variable that carries the URL of the server of a Jest run. */
export const BRIDGE_URL_ENV = 'UNIFIED_BRIDGE_URL';

/** Options of {@link useBridgeServer} and {@link createGlobalSetup}: a CLI child process (default) or, with `inProcess: true`, an in-process server. */
export type BridgeServerOptions =
  | (StartServerOptions & { inProcess?: false })
  | (InProcessServerOptions & { inProcess: true });

/**
 * A server started by {@link useBridgeServer}. Its fields are valid from `beforeAll` until
 * `afterAll` (inside tests and `beforeEach`); reading them earlier throws.
 */
export interface BridgeServerHandle<S extends StartedServer | InProcessServer = StartedServer | InProcessServer> {
  /** Base URL of the server. */
  readonly url: string;
  /** Port of the server. */
  readonly port: number;
  /** Process id of the server (this process for an in-process server). */
  readonly pid: number;
  /** The started server itself (logs(), kill(), ... of a {@link StartedServer}). */
  readonly server: S;
}

interface JestGlobals {
  beforeAll(fn: () => unknown, timeoutMs?: number): void;
  afterAll(fn: () => unknown, timeoutMs?: number): void;
}

function jestGlobals(caller: string): JestGlobals {
  const g = globalThis as unknown as Partial<JestGlobals>;
  if (typeof g.beforeAll !== 'function' || typeof g.afterAll !== 'function') {
    throw new Error(`${caller} must be called in a Jest test file (beforeAll/afterAll are not defined)`);
  }
  return g as JestGlobals;
}

function currentTestName(): string | undefined {
  const expectGlobal = (globalThis as { expect?: { getState?: () => { currentTestName?: string } } }).expect;
  return expectGlobal?.getState?.().currentTestName;
}

// Servers of this test file (Jest gives each file its own module registry), innermost last.
const activeServers: BridgeServerHandle[] = [];

/** Starts the server described by `options`: a CLI child process or, with `inProcess`, in process. */
async function start(options: BridgeServerOptions): Promise<StartedServer | InProcessServer> {
  if (options.inProcess === true) {
    const { inProcess: _, ...rest } = options;
    return startInProcessServer(rest as InProcessServerOptions);
  }
  const { inProcess: _, ...rest } = options;
  return startServer(rest);
}

/**
 * Starts a bridge server in `beforeAll` and stops it in `afterAll` of the enclosing `describe`
 * (or file). Returns a handle whose `url` etc. are valid inside tests.
 *
 * @example
 * const bridge = useBridgeServer({ sessionTtlMs: 60_000 });
 * test('talks to it', async () => {
 *   const client = createBridgeClient({ baseUrl: bridge.url });
 * });
 */
export function useBridgeServer(
  options?: StartServerOptions & { inProcess?: false },
): BridgeServerHandle<StartedServer>;
export function useBridgeServer(
  options: InProcessServerOptions & { inProcess: true },
): BridgeServerHandle<InProcessServer>;
export function useBridgeServer(options: BridgeServerOptions = {}): BridgeServerHandle {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('useBridgeServer(options): options must be an object');
  }
  const { beforeAll, afterAll } = jestGlobals('useBridgeServer()');
  let server: StartedServer | InProcessServer | undefined;
  const current = (): StartedServer | InProcessServer => {
    if (!server) {
      throw new Error(
        'useBridgeServer(): the server is not running; use the handle inside tests, beforeEach or afterEach, not at module level',
      );
    }
    return server;
  };
  const handle: BridgeServerHandle = {
    get url() {
      return current().url;
    },
    get port() {
      return current().port;
    },
    get pid() {
      return current().pid;
    },
    get server() {
      return current();
    },
  };
  const startupTimeoutMs = (options as StartServerOptions).startupTimeoutMs ?? 20_000;
  beforeAll(async () => {
    server = await start(options);
    activeServers.push(handle);
  }, startupTimeoutMs + 5_000);
  afterAll(
    async () => {
      const index = activeServers.indexOf(handle);
      if (index >= 0) activeServers.splice(index, 1);
      const s = server;
      server = undefined;
      await s?.stop();
    },
    ((options as StartServerOptions).stopGraceMs ?? 5_000) + 5_000,
  );
  return handle;
}

/** Options of {@link withSession}. */
export interface WithSessionOptions {
  /**
   * Server to use; default: the innermost {@link useBridgeServer} of this file, else the
   * `UNIFIED_BRIDGE_URL` environment variable (set by the global setup).
   */
  baseUrl?: string;
  /** A server (or {@link useBridgeServer} handle) to use instead of `baseUrl`. */
  server?: { readonly url: string };
  /** Start of the generated session id (then the test name and random hex); default `"test"`. */
  idPrefix?: string;
  /** Other options of `createBridgeClient` (protocol, token, cache, ...); default none. */
  client?: Omit<BridgeClientOptions, 'baseUrl' | 'transport'>;
}

/** What a {@link withSession} test receives besides the session. */
export interface SessionTestContext {
  /** The client the session was created with (closed after the test). */
  client: BridgeClient;
  /** The id of the session. */
  sessionId: string;
  /** Base URL of the server. */
  baseUrl: string;
}

/** A test body for {@link withSession}. */
export type SessionTest = (session: Session, context: SessionTestContext) => unknown;

const ID_MAX = 128;

function sessionId(prefix: string): string {
  const slug = (currentTestName() ?? '')
    .replace(/[^A-Za-z0-9_.:-]+/g, '-')
    .slice(0, 64)
    .replace(/^-+|-+$/g, '');
  const suffix = randomBytes(6).toString('hex');
  const head = [prefix, slug].filter(Boolean).join('-');
  return `${head.slice(0, ID_MAX - suffix.length - 1)}-${suffix}`;
}

function resolveBaseUrl(options: WithSessionOptions): string {
  const url =
    options.baseUrl ??
    options.server?.url ??
    activeServers[activeServers.length - 1]?.url ??
    process.env[BRIDGE_URL_ENV];
  if (!url) {
    throw new Error(
      `withSession(): no server: pass { baseUrl } or { server }, call useBridgeServer() in this file, or set ${BRIDGE_URL_ENV} (the global setup does)`,
    );
  }
  return url;
}

/**
 * Wraps a test body: creates a client and a uniquely named session (`test-<test name>-<hex>`)
 * before it, and closes both after it (also when it fails).
 *
 * @example
 * test('stores a value', withSession(async (session) => {
 *   expect(session.id).toMatch(/^test-/);
 * }));
 */
export function withSession(fn: SessionTest): () => Promise<void>;
export function withSession(options: WithSessionOptions, fn: SessionTest): () => Promise<void>;
export function withSession(a: SessionTest | WithSessionOptions, b?: SessionTest): () => Promise<void> {
  const options: WithSessionOptions = typeof a === 'function' ? {} : a;
  const fn = typeof a === 'function' ? a : b;
  if (options === null || typeof options !== 'object') {
    throw new TypeError('withSession(options, fn): options must be an object');
  }
  if (typeof fn !== 'function') {
    throw new TypeError('withSession(): pass the test body, as withSession(fn) or withSession(options, fn)');
  }
  const prefix = options.idPrefix ?? 'test';
  if (!/^[A-Za-z0-9_.:-]{1,32}$/.test(prefix)) {
    throw new RangeError(
      `withSession(): options.idPrefix must be 1-32 characters of [A-Za-z0-9_.:-], got ${JSON.stringify(prefix)}`,
    );
  }
  return async () => {
    const baseUrl = resolveBaseUrl(options);
    const { createBridgeClient: create } = await import('@unified-bridge/client');
    const client = create({ ...options.client, baseUrl });
    let session: Session | undefined;
    let failure: { error: unknown } | undefined;
    try {
      session = await client.createSession({ id: sessionId(prefix) });
      await fn(session, { client, sessionId: session.id, baseUrl });
    } catch (err) {
      failure = { error: err };
    }
    try {
      await session?.close();
    } catch (err) {
      // The test may have closed (or expired) the session itself; any other failure counts,
      // unless the test already failed (its error is the one to report).
      const type = (err as { type?: unknown }).type;
      if (!failure && type !== 'SessionNotFound' && type !== 'SessionExpired') failure = { error: err };
    }
    await client.close();
    if (failure) throw failure.error;
  };
}

interface GlobalState {
  server?: StartedServer | InProcessServer;
  setEnv: boolean;
}

const GLOBAL_KEY = Symbol.for('@unified-bridge/testing/jest-global-server');

/**
 * Makes a Jest `globalSetup` function that starts one server for the whole run and puts its URL
 * in `UNIFIED_BRIDGE_URL` (inherited by the test workers). If that variable is already set, it
 * uses that server and starts nothing. Pair it with {@link createGlobalTeardown}.
 *
 * @example
 * // jest.global-setup.cjs
 * module.exports = require('@unified-bridge/testing/jest').createGlobalSetup({ authTokens: ['t'] });
 */
export function createGlobalSetup(options: BridgeServerOptions = {}): () => Promise<void> {
  return async function globalSetup() {
    const g = globalThis as { [GLOBAL_KEY]?: GlobalState };
    if (g[GLOBAL_KEY]?.server) return;
    if (process.env[BRIDGE_URL_ENV]) {
      g[GLOBAL_KEY] = { setEnv: false };
      return;
    }
    const server = await start(options);
    process.env[BRIDGE_URL_ENV] = server.url;
    g[GLOBAL_KEY] = { server, setEnv: true };
  };
}

/**
 * Makes a Jest `globalTeardown` function that stops the server of {@link createGlobalSetup}
 * and unsets `UNIFIED_BRIDGE_URL` if the setup set it.
 */
export function createGlobalTeardown(): () => Promise<void> {
  return async function globalTeardown() {
    const g = globalThis as { [GLOBAL_KEY]?: GlobalState };
    const state = g[GLOBAL_KEY];
    delete g[GLOBAL_KEY];
    if (!state) return;
    if (state.setEnv) delete process.env[BRIDGE_URL_ENV];
    await state.server?.stop();
  };
}
