// The built CLI as a child process: the ready line, logs on stderr, env
// variables, the curl acceptance request, SIGTERM with a stream open.
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createGrpcTransport, Http2SessionManager } from '@connectrpc/connect-node';
import { SessionService, VariableEventKind, VariableService } from '@unified-bridge/proto';

const CLI = join(__dirname, '..', 'dist', 'esm', 'cli.js');

interface Spawned {
  child: ChildProcessWithoutNullStreams;
  ready: { event: string; url: string; port: number; pid: number; protocols: string[] };
  stdoutLines: string[];
  stderr: () => string;
  exit: Promise<number | null>;
}

async function spawnCli(args: string[], env: Record<string, string> = {}): Promise<Spawned> {
  if (!existsSync(CLI)) throw new Error(`build the package first (npm run build): ${CLI} is missing`);
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stdoutLines: string[] = [];
  const lines = createInterface({ input: child.stdout });
  const first = new Promise<string>((resolve, reject) => {
    lines.on('line', (l) => {
      stdoutLines.push(l);
      if (stdoutLines.length === 1) resolve(l);
    });
    void exit.then((code) => reject(new Error(`CLI exited (${String(code)}) before ready: ${err}`)));
  });
  const ready = JSON.parse(await first) as Spawned['ready'];
  return { child, ready, stdoutLines, stderr: () => err, exit };
}

describe('unified-bridge serve (CLI)', () => {
  it('should print one ready line, log JSON on stderr, serve, and exit 0 on SIGTERM with a stream open', async () => {
    const cli = await spawnCli(['serve', '--host', '127.0.0.1', '--port', '0', '--log-level', 'info']);
    expect(Object.keys(cli.ready)).toEqual(['event', 'url', 'port', 'pid', 'protocols']);
    expect(cli.ready).toMatchObject({
      event: 'listening',
      url: `http://127.0.0.1:${cli.ready.port}`,
      pid: cli.child.pid,
      protocols: ['grpc', 'grpc-web', 'connect'],
    });
    expect(cli.ready.port).toBeGreaterThan(0);

    // The issue-2 acceptance: curl -d '{}' .../CreateSession returns a session with an id.
    const res = await fetch(`${cli.ready.url}/unified_bridge.v1.SessionService/CreateSession`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    const body = (await res.json()) as { session?: { id?: string } };
    expect(body.session?.id).toMatch(/.+/);

    const sessionManager = new Http2SessionManager(cli.ready.url);
    try {
      const transport = createGrpcTransport({ baseUrl: cli.ready.url, sessionManager });
      await createClient(SessionService, transport).createSession({ sessionId: 'cli' });
      const stream = createClient(VariableService, transport).watchVariables({ sessionId: 'cli' });
      const watch = stream[Symbol.asyncIterator]();
      expect(((await watch.next()).value as { kind: number }).kind).toBe(VariableEventKind.SYNCED);
      cli.child.kill('SIGTERM');
      const end = await watch.next().then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
      expect([end?.code, end?.rawMessage]).toEqual([Code.Unavailable, 'server shutting down']);
      expect(await cli.exit).toBe(0);
    } finally {
      sessionManager.abort();
      cli.child.kill('SIGKILL');
    }
    expect(cli.stdoutLines).toHaveLength(1);
    const logLines = cli.stderr().trim().split('\n');
    for (const line of logLines) expect(() => JSON.parse(line) as unknown).not.toThrow();
    expect(logLines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(
      expect.arrayContaining(['listening', 'signal received: shutting down', 'stopped']),
    );
  });

  it('should take its settings from the environment (PORT, UNIFIED_BRIDGE_AUTH_TOKENS)', async () => {
    const cli = await spawnCli(['serve'], {
      PORT: '0',
      UNIFIED_BRIDGE_AUTH_TOKENS: 'one, two',
      UNIFIED_BRIDGE_LOG_LEVEL: 'silent',
    });
    try {
      const call = (token?: string) =>
        fetch(`${cli.ready.url}/unified_bridge.v1.SessionService/CreateSession`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: '{}',
        });
      expect((await call()).status).toBe(401);
      expect((await call('two')).status).toBe(200);
      // Health stays open without a token.
      const health = await fetch(`${cli.ready.url}/grpc.health.v1.Health/Check`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(await health.json()).toEqual({ status: 'SERVING' });
      cli.child.kill('SIGINT');
      expect(await cli.exit).toBe(0);
      expect(cli.stderr()).toBe('');
    } finally {
      cli.child.kill('SIGKILL');
    }
  });

  it('should refuse bad options with a message on stderr and a non-zero exit code', async () => {
    for (const args of [
      ['serve', '--port', 'abc'],
      ['serve', '--tls-cert', 'x.pem'],
      ['serve', '--log-level', 'loud'],
    ]) {
      const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env['PATH'] ?? '' } });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code).not.toBe(0);
      expect(out).toBe('');
      expect(err).toMatch(/error/i);
    }
  });

  it.each([
    ['ESM', 'tools.mjs', 'greet'],
    ['CommonJS', 'tools.cjs', 'cjs_tool'],
  ])('should serve host tools from --tools-module (%s) and rate-limit with --rate-limit', async (_kind, file, tool) => {
    const cli = await spawnCli([
      'serve',
      '--port',
      '0',
      '--log-level',
      'silent',
      '--tools-module',
      join(__dirname, 'fixtures', file),
      '--rate-limit',
      '0.001', // one token per 1000 s: none comes back while the test runs, however slow the machine
      '--rate-limit-burst',
      '2',
    ]);
    try {
      const post = async (path: string, body: unknown) => {
        const res = await fetch(`${cli.ready.url}/unified_bridge.v1.${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        return (await res.json()) as Record<string, unknown>;
      };
      const { session } = (await post('SessionService/CreateSession', {})) as { session: { id: string } };
      const listed = (await post('ToolService/ListTools', { sessionId: session.id })) as { tools: { name: string }[] };
      expect(listed.tools.map((t) => t.name)).toContain(tool);
      const first = await post('ToolService/ExecuteTool', {
        sessionId: session.id,
        toolName: tool,
        arguments: { name: 'cli' },
      });
      expect(first['result']).toEqual({ stringValue: tool === 'greet' ? 'hello cli' : 'from commonjs' });
      if (tool === 'greet') {
        const refused = await post('ToolService/ExecuteTool', { sessionId: session.id, toolName: 'refuse' });
        expect(refused).toMatchObject({ code: 'unknown', message: 'not today' });
      } else {
        await post('ToolService/ExecuteTool', { sessionId: session.id, toolName: tool });
      }
      // The burst of 2 is used up: the third call is rate-limited.
      const limited = await post('ToolService/ExecuteTool', { sessionId: session.id, toolName: tool });
      expect(limited).toMatchObject({ code: 'resource_exhausted' });
    } finally {
      cli.child.kill('SIGKILL');
    }
  });

  it('should fail to start with a clear message when the tools module exports no tools', async () => {
    const child = spawn(
      process.execPath,
      [CLI, 'serve', '--port', '0', '--tools-module', join(__dirname, 'fixtures', 'no-tools.mjs')],
      {
        env: { PATH: process.env['PATH'] ?? '' },
      },
    );
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(err).toContain('failed to start');
    expect(err).toContain('export an array of host tool definitions');
  });
});
