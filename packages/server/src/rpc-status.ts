// The outcome of one RPC as the server reports it in metrics, spans and logs:
// its status code by the gRPC name (the numbering is the same in gRPC,
// gRPC-Web and the Connect protocol), and, for the rare call that failed
// before any handler ran (a malformed or oversized request), the status read
// back from the response Connect wrote for it.
import type { Code } from '@connectrpc/connect';
import { codeFromHttpStatus, codeFromString } from '@connectrpc/connect/protocol-connect';
import type { UniversalServerResponse } from '@connectrpc/connect/protocol';

/** The status codes by their gRPC names, indexed by the code's number (0 = OK). */
export const STATUS_CODE_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;

/** A status code's gRPC name: one of {@link STATUS_CODE_NAMES}. */
export type StatusCodeName = (typeof STATUS_CODE_NAMES)[number];

/** The code of a successful call (Connect's `Code` enum has no member for it). */
export const CODE_OK = 0;

/** A status code: {@link CODE_OK} or a Connect `Code`. */
export type StatusCode = typeof CODE_OK | Code;

/** The gRPC name of a status code (UNKNOWN for a number outside the table). */
export function statusCodeName(code: StatusCode): StatusCodeName {
  return STATUS_CODE_NAMES[code] ?? 'UNKNOWN';
}

/** The RPC protocols, as the `protocol` label and log field name them. */
export const RPC_PROTOCOLS = ['grpc', 'grpc-web', 'connect'] as const;

/** An RPC protocol: one of {@link RPC_PROTOCOLS}. */
export type RpcProtocol = (typeof RPC_PROTOCOLS)[number];

/** The protocol of a request, told by its content type (Connect GET requests have none). */
export function protocolOf(contentType: string | null): RpcProtocol {
  if (contentType === null || contentType.length < 16) return 'connect';
  const ct = contentType.toLowerCase();
  if (ct.startsWith('application/grpc-web')) return 'grpc-web';
  if (ct.startsWith('application/grpc')) return 'grpc';
  return 'connect';
}

const latin1 = new TextDecoder('latin1');

/** The payload of the first envelope (5-byte prefix + payload) whose flags have `flag` set. */
function envelopeWithFlag(bytes: Uint8Array, flag: number): Uint8Array | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at + 5 <= bytes.byteLength; ) {
    const length = view.getUint32(at + 1, false);
    if ((bytes[at]! & flag) !== 0) return bytes.subarray(at + 5, at + 5 + length);
    at += 5 + length;
  }
  return undefined;
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** The code of a Connect error JSON object (`{"code":"not_found",...}`), if the text holds one. */
function connectErrorCode(json: string): Code | undefined {
  const m = /"code"\s*:\s*"([a-z_]+)"/.exec(json);
  return m === null ? undefined : codeFromString(m[1]!);
}

/**
 * The status of a response Connect wrote without our handlers (the request
 * failed before them), read from what the protocol carries it in: gRPC
 * trailers (or headers, trailers-only), the gRPC-Web trailer frame, the
 * Connect error body or end-of-stream message; else from the HTTP status
 * (the gRPC mapping: 415 and 405 read as UNKNOWN). `body` is the whole body.
 */
export function statusOfResponse(
  protocol: RpcProtocol,
  res: UniversalServerResponse,
  body: readonly Uint8Array[],
): StatusCode {
  const header = new Headers(res.header);
  const trailer = new Headers(res.trailer);
  const grpcStatus = trailer.get('grpc-status') ?? header.get('grpc-status');
  if (grpcStatus !== null) return Number(grpcStatus) as StatusCode;
  const bytes = concat(body);
  if (res.status === 200 && protocol === 'grpc-web') {
    const frame = envelopeWithFlag(bytes, 0x80);
    const m = frame === undefined ? null : /grpc-status:\s*(\d+)/i.exec(latin1.decode(frame));
    if (m !== null) return Number(m[1]) as StatusCode;
  }
  if (res.status === 200 && protocol === 'connect') {
    const end = envelopeWithFlag(bytes, 0x02);
    if (end === undefined) return CODE_OK;
    return connectErrorCode(latin1.decode(end)) ?? CODE_OK;
  }
  if (res.status === 200) return CODE_OK;
  if (protocol === 'connect' && header.get('content-encoding') === null) {
    const code = connectErrorCode(latin1.decode(bytes));
    if (code !== undefined) return code;
  }
  return codeFromHttpStatus(res.status);
}
