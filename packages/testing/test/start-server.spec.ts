import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { createBridgeClient } from '@unified-bridge/client';
import { Health, HealthCheckResponse_ServingStatus } from '@unified-bridge/proto';
import { startInProcessServer, startServer } from '@unified-bridge/testing';

/** A start that should have failed: stop the server and fail the test. */
async function failIfStarted(server: { stop(): Promise<unknown> }): Promise<Error> {
  await server.stop();
  throw new Error('expected startServer() to fail');
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function healthStatus(baseUrl: string): Promise<HealthCheckResponse_ServingStatus> {
  const client = createClient(Health, createConnectTransport({ baseUrl, httpVersion: '1.1' }));
  return (await client.check({ service: '' })).status;
}

describe('startServer (real unified-bridge CLI)', () => {
  it('should start the CLI, serve health and sessions, and stop with exit code 0', async () => {
    const server = await startServer({ logLevel: 'debug' });
    try {
      expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
      expect(await healthStatus(server.url)).toBe(HealthCheckResponse_ServingStatus.SERVING);
      const client = createBridgeClient({ baseUrl: server.url });
      try {
        const session = await client.createSession({ id: 'start-server-spec' });
        expect(session.id).toBe('start-server-spec');
        await session.close();
      } finally {
        await client.close();
      }
      expect(server.logs().some((l) => l.includes('"listening"') || l.includes('listening'))).toBe(true);
      expect(existsSync(server.tempDir)).toBe(true);
    } finally {
      expect(await server.stop()).toEqual({ code: 0, signal: null });
    }
    expect(isAlive(server.pid)).toBe(false);
    expect(() => process.kill(server.pid, 0)).toThrow();
    expect(existsSync(server.tempDir)).toBe(false);
  });

  it('should pass auth tokens and limits through to the CLI', async () => {
    await using server = await startServer({ authTokens: ['s3cret'], maxMessageBytes: 4096, sessionTtlMs: 60_000 });
    const anonymous = createBridgeClient({ baseUrl: server.url });
    const authed = createBridgeClient({ baseUrl: server.url, token: 's3cret' });
    try {
      await expect(anonymous.createSession({ id: 'no-auth' })).rejects.toMatchObject({ type: 'Unauthenticated' });
      const session = await authed.createSession({ id: 'with-auth' });
      await expect(session.register('big', 'string', 'x'.repeat(10_000))).rejects.toMatchObject({
        name: 'BridgeError',
        type: 'PayloadTooLarge',
      });
      await session.close();
    } finally {
      await anonymous.close();
      await authed.close();
    }
  });

  it('should be killable with a signal', async () => {
    const server = await startServer();
    expect(server.kill('SIGKILL')).toBe(true);
    expect(await server.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(isAlive(server.pid)).toBe(false);
    expect(existsSync(server.tempDir)).toBe(false);
  });

  it('should fail with the CLI stderr when a flag is invalid', async () => {
    const err = await startServer({ args: ['--no-such-flag'] }).then(failIfStarted, (e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(/exited \(code 1\) before it was ready/);
    expect(err.message).toMatch(/unknown option '--no-such-flag'/);
  });

  it('should time out with the stderr when the server is not ready in time', async () => {
    // A 1 ms budget cannot be met by a real process start: the timeout path, with real stderr.
    const err = await startServer({ startupTimeoutMs: 1 }).then(failIfStarted, (e: unknown) => e as Error);
    expect(err.message).toMatch(/not ready within 1 ms/);
    expect(err.message).toContain('--- server output');
  });

  // Each build finds its own folder through its own shim (own-location.ts / own-location-esm.mts).
  it.each([
    ['ESM', 'module', "import { startServer } from '@unified-bridge/testing';"],
    ['CommonJS', 'commonjs', "const { startServer } = require('@unified-bridge/testing');"],
  ])('should resolve the CLI from the %s build too', async (_format, inputType, load) => {
    const script = `
      ${load}
      (async () => {
        const s = await startServer();
        const exit = await s.stop();
        console.log(JSON.stringify({ url: s.url, exit }));
      })();`;
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        [`--input-type=${inputType}`, '-e', script],
        { cwd: join(__dirname, '..') },
        (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
      ),
    );
    const result = JSON.parse(out) as { url: string; exit: unknown };
    expect(result.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(result.exit).toEqual({ code: 0, signal: null });
  });
});

describe('startInProcessServer', () => {
  it('should start in this process, pass options through, record logs and stop', async () => {
    const server = await startInProcessServer({ auth: { tokens: ['t'] } });
    expect(server.pid).toBe(process.pid);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(await healthStatus(server.url)).toBe(HealthCheckResponse_ServingStatus.SERVING);
    const client = createBridgeClient({ baseUrl: server.url });
    try {
      await expect(client.createSession({ id: 'x' })).rejects.toMatchObject({ type: 'Unauthenticated' });
    } finally {
      await client.close();
    }
    expect(server.logs().some((l) => JSON.parse(l).msg === 'listening')).toBe(true);
    await server.stop();
    await server.stop();
    await expect(healthStatus(server.url)).rejects.toThrow();
  });

  it('should reject bad options', async () => {
    await expect(startInProcessServer({ maxLogLines: 0 })).rejects.toThrow(/maxLogLines/);
    await expect(startInProcessServer({ port: -1 })).rejects.toThrow(/port/);
  });
});
