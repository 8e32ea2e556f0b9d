import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// Runs the README's Jest quick start as a downstream repo would: its jest.config.js and
// bridge.test.js, copied verbatim from README.md, in a fresh folder, with the Jest CLI.
const readme = readFileSync(join(__dirname, '../README.md'), 'utf8');

function codeBlock(firstLine: string): string {
  const blocks = [...readme.matchAll(/```(?:js|ts)\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const block = blocks.find((b) => b.startsWith(`${firstLine}\n`));
  if (!block) throw new Error(`README.md has no code block starting with ${JSON.stringify(firstLine)}`);
  return block;
}

describe('README quick start', () => {
  it('should pass when run with Jest exactly as written', async () => {
    const config = codeBlock('// jest.config.js');
    const test = codeBlock('// bridge.test.js');
    // "Ten lines of config and code": count what a user types (no blank or comment lines).
    const typed = (code: string): number =>
      code.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('//')).length;
    expect(typed(config) + typed(test)).toBeLessThanOrEqual(12);
    // Inside this package, so `@unified-bridge/testing` resolves like an installed dependency.
    const dir = mkdtempSync(join(__dirname, '../.readme-run-'));
    try {
      writeFileSync(join(dir, 'jest.config.js'), config);
      writeFileSync(join(dir, 'bridge.test.js'), test);
      writeFileSync(
        join(dir, 'package.json'),
        JSON.stringify({ name: 'readme-example', private: true, type: 'commonjs' }),
      );
      const env = { ...process.env };
      delete env['UNIFIED_BRIDGE_URL'];
      delete env['FORCE_COLOR'];
      const jestBin = require.resolve('jest/bin/jest');
      const result = await new Promise<{ code: number; out: string }>((resolve) =>
        execFile(
          process.execPath,
          // The README's test keeps Jest's default 5 s timeout, which also covers loading the
          // client on first use; a loaded CI machine can take longer than that for a cold load.
          [jestBin, '--ci', '--runInBand', '--colors=false', '--testTimeout=30000'],
          { cwd: dir, env },
          (err, stdout, stderr) =>
            resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
        ),
      );
      // eslint-disable-next-line no-control-regex
      expect(result.out.replace(/\u001b\[[0-9;]*m/g, '')).toMatch(/Tests:\s+1 passed, 1 total/);
      expect(result.code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
