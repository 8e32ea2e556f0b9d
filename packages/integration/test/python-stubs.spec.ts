// The Python stubs recipe of @unified-bridge/proto's README, run as written: its protoc command
// (Debian's protoc and grpc_python_plugin, over the .proto files the package ships, found where
// `npm install` puts them) in a temp dir, then its Python program with /usr/bin/python3 against a
// real `unified-bridge serve`. Also checks what the recipe is about: the generated health stubs
// live in `grpc_health`, so `import grpc` is still grpcio and nothing named `grpc` is generated;
// and grpcio's default 4 MiB receive limit really refuses the 6 MiB tensor the program reads.
// Runs only where /usr/bin/python3 imports grpc and protoc, grpc_python_plugin and the
// google/protobuf includes exist (CI installs them: .ci/run); elsewhere skipped with the reason.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { useBridgeServer } from '@unified-bridge/testing/jest';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const PLUGIN = '/usr/bin/grpc_python_plugin';
/** The installed @unified-bridge/proto (the workspace package, built: its proto/ folder is filled). */
const PROTO_PACKAGE = dirname(require.resolve('@unified-bridge/proto/package.json'));

/** Why the recipe cannot run here, or undefined when it can. */
function problem(): string | undefined {
  const py = spawnSync(PYTHON, ['-c', 'import grpc, google.protobuf'], { encoding: 'utf8' });
  if (py.error || py.status !== 0) return `${PYTHON} cannot import grpc (apt-get install python3-grpcio)`;
  const protoc = spawnSync('protoc', ['--version'], { encoding: 'utf8' });
  if (protoc.error || protoc.status !== 0) return 'protoc is not installed (apt-get install protobuf-compiler)';
  if (!existsSync(PLUGIN)) return `${PLUGIN} is missing (apt-get install protobuf-compiler-grpc)`;
  if (!existsSync('/usr/include/google/protobuf/struct.proto')) return 'no google/protobuf includes (libprotobuf-dev)';
  return undefined;
}

/** The first fenced block of `lang` after `heading` in the package README. */
function readmeBlock(heading: string, lang: string): string {
  const readme = readFileSync(join(PROTO_PACKAGE, 'README.md'), 'utf8');
  const at = readme.indexOf(`\n${heading}\n`);
  if (at < 0) throw new Error(`README of @unified-bridge/proto has no "${heading}" section`);
  const block = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(readme.slice(at));
  if (!block) throw new Error(`no \`\`\`${lang} block under "${heading}"`);
  return block[1]!;
}

const skip = problem();
const describeIfPython = skip === undefined ? describe : describe.skip;

describeIfPython(`Python stubs from the shipped .proto files${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const bridge = useBridgeServer({ logLevel: 'warn' });
  let dir = '';
  beforeAll(async () => {
    // A project folder as a user has it after `npm install @unified-bridge/proto`.
    dir = mkdtempSync(join(tmpdir(), 'ub-py-recipe-'));
    mkdirSync(join(dir, 'node_modules', '@unified-bridge'), { recursive: true });
    symlinkSync(PROTO_PACKAGE, join(dir, 'node_modules', '@unified-bridge', 'proto'), 'dir');
    await run('sh', ['-ec', readmeBlock('### Python stubs', 'sh')], { cwd: dir, timeout: 60_000 });
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const python = (args: string[]) =>
    run(PYTHON, args, {
      cwd: dir,
      timeout: 60_000,
      env: {
        ...process.env,
        PYTHONPATH: join(dir, 'unified_bridge_stubs'),
        PYTHONDONTWRITEBYTECODE: '1',
        UNIFIED_BRIDGE_TARGET: new URL(bridge.url).host,
      },
    });

  it('should generate the stubs under unified_bridge_stubs/, with no grpc package beside them', () => {
    const stubs = join(dir, 'unified_bridge_stubs');
    for (const f of [
      'unified_bridge/v1/tool_pb2.py',
      'unified_bridge/v1/tool_pb2_grpc.py',
      'unified_bridge/v1/variable_pb2_grpc.py',
      'google/rpc/status_pb2.py',
      'grpc_health/v1/health_pb2.py',
      'grpc_health/v1/health_pb2_grpc.py',
    ]) {
      expect(existsSync(join(stubs, f))).toBe(true);
    }
    expect(existsSync(join(stubs, 'grpc'))).toBe(false);
  });

  it('should show the trap the layout avoids: health generated as grpc/health/v1 cannot be imported', async () => {
    const naive = join(dir, 'naive');
    mkdirSync(naive);
    const proto = join(PROTO_PACKAGE, 'proto');
    await run('protoc', [
      `-I${proto}`,
      `--python_out=${naive}`,
      `--grpc_python_out=${naive}`,
      `--plugin=protoc-gen-grpc_python=${PLUGIN}`,
      'grpc/health/v1/health.proto',
    ]);
    expect(existsSync(join(naive, 'grpc', 'health', 'v1', 'health_pb2_grpc.py'))).toBe(true);
    const imported = spawnSync(PYTHON, ['-c', 'import grpc\nfrom grpc.health.v1 import health_pb2_grpc'], {
      encoding: 'utf8',
      env: { ...process.env, PYTHONPATH: naive, PYTHONDONTWRITEBYTECODE: '1' },
    });
    expect(imported.status).not.toBe(0);
    expect(imported.stderr).toContain("No module named 'grpc.health'");
  });

  it("should run the README's Python program as written: health, a 6 MiB tensor, a decoded ErrorDetail", async () => {
    writeFileSync(join(dir, 'example.py'), readmeBlock('### Python stubs', 'python'));
    const { stdout } = await python(['example.py']);
    expect(stdout.trim().split('\n')).toEqual([
      'SERVING',
      String(6 * 1024 * 1024),
      'NOT_FOUND ERROR_TYPE_VARIABLE_NOT_FOUND',
    ]);
  });

  it('should keep grpc as grpcio next to the stubs, and show why the receive limit must be raised', async () => {
    const check = `
import json, os
import grpc
from grpc_health.v1 import health_pb2_grpc
from unified_bridge.v1 import session_pb2, session_pb2_grpc, value_pb2, variable_pb2, variable_pb2_grpc
out = {"grpcio": grpc.__file__, "hasChannel": hasattr(grpc, "insecure_channel"), "health": health_pb2_grpc.__file__}
target = os.environ["UNIFIED_BRIDGE_TARGET"]
raised = [("grpc.max_send_message_length", 10 << 20), ("grpc.max_receive_message_length", 10 << 20)]
with grpc.insecure_channel(target, options=raised) as channel:
    sid = session_pb2_grpc.SessionServiceStub(channel).CreateSession(session_pb2.CreateSessionRequest()).session.id
    tensor = value_pb2.Tensor(dtype=value_pb2.DTYPE_UINT8, shape=[6 << 20], data=bytes(6 << 20))
    variable_pb2_grpc.VariableServiceStub(channel).RegisterVariable(variable_pb2.RegisterVariableRequest(
        session_id=sid, name="t", type="tensor", initial_value=value_pb2.Value(tensor_value=tensor)))
with grpc.insecure_channel(target) as channel:  # grpcio's defaults
    try:
        variable_pb2_grpc.VariableServiceStub(channel).GetVariable(
            variable_pb2.GetVariableRequest(session_id=sid, identifier="t"))
        out["defaultLimit"] = "OK"
    except grpc.RpcError as err:
        out["defaultLimit"] = err.code().name
print(json.dumps(out))
`;
    const { stdout } = await python(['-c', check]);
    const out = JSON.parse(stdout) as Record<string, unknown>;
    expect(out['grpcio']).not.toContain(dir);
    expect(out['hasChannel']).toBe(true);
    expect(out['health']).toContain(join(dir, 'unified_bridge_stubs', 'grpc_health'));
    expect(out['defaultLimit']).toBe('RESOURCE_EXHAUSTED');
  });
});
