import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

// Runs small scripts that use the built package and then end without stopping their server:
// the exit hooks must kill the server child (and remove its temp dir) in every case.
const pkgDir = join(__dirname, '..');
const fakeCli = join(__dirname, 'fixtures/fake-cli.mjs');

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits until `pid` is gone: a killed orphan needs a moment to be reaped by init. */
async function gone(pid: number): Promise<boolean> {
  const deadline = Date.now() + 5_000;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return !isAlive(pid);
}

const starter = (tail: string): string => `
  const { startServer } = require('@unified-bridge/testing');
  startServer({ cliPath: ${JSON.stringify(fakeCli)} }).then((s) => {
    process.stdout.write(JSON.stringify({ pid: s.pid, tempDir: s.tempDir }) + '\\n');
    ${tail}
  });
`;

describe('exit hooks (built package, stand-in CLI)', () => {
  it('should kill a leftover server when the process ends on its own', async () => {
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['-e', starter('')], { cwd: pkgDir }, (err, stdout) =>
        err ? reject(err) : resolve(stdout),
      ),
    );
    const { pid, tempDir } = JSON.parse(out) as { pid: number; tempDir: string };
    expect(await gone(pid)).toBe(true);
    expect(existsSync(tempDir)).toBe(false);
  });

  it('should kill a leftover server on an uncaught exception', async () => {
    const result = await new Promise<{ code: number | null; stdout: string }>((resolve) =>
      execFile(process.execPath, ['-e', starter("throw new Error('boom');")], { cwd: pkgDir }, (err, stdout) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout }),
      ),
    );
    expect(result.code).toBe(1);
    const { pid } = JSON.parse(result.stdout) as { pid: number };
    expect(await gone(pid)).toBe(true);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)(
    'should kill a leftover server on %s and still end the process by that signal',
    async (signal) => {
      const script = spawn(process.execPath, ['-e', starter('setInterval(() => {}, 1000);')], {
        cwd: pkgDir,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const line = await new Promise<string>((resolve) => {
        let buf = '';
        script.stdout.setEncoding('utf8');
        script.stdout.on('data', (c: string) => {
          buf += c;
          if (buf.includes('\n')) resolve(buf);
        });
      });
      const { pid } = JSON.parse(line) as { pid: number };
      expect(isAlive(pid)).toBe(true);
      const exited = new Promise<NodeJS.Signals | null>((resolve) => script.on('exit', (_code, sig) => resolve(sig)));
      script.kill(signal);
      expect(await exited).toBe(signal);
      expect(await gone(pid)).toBe(true);
    },
  );
});
