// gRPC server reflection against real `unified-bridge serve` processes, with the tools people use:
// - the buf CLI (`buf curl --list-methods`, then a call whose schema comes from reflection only),
//   over grpc.reflection.v1 and v1alpha;
// - grpc-js-reflection-client (a @grpc/grpc-js reflection client) over v1 and v1alpha: every
//   service listed, a method's input type resolved with its fields, and a call made with the
//   descriptors it downloaded;
// - `--no-reflection`: UNIMPLEMENTED for both versions.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { useBridgeServer } from '@unified-bridge/testing/jest';
import { GrpcReflection } from 'grpc-js-reflection-client';

const run = promisify(execFile);
const BUF = resolve(__dirname, '../../../node_modules/.bin/buf');
const VERSIONS = ['v1', 'v1alpha'] as const;

/** Every service a bridge server describes. */
const SERVICES = [
  'grpc.health.v1.Health',
  'grpc.reflection.v1.ServerReflection',
  'grpc.reflection.v1alpha.ServerReflection',
  'unified_bridge.v1.SessionService',
  'unified_bridge.v1.ToolService',
  'unified_bridge.v1.ToolWorkerService',
  'unified_bridge.v1.VariableService',
];

const hostPort = (url: string) => new URL(url).host;

/** Runs `buf curl` against the server; resolves with stdout, or rejects with stderr in the message. */
async function bufCurl(args: string[]): Promise<string> {
  try {
    const { stdout } = await run(BUF, ['curl', '--http2-prior-knowledge', ...args], { timeout: 30_000 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`buf curl ${args.join(' ')} failed: ${e.stderr ?? e.message}`);
  }
}

/** A method as @grpc/proto-loader describes it (what grpc-js-reflection-client builds from the descriptors). */
interface LoadedMethod {
  readonly path: string;
  readonly requestType: { readonly type: { readonly name: string; readonly field: { readonly name: string }[] } };
  readonly requestSerialize: (v: unknown) => Buffer;
  readonly responseDeserialize: (b: Buffer) => unknown;
}

/** The method `name` of `service`, described by reflection. */
async function reflectedMethod(reflection: GrpcReflection, service: string, name: string): Promise<LoadedMethod> {
  const methods = await reflection.listMethods(service);
  const method = methods.find((m) => m.name === name);
  if (method === undefined)
    throw new Error(`${service} has no method ${name}: ${methods.map((m) => m.name).join(', ')}`);
  return method.definition as unknown as LoadedMethod;
}

/** A plain @grpc/grpc-js call of a reflected method with `request`. */
function grpcCall(client: grpc.Client, definition: LoadedMethod, request: unknown): Promise<Record<string, unknown>> {
  return new Promise((done, fail) => {
    client.makeUnaryRequest(
      definition.path,
      definition.requestSerialize,
      definition.responseDeserialize,
      request,
      (err, res) => (err ? fail(err) : done(res as Record<string, unknown>)),
    );
  });
}

describe('gRPC server reflection (on by default)', () => {
  const bridge = useBridgeServer({ logLevel: 'warn' });

  it.each(['grpc-v1', 'grpc-v1alpha'])('should list every method with buf curl --list-methods (%s)', async (p) => {
    const out = await bufCurl(['--reflect-protocol', p, '--list-methods', bridge.url]);
    const methods = out.trim().split('\n');
    expect(new Set(methods.map((m) => m.split('/')[0]))).toEqual(new Set(SERVICES));
    expect(methods).toEqual(
      expect.arrayContaining([
        'unified_bridge.v1.SessionService/CreateSession',
        'unified_bridge.v1.VariableService/WatchVariables',
        'unified_bridge.v1.ToolService/ExecuteToolStream',
        'unified_bridge.v1.ToolWorkerService/ServeTools',
        'grpc.health.v1.Health/Check',
      ]),
    );
  });

  it('should let buf curl call a method with a schema it got by reflection only', async () => {
    const out = await bufCurl([
      '--protocol',
      'grpc',
      '-d',
      '{"sessionId":"reflected-session"}',
      `${bridge.url}/unified_bridge.v1.SessionService/CreateSession`,
    ]);
    expect(JSON.parse(out)).toMatchObject({ session: { id: 'reflected-session', ttlSeconds: 3600 } });
  });

  describe.each(VERSIONS)('with grpc-js-reflection-client over grpc.reflection.%s', (version) => {
    const open = () => new GrpcReflection(hostPort(bridge.url), grpc.credentials.createInsecure(), {}, version);

    it('should list every service', async () => {
      expect((await open().listServices()).sort()).toEqual(SERVICES);
    });

    it("should resolve a method's input type with its fields, and call the method with it", async () => {
      const reflection = open();
      const methods = await reflection.listMethods('unified_bridge.v1.VariableService');
      expect(methods.map((m) => m.name)).toEqual(expect.arrayContaining(['RegisterVariable', 'UpdateVariable']));
      const register = await reflectedMethod(reflection, 'unified_bridge.v1.VariableService', 'RegisterVariable');
      expect(register.path).toBe('/unified_bridge.v1.VariableService/RegisterVariable');
      const input = register.requestType.type;
      expect(input.name).toBe('RegisterVariableRequest');
      expect(input.field.map((f) => f.name)).toEqual(
        expect.arrayContaining(['session_id', 'name', 'type', 'initial_value']),
      );

      // The downloaded descriptors are complete enough to make real calls (imports resolved too).
      const create = await reflectedMethod(reflection, 'unified_bridge.v1.SessionService', 'CreateSession');
      const client = new grpc.Client(hostPort(bridge.url), grpc.credentials.createInsecure());
      try {
        const created = await grpcCall(client, create, { session_id: `reflected-${version}` });
        expect(created).toMatchObject({ session: { id: `reflected-${version}` } });
        const registered = await grpcCall(client, register, {
          session_id: `reflected-${version}`,
          name: 'n',
          type: 'integer',
          initial_value: { int_value: '9007199254740993' },
        });
        expect(registered).toMatchObject({ variable: { name: 'n', value: { int_value: '9007199254740993' } } });
      } finally {
        client.close();
      }
    });

    it('should report an unknown symbol as an error response, and keep serving', async () => {
      const reflection = open();
      await expect(reflection.getDescriptorBySymbol('unified_bridge.v1.NoSuchThing')).rejects.toThrow(
        /symbol not found: "unified_bridge.v1.NoSuchThing"/,
      );
      const file = await reflection.getDescriptorByFileName('unified_bridge/v1/tool.proto');
      expect(file.getProtobufJsRoot().lookupType('unified_bridge.v1.ExecuteToolRequest').name).toBe(
        'ExecuteToolRequest',
      );
    });
  });
});

describe('gRPC server reflection switched off (--no-reflection)', () => {
  const bridge = useBridgeServer({ logLevel: 'warn', args: ['--no-reflection'] });

  it.each(VERSIONS)('should answer grpc.reflection.%s with UNIMPLEMENTED', async (version) => {
    const reflection = new GrpcReflection(hostPort(bridge.url), grpc.credentials.createInsecure(), {}, version);
    await expect(reflection.listServices()).rejects.toThrow(/UNIMPLEMENTED/);
    await expect(bufCurl(['--reflect-protocol', `grpc-${version}`, '--list-methods', bridge.url])).rejects.toThrow(
      /unimplemented/,
    );
  });
});
