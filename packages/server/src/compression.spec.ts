import { compressionGzip } from '@connectrpc/connect-node';
import type { UniversalHandler, UniversalServerRequest } from '@connectrpc/connect/protocol';
import { createResponseCompression, DEFAULT_COMPRESS_MIN_BYTES } from './compression.js';

/** A handler that records the accept headers it was called with. */
function recordingHandler(seen: Record<string, string | null>[]): UniversalHandler {
  const h = async (req: UniversalServerRequest) => {
    seen.push({
      grpc: req.header.get('grpc-accept-encoding'),
      connect: req.header.get('connect-accept-encoding'),
      unary: req.header.get('accept-encoding'),
    });
    return { status: 200 };
  };
  return Object.assign(h, {
    protocolNames: ['grpc'],
    service: {} as never,
    method: {} as never,
    requestPath: '/a.B/C',
    allowedMethods: ['POST'],
    supportedContentType: { test: () => true } as never,
  }) as unknown as UniversalHandler;
}

const request = (header: Record<string, string>): UniversalServerRequest => ({
  httpVersion: '2',
  url: 'http://x/a.B/C',
  method: 'POST',
  header: new Headers(header),
  body: null,
  signal: new AbortController().signal,
});

describe('createResponseCompression', () => {
  it('should default to none: no encoding is offered to Connect, whatever the client accepts', async () => {
    const c = createResponseCompression(undefined, undefined, compressionGzip);
    expect(c.handlerOptions.compressMinBytes).toBe(DEFAULT_COMPRESS_MIN_BYTES);
    expect(c.handlerOptions.acceptCompression.map((x) => x.name)).toEqual(['gzip']); // requests may be gzip
    const seen: Record<string, string | null>[] = [];
    const handlers = [recordingHandler(seen)];
    c.apply(handlers, 0);
    expect(handlers[0]!.requestPath).toBe('/a.B/C');
    await handlers[0]!(request({ 'grpc-accept-encoding': 'identity,deflate,gzip', 'accept-encoding': 'gzip, br' }));
    await handlers[0]!(request({}));
    expect(seen).toEqual([
      { grpc: 'identity', connect: 'identity', unary: 'identity' },
      { grpc: 'identity', connect: 'identity', unary: 'identity' },
    ]);
  });

  it('should leave the negotiation to Connect with gzip, above the threshold given', async () => {
    const c = createResponseCompression('gzip', 64, compressionGzip);
    expect(c.handlerOptions.compressMinBytes).toBe(64);
    const seen: Record<string, string | null>[] = [];
    const handlers = [recordingHandler(seen)];
    c.apply(handlers, 0);
    await handlers[0]!(request({ 'grpc-accept-encoding': 'gzip' }));
    expect(seen).toEqual([{ grpc: 'gzip', connect: null, unary: null }]);
  });

  it('should refuse unknown compressions and bad thresholds, naming the option', () => {
    expect(() => createResponseCompression('br' as never, undefined, compressionGzip)).toThrow(
      new TypeError('compression must be "gzip" or "none", got "br"'),
    );
    for (const bad of [-1, 1.5, 2 ** 32, Number.NaN]) {
      expect(() => createResponseCompression('gzip', bad, compressionGzip)).toThrow(RangeError);
      expect(() => createResponseCompression('gzip', bad, compressionGzip)).toThrow(/compressMinBytes/);
    }
  });
});
