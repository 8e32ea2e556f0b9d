import { Code } from '@connectrpc/connect';
import { CODE_OK, protocolOf, statusCodeName, statusOfResponse } from './rpc-status.js';

/** One envelope: flags, big-endian length, payload. */
const envelope = (flags: number, payload: string): Uint8Array => {
  const data = new TextEncoder().encode(payload);
  const out = new Uint8Array(5 + data.byteLength);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, data.byteLength, false);
  out.set(data, 5);
  return out;
};

describe('rpc-status', () => {
  it('should name codes by their gRPC names', () => {
    expect([CODE_OK, Code.Canceled, Code.NotFound, Code.Unauthenticated].map(statusCodeName)).toEqual([
      'OK',
      'CANCELLED',
      'NOT_FOUND',
      'UNAUTHENTICATED',
    ]);
  });

  it('should tell the protocol from the content type', () => {
    expect(
      [
        'application/grpc',
        'application/grpc+proto',
        'application/grpc-web+proto',
        'Application/GRPC-Web-Text',
        'application/proto',
        'application/connect+json',
        null,
      ].map(protocolOf),
    ).toEqual(['grpc', 'grpc', 'grpc-web', 'grpc-web', 'connect', 'connect', 'connect']);
  });

  it('should read the status of a response written without the handlers, in each protocol', () => {
    const trailer = new Headers({ 'grpc-status': '3' });
    expect(statusOfResponse('grpc', { status: 200, trailer }, [])).toBe(Code.InvalidArgument);
    expect(statusOfResponse('grpc', { status: 200, header: new Headers({ 'grpc-status': '8' }) }, [])).toBe(
      Code.ResourceExhausted,
    );
    const web = [envelope(0x80, 'grpc-status: 13\r\ngrpc-message: boom\r\n')];
    expect(statusOfResponse('grpc-web', { status: 200 }, web)).toBe(Code.Internal);
    const endStream = [envelope(0x00, '{}'), envelope(0x02, '{"error":{"code":"invalid_argument","message":"x"}}')];
    expect(statusOfResponse('connect', { status: 200 }, endStream)).toBe(Code.InvalidArgument);
    expect(statusOfResponse('connect', { status: 200 }, [envelope(0x02, '{}')])).toBe(CODE_OK);
    const unary = [new TextEncoder().encode('{"code":"resource_exhausted","message":"message too large"}')];
    expect(statusOfResponse('connect', { status: 429 }, unary)).toBe(Code.ResourceExhausted);
    // No status in the body (415 Unsupported Media Type): the gRPC mapping of the HTTP status.
    expect(statusOfResponse('grpc', { status: 415 }, [])).toBe(Code.Unknown);
    expect(statusOfResponse('connect', { status: 404 }, [])).toBe(Code.Unimplemented);
  });
});
