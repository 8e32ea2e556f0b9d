import * as http from 'node:http';
import * as https from 'node:https';
import type { Interceptor, Transport } from '@connectrpc/connect';
import type { BridgeProtocol } from './client.js';
import {
  Http2SessionManager,
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from '@connectrpc/connect-node';

/** A transport together with the function that releases its connections. */
export interface OwnedTransport {
  readonly transport: Transport;
  /** Closes every connection of the transport (in-flight calls fail). */
  close(): void;
}

/** What {@link createNodeTransport} needs. */
export interface NodeTransportConfig {
  readonly baseUrl: string;
  readonly protocol: BridgeProtocol;
  readonly httpVersion: '1.1' | '2';
  readonly interceptors: Interceptor[];
}

/**
 * A connect-node transport that the client owns: HTTP/2 through its own
 * session manager, HTTP/1.1 through its own agent, so `close()` releases the
 * sockets instead of leaving them to time out.
 */
export function createNodeTransport(config: NodeTransportConfig): OwnedTransport {
  const { baseUrl, protocol, httpVersion, interceptors } = config;
  if (protocol === 'grpc' && httpVersion === '1.1') {
    throw new RangeError('protocol "grpc" needs HTTP/2: use httpVersion "2", or protocol "connect" / "grpc-web"');
  }
  if (httpVersion === '2') {
    const sessionManager = new Http2SessionManager(baseUrl, { idleConnectionTimeoutMs: 15_000 });
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
