// Serving `/metrics` (the Prometheus text exposition of a registry) for the
// standalone server: on a listener of its own (the default when asked for:
// operators keep it off the public port), or on the main port beside the RPCs.
import { once } from 'node:events';
import http from 'node:http';
import type http2 from 'node:http2';
import type net from 'node:net';
import type { Registry } from 'prom-client';
import type { NodeRequestHandler } from './listener.js';
import type { BridgeLogger } from './logger.js';

/** The path the metrics are served on. */
export const METRICS_PATH = '/metrics';

/** Answers one request for the metrics: GET (or HEAD) `/metrics` gets the text, anything else 404/405. */
function answer(
  registry: Registry,
  logger: BridgeLogger,
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
): void {
  const out = res as http.ServerResponse;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    out.writeHead(405, { allow: 'GET, HEAD' });
    out.end();
    return;
  }
  registry.metrics().then(
    (text) => {
      out.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
      out.end(req.method === 'HEAD' ? undefined : text);
    },
    (err: unknown) => {
      logger.error({ err }, 'could not collect the metrics');
      out.writeHead(500);
      out.end();
    },
  );
}

const pathOf = (url: string | undefined): string => (url ?? '').split('?', 1)[0]!;

/** `handler` with `/metrics` answered from `registry` (metrics on the main port). */
export function withMetricsPath(
  handler: NodeRequestHandler,
  registry: Registry,
  logger: BridgeLogger,
): NodeRequestHandler {
  return (req, res) => {
    if (pathOf(req.url) === METRICS_PATH) answer(registry, logger, req, res);
    else handler(req, res);
  };
}

/** A running metrics listener. */
export interface MetricsListener {
  /** The bound port (the real one when 0 was asked). */
  readonly port: number;
  /** `http://host:port/metrics`. */
  readonly url: string;
  /** Stops listening and closes its connections. */
  close(): Promise<void>;
}

/** Starts an HTTP/1.1 listener that serves only `/metrics`. */
export async function listenForMetrics(options: {
  readonly host: string;
  readonly port: number;
  readonly urlHost: string;
  readonly registry: Registry;
  readonly logger: BridgeLogger;
}): Promise<MetricsListener> {
  const { registry, logger } = options;
  const server = http.createServer((req, res) => {
    if (pathOf(req.url) === METRICS_PATH) {
      answer(registry, logger, req, res);
      return;
    }
    res.writeHead(404);
    res.end();
  });
  server.listen(options.port, options.host);
  await once(server, 'listening'); // rejects on 'error' (EADDRINUSE and the like)
  server.on('error', (err) => logger.error({ err }, 'metrics listener error'));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: `http://${options.urlHost}:${port}${METRICS_PATH}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Where the standalone server serves `/metrics` (`metrics` of
 * `startBridgeServer`): nowhere by default. Give `port` for a listener of its
 * own (the usual choice: it stays off the public port, so a firewall or a
 * network policy can keep it internal), or `onMainPort` to serve it beside the
 * RPCs (then anyone who can reach the RPCs can read it, without auth).
 *
 * @example
 * const server = await startBridgeServer({ metrics: { port: 9464 } });
 * console.log(server.metricsUrl); // http://127.0.0.1:9464/metrics
 */
export interface ServerMetricsOptions {
  /** A port for a `/metrics` listener of its own (HTTP/1.1, cleartext); 0 picks a free one. Default: none. */
  readonly port?: number;
  /** The address of that listener. Default: the server's `host`. */
  readonly host?: string;
  /** Also answer `GET /metrics` on the main port. Default false. */
  readonly onMainPort?: boolean;
}

/** Checks the serving part of the metrics options, throwing a TypeError/RangeError that names the option. */
export function checkServerMetricsOptions(o: ServerMetricsOptions): void {
  if (o.port !== undefined && (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535)) {
    throw new RangeError(`metrics.port must be an integer from 0 to 65535 (0 = any free port), got ${String(o.port)}`);
  }
  if (o.host !== undefined && (typeof o.host !== 'string' || o.host === '')) {
    throw new TypeError('metrics.host must be a non-empty string (an address to bind)');
  }
  if (o.onMainPort !== undefined && typeof o.onMainPort !== 'boolean') {
    throw new TypeError(`metrics.onMainPort must be a boolean, got ${JSON.stringify(o.onMainPort)}`);
  }
}
