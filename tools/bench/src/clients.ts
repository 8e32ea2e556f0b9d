/**
 * Clients of the baseline servers, each doing one GetVariable-sized unary
 * round trip per call.
 */
import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { createClient, type Client } from '@connectrpc/connect';
import { Http2SessionManager, createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import {
  GetVariableRequestSchema,
  GetVariableResponseSchema,
  VariableService,
  type GetVariableRequest,
  type GetVariableResponse,
} from '@unified-bridge/proto';
import { GET_VARIABLE_PATH, REQUEST_BYTES, makeRequest } from './baselines/payload.js';

/** A unary client with an explicit close. */
export interface UnaryClient {
  call(): Promise<unknown>;
  close(): Promise<void>;
}

/** Raw node:http2 client: one POST stream per call, body read to the end. */
export async function rawHttp2Client(port: number): Promise<UnaryClient> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  await new Promise<void>((resolve, reject) => {
    session.once('connect', () => resolve());
    session.once('error', reject);
  });
  const body = Buffer.from(REQUEST_BYTES);
  const headers = { ':method': 'POST', ':path': '/echo', 'content-type': 'application/octet-stream' };
  return {
    call: () =>
      new Promise<number>((resolve, reject) => {
        const req = session.request(headers);
        let bytes = 0;
        req.on('data', (chunk: Buffer) => (bytes += chunk.length));
        req.once('end', () => resolve(bytes));
        req.once('error', reject);
        req.end(body);
      }),
    close: () => new Promise<void>((resolve) => session.close(() => resolve())),
  };
}

/** @grpc/grpc-js client calling GetVariable with protobuf-es (de)serialisation. */
export function grpcJsClient(port: number): UnaryClient {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const serialize = (m: GetVariableRequest): Buffer => Buffer.from(toBinary(GetVariableRequestSchema, m));
  const deserialize = (b: Buffer): GetVariableResponse => fromBinary(GetVariableResponseSchema, b);
  const request = makeRequest();
  return {
    call: () =>
      new Promise((resolve, reject) => {
        client.makeUnaryRequest(GET_VARIABLE_PATH, serialize, deserialize, request, (err, res) =>
          err ? reject(err) : resolve(res),
        );
      }),
    close: () => {
      client.close();
      return Promise.resolve();
    },
  };
}

/** connect-es client over HTTP/2 with the gRPC or the Connect protocol (binary). */
export function connectClient(port: number, protocol: 'grpc' | 'connect'): UnaryClient {
  const baseUrl = `http://127.0.0.1:${port}`;
  const sessionManager = new Http2SessionManager(baseUrl);
  const transport =
    protocol === 'grpc'
      ? createGrpcTransport({ baseUrl, sessionManager })
      : createConnectTransport({ baseUrl, httpVersion: '2', useBinaryFormat: true, sessionManager });
  const client: Client<typeof VariableService> = createClient(VariableService, transport);
  const request = makeRequest();
  return {
    call: () => client.getVariable(request),
    close: () => {
      sessionManager.abort();
      return Promise.resolve();
    },
  };
}
