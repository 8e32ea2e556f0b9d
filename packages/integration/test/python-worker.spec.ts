// Cross-language tools with Python grpcio (HTTP/2 gRPC) against a real `unified-bridge serve`
// process (seed 004: "a Python worker can serve tools that a TypeScript client calls and vice
// versa"; the complete round trip across languages).
// Python stubs are generated at test time (`protoc --python_out`, Debian's protobuf-compiler) into a
// temp dir; the Python scripts use grpcio's generic `unary_unary`/`unary_stream`, no grpc stubs.
// Covers:
// - a Python worker (test/fixtures/python_worker.py) serves tools that TypeScript clients call over
//   gRPC and Connect: int64 sums beyond 2^53 exact, a tool that reads the caller's int64 session
//   variable from Python, a float32 tensor variable decoded in Python (numpy when importable, else
//   the standard library `array`) and returned scaled as a float32 tensor, a stream in order with
//   totals, the worker's own ToolError with details; it exits by itself when its stdin closes;
// - a Python client (test/fixtures/python_client.py) calls a host tool and the tools of a TypeScript
//   worker process (unary and streaming), reads an int64 (2^62 + 1, exact) and a float32 tensor
//   registered from TypeScript, and decodes ErrorDetail from `grpc-status-details-bin` for
//   ToolNotFound, a ToolError and a ValidationError.
// Runs only where /usr/bin/python3 can import grpc (Debian python3-grpcio, python3-protobuf) and
// protoc exists; CI installs them (.ci/run). Elsewhere the tests are skipped with the reason.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Code } from '@connectrpc/connect';
import { useBridgeServer } from '@unified-bridge/testing/jest';
import { bridgeError, PROTOCOLS, uniqueId, useClients, waitFor } from './support/helpers.js';
import { spawnHelper, stopHelpersAfterEach } from './support/processes.js';
import { HOST_TOOLS_ARGS, report } from './support/tools.js';

/** Debian's python3 with python3-grpcio; the `python3` on PATH may be a build without grpc. */
const PYTHON = '/usr/bin/python3';
const PROTOS = resolve(__dirname, '../../../protos');
const PY_WORKER = resolve(__dirname, 'fixtures/python_worker.py');
const PY_CLIENT = resolve(__dirname, 'fixtures/python_client.py');
const TS_WORKER = resolve(__dirname, 'fixtures/ts-worker.mjs');

/** Why the Python tests cannot run here, or undefined when they can. */
function pythonProblem(): string | undefined {
  const py = spawnSync(PYTHON, ['-c', 'import grpc, google.protobuf'], { encoding: 'utf8' });
  if (py.error || py.status !== 0) {
    return `${PYTHON} cannot import grpc and google.protobuf (apt-get install python3-grpcio python3-protobuf): ${
      py.error?.message ?? py.stderr.trim().split('\n').pop()
    }`;
  }
  const protoc = spawnSync('protoc', ['--version'], { encoding: 'utf8' });
  if (protoc.error || protoc.status !== 0) return 'protoc is not installed (apt-get install protobuf-compiler)';
  return undefined;
}

// google.rpc.Status, the envelope of `grpc-status-details-bin` (not shipped with protobuf-compiler).
const STATUS_PROTO = `syntax = "proto3";
package google.rpc;
import "google/protobuf/any.proto";
message Status { int32 code = 1; string message = 2; repeated google.protobuf.Any details = 3; }
`;

/** Generates the Python modules of the bridge protos (and google.rpc.Status) into a new temp dir. */
function generatePythonStubs(): string {
  const out = mkdtempSync(join(tmpdir(), 'ub-py-stubs-'));
  const extra = join(out, 'protos');
  mkdirSync(join(extra, 'google/rpc'), { recursive: true });
  writeFileSync(join(extra, 'google/rpc/status.proto'), STATUS_PROTO);
  const files = readdirSync(join(PROTOS, 'unified_bridge/v1'))
    .filter((f) => f.endsWith('.proto'))
    .map((f) => `unified_bridge/v1/${f}`);
  const run = spawnSync(
    'protoc',
    [`--python_out=${out}`, `-I${PROTOS}`, `-I${extra}`, '-I/usr/include', ...files, 'google/rpc/status.proto'],
    { encoding: 'utf8' },
  );
  if (run.status !== 0) throw new Error(`protoc failed: ${run.stderr}`);
  return out;
}

const problem = pythonProblem();
// Skipped (with the reason in the name) only where Debian's python3-grpcio or protoc is missing.
const describePython = problem === undefined ? describe : describe.skip;

describePython(`cross-language tools with Python grpcio${problem ? ` (skipped: ${problem})` : ''}`, () => {
  const bridge = useBridgeServer({ args: HOST_TOOLS_ARGS, logLevel: 'warn' });
  const openClient = useClients(() => bridge.url);
  stopHelpersAfterEach();
  let stubs = '';
  beforeAll(() => {
    stubs = generatePythonStubs();
  });
  afterAll(() => {
    if (stubs) rmSync(stubs, { recursive: true, force: true });
  });
  const pythonEnv = () => ({ ...process.env, PYTHONPATH: stubs, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' });
  const hostPort = () => new URL(bridge.url).host;

  const WEIGHTS = [0.5, -1.25, 3, 0.1];

  it('should serve tools from a Python worker to TypeScript clients over gRPC and Connect', async () => {
    const owner = openClient({ protocol: 'grpc' });
    await using session = await owner.createSession({ id: uniqueId('py-worker') });
    await session.register('big', 'integer', 2n ** 62n + 1n);
    await session.register('weights', 'tensor', { dtype: 'float32', shape: [2, 2], data: new Float32Array(WEIGHTS) });

    const worker = spawnHelper(PYTHON, [PY_WORKER, hostPort(), session.id], { env: pythonEnv() });
    const ready = await worker.next<{ workerId: string; pid: number; numpy: boolean }>('ready');
    expect(ready.pid).toBe(worker.pid);

    for (const protocol of PROTOCOLS) {
      const s = openClient({ protocol }).session(session.id);
      const specs = await s.tools.list({ fresh: true });
      expect(specs.find((t) => t.name === 'py_add')).toMatchObject({ owner: ready.workerId, global: false });
      expect(specs.find((t) => t.name === 'py_stream')?.streaming).toBe(true);

      const { result, metrics } = await s.tools.callWithMetrics('py_add', { a: 40, b: 2 });
      expect(result).toBe(42);
      expect(metrics.executedBy).toBe(ready.workerId);
      expect(await s.tools.call('py_add', { a: '4611686018427387904', b: '1' })).toBe(2n ** 62n + 1n);
      expect(await s.tools.call('py_inc_var', { name: 'big' })).toBe(2n ** 62n + 2n);

      const scaled = await s.tools.call<{ dtype: string; shape: number[]; data: Float32Array }>('py_tensor_scale', {
        name: 'weights',
        factor: 2,
      });
      expect(scaled.dtype).toBe('float32');
      expect(scaled.shape).toEqual([2, 2]);
      expect(scaled.data).toBeInstanceOf(Float32Array);
      expect(Array.from(scaled.data)).toEqual(Array.from(new Float32Array(WEIGHTS.map((w) => w * 2))));

      const stream = s.tools.stream<string>('py_stream', { n: 3 });
      const chunks: string[] = [];
      for await (const c of stream) chunks.push(c);
      expect(chunks).toEqual(['py-0', 'py-1', 'py-2']);
      expect(stream.totalChunks).toBe(3);
      expect(stream.metrics?.executedBy).toBe(ready.workerId);

      const err = await bridgeError(s.tools.call('py_fail'), 'ToolError');
      expect(err).toMatchObject({ toolErrorType: 'ValidationError', toolName: 'py_fail' });
      expect(err.message).toContain('Invalid input from Python');
      expect(err.details).toMatchObject({ field: 'a', reason: 'negative' });
      const bad = await bridgeError(s.tools.call('py_add', { a: 1.5, b: 1 }), 'ValidationError');
      expect(bad.code).toBe(Code.InvalidArgument);
    }
    const info = await session.tools.call<{
      pid: number;
      numpy: boolean;
      decoder: string;
      python: string;
      grpc: string;
    }>('py_info');
    expect(info.pid).toBe(worker.pid);
    report(`python worker: Python ${info.python}, grpcio ${info.grpc}, tensor decoded with ${info.decoder}`);

    // The worker exits by itself when its stdin closes; its tools go with it.
    expect(await worker.stop()).toEqual({ code: 0, signal: null });
    await waitFor('the Python tools are gone', async () => {
      const names = (await session.tools.list({ fresh: true })).map((t) => t.name);
      return !names.includes('py_add');
    });
  });

  it('should let a Python client call TypeScript tools and read TypeScript variables', async () => {
    const owner = openClient({ protocol: 'grpc' });
    await using session = await owner.createSession({ id: uniqueId('py-client') });
    await session.register('big', 'integer', 2n ** 62n + 1n);
    await session.register('weights', 'tensor', { dtype: 'float32', shape: [2, 2], data: new Float32Array(WEIGHTS) });
    const tsWorker = spawnHelper(process.execPath, [TS_WORKER, bridge.url, session.id, 'grpc']);
    const { workerId } = await tsWorker.next<{ workerId: string }>('ready');

    const client = spawnHelper(PYTHON, [PY_CLIENT, hostPort(), session.id], { env: pythonEnv() });
    const exit = await client.exited;
    expect({ exit, stderr: client.stderr() }).toEqual({ exit: { code: 0, signal: null }, stderr: '' });
    const out = client.lines[0] as Record<string, unknown>;

    expect(out.tools).toMatchObject({
      add: { owner: 'host', streaming: false },
      ts_mul: { owner: workerId, streaming: false },
      ts_countdown: { owner: workerId, streaming: true },
    });
    expect(out.host_add).toEqual({ result: { int64: '42' }, executedBy: 'host' });
    expect(out.ts_mul).toEqual({ result: { int64: String(3037000499n * 3037000499n) }, executedBy: workerId });
    expect(out.ts_read_var).toEqual({ result: { int64: String(2n ** 62n + 1n) }, executedBy: workerId });
    expect(out.ts_countdown).toEqual({
      chunks: [
        { sequence: 0, value: { int64: '3' } },
        { sequence: 1, value: { int64: '2' } },
        { sequence: 2, value: { int64: '1' } },
      ],
      end: { sequence: 3, totalChunks: 3 },
    });
    expect(out.big).toEqual({ type: 'integer', int64: String(2n ** 62n + 1n), exact: true });
    expect(out.weights).toEqual({
      dtype: 'DTYPE_FLOAT32',
      shape: [2, 2],
      values: Array.from(new Float32Array(WEIGHTS)),
    });
    expect(out.missing).toMatchObject({ code: 'NOT_FOUND', type: 'ERROR_TYPE_TOOL_NOT_FOUND' });
    expect(out.tool_error).toMatchObject({
      code: 'UNKNOWN',
      type: 'ERROR_TYPE_TOOL_ERROR',
      toolErrorType: 'ValidationError',
      details: { field: 'a', reason: 'negative' },
    });
    expect(out.bad_args).toMatchObject({ code: 'INVALID_ARGUMENT', type: 'ERROR_TYPE_VALIDATION_ERROR' });
    expect((out.bad_args as { fieldViolations: string[] }).fieldViolations.length).toBeGreaterThanOrEqual(2);
  });
});
