// @unified-bridge/client/web: the same client for browsers (and any runtime
// with fetch), over the Connect protocol or gRPC-Web through connect-web.
import { createConnectTransport, createGrpcWebTransport } from '@connectrpc/connect-web';
import { BridgeClient } from './client.js';
import { checkBaseUrl, checkProtocol, clientInterceptors, type BridgeClientOptions } from './client-options.js';

/** The protocols a browser can speak (not plain gRPC). */
const WEB_PROTOCOLS = Object.freeze(['connect', 'grpc-web'] as const);

/**
 * Options of the browser {@link createBridgeClient}: those of the Node.js
 * client without `httpVersion` (the browser picks it), with `fetch`.
 */
export interface WebBridgeClientOptions extends Omit<BridgeClientOptions, 'httpVersion' | 'protocol'> {
  /** `"connect"` (default) or `"grpc-web"`; browsers cannot speak plain gRPC. */
  protocol?: (typeof WEB_PROTOCOLS)[number];
  /** The fetch implementation (to set `credentials`, for example). Default: `globalThis.fetch`. */
  fetch?: typeof globalThis.fetch;
}

/**
 * Creates a client for browsers over the Connect protocol or gRPC-Web
 * (fetch-based connect-web transports). Everything else is the same API as
 * the Node.js client.
 *
 * @example
 * ```ts
 * import { createBridgeClient } from '@unified-bridge/client/web';
 * const client = createBridgeClient({ baseUrl: 'https://bridge.example.com' });
 * ```
 */
export function createBridgeClient(options: WebBridgeClientOptions): BridgeClient {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('createBridgeClient needs an options object');
  if (options.transport !== undefined) return new BridgeClient(options.transport, undefined, options);
  const baseUrl = checkBaseUrl(options.baseUrl);
  const protocol = checkProtocol(options.protocol ?? 'connect', WEB_PROTOCOLS);
  const common = { baseUrl, interceptors: clientInterceptors(options), fetch: options.fetch };
  const transport = protocol === 'connect' ? createConnectTransport(common) : createGrpcWebTransport(common);
  return new BridgeClient(transport, undefined, options);
}

export type { BridgeClient } from './client.js';
