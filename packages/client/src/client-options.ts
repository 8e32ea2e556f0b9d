// The options of a client and their checks (a leaf: no imports of the client's classes).
import type { Interceptor, Transport } from '@connectrpc/connect';
import type { CacheOptions } from './cache.js';
import type { RetryOptions } from './retry.js';
import type { CallOptions } from './rpc.js';
import type { SessionHandleOptions } from './session-options.js';

/**
 * Wire protocol of a client: `"grpc"` (HTTP/2 only), `"connect"` (HTTP/2 or
 * HTTP/1.1) or `"grpc-web"` (HTTP/2 or HTTP/1.1). The server speaks all three
 * on one port.
 */
export type BridgeProtocol = (typeof BRIDGE_PROTOCOLS)[number];
/** Every {@link BridgeProtocol}: the one list the type is derived from. */
export const BRIDGE_PROTOCOLS = Object.freeze(['grpc', 'connect', 'grpc-web'] as const);

/** HTTP version of the `"connect"` and `"grpc-web"` protocols (`"grpc"` needs `"2"`). */
export type HttpVersion = (typeof HTTP_VERSIONS)[number];
/** Every {@link HttpVersion}: the one list the type is derived from. */
export const HTTP_VERSIONS = Object.freeze(['1.1', '2'] as const);

/** A bearer token, or a function that returns one per call (for rotating credentials). */
export type TokenSource = string | (() => string | Promise<string>);

/** A transport together with the function that releases its connections. */
export interface OwnedTransport {
  readonly transport: Transport;
  /** Closes every connection of the transport (in-flight calls fail). */
  close(): void;
}

/** Checks the protocol option (TypeError naming the option and the fix). */
export function checkProtocol(
  protocol: unknown,
  allowed: readonly BridgeProtocol[] = BRIDGE_PROTOCOLS,
): BridgeProtocol {
  if (!allowed.includes(protocol as BridgeProtocol)) {
    throw new TypeError(
      `protocol must be one of ${allowed.map((p) => JSON.stringify(p)).join(', ')}, got ${JSON.stringify(protocol)}`,
    );
  }
  return protocol as BridgeProtocol;
}

/** Checks the httpVersion option (TypeError naming the option and the fix). */
export function checkHttpVersion(httpVersion: unknown): HttpVersion {
  if (!HTTP_VERSIONS.includes(httpVersion as HttpVersion)) {
    throw new TypeError(
      `httpVersion must be ${HTTP_VERSIONS.map((v) => JSON.stringify(v)).join(' or ')}, got ${JSON.stringify(httpVersion)}`,
    );
  }
  return httpVersion as HttpVersion;
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
  httpVersion?: HttpVersion;
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
