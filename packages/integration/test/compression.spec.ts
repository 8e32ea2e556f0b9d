// Response compression as a client sees it on the wire, against real `unified-bridge serve`
// processes and a raw node:http2 client (so nothing decompresses behind the test's back):
// - by default nothing is compressed, even for clients that offer gzip (grpcio offers
//   "identity,deflate,gzip"): no grpc-encoding / content-encoding / connect-content-encoding
//   header and no compressed envelope, over gRPC, Connect unary and Connect streaming;
// - with `--compression gzip`, messages of at least 1 KiB go gzip-compressed to clients that
//   accept gzip, smaller ones go as they are, and clients that do not offer gzip get none.
import { connect } from 'node:http2';
import type { ClientHttp2Session, IncomingHttpHeaders } from 'node:http2';
import { gunzipSync } from 'node:zlib';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import {
  GetSessionRequestSchema,
  GetSessionResponseSchema,
  GetVariableRequestSchema,
  GetVariableResponseSchema,
} from '@unified-bridge/proto';
import { useBridgeServer } from '@unified-bridge/testing/jest';
import { uniqueId, useClients } from './support/helpers.js';

/** What grpcio sends in grpc-accept-encoding. */
const GRPCIO_ACCEPT = 'identity,deflate,gzip';
/** A string value that makes a response of ~64 KiB. */
const BIG = 'unified-bridge '.repeat(4096);

interface RawResponse {
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly trailers: IncomingHttpHeaders;
}

/** One request on `session`; for an endless stream, `enough` ends it once the body so far suffices. */
function request(
  session: ClientHttp2Session,
  path: string,
  headers: Record<string, string>,
  body: Uint8Array,
  enough: (body: Buffer) => boolean = () => false,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'POST', ':path': path, ...headers });
    let responseHeaders: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    const done = () => resolve({ headers: responseHeaders, body: Buffer.concat(chunks), trailers });
    stream.on('response', (h) => (responseHeaders = h));
    stream.on('trailers', (t) => (trailers = t));
    stream.on('data', (c: Buffer) => {
      chunks.push(c);
      if (enough(Buffer.concat(chunks))) {
        stream.close();
        done();
      }
    });
    stream.on('end', done);
    stream.on('error', reject);
    stream.end(body);
  });
}

/** A 5-byte-prefixed envelope (gRPC and Connect streaming framing). */
function envelope(message: Uint8Array): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.byteLength, 1);
  return Buffer.concat([prefix, message]);
}

/** The first envelope of a body: its compressed flag and its payload. */
function firstEnvelope(body: Buffer): { compressed: boolean; payload: Buffer } {
  const length = body.readUInt32BE(1);
  expect(body.byteLength).toBeGreaterThanOrEqual(5 + length);
  return { compressed: (body[0]! & 1) === 1, payload: body.subarray(5, 5 + length) };
}

/** A unary gRPC call with a raw client offering `accept` (none: no grpc-accept-encoding header). */
async function grpcUnary<O extends DescMessage>(
  h2: ClientHttp2Session,
  path: string,
  requestBytes: Uint8Array,
  output: O,
  accept?: string,
): Promise<{ encoding: string | undefined; compressed: boolean; message: MessageShape<O> }> {
  const res = await request(
    h2,
    path,
    {
      'content-type': 'application/grpc+proto',
      te: 'trailers',
      ...(accept !== undefined ? { 'grpc-accept-encoding': accept } : {}),
    },
    envelope(requestBytes),
  );
  expect(res.headers[':status']).toBe(200);
  expect(res.trailers['grpc-status']).toBe('0');
  const encoding = res.headers['grpc-encoding'] as string | undefined;
  const { compressed, payload } = firstEnvelope(res.body);
  const bytes = compressed ? gunzipSync(payload) : payload;
  return { encoding, compressed, message: fromBinary(output, bytes) };
}

/** A unary Connect JSON call offering `accept-encoding: accept`. */
async function connectUnary(h2: ClientHttp2Session, path: string, json: unknown, accept: string) {
  const res = await request(
    h2,
    path,
    { 'content-type': 'application/json', 'accept-encoding': accept },
    Buffer.from(JSON.stringify(json)),
  );
  expect(res.headers[':status']).toBe(200);
  const encoding = res.headers['content-encoding'] as string | undefined;
  const text = (encoding === 'gzip' ? gunzipSync(res.body) : res.body).toString('utf8');
  return { encoding, json: JSON.parse(text) as { variable?: { value?: { stringValue?: string } } } };
}

/** The first message of a Connect JSON stream (WatchVariables with the initial values). */
async function connectWatchFirst(h2: ClientHttp2Session, sessionId: string, accept: string) {
  const body = envelope(Buffer.from(JSON.stringify({ sessionId, names: ['big'], includeInitial: true })));
  const res = await request(
    h2,
    '/unified_bridge.v1.VariableService/WatchVariables',
    { 'content-type': 'application/connect+json', 'connect-accept-encoding': accept },
    body,
    (sofar) => sofar.byteLength >= 5 && sofar.byteLength >= 5 + sofar.readUInt32BE(1),
  );
  expect(res.headers[':status']).toBe(200);
  const { compressed, payload } = firstEnvelope(res.body);
  const event = JSON.parse((compressed ? gunzipSync(payload) : payload).toString('utf8')) as {
    variable?: { value?: { stringValue?: string } };
  };
  expect(event.variable?.value?.stringValue).toBe(BIG);
  return { encoding: res.headers['connect-content-encoding'] as string | undefined, compressed };
}

/** A session with a ~64 KiB string variable `big`, and a raw HTTP/2 connection to the server. */
function useFixture(url: () => string) {
  const openClient = useClients(url);
  let h2: ClientHttp2Session | undefined;
  afterEach(() => {
    h2?.close();
    h2 = undefined;
  });
  return async () => {
    const session = await openClient({ protocol: 'grpc' }).createSession({ id: uniqueId('compression') });
    await session.register('big', 'string', BIG);
    h2 = connect(url());
    const getBig = toBinary(
      GetVariableRequestSchema,
      create(GetVariableRequestSchema, { sessionId: session.id, identifier: 'big' }),
    );
    const getSession = toBinary(GetSessionRequestSchema, create(GetSessionRequestSchema, { sessionId: session.id }));
    return { session, h2, getBig, getSession };
  };
}

describe('response compression: off by default', () => {
  const bridge = useBridgeServer({ logLevel: 'warn' });
  const setup = useFixture(() => bridge.url);

  it('should send gRPC responses uncompressed to a client that offers gzip', async () => {
    const { h2, getBig } = await setup();
    const res = await grpcUnary(
      h2,
      '/unified_bridge.v1.VariableService/GetVariable',
      getBig,
      GetVariableResponseSchema,
      GRPCIO_ACCEPT,
    );
    expect(res.encoding).toBeUndefined();
    expect(res.compressed).toBe(false);
    expect(res.message.variable?.value?.kind).toEqual({ case: 'stringValue', value: BIG });
  });

  it('should send Connect unary and streaming responses uncompressed to a client that offers gzip', async () => {
    const { session, h2 } = await setup();
    const unary = await connectUnary(
      h2,
      '/unified_bridge.v1.VariableService/GetVariable',
      { sessionId: session.id, identifier: 'big' },
      'gzip, deflate, br',
    );
    expect(unary.encoding).toBeUndefined();
    expect(unary.json.variable?.value?.stringValue).toBe(BIG);
    expect(await connectWatchFirst(h2, session.id, 'gzip')).toEqual({ encoding: undefined, compressed: false });
  });
});

describe('response compression: --compression gzip', () => {
  const bridge = useBridgeServer({ logLevel: 'warn', args: ['--compression', 'gzip'] });
  const setup = useFixture(() => bridge.url);

  it('should gzip gRPC responses of 1 KiB or more, and leave smaller ones as they are', async () => {
    const { session, h2, getBig, getSession } = await setup();
    const big = await grpcUnary(
      h2,
      '/unified_bridge.v1.VariableService/GetVariable',
      getBig,
      GetVariableResponseSchema,
      GRPCIO_ACCEPT,
    );
    expect(big).toMatchObject({ encoding: 'gzip', compressed: true });
    expect(big.message.variable?.value?.kind).toEqual({ case: 'stringValue', value: BIG });

    const small = await grpcUnary(
      h2,
      '/unified_bridge.v1.SessionService/GetSession',
      getSession,
      GetSessionResponseSchema,
      GRPCIO_ACCEPT,
    );
    expect(small).toMatchObject({ encoding: 'gzip', compressed: false });
    expect(small.message.session?.id).toBe(session.id);
  });

  it('should not compress for a gRPC client that offers no gzip', async () => {
    const { h2, getBig } = await setup();
    const res = await grpcUnary(
      h2,
      '/unified_bridge.v1.VariableService/GetVariable',
      getBig,
      GetVariableResponseSchema,
    );
    expect(res).toMatchObject({ encoding: undefined, compressed: false });
    expect(res.message.variable?.value?.kind).toEqual({ case: 'stringValue', value: BIG });
  });

  it('should gzip Connect unary and streaming responses for clients that accept gzip', async () => {
    const { session, h2 } = await setup();
    const unary = await connectUnary(
      h2,
      '/unified_bridge.v1.VariableService/GetVariable',
      { sessionId: session.id, identifier: 'big' },
      'gzip, deflate, br',
    );
    expect(unary.encoding).toBe('gzip');
    expect(unary.json.variable?.value?.stringValue).toBe(BIG);
    expect(await connectWatchFirst(h2, session.id, 'gzip')).toEqual({ encoding: 'gzip', compressed: true });
  });
});
