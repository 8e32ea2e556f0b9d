import { create, createFileRegistry, fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, createClient, createRouterTransport } from '@connectrpc/connect';
import type { Client } from '@connectrpc/connect';
import { reflectionV1, reflectionV1alpha } from '@unified-bridge/proto';
import { silentLogger } from './logger.js';
import { createBridgeRoutes } from './routes.js';
import type { BridgeRoutesOptions } from './routes.js';

const SERVICES = [
  'grpc.health.v1.Health',
  'grpc.reflection.v1.ServerReflection',
  'grpc.reflection.v1alpha.ServerReflection',
  'unified_bridge.v1.SessionService',
  'unified_bridge.v1.ToolService',
  'unified_bridge.v1.ToolWorkerService',
  'unified_bridge.v1.VariableService',
];

type Request = reflectionV1.ServerReflectionRequest['messageRequest'];
type Response = reflectionV1.ServerReflectionResponse['messageResponse'];

/** A reflection stream of either version: send requests one by one, read each answer. */
async function reflect(
  version: 'v1' | 'v1alpha',
  requests: Request[],
  options: BridgeRoutesOptions = {},
): Promise<{ responses: Response[]; originals: Request[]; hosts: string[] }> {
  const routes = createBridgeRoutes({ logger: silentLogger, ...options });
  try {
    const transport = createRouterTransport(routes);
    const service = version === 'v1' ? reflectionV1.ServerReflection : reflectionV1alpha.ServerReflection;
    const client = createClient(service, transport) as Client<typeof reflectionV1.ServerReflection>;
    async function* send() {
      for (const messageRequest of requests) yield { host: 'h', messageRequest };
    }
    const responses: Response[] = [];
    const originals: Request[] = [];
    const hosts: string[] = [];
    for await (const res of client.serverReflectionInfo(send())) {
      responses.push(res.messageResponse);
      originals.push(res.originalRequest!.messageRequest);
      hosts.push(res.validHost);
    }
    return { responses, originals, hosts };
  } finally {
    await routes.shutdown({ graceMs: 0 });
  }
}

/** The file names in a file_descriptor_response (fails on any other answer). */
function fileNames(res: Response | undefined): string[] {
  if (res?.case !== 'fileDescriptorResponse') throw new Error(`expected files, got ${JSON.stringify(res)}`);
  return res.value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b).name);
}

const symbol = (value: string): Request => ({ case: 'fileContainingSymbol', value });

describe.each(['v1', 'v1alpha'] as const)('grpc.reflection.%s', (version) => {
  it('should list every service the routes serve, echoing the request and host', async () => {
    const { responses, originals, hosts } = await reflect(version, [{ case: 'listServices', value: '*' }]);
    expect(responses[0]).toEqual({
      case: 'listServicesResponse',
      value: expect.objectContaining({ service: SERVICES.map((name) => expect.objectContaining({ name })) }),
    });
    expect(originals).toEqual([{ case: 'listServices', value: '*' }]);
    expect(hosts).toEqual(['h']);
  });

  it('should send a file with the imports not sent before on the stream, and the file again when asked', async () => {
    const { responses } = await reflect(version, [
      symbol('unified_bridge.v1.ToolService'),
      symbol('unified_bridge.v1.VariableService.UpdateVariable'),
      { case: 'fileByFilename', value: 'unified_bridge/v1/tool.proto' },
    ]);
    expect(fileNames(responses[0])[0]).toBe('unified_bridge/v1/tool.proto');
    expect(new Set(fileNames(responses[0]))).toEqual(
      new Set([
        'unified_bridge/v1/tool.proto',
        'google/protobuf/struct.proto',
        'unified_bridge/v1/error.proto',
        'google/protobuf/duration.proto',
        'unified_bridge/v1/value.proto',
      ]),
    );
    expect(fileNames(responses[1])).toEqual(['unified_bridge/v1/variable.proto', 'google/protobuf/timestamp.proto']);
    expect(fileNames(responses[2])).toEqual(['unified_bridge/v1/tool.proto']);
  });

  it('should describe the services completely: the files build a registry with every method and type', async () => {
    const { responses } = await reflect(version, [
      symbol('unified_bridge.v1.SessionService'),
      symbol('unified_bridge.v1.VariableService'),
      symbol('unified_bridge.v1.ToolService'),
      symbol('unified_bridge.v1.ToolWorkerService'),
      symbol('grpc.health.v1.Health'),
    ]);
    const file = responses.flatMap((r) =>
      r.case === 'fileDescriptorResponse'
        ? r.value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b))
        : [],
    );
    // A FileDescriptorSet lists imports before their importers (reflection sends the asked-for file first).
    const byName = new Map(file.map((f) => [f.name, f]));
    const ordered: typeof file = [];
    const visit = (name: string) => {
      const f = byName.get(name);
      if (f === undefined || ordered.includes(f)) return;
      f.dependency.forEach(visit);
      ordered.push(f);
    };
    byName.forEach((_, name) => visit(name));
    const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: ordered }));
    const tool = registry.getService('unified_bridge.v1.ToolService');
    expect(tool?.methods.map((m) => m.name)).toEqual(
      expect.arrayContaining(['ListTools', 'ExecuteTool', 'ExecuteToolStream', 'ExecuteTools']),
    );
    expect(tool?.methods.find((m) => m.name === 'ExecuteToolStream')?.methodKind).toBe('server_streaming');
    expect(registry.getMessage('unified_bridge.v1.Value')?.fields.map((f) => f.name)).toContain('tensor_value');
  });

  it('should find nested types, fields, oneofs, enums and enum values', async () => {
    const { responses } = await reflect(version, [
      symbol('unified_bridge.v1.Value'),
      symbol('unified_bridge.v1.Value.kind'),
      symbol('unified_bridge.v1.Value.int_value'),
      symbol('unified_bridge.v1.Dtype'),
      symbol('unified_bridge.v1.DTYPE_FLOAT32'),
      symbol('grpc.health.v1.HealthCheckResponse.ServingStatus'),
      symbol('grpc.health.v1.HealthCheckResponse.SERVING'),
      symbol('google.protobuf.Struct'),
    ]);
    expect(responses.map((r) => fileNames(r)[0])).toEqual([
      'unified_bridge/v1/value.proto',
      'unified_bridge/v1/value.proto',
      'unified_bridge/v1/value.proto',
      'unified_bridge/v1/value.proto',
      'unified_bridge/v1/value.proto',
      'grpc/health/v1/health.proto',
      'grpc/health/v1/health.proto',
      'google/protobuf/struct.proto',
    ]);
  });

  it('should answer unknown names, extensions and empty requests with an error response, and go on serving', async () => {
    const long = 'x'.repeat(10_000);
    const { responses } = await reflect(version, [
      symbol('unified_bridge.v1.Nope'),
      { case: 'fileByFilename', value: 'nope.proto' },
      {
        case: 'fileContainingExtension',
        value: create(reflectionV1.ExtensionRequestSchema, {
          containingType: 'unified_bridge.v1.Value',
          extensionNumber: 100,
        }),
      },
      { case: 'allExtensionNumbersOfType', value: 'unified_bridge.v1.Nope' },
      { case: 'allExtensionNumbersOfType', value: 'unified_bridge.v1.Value' },
      { case: undefined },
      symbol(long),
      { case: 'listServices', value: '' },
    ]);
    expect(responses.slice(0, 4)).toEqual([
      {
        case: 'errorResponse',
        value: expect.objectContaining({
          errorCode: Code.NotFound,
          errorMessage: 'symbol not found: "unified_bridge.v1.Nope"',
        }),
      },
      {
        case: 'errorResponse',
        value: expect.objectContaining({ errorCode: Code.NotFound, errorMessage: 'file not found: "nope.proto"' }),
      },
      {
        case: 'errorResponse',
        value: expect.objectContaining({
          errorCode: Code.NotFound,
          errorMessage: 'extension not found: "unified_bridge.v1.Value 100"',
        }),
      },
      {
        case: 'errorResponse',
        value: expect.objectContaining({
          errorCode: Code.NotFound,
          errorMessage: 'message type not found: "unified_bridge.v1.Nope"',
        }),
      },
    ]);
    expect(responses[4]).toEqual({
      case: 'allExtensionNumbersResponse',
      value: expect.objectContaining({ baseTypeName: 'unified_bridge.v1.Value', extensionNumber: [] }),
    });
    expect(responses[5]).toEqual({
      case: 'errorResponse',
      value: expect.objectContaining({ errorCode: Code.InvalidArgument }),
    });
    const echoed = responses[6]?.case === 'errorResponse' ? responses[6].value.errorMessage : '';
    expect(echoed.length).toBeLessThan(300);
    expect(responses[7]?.case).toBe('listServicesResponse');
  });
});

describe('reflection: false', () => {
  it.each(['v1', 'v1alpha'] as const)('should leave grpc.reflection.%s UNIMPLEMENTED', async (version) => {
    const err = await reflect(version, [{ case: 'listServices', value: '' }], { reflection: false }).catch(
      (e: unknown) => ConnectError.from(e),
    );
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.Unimplemented);
  });

  it('should refuse a reflection option that is not a boolean', () => {
    expect(() => createBridgeRoutes({ logger: silentLogger, reflection: 'no' as never })).toThrow(
      /reflection must be a boolean/,
    );
  });
});

describe('reflection streams and the server around them', () => {
  it('should end an open stream with UNAVAILABLE at shutdown', async () => {
    const routes = createBridgeRoutes({ logger: silentLogger });
    const client = createClient(reflectionV1.ServerReflection, createRouterTransport(routes));
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    async function* requests() {
      yield { host: '', messageRequest: { case: 'listServices' as const, value: '' } };
      await held; // the client keeps the stream open
    }
    const stream = client.serverReflectionInfo(requests())[Symbol.asyncIterator]();
    expect((await stream.next()).value?.messageResponse.case).toBe('listServicesResponse');
    const next = stream.next().catch((e: unknown) => ConnectError.from(e));
    await routes.shutdown({ graceMs: 1000 });
    const err = await next;
    release();
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.Unavailable);
  });

  it('should need a token when auth is on, like the bridge services', async () => {
    const err = await reflect('v1', [{ case: 'listServices', value: '' }], { auth: { tokens: ['t0ken'] } }).catch(
      (e: unknown) => ConnectError.from(e),
    );
    expect((err as ConnectError).code).toBe(Code.Unauthenticated);
  });
});
