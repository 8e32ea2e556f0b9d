// The standalone server: the bridge routes on one port (gRPC, gRPC-Web and
// Connect over h2c and HTTP/1.1, or TLS with ALPN), with graceful shutdown.
import { createBridgeRoutes, DEFAULT_GRACE_MS } from './routes.js';
import type { BridgeRoutes, BridgeRoutesOptions } from './routes.js';
import { DEFAULT_HTTP2_OPTIONS, listen } from './listener.js';
import type { BridgeListener, Http2Options, TlsOptions } from './listener.js';
import { createNodeHandler } from './node-handler.js';
import type { MetricsOptions } from './metrics.js';
import { checkServerMetricsOptions, listenForMetrics, withMetricsPath } from './metrics-endpoint.js';
import type { MetricsListener, ServerMetricsOptions } from './metrics-endpoint.js';

/**
 * Options of {@link startBridgeServer}: everything {@link BridgeRoutesOptions}
 * takes (store, limits, session TTL, auth, logger, compression, reflection, message size,
 * maxTimeoutMs, host tools, rate limit, tool deadlines, worker heartbeats)
 * plus where and how to listen.
 *
 * @example
 * await using server = await startBridgeServer({ port: 50051, auth: { tokens: ['s3cret'] } });
 */
export interface BridgeServerOptions extends BridgeRoutesOptions {
  /** The address to bind. Default `"127.0.0.1"` (local only; use `"0.0.0.0"` to expose it). */
  readonly host?: string;
  /** The port; 0 picks any free port (read it back from `port`). Default 0. */
  readonly port?: number;
  /** TLS certificate and key; then ALPN offers h2 and http/1.1. Default: cleartext (h2c + HTTP/1.1). */
  readonly tls?: TlsOptions;
  /** HTTP/2 hardening (max concurrent streams, idle timeout, keepalive pings). Defaults in {@link Http2Options}. */
  readonly http2?: Http2Options;
  /** How long `stop()` lets in-flight calls and connections finish, in ms. Default 10,000. */
  readonly graceMs?: number;
  /**
   * The metrics (see `BridgeRoutesOptions.metrics`) and where `/metrics` is
   * served: nowhere unless `port` (a listener of its own) or `onMainPort`.
   * `false` turns the metrics off.
   */
  readonly metrics?: (MetricsOptions & ServerMetricsOptions) | false;
}

/**
 * A running standalone server. `stop()` (or `await using`) shuts it down
 * gracefully: health NOT_SERVING, new calls refused, in-flight unary calls
 * finish within the grace period, streams end with UNAVAILABLE, HTTP/2
 * connections get GOAWAY; it resolves once every connection is closed.
 */
export interface StartedBridgeServer extends AsyncDisposable {
  /** The base URL, for example `http://127.0.0.1:50051` (`https:` with TLS). */
  readonly url: string;
  /** The bound port. */
  readonly port: number;
  /** The bound address. */
  readonly host: string;
  /** The RPC protocols served: `["grpc", "grpc-web", "connect"]`. */
  readonly protocols: readonly BridgeProtocol[];
  /** The routes the server runs (health, store, logger, metrics). */
  readonly routes: BridgeRoutes;
  /** Where `/metrics` is served (its own listener's URL, else the main port's), undefined when it is not. */
  readonly metricsUrl: string | undefined;
  /** Shuts down gracefully; idempotent (later calls return the same promise). */
  stop(): Promise<void>;
}

/** The RPC protocols every bridge server speaks. */
export const BRIDGE_PROTOCOLS = Object.freeze(['grpc', 'grpc-web', 'connect'] as const);

/** An RPC protocol a bridge server speaks: one of {@link BRIDGE_PROTOCOLS}. */
export type BridgeProtocol = (typeof BRIDGE_PROTOCOLS)[number];

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`port must be an integer from 0 to 65535 (0 = any free port), got ${String(port)}`);
  }
}

function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Starts the standalone bridge server on one port and resolves once it
 * listens.
 *
 * @example
 * const server = await startBridgeServer();
 * console.log(server.url); // http://127.0.0.1:<port>
 * await server.stop();
 */
export async function startBridgeServer(options: BridgeServerOptions = {}): Promise<StartedBridgeServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  checkPort(port);
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  if (!Number.isFinite(graceMs) || graceMs < 0) throw new RangeError(`graceMs must be >= 0, got ${String(graceMs)}`);
  const http2 = { ...DEFAULT_HTTP2_OPTIONS, ...options.http2 };
  for (const [k, v] of Object.entries(http2)) {
    if (!Number.isInteger(v) || v < 0)
      throw new RangeError(`http2.${k} must be a non-negative integer, got ${String(v)}`);
  }
  if (http2.maxConcurrentStreams < 1) throw new RangeError('http2.maxConcurrentStreams must be >= 1');
  if (options.tls !== undefined && (options.tls.cert === undefined || options.tls.key === undefined)) {
    throw new TypeError('tls needs both cert and key (PEM)');
  }

  const serveMetrics = options.metrics === false ? {} : (options.metrics ?? {});
  checkServerMetricsOptions(serveMetrics);
  const routes = createBridgeRoutes(options);
  const registry = routes.metrics?.registry;
  let handler = createNodeHandler(routes, routes.logger);
  if (registry !== undefined && serveMetrics.onMainPort === true) {
    handler = withMetricsPath(handler, registry, routes.logger);
  }
  let listener: BridgeListener | undefined;
  let metricsListener: MetricsListener | undefined;
  try {
    await routes.tools.ready; // a host tool that cannot be registered fails the start
    listener = await listen(handler, { host, port, tls: options.tls, http2, logger: routes.logger });
    if (registry !== undefined && serveMetrics.port !== undefined) {
      const metricsHost = serveMetrics.host ?? host;
      const at = { host: metricsHost, port: serveMetrics.port, urlHost: urlHost(metricsHost) };
      metricsListener = await listenForMetrics({ ...at, registry, logger: routes.logger }).catch(async (err) => {
        await listener?.close(0);
        throw err;
      });
    }
  } catch (err) {
    await routes.shutdown({ graceMs: 0 });
    throw err;
  }
  const url = `${options.tls !== undefined ? 'https' : 'http'}://${urlHost(host)}:${listener.port}`;
  const metricsUrl =
    metricsListener?.url ?? (registry !== undefined && serveMetrics.onMainPort === true ? `${url}/metrics` : undefined);
  routes.logger.info(
    { url, port: listener.port, protocols: BRIDGE_PROTOCOLS, ...(metricsUrl !== undefined ? { metricsUrl } : {}) },
    'listening',
  );

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      routes.logger.info({ graceMs }, 'shutting down');
      const servicesDone = routes.shutdown({ graceMs });
      listener.beginClose();
      const started = Date.now();
      await servicesDone;
      await listener.close(Math.max(0, graceMs - (Date.now() - started)));
      await metricsListener?.close();
      routes.logger.info({}, 'stopped');
    })();
    return stopping;
  };

  return {
    url,
    port: listener.port,
    host: listener.host,
    protocols: BRIDGE_PROTOCOLS,
    routes,
    metricsUrl,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
