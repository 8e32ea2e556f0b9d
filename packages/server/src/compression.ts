// Response compression of the bridge services. Off by default, as in grpc-go
// and grpc-js servers: a stock client reading a large tensor should not pay
// for gzip it did not ask for. Requests may always be gzip (their
// decompressed size is capped by the message limit).
import type { Compression, UniversalHandler, UniversalServerRequest } from '@connectrpc/connect/protocol';
import { rewriteRequests } from './handler-requests.js';

/** The response compressions the `compression` option of `createBridgeRoutes` may name. */
export const BRIDGE_COMPRESSIONS = ['gzip', 'none'] as const;

/** A response compression: one of {@link BRIDGE_COMPRESSIONS}. */
export type BridgeCompression = (typeof BRIDGE_COMPRESSIONS)[number];

/** Smallest response message compressed when compression is on, in bytes (connect-es's own default). */
export const DEFAULT_COMPRESS_MIN_BYTES = 1024;

/** The headers in which gRPC / gRPC-Web, Connect streaming and Connect unary clients offer encodings. */
const ACCEPT_ENCODING_HEADERS = ['grpc-accept-encoding', 'connect-accept-encoding', 'accept-encoding'] as const;

/** What the services' handlers need to apply the chosen response compression. */
export interface ResponseCompression {
  /** Handler options of every bridge service. */
  readonly handlerOptions: { readonly acceptCompression: Compression[]; readonly compressMinBytes: number };
  /** Applies the choice to `handlers[from..]` (with `"none"`, no response encoding is ever negotiated). */
  apply(handlers: UniversalHandler[], from: number): void;
}

/**
 * Checks the options and builds the response compression. `gzip` is the
 * request decompressor (already size-capped); it compresses responses only
 * when `compression` is `"gzip"`, the client accepts it and a message has at
 * least `compressMinBytes` bytes.
 */
export function createResponseCompression(
  compression: BridgeCompression | undefined,
  compressMinBytes: number | undefined,
  gzip: Compression,
): ResponseCompression {
  const choice = compression ?? 'none';
  if (!(BRIDGE_COMPRESSIONS as readonly string[]).includes(choice)) {
    throw new TypeError(
      `compression must be ${BRIDGE_COMPRESSIONS.map((c) => `"${c}"`).join(' or ')}, got ${JSON.stringify(compression)}`,
    );
  }
  const minBytes = compressMinBytes ?? DEFAULT_COMPRESS_MIN_BYTES;
  if (!Number.isInteger(minBytes) || minBytes < 0 || minBytes > 0xffffffff) {
    throw new RangeError(`compressMinBytes must be an integer from 0 to 4294967295, got ${String(compressMinBytes)}`);
  }
  return {
    handlerOptions: { acceptCompression: [gzip], compressMinBytes: minBytes },
    apply(handlers, from) {
      if (choice === 'none') rewriteRequests(handlers, from, acceptIdentityOnly);
    },
  };
}

/**
 * The request as if the client accepted no response encoding. Connect
 * negotiates the response encoding from these headers (falling back to the
 * request's own encoding when they are absent), so "identity" keeps every
 * response, and its headers, uncompressed. The request and its headers are
 * the call's own, so they are changed in place (no copy per call).
 */
function acceptIdentityOnly(req: UniversalServerRequest): UniversalServerRequest {
  for (const name of ACCEPT_ENCODING_HEADERS) req.header.set(name, 'identity');
  return req;
}
