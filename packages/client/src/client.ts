import { create } from '@bufbuild/protobuf';
import type { Interceptor, Transport } from '@connectrpc/connect';
import { CreateSessionRequestSchema, ListSessionsRequestSchema } from '@unified-bridge/proto';
import { VariableCache, resolveCacheOptions, type BridgeCache, type CacheOptions } from './cache.js';
import { resolveRetryPolicy, type RetryOptions, type RetryPolicy } from './retry.js';
import { Rpc, checkTimeout, type CallOptions } from './rpc.js';
import { sessionInfoFromWire, type SessionInfo } from './session-info.js';
import type { SessionHandleOptions } from './session-options.js';
import { Session } from './session.js';
import type { ToolDefinitions } from './tool-definitions.js';
import { DEFAULT_TOOL_LIST_TTL_MS, ToolListCache } from './tool-list-cache.js';
import type { ServeToolsOptions } from './worker-options.js';
import { ToolWorker } from './worker.js';

/**
 * Wire protocol of a client: `"grpc"` (HTTP/2 only), `"connect"` (HTTP/2 or
 * HTTP/1.1) or `"grpc-web"` (HTTP/2 or HTTP/1.1). The server speaks all three
 * on one port.
 */
export type BridgeProtocol = 'grpc' | 'connect' | 'grpc-web';

/** A bearer token, or a function that returns one per call (for rotating credentials). */
export type TokenSource = string | (() => string | Promise<string>);

/** A transport together with the function that releases its connections. */
export interface OwnedTransport {
  readonly transport: Transport;
  /** Closes every connection of the transport (in-flight calls fail). */
  close(): void;
}

const PROTOCOLS: readonly BridgeProtocol[] = ['grpc', 'connect', 'grpc-web'];

/** Checks the protocol option (TypeError naming the option and the fix). */
export function checkProtocol(protocol: unknown, allowed: readonly BridgeProtocol[] = PROTOCOLS): BridgeProtocol {
  if (!allowed.includes(protocol as BridgeProtocol)) {
    throw new TypeError(
      `protocol must be one of ${allowed.map((p) => JSON.stringify(p)).join(', ')}, got ${JSON.stringify(protocol)}`,
    );
  }
  return protocol as BridgeProtocol;
}

/** Checks the baseUrl option (TypeError naming the option and the fix). */
export function checkBaseUrl(baseUrl: unknown): string {
  if (typeof baseUrl !== 'string' || !/^https?:\/\//.test(baseUrl)) {
    throw new TypeError(
      `baseUrl must be an http(s) URL such as "http://127.0.0.1:50051", got ${JSON.stringify(baseUrl)}`,
    );
  }
  return baseUrl;
}

/** The interceptors of a client: the bearer token first, then the caller's. */
export function clientInterceptors(options: BridgeClientOptions): Interceptor[] {
  const out: Interceptor[] = [];
  const { token } = options;
  if (token !== undefined) {
    out.push((next) => async (req) => {
      const value = typeof token === 'function' ? await token() : token;
      req.header.set('authorization', `Bearer ${value}`);
      return next(req);
    });
  }
  return [...out, ...(options.interceptors ?? [])];
}

/**
 * Options of {@link createBridgeClient}.
 *
 * @example
 * ```ts
 * const client = createBridgeClient({ baseUrl: 'http://127.0.0.1:50051', protocol: 'grpc', token: process.env.TOKEN });
 * ```
 */
export interface BridgeClientOptions {
  /** The server's URL, for example `http://127.0.0.1:50051`. Required unless `transport` is given. */
  baseUrl?: string;
  /** The wire protocol. Default `"grpc"`. */
  protocol?: BridgeProtocol;
  /** HTTP version for `"connect"` and `"grpc-web"` (`"grpc"` needs `"2"`). Default `"2"`. */
  httpVersion?: '1.1' | '2';
  /** A bearer token sent with every call (or a function returning one per call). Default none. */
  token?: TokenSource;
  /** Default deadline of each unary call (retries included), in ms. Default 30 000. Streams have none. */
  timeoutMs?: number;
  /** Retry policy of idempotent calls; `false` turns retries off. Default {@link RetryOptions} defaults. */
  retry?: RetryOptions | boolean;
  /** The read cache; `false` turns it off. Default `{ mode: "ttl", ttlMs: 1000, maxEntries: 10000 }`. */
  cache?: CacheOptions | boolean;
  /**
   * How long `session.tools.list()` serves a cached tool list, in ms (`0`
   * turns the cache off). Default 5000. A ToolNotFound in the session and a
   * worker of this client registering or stopping drop it sooner.
   */
  toolListTtlMs?: number;
  /**
   * HTTP/2 settings of the Node.js transports (ignored for HTTP/1.1, by the
   * `/web` entry point and with `transport`). `maxSessionMemoryMb`: Node's
   * `maxSessionMemory` per connection, in MB; default 64 (Node's own 10 MB
   * makes messages near the server's 10 MiB limit fail with
   * ENHANCE_YOUR_CALM). Raise it with the server's `maxMessageBytes`.
   *
   * @example
   * ```ts
   * createBridgeClient({ baseUrl, protocol: 'grpc', http2: { maxSessionMemoryMb: 256 } });
   * ```
   */
  http2?: { maxSessionMemoryMb?: number };
  /** Extra Connect interceptors (logging, tracing), run after the token interceptor. Default none. */
  interceptors?: Interceptor[];
  /**
   * Use this Connect transport instead of creating one (tests with
   * `createRouterTransport`, browsers, custom HTTP stacks); `baseUrl`,
   * `protocol`, `httpVersion` and `token` are then ignored and the caller
   * owns the transport.
   */
  transport?: Transport;
}

/** Options of `client.createSession()`. */
export interface CreateSessionOptions extends SessionHandleOptions, CallOptions {
  /** The session id; default: generated by the server. At most 128 characters of `[A-Za-z0-9_.:-]`. */
  id?: string;
  /** The idle TTL in seconds. Default: the server's. */
  ttlSeconds?: number;
  /** Free-form metadata kept with the session. */
  metadata?: Record<string, string>;
}

/** Options of `client.listSessions()`. */
export interface ListSessionsOptions extends CallOptions {
  /** Sessions per page (1..1000). Default: the server's (100). */
  pageSize?: number;
}

/**
 * A connection to a unified-bridge server: creates and attaches sessions,
 * owns the transport and the read cache. Close it (or `await using`) to
 * release connections, watch streams and timers.
 */
export class BridgeClient implements AsyncDisposable {
  /** The read cache: `clear()`, `setTtl()`, `stats()`. */
  readonly cache: BridgeCache;
  /** @internal The RPC layer (for library authors building on the client, e.g. tools). */
  readonly rpc: Rpc;
  /** @internal The retry policy in force. */
  readonly retry: RetryPolicy;
  readonly #cache: VariableCache;
  readonly #owned: OwnedTransport | undefined;
  readonly #sessions = new Map<string, Session>();
  readonly #toolLists: ToolListCache;
  readonly #workers = new Set<ToolWorker>();
  #closing: Promise<void> | undefined;

  /** Use {@link createBridgeClient}. */
  constructor(transport: Transport, owned: OwnedTransport | undefined, options: BridgeClientOptions) {
    const timeoutMs = options.timeoutMs === undefined ? 30_000 : checkTimeout('timeoutMs', options.timeoutMs);
    this.retry = resolveRetryPolicy(options.retry);
    this.#cache = new VariableCache(resolveCacheOptions(options.cache));
    this.#cache.attachScopes((id) => this.#sessions.get(id)?.scope);
    this.cache = this.#cache;
    this.rpc = new Rpc(transport, timeoutMs, this.retry);
    const toolListTtlMs = options.toolListTtlMs ?? DEFAULT_TOOL_LIST_TTL_MS;
    if (typeof toolListTtlMs !== 'number' || !(toolListTtlMs >= 0)) {
      throw new RangeError(`toolListTtlMs must be a non-negative number of milliseconds, got ${String(toolListTtlMs)}`);
    }
    this.#toolLists = new ToolListCache(toolListTtlMs);
    this.#owned = owned;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.rpc.closed;
  }

  /**
   * Creates a session on the server and returns it. A taken id fails with
   * AlreadyExists.
   *
   * @example
   * ```ts
   * const session = await client.createSession({ id: 'run-1', ttlSeconds: 600, heartbeatIntervalMs: 60_000 });
   * ```
   */
  async createSession(options: CreateSessionOptions = {}): Promise<Session> {
    const ttlSeconds = options.ttlSeconds ?? 0;
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 0 || ttlSeconds > 0xffffffff) {
      throw new RangeError(`ttlSeconds must be a non-negative integer, got ${String(options.ttlSeconds)}`);
    }
    const { rpc } = this;
    const r = await rpc.call('write', options, (o) =>
      rpc.sessions.createSession(
        create(CreateSessionRequestSchema, {
          sessionId: options.id ?? '',
          ttlSeconds,
          metadata: options.metadata ?? {},
        }),
        o,
      ),
    );
    const info = sessionInfoFromWire(r.session);
    this.#sessions.get(info.id)?.release();
    return this.#attach(info.id, options);
  }

  /**
   * A handle on an existing session (no round trip: a missing session shows
   * up as SessionNotFound on first use, or call `info()`). The same object is
   * returned for the same id while it is open.
   */
  session(id: string, options: SessionHandleOptions = {}): Session {
    if (typeof id !== 'string' || id === '') throw new TypeError('session id must be a non-empty string');
    if (this.closed) throw this.rpc.closedError();
    return this.#sessions.get(id) ?? this.#attach(id, options);
  }

  #attach(id: string, options: SessionHandleOptions): Session {
    const session = new Session(
      id,
      {
        rpc: this.rpc,
        cache: this.#cache,
        retry: this.retry,
        tools: this.#toolLists,
        onRelease: (s) => {
          if (this.#sessions.get(s.id) === s) this.#sessions.delete(s.id);
        },
      },
      { heartbeatIntervalMs: options.heartbeatIntervalMs },
    );
    this.#sessions.set(id, session);
    return session;
  }

  /** The sessions visible to the caller, ordered by id, fetched page by page. */
  async *listSessions(options: ListSessionsOptions = {}): AsyncGenerator<SessionInfo, void, undefined> {
    const pageSize = options.pageSize ?? 0;
    if (!Number.isInteger(pageSize) || pageSize < 0 || pageSize > 1000) {
      throw new RangeError(`pageSize must be an integer in [1, 1000], got ${String(options.pageSize)}`);
    }
    const { rpc } = this;
    let pageToken = '';
    do {
      const r = await rpc.call('read', options, (o) =>
        rpc.sessions.listSessions(create(ListSessionsRequestSchema, { pageSize, pageToken }), o),
      );
      for (const s of r.sessions) yield sessionInfoFromWire(s);
      pageToken = r.nextPageToken;
    } while (pageToken !== '');
  }

  /**
   * Serves tools from this process as a worker: the server routes calls of
   * these tools (in one session, or in every session with `null`) to the
   * handlers here. Returns at once; `await worker.ready` to know the tools
   * are registered. The worker reconnects after a broken stream until
   * `stop()` (or `client.close()`).
   *
   * @example
   * ```ts
   * const worker = client.serveTools(session, {
   *   add: ({ a, b }) => (a as number) + (b as number),
   *   count: { streaming: true, async *handler({ n }) { for (let i = 0; i < (n as number); i++) yield i; } },
   * });
   * await worker.ready;
   * ```
   */
  serveTools(session: Session | string | null, tools: ToolDefinitions, options: ServeToolsOptions = {}): ToolWorker {
    if (this.closed) throw this.rpc.closedError();
    let sessionId: string;
    if (session === null) sessionId = '';
    else if (typeof session === 'string' && session !== '') sessionId = session;
    else if (session instanceof Session) sessionId = session.id;
    else throw new TypeError('serveTools needs a Session, a session id, or null (global tools)');
    const worker = new ToolWorker(
      {
        rpc: this.rpc,
        retry: this.retry,
        session: (id) => this.session(id),
        onToolsChanged: () => this.#toolLists.invalidate(),
        onStopped: (w) => this.#workers.delete(w),
      },
      sessionId,
      tools,
      options,
    );
    this.#workers.add(worker);
    return worker;
  }

  /**
   * Releases everything: tool workers, watch streams, heartbeat timers, the cache, and the
   * connections of a transport the client created. Sessions stay on the
   * server. In-flight calls fail with Cancelled. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const stopping = [...this.#workers].map((w) => w.stop());
      for (const s of [...this.#sessions.values()]) s.release();
      this.rpc.close();
      this.#cache.clear();
      await Promise.all(stopping);
      this.#toolLists.invalidate();
      this.#owned?.close();
    })();
    return this.#closing;
  }

  /** Same as {@link close}: `await using client = createBridgeClient(...)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
