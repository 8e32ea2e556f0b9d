import { gzipSync } from 'node:zlib';
import { Code, ConnectError } from '@connectrpc/connect';
import { compressionGzip } from '@connectrpc/connect-node';
import { createMessageLimit, limitRequest } from './limits.js';

async function read(body: AsyncIterable<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const c of body) n += c.byteLength;
  return n;
}
function* chunks(bytes: Uint8Array, size: number) {
  for (let i = 0; i < bytes.byteLength; i += size) yield bytes.subarray(i, i + size);
}
async function* iterable(bytes: Uint8Array, size = 3): AsyncIterable<Uint8Array> {
  yield* chunks(bytes, size);
}
function envelope(length: number, flags = 0): Uint8Array {
  const e = new Uint8Array(5 + length);
  e[0] = flags;
  new DataView(e.buffer).setUint32(1, length, false);
  return e;
}
const request = (contentType: string, body: AsyncIterable<Uint8Array>) => ({
  httpVersion: '2',
  url: 'http://x/a.B/C',
  method: 'POST',
  header: new Headers({ 'content-type': contentType, 'content-length': '999' }),
  body,
  signal: new AbortController().signal,
});

describe('limitRequest', () => {
  it('should pass envelopes within the limit, split across chunks in any way, and drop content-length', async () => {
    const twice = new Uint8Array([...envelope(10), ...envelope(10)]);
    const req = limitRequest(request('application/grpc+proto', iterable(twice)), 10);
    expect(req.header.get('content-length')).toBeNull();
    expect(await read(req.body as AsyncIterable<Uint8Array>)).toBe(30);
  });

  it('should fail with "message too large" on the first envelope over the limit', async () => {
    const req = limitRequest(
      request('application/grpc-web+proto', iterable(new Uint8Array([...envelope(5), ...envelope(11)]))),
      10,
    );
    await expect(read(req.body as AsyncIterable<Uint8Array>)).rejects.toMatchObject({
      code: Code.ResourceExhausted,
      rawMessage: 'message too large',
    });
  });

  it('should count the whole body of unary Connect requests', async () => {
    const ok = limitRequest(request('application/json', iterable(new Uint8Array(10))), 10);
    expect(await read(ok.body as AsyncIterable<Uint8Array>)).toBe(10);
    const big = limitRequest(request('application/proto', iterable(new Uint8Array(11))), 10);
    await expect(read(big.body as AsyncIterable<Uint8Array>)).rejects.toBeInstanceOf(ConnectError);
  });
});

describe('createMessageLimit().compression', () => {
  it('should decompress within the limit and refuse more after decompression', async () => {
    const gzip = createMessageLimit(1000).compression(compressionGzip);
    expect((await gzip.decompress(new Uint8Array(gzipSync(Buffer.alloc(1000))), 0xffffffff)).byteLength).toBe(1000);
    await expect(gzip.decompress(new Uint8Array(gzipSync(Buffer.alloc(1001))), 0xffffffff)).rejects.toMatchObject({
      code: Code.ResourceExhausted,
      rawMessage: 'message too large',
    });
    await expect(gzip.decompress(new Uint8Array([1, 2, 3]), 1000)).rejects.toMatchObject({
      code: Code.InvalidArgument,
    });
  });
});
