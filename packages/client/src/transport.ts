import * as http from 'node:http';
import * as https from 'node:https';
import type { Interceptor } from '@connectrpc/connect';
import type { BridgeProtocol, HttpVersion, OwnedTransport } from './client-options.js';
import {
  Http2SessionManager,
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from '@connectrpc/connect-node';

/** What {@link createNodeTransport} needs. */
export interface NodeTransportConfig {
  readonly baseUrl: string;
  readonly protocol: BridgeProtocol;
  readonly httpVersion: HttpVersion;
  readonly interceptors: Interceptor[];
  /** Node's `maxSessionMemory` of HTTP/2 connections, in MB. Default {@link DEFAULT_HTTP2_MAX_SESSION_MEMORY_MB}. */
  readonly maxSessionMemoryMb?: number;
}

/**
 * The `maxSessionMemory` (MB) of the client's HTTP/2 connections. Node's
 * default of 10 MB makes a connection refuse streams with ENHANCE_YOUR_CALM
 * once about one message near the 10 MiB limit is buffered; 64 MB leaves
 * room for a few such messages in flight at once.
 */
export const DEFAULT_HTTP2_MAX_SESSION_MEMORY_MB = 64;

/** Checks `http2.maxSessionMemoryMb` (RangeError naming the option). */
export function checkMaxSessionMemoryMb(v: unknown): number {
  if (v === undefined) return DEFAULT_HTTP2_MAX_SESSION_MEMORY_MB;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 1_000_000) {
    throw new RangeError(`http2.maxSessionMemoryMb must be a positive integer number of megabytes, got ${String(v)}`);
  }
  return v;
}

/** Swallows a session's late 'error' event; calls see the failure through their own streams. */
const ignoreSessionError = (): void => {};

/**
 * connect-node's session manager, with one no-op 'error' listener on every
 * HTTP/2 session it opens. When a peer that only speaks HTTP/1.1 answers an
 * HTTP/2 preface, Node destroys the session but emits its 'error' only once
 * the socket closes; `abort()` (our `close()`) has removed the manager's own
 * listener by then, and an 'error' event without a listener ends the process.
 */
class ClientSessionManager extends Http2SessionManager {
  /** Sessions that already have the listener (one set lookup per call, no listener-array copy). */
  readonly #guarded = new WeakSet<object>();

  override async request(
    ...args: Parameters<Http2SessionManager['request']>
  ): ReturnType<Http2SessionManager['request']> {
    const stream = await super.request(...args);
    const session = stream.session;
    if (session !== undefined && !this.#guarded.has(session)) {
      this.#guarded.add(session);
      session.on('error', ignoreSessionError);
    }
    return stream;
  }
}

/**
 * A connect-node transport that the client owns: HTTP/2 through its own
 * session manager, HTTP/1.1 through its own agent, so `close()` releases the
 * sockets instead of leaving them to time out.
 */
export function createNodeTransport(config: NodeTransportConfig): OwnedTransport {
  const { baseUrl, protocol, httpVersion, interceptors } = config;
  const maxSessionMemory = checkMaxSessionMemoryMb(config.maxSessionMemoryMb);
  if (protocol === 'grpc' && httpVersion === '1.1') {
    throw new RangeError('protocol "grpc" needs HTTP/2: use httpVersion "2", or protocol "connect" / "grpc-web"');
  }
  if (httpVersion === '2') {
    const sessionManager = new ClientSessionManager(baseUrl, { idleConnectionTimeoutMs: 15_000 }, { maxSessionMemory });
    const common = { baseUrl, httpVersion, sessionManager, interceptors } as const;
    const transport =
      protocol === 'grpc'
        ? createGrpcTransport(common)
        : protocol === 'connect'
          ? createConnectTransport(common)
          : createGrpcWebTransport(common);
    return { transport, close: () => sessionManager.abort() };
  }
  const agent = baseUrl.startsWith('https:')
    ? new https.Agent({ keepAlive: true })
    : new http.Agent({ keepAlive: true });
  const common = { baseUrl, httpVersion, interceptors, nodeOptions: { agent } } as const;
  const transport = protocol === 'connect' ? createConnectTransport(common) : createGrpcWebTransport(common);
  return { transport, close: () => agent.destroy() };
}
