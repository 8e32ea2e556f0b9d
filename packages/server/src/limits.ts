// Message size limits. Connect enforces readMaxBytes itself, but with its own
// wording and no ErrorDetail; this module checks the same limit one step
// earlier (on the request body as it streams in, envelope by envelope, and
// after decompression) and fails with RESOURCE_EXHAUSTED "message too large"
// and a PayloadTooLarge detail. Connect's own check stays as a backstop.
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { Code } from '@connectrpc/connect';
import { ErrorType } from '@unified-bridge/proto';
import type { Compression, UniversalHandler, UniversalServerRequest } from '@connectrpc/connect/protocol';
import { connectError, payloadTooLarge } from './errors.js';
import { rewriteRequests } from './handler-requests.js';

const gunzipAsync = promisify(gunzip);

/** The default largest message, read or written: 10 MiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

/** The size limit applied to requests of the bridge's handlers. */
export interface MessageLimit {
  /** Wraps a Compression so that a decompressed message over the limit fails with "message too large". */
  compression(c: Compression): Compression;
  /** Replaces `handlers[from..]` by wrappers that check request sizes before Connect reads them. */
  wrapHandlers(handlers: UniversalHandler[], from: number): void;
}

/** Creates the limit for `maxBytes` per message. */
export function createMessageLimit(maxBytes: number): MessageLimit {
  return {
    compression(c) {
      return {
        name: c.name,
        compress: (bytes) => c.compress(bytes),
        async decompress(bytes, readMaxBytes) {
          const limit = Math.min(readMaxBytes, maxBytes);
          if (c.name !== 'gzip') return c.decompress(bytes, limit);
          if (bytes.byteLength === 0) return new Uint8Array(0);
          try {
            const out = await gunzipAsync(bytes, { maxOutputLength: limit });
            return new Uint8Array(out.buffer as ArrayBuffer, out.byteOffset, out.byteLength);
          } catch (err) {
            // Checked by code, not instanceof: zlib errors may come from another realm.
            if ((err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') throw payloadTooLarge(maxBytes, err);
            throw connectError(Code.InvalidArgument, ErrorType.INVALID_ARGUMENT, 'invalid gzip data', {}, err);
          }
        },
      };
    },
    wrapHandlers(handlers, from) {
      rewriteRequests(handlers, from, (req) => limitRequest(req, maxBytes));
    },
  };
}

function isByteStream(body: unknown): body is AsyncIterable<Uint8Array> {
  return typeof body === 'object' && body !== null && Symbol.asyncIterator in body;
}

/**
 * Returns the request with a body that fails with "message too large" as soon
 * as one message exceeds `maxBytes`: the whole body for unary Connect
 * requests, each 5-byte-prefixed envelope for gRPC, gRPC-Web and Connect
 * streaming. The content-length hint is dropped so Connect's own (wordier)
 * early check does not pre-empt this one.
 */
export function limitRequest(req: UniversalServerRequest, maxBytes: number): UniversalServerRequest {
  if (!isByteStream(req.body)) return req;
  const contentType = req.header.get('content-type') ?? '';
  const enveloped = /^application\/(grpc|connect\+)/i.test(contentType);
  const header = new Headers(req.header);
  header.delete('content-length');
  const body = enveloped ? limitEnvelopes(req.body, maxBytes) : limitTotal(req.body, maxBytes);
  return { ...req, header, body };
}

async function* limitTotal(body: AsyncIterable<Uint8Array>, maxBytes: number): AsyncIterable<Uint8Array> {
  let total = 0;
  for await (const chunk of body) {
    total += chunk.byteLength;
    if (total > maxBytes) throw payloadTooLarge(maxBytes);
    yield chunk;
  }
}

/** Follows the envelope framing (1 flag byte + 4 length bytes + payload) and checks each length. */
async function* limitEnvelopes(body: AsyncIterable<Uint8Array>, maxBytes: number): AsyncIterable<Uint8Array> {
  // Bytes of the current envelope's payload still to pass; then a new prefix starts.
  let payloadLeft = 0;
  const prefix = new Uint8Array(5);
  let prefixHave = 0;
  for await (const chunk of body) {
    let i = 0;
    while (i < chunk.byteLength) {
      if (payloadLeft > 0) {
        const n = Math.min(payloadLeft, chunk.byteLength - i);
        payloadLeft -= n;
        i += n;
        continue;
      }
      prefix[prefixHave++] = chunk[i++]!;
      if (prefixHave === 5) {
        prefixHave = 0;
        const length = new DataView(prefix.buffer).getUint32(1, false);
        const endStream = (prefix[0]! & 0b10) !== 0; // Connect end-of-stream envelope (client never sends it)
        if (!endStream && length > maxBytes) throw payloadTooLarge(maxBytes);
        payloadLeft = length;
      }
    }
    yield chunk;
  }
}
