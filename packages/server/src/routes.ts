// The embeddable part: Connect routes for SessionService, VariableService and
// grpc.health.v1.Health, usable with any Connect server adapter.
import type { ConnectRouter, Interceptor } from '@connectrpc/connect';
import { compressionGzip } from '@connectrpc/connect-node';
import { Health, SessionService, VariableService } from '@unified-bridge/proto';
import { MemoryStore } from '@unified-bridge/store';
import type { SessionStore, StoreLimits } from '@unified-bridge/store';
import { createAuthInterceptor, validateAuthOptions } from './auth.js';
import type { AuthOptions } from './auth.js';
import { createErrorInterceptor, shuttingDown } from './errors.js';
import { BridgeHealth, createHealthServiceImpl } from './health-service.js';
import { CallTracker } from './lifecycle.js';
import { createMessageLimit, DEFAULT_MAX_MESSAGE_BYTES } from './limits.js';
import { createBridgeLogger } from './logger.js';
import type { BridgeLogger } from './logger.js';
import { createSessionServiceImpl } from './session-service.js';
import { createVariableServiceImpl } from './variable-service.js';

/**
 * Options of {@link createBridgeRoutes}. Every option has a safe default.
 *
 * @example
 * const routes = createBridgeRoutes({ store: new MemoryStore(), auth: { tokens: ['s3cret'] } });
 */
export interface BridgeRoutesOptions {
  /**
   * Where sessions and variables live. Default: a new `MemoryStore` built
   * with `limits` and `sessionTtlMs`, closed by `shutdown()`. A store you pass
   * in is yours to close.
   */
  readonly store?: SessionStore;
  /** Limits of the default `MemoryStore` (ignored when `store` is given). Default: the store's defaults. */
  readonly limits?: Partial<StoreLimits>;
  /**
   * Idle TTL of sessions created without `ttl_seconds`, in ms. Default: the
   * store's `sessionTtlMs` (1 hour for `MemoryStore`).
   */
  readonly sessionTtlMs?: number;
  /**
   * Bearer-token auth for SessionService and VariableService. Default: none
   * (every caller sees every session). Health stays reachable without a token.
   */
  readonly auth?: AuthOptions;
  /** Where log lines go. Default: pino JSON lines on stderr at level `info`. */
  readonly logger?: BridgeLogger;
  /**
   * Largest message the services read or write, in bytes, after
   * decompression. Default 10 MiB (connect-node's own default is ~4 GiB).
   * Larger requests fail with RESOURCE_EXHAUSTED "message too large".
   */
  readonly maxMessageBytes?: number;
  /** Response compression offered to clients: `"gzip"` (default) or `"none"`. Requests may always be gzip. */
  readonly compression?: 'gzip' | 'none';
  /**
   * Largest deadline a client may ask for, in ms; a larger one fails with
   * INVALID_ARGUMENT. Default 0 (no cap).
   */
  readonly maxTimeoutMs?: number;
  /**
   * Extra interceptors for the bridge services, run inside the bridge's own
   * (after auth). Interceptors given to the adapter do not reach these
   * services, because Connect's per-service options replace them. Default `[]`.
   */
  readonly interceptors?: readonly Interceptor[];
}

/**
 * Connect routes of the bridge: pass them to `connectNodeAdapter`,
 * `fastifyConnectPlugin` or `expressConnectMiddleware`. The function also
 * carries the health registry, the store, and `shutdown()`.
 */
export interface BridgeRoutes {
  /** Registers SessionService, VariableService and grpc.health.v1.Health on a Connect router. */
  (router: ConnectRouter): void;
  /** The grpc.health.v1 serving status (SERVING until shutdown). */
  readonly health: BridgeHealth;
  /** The store the services use. */
  readonly store: SessionStore;
  /** The logger the services use. */
  readonly logger: BridgeLogger;
  /** Whether `shutdown()` has begun. */
  readonly draining: boolean;
  /**
   * Shuts the services down: health goes NOT_SERVING, new calls are refused
   * with UNAVAILABLE "server shutting down", streams end with that status,
   * in-flight unary calls get `graceMs` (default 10,000) to finish before they
   * are aborted; then the default store is closed. Idempotent.
   */
  shutdown(options?: { graceMs?: number }): Promise<void>;
}

/** The default grace period for in-flight calls at shutdown, in ms. */
export const DEFAULT_GRACE_MS = 10_000;

/**
 * Creates the bridge's Connect routes. The service implementations do not
 * depend on the HTTP adapter; limits, auth, error mapping and shutdown are
 * applied per service here, so they hold with every adapter.
 *
 * @example
 * import http from 'node:http';
 * import { connectNodeAdapter } from '@connectrpc/connect-node';
 * const routes = createBridgeRoutes();
 * http.createServer(connectNodeAdapter({ routes })).listen(8080);
 */
export function createBridgeRoutes(options: BridgeRoutesOptions = {}): BridgeRoutes {
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (!Number.isInteger(maxMessageBytes) || maxMessageBytes < 1 || maxMessageBytes > 0xffffffff) {
    throw new RangeError(`maxMessageBytes must be an integer from 1 to 4294967295, got ${String(maxMessageBytes)}`);
  }
  const maxTimeoutMs = options.maxTimeoutMs ?? 0;
  if (!Number.isInteger(maxTimeoutMs) || maxTimeoutMs < 0) {
    throw new RangeError(`maxTimeoutMs must be a non-negative integer (0 = no cap), got ${String(maxTimeoutMs)}`);
  }
  if (options.sessionTtlMs !== undefined && (!Number.isInteger(options.sessionTtlMs) || options.sessionTtlMs < 1)) {
    throw new RangeError(`sessionTtlMs must be a positive integer (ms), got ${String(options.sessionTtlMs)}`);
  }
  const compression = options.compression ?? 'gzip';
  if (compression !== 'gzip' && compression !== 'none') {
    throw new TypeError(`compression must be "gzip" or "none", got ${JSON.stringify(compression)}`);
  }
  if (options.auth !== undefined) validateAuthOptions(options.auth);

  const logger = options.logger ?? createBridgeLogger('info');
  const ownStore = options.store === undefined;
  const store =
    options.store ??
    new MemoryStore({
      limits: {
        ...options.limits,
        ...(options.sessionTtlMs !== undefined ? { sessionTtlMs: options.sessionTtlMs } : {}),
      },
    });
  const health = new BridgeHealth([SessionService.typeName, VariableService.typeName, Health.typeName]);
  const calls = new CallTracker();
  const streams = new AbortController(); // ends streams at shutdown
  const force = new AbortController(); // aborts whatever is left after the grace period
  const limit = createMessageLimit(maxMessageBytes);

  const deps = { store, sessionTtlMs: options.sessionTtlMs, streamsSignal: streams.signal };
  const baseOptions = {
    readMaxBytes: maxMessageBytes,
    writeMaxBytes: maxMessageBytes,
    // Requests may always be gzip (decompressed size is capped); responses are
    // compressed only when compression is "gzip" and the client accepts it.
    acceptCompression: [limit.compression(compressionGzip)],
    compressMinBytes: compression === 'gzip' ? 1024 : 0xffffffff,
    ...(maxTimeoutMs > 0 ? { maxTimeoutMs } : {}),
    shutdownSignal: force.signal,
    requireConnectProtocolHeader: false,
  };
  const errorInterceptor = createErrorInterceptor(logger);
  const bridgeInterceptors: Interceptor[] = [
    errorInterceptor,
    calls.interceptor(),
    ...(options.auth !== undefined ? [createAuthInterceptor(options.auth)] : []),
    ...(options.interceptors ?? []),
  ];
  // Health is never refused or authenticated: probes must see NOT_SERVING during shutdown.
  const healthInterceptors: Interceptor[] = [errorInterceptor];

  let shutdownPromise: Promise<void> | undefined;
  const routes = (router: ConnectRouter): void => {
    const first = router.handlers.length;
    router.service(SessionService, createSessionServiceImpl(deps), {
      ...baseOptions,
      interceptors: bridgeInterceptors,
    });
    router.service(VariableService, createVariableServiceImpl(deps), {
      ...baseOptions,
      interceptors: bridgeInterceptors,
    });
    router.service(Health, createHealthServiceImpl(health, streams.signal), {
      ...baseOptions,
      interceptors: healthInterceptors,
    });
    // Later: a `tools` option registers ToolService / ToolWorkerService here.
    limit.wrapHandlers(router.handlers, first);
  };

  const shutdown = (opts: { graceMs?: number } = {}): Promise<void> => {
    shutdownPromise ??= (async () => {
      const graceMs = opts.graceMs ?? DEFAULT_GRACE_MS;
      calls.drain();
      health.setServing(false);
      // Let health watchers send NOT_SERVING before their streams end.
      await new Promise<void>((resolve) => setImmediate(resolve));
      streams.abort(shuttingDown());
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
        timer.unref();
      });
      await Promise.race([calls.idle(), graceOver]);
      clearTimeout(timer);
      if (calls.inFlight > 0) {
        logger.warn({ inFlight: calls.inFlight, graceMs }, 'grace period over: aborting calls still in flight');
        force.abort(shuttingDown());
        // Aborted handlers settle promptly; never wait on one that does not.
        let capTimer: NodeJS.Timeout | undefined;
        await Promise.race([
          calls.idle(),
          new Promise<void>((resolve) => {
            capTimer = setTimeout(resolve, 1000);
            capTimer.unref();
          }),
        ]);
        clearTimeout(capTimer);
      }
      if (ownStore) await store.close();
    })();
    return shutdownPromise;
  };

  return Object.defineProperties(routes, {
    health: { value: health, enumerable: true },
    store: { value: store, enumerable: true },
    logger: { value: logger, enumerable: true },
    draining: { get: () => calls.draining, enumerable: true },
    shutdown: { value: shutdown, enumerable: true },
  }) as BridgeRoutes;
}
