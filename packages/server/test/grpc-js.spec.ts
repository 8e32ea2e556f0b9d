// @grpc/grpc-js as an independent gRPC peer (no Connect on the client side):
// health, unary calls with error details, server streaming, cancellation.
import * as grpc from '@grpc/grpc-js';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import type { Interceptor } from '@connectrpc/connect';
import { findTrailerError } from '@connectrpc/connect/protocol-grpc';
import {
  CreateSessionRequestSchema,
  CreateSessionResponseSchema,
  ErrorDetailSchema,
  ErrorType,
  GetVariableRequestSchema,
  GetVariableResponseSchema,
  HealthCheckRequestSchema,
  HealthCheckResponse_ServingStatus,
  HealthCheckResponseSchema,
  RegisterVariableRequestSchema,
  RegisterVariableResponseSchema,
  UpdateVariableRequestSchema,
  UpdateVariableResponseSchema,
  VariableEventKind,
  WatchVariablesRequestSchema,
  WatchVariablesResponseSchema,
} from '@unified-bridge/proto';
import type { WatchVariablesResponse } from '@unified-bridge/proto';
import { MemoryStore } from '@unified-bridge/store';
import { startBridgeServer } from '../src/index.js';
import type { StartedBridgeServer } from '../src/index.js';
import { silentLogger } from '../src/logger.js';

function method<I extends DescMessage, O extends DescMessage>(path: string, i: I, o: O, responseStream = false) {
  return {
    path,
    requestStream: false,
    responseStream,
    requestSerialize: (m: MessageShape<I>) => Buffer.from(toBinary(i, m)),
    requestDeserialize: (b: Buffer) => fromBinary(i, b),
    responseSerialize: (m: MessageShape<O>) => Buffer.from(toBinary(o, m)),
    responseDeserialize: (b: Buffer) => fromBinary(o, b),
  };
}

const definition = {
  check: method('/grpc.health.v1.Health/Check', HealthCheckRequestSchema, HealthCheckResponseSchema),
  createSession: method(
    '/unified_bridge.v1.SessionService/CreateSession',
    CreateSessionRequestSchema,
    CreateSessionResponseSchema,
  ),
  registerVariable: method(
    '/unified_bridge.v1.VariableService/RegisterVariable',
    RegisterVariableRequestSchema,
    RegisterVariableResponseSchema,
  ),
  getVariable: method(
    '/unified_bridge.v1.VariableService/GetVariable',
    GetVariableRequestSchema,
    GetVariableResponseSchema,
  ),
  updateVariable: method(
    '/unified_bridge.v1.VariableService/UpdateVariable',
    UpdateVariableRequestSchema,
    UpdateVariableResponseSchema,
  ),
  watchVariables: method(
    '/unified_bridge.v1.VariableService/WatchVariables',
    WatchVariablesRequestSchema,
    WatchVariablesResponseSchema,
    true,
  ),
};

type Unary = (req: unknown, cb: (err: grpc.ServiceError | null, res?: unknown) => void) => void;
interface PeerClient extends grpc.Client {
  check: Unary;
  createSession: Unary;
  registerVariable: Unary;
  getVariable: Unary;
  updateVariable: Unary;
  watchVariables(req: unknown): grpc.ClientReadableStream<WatchVariablesResponse>;
}

const call = <T>(fn: Unary, client: grpc.Client, req: unknown): Promise<T> =>
  new Promise((resolve, reject) => fn.call(client, req, (err, res) => (err ? reject(err) : resolve(res as T))));

describe('@grpc/grpc-js as a peer', () => {
  let server: StartedBridgeServer;
  let client: PeerClient;
  const watchEnded: Array<() => void> = [];
  // Resolves when a WatchVariables handler on the server has finished.
  const watchFinished = () => new Promise<void>((resolve) => watchEnded.push(resolve));
  const observeWatch: Interceptor = (next) => async (req) => {
    const res = await next(req);
    if (!res.stream || req.method.name !== 'WatchVariables') return res;
    const source = res.message;
    return {
      ...res,
      message: (async function* () {
        try {
          yield* source;
        } finally {
          watchEnded.shift()?.();
        }
      })(),
    };
  };
  const store = new MemoryStore({ limits: { maxWatchersPerSession: 1 }, sweepIntervalMs: 0 });

  beforeAll(async () => {
    server = await startBridgeServer({ store, logger: silentLogger, interceptors: [observeWatch] });
    const Ctor = grpc.makeGenericClientConstructor(definition, 'Peer');
    client = new Ctor(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure()) as unknown as PeerClient;
  });
  afterAll(async () => {
    client.close();
    await server.stop();
    await store.close();
  });

  it('should answer grpc.health.v1 Check', async () => {
    const res = await call<{ status: number }>(client.check, client, create(HealthCheckRequestSchema, {}));
    expect(res.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    const named = await call<{ status: number }>(
      client.check,
      client,
      create(HealthCheckRequestSchema, { service: 'unified_bridge.v1.VariableService' }),
    );
    expect(named.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    await expect(
      call(client.check, client, create(HealthCheckRequestSchema, { service: 'nope' })),
    ).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
  });

  it('should serve unary calls and send the ErrorDetail in grpc-status-details-bin', async () => {
    await call(client.createSession, client, create(CreateSessionRequestSchema, { sessionId: 'peer' }));
    await call(
      client.registerVariable,
      client,
      create(RegisterVariableRequestSchema, {
        sessionId: 'peer',
        name: 'alpha',
        type: 'float',
        initialValue: { kind: { case: 'doubleValue', value: 0.25 } },
        constraints: { max: 1 },
      }),
    );
    const got = await call<{ variable: { value: { kind: unknown } } }>(
      client.getVariable,
      client,
      create(GetVariableRequestSchema, { sessionId: 'peer', identifier: 'alpha' }),
    );
    expect(got.variable.value.kind).toEqual({ case: 'doubleValue', value: 0.25 });

    let err: grpc.ServiceError | undefined;
    try {
      await call(
        client.updateVariable,
        client,
        create(UpdateVariableRequestSchema, {
          sessionId: 'peer',
          identifier: 'alpha',
          value: { kind: { case: 'doubleValue', value: 1.5 } },
        }),
      );
    } catch (e) {
      err = e as grpc.ServiceError;
    }
    expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
    const bin = err!.metadata.get('grpc-status-details-bin')[0] as Buffer;
    const trailer = new Headers({
      'grpc-status': String(err!.code),
      'grpc-message': encodeURIComponent(err!.details),
      'grpc-status-details-bin': bin.toString('base64').replace(/=+$/, ''),
    });
    const detail = findTrailerError(trailer)!.findDetails(ErrorDetailSchema)[0];
    expect(detail?.type).toBe(ErrorType.VALIDATION_ERROR);
    expect(detail?.fieldViolations[0]?.description).toBe('value 1.5 is above maximum 1');
  });

  it('should stream watch events and end the server-side watch when the peer cancels', async () => {
    const stream = client.watchVariables(
      create(WatchVariablesRequestSchema, { sessionId: 'peer', includeInitial: true }),
    );
    const events: WatchVariablesResponse[] = [];
    const nextEvent = () =>
      new Promise<WatchVariablesResponse>((resolve, reject) => {
        if (events.length > 0) return resolve(events.shift()!);
        stream.once('data', () => resolve(events.shift()!));
        stream.once('error', reject);
      });
    stream.on('data', (e: WatchVariablesResponse) => events.push(e));
    expect((await nextEvent()).kind).toBe(VariableEventKind.INITIAL);
    expect((await nextEvent()).kind).toBe(VariableEventKind.SYNCED);
    await call(
      client.updateVariable,
      client,
      create(UpdateVariableRequestSchema, {
        sessionId: 'peer',
        identifier: 'alpha',
        value: { kind: { case: 'doubleValue', value: 0.5 } },
      }),
    );
    const updated = await nextEvent();
    expect(updated.kind).toBe(VariableEventKind.UPDATED);
    expect(updated.variable?.version).toBe(1n);

    const finished = watchFinished();
    stream.on('error', () => {}); // CANCELLED, locally
    stream.cancel();
    await finished;
    // The store allows one watcher per session: a new watch works only if the old one was freed.
    const again = client.watchVariables(create(WatchVariablesRequestSchema, { sessionId: 'peer' }));
    const first = await new Promise<WatchVariablesResponse>((resolve, reject) => {
      again.once('data', resolve);
      again.once('error', reject);
    });
    expect(first.kind).toBe(VariableEventKind.SYNCED);
    const finishedAgain = watchFinished();
    again.on('error', () => {});
    again.cancel();
    await finishedAgain;
  });
});
