import { BridgeClient } from './client.js';
import {
  checkBaseUrl,
  checkHttpVersion,
  checkProtocol,
  clientInterceptors,
  type BridgeClientOptions,
} from './client-options.js';
import { createNodeTransport } from './transport.js';

/**
 * Creates a client of a unified-bridge server over gRPC, Connect or
 * gRPC-Web (Node.js transports; HTTP/2 by default, `httpVersion: "1.1"` for
 * Connect and gRPC-Web).
 *
 * @example
 * ```ts
 * await using client = createBridgeClient({ baseUrl: 'http://127.0.0.1:50051', protocol: 'connect' });
 * const session = await client.createSession();
 * ```
 */
export function createBridgeClient(options: BridgeClientOptions): BridgeClient {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('createBridgeClient needs an options object');
  if (options.transport !== undefined) return new BridgeClient(options.transport, undefined, options);
  const baseUrl = checkBaseUrl(options.baseUrl);
  const protocol = checkProtocol(options.protocol ?? 'grpc');
  const httpVersion = checkHttpVersion(options.httpVersion ?? '2');
  const owned = createNodeTransport({
    baseUrl,
    protocol,
    httpVersion,
    interceptors: clientInterceptors(options),
    maxSessionMemoryMb: options.http2?.maxSessionMemoryMb,
  });
  return new BridgeClient(owned.transport, owned, options);
}
