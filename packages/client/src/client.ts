import { create } from '@bufbuild/protobuf';
import type { Transport } from '@connectrpc/connect';
import { CreateSessionRequestSchema, ListSessionsRequestSchema } from '@unified-bridge/proto';
import { VariableCache, resolveCacheOptions, type BridgeCache } from './cache.js';
import type {
  BridgeClientOptions,
  CreateSessionOptions,
  ListSessionsOptions,
  OwnedTransport,
} from './client-options.js';
import { resolveRetryPolicy, type RetryPolicy } from './retry.js';
import { Rpc, checkTimeout } from './rpc.js';
import { sessionInfoFromWire, type SessionInfo } from './session-info.js';
import type { SessionHandleOptions } from './session-options.js';
import { Session } from './session.js';
import type { ToolDefinitions } from './tool-definitions.js';
import { DEFAULT_TOOL_LIST_TTL_MS, ToolListCache } from './tool-list-cache.js';
import type { ServeToolsOptions } from './worker-options.js';
import { ToolWorker } from './worker.js';

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
