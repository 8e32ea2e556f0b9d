import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startServer } from './start-server.js';

// These specs drive the harness with a stand-in CLI (test/fixtures/fake-cli.mjs) to reach cases
// the real server never shows; test/start-server.spec.ts runs the same harness on the real CLI.
const fakeCli = join(__dirname, '../test/fixtures/fake-cli.mjs');

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

describe('startServer (with a stand-in CLI)', () => {
  it('should start, report url/port/pid/logs/tempDir and stop cleanly', async () => {
    const server = await startServer({
      cliPath: fakeCli,
      authTokens: ['t1', 't2'],
      maxMessageBytes: 1024,
      sessionTtlMs: 2000,
      logLevel: 'debug',
      args: ['--extra'],
    });
    try {
      expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
      expect(server.pid).toBeGreaterThan(0);
      expect(server.running).toBe(true);
      expect(isAlive(server.pid)).toBe(true);
      expect(existsSync(server.tempDir)).toBe(true);
      const logs = server.logs().map((l) => JSON.parse(l) as { msg: string; args?: string[]; tmpdir?: string });
      expect(logs.find((l) => l.msg === 'fake starting')?.args).toEqual([
        'serve',
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--auth-token',
        't1',
        '--auth-token',
        't2',
        '--max-message-bytes',
        '1024',
        '--session-ttl',
        '2',
        '--log-level',
        'debug',
        '--extra',
      ]);
      expect(logs.find((l) => l.msg === 'fake listening')?.tmpdir).toBe(server.tempDir);
    } finally {
      const exit = await server.stop();
      expect(exit).toEqual({ code: 0, signal: null });
    }
    expect(server.running).toBe(false);
    expect(isAlive(server.pid)).toBe(false);
    expect(existsSync(server.tempDir)).toBe(false);
    await expect(server.stop()).resolves.toEqual({ code: 0, signal: null });
  });

  it('should SIGKILL a server that ignores SIGTERM after the grace period', async () => {
    const server = await startServer({ cliPath: fakeCli, env: { FAKE_MODE: 'ignore-sigterm' }, stopGraceMs: 200 });
    const exit = await server.stop();
    expect(exit).toEqual({ code: null, signal: 'SIGKILL' });
    expect(server.logs()).toContain('ignoring SIGTERM');
    expect(isAlive(server.pid)).toBe(false);
  });

  it('should kill with a signal and resolve exited', async () => {
    const server = await startServer({ cliPath: fakeCli });
    expect(server.kill('SIGKILL')).toBe(true);
    await expect(server.exited).resolves.toEqual({ code: null, signal: 'SIGKILL' });
    expect(server.running).toBe(false);
    expect(server.kill()).toBe(false);
    expect(existsSync(server.tempDir)).toBe(false);
  });

  it('should fail fast with the stderr of a server that exits during startup', async () => {
    const err = await startServer({ cliPath: fakeCli, env: { FAKE_MODE: 'crash' } }).then(
      failIfStarted,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(/exited \(code 3\) before it was ready/);
    expect(err.message).toContain('fatal: fake crash on purpose');
  });

  it('should time out with the stderr when the server never reports SERVING', async () => {
    const err = await startServer({
      cliPath: fakeCli,
      env: { FAKE_MODE: 'not-serving' },
      // Long enough for a loaded machine to start the stand-in and print its lines.
      startupTimeoutMs: 3_000,
      authTokens: ['hidden-token'],
    }).then(failIfStarted, (e: unknown) => e as Error);
    expect(err.message).toMatch(/did not report SERVING in time \(last: status NOT_SERVING\)|not ready within 3000 ms/);
    expect(err.message).toContain('fake listening');
    expect(err.message).not.toContain('hidden-token');
  });

  it('should time out when the ready line never comes', async () => {
    const err = await startServer({
      cliPath: fakeCli,
      env: { FAKE_MODE: 'no-ready-line' },
      startupTimeoutMs: 3_000,
    }).then(failIfStarted, (e: unknown) => e as Error);
    expect(err.message).toMatch(/not ready within 3000 ms/);
    expect(err.message).toContain('fake starting');
  });

  it('should reject bad options with a clear error before spawning', async () => {
    await expect(startServer({ maxMessageBytes: 1.5 })).rejects.toThrow(
      /options.maxMessageBytes must be a positive integer/,
    );
    await expect(startServer({ startupTimeoutMs: -1 })).rejects.toThrow(/options.startupTimeoutMs/);
    await expect(startServer({ authTokens: [''] })).rejects.toThrow(
      /options.authTokens must be an array of non-empty strings/,
    );
    await expect(startServer({ args: 'serve' as never })).rejects.toThrow(/options.args/);
    await expect(startServer({ cliPath: join(__dirname, 'no-such-cli.js') })).rejects.toThrow(/exited \(code 1\)/);
  });

  it('should reject a sessionTtlMs that is not a whole number of seconds instead of rounding it', async () => {
    for (const sessionTtlMs of [1500, 999, 60_001]) {
      const err = await startServer({ cliPath: fakeCli, sessionTtlMs }).then(failIfStarted, (e: unknown) => e as Error);
      expect(err).toBeInstanceOf(RangeError);
      expect(err.message).toMatch(/options.sessionTtlMs must be a whole number of seconds/);
      expect(err.message).toMatch(/multiple of 1000/);
    }
  });
});
