import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import ts from 'typescript';

// Runs the README's code blocks as a downstream repo would: the Jest files (each block whose
// first line names a file, such as `// jest.config.js`), copied verbatim from README.md into a
// fresh folder and run with the Jest CLI; the other blocks as scripts.
const readme = readFileSync(join(__dirname, '../README.md'), 'utf8');
const blocks = [...readme.matchAll(/```(?:js|ts)\n([\s\S]*?)```/g)].map((m) => m[1]!);

function codeBlock(firstLine: string): string {
  const block = blocks.find((b) => b.startsWith(`${firstLine}\n`));
  if (!block) throw new Error(`README.md has no code block starting with ${JSON.stringify(firstLine)}`);
  return block;
}

/** TypeScript blocks become CommonJS JavaScript, as a Jest user without ts-jest would write them. */
const toCommonJs = (code: string): string =>
  ts.transpileModule(code, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  }).outputText;

/**
 * Writes `files` (path -> content) into a fresh folder inside this package (so
 * `@unified-bridge/testing` resolves like an installed dependency), runs Jest there, and
 * returns its exit code and output.
 */
async function runJest(files: Record<string, string>, cwd = '.'): Promise<{ code: number; out: string }> {
  const dir = mkdtempSync(join(__dirname, '../.readme-run-'));
  try {
    for (const [name, content] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), content);
    }
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
        // The README's tests keep Jest's default 5 s timeout, which also covers loading the
        // client on first use; a loaded CI machine can take longer than that for a cold load.
        [jestBin, '--ci', '--runInBand', '--colors=false', '--testTimeout=30000'],
        { cwd: join(dir, cwd), env },
        (err, stdout, stderr) =>
          resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
      ),
    );
    // eslint-disable-next-line no-control-regex
    return { code: result.code, out: result.out.replace(/\u001b\[[0-9;]*m/g, '') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('README quick start', () => {
  it('should pass when run with Jest exactly as written', async () => {
    const config = codeBlock('// jest.config.js');
    const test = codeBlock('// bridge.test.js');
    // "Ten lines of config and code": count what a user types (no blank or comment lines).
    const typed = (code: string): number =>
      code.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('//')).length;
    expect(typed(config) + typed(test)).toBeLessThanOrEqual(12);
    const result = await runJest({ 'jest.config.js': config, 'bridge.test.js': test });
    expect(result.out).toMatch(/Tests:\s+1 passed, 1 total/);
    expect(result.code).toBe(0);
  }, 60_000);

  it('should pass the server-per-file example with Jest', async () => {
    const result = await runJest({ 'server-per-file.test.js': toCommonJs(codeBlock('// server-per-file.test.ts')) });
    expect(result.out).toMatch(/Tests:\s+2 passed, 2 total/);
    expect(result.code).toBe(0);
  }, 60_000);

  it('should pass the auth-token global setup example with Jest: the token reaches withSession', async () => {
    const files = ['auth/jest.config.js', 'auth/global-setup.js', 'auth/auth.test.js'];
    const result = await runJest(Object.fromEntries(files.map((f) => [f, codeBlock(`// ${f}`)])), 'auth');
    expect(result.out).toMatch(/Tests:\s+2 passed, 2 total/);
    expect(result.code).toBe(0);
  }, 60_000);
});

describe('README without Jest', () => {
  it('should run the harness example as written', async () => {
    const code = blocks.find((b) => b.startsWith('import { FaultProxy, startInProcessServer, startServer, Timings }'));
    expect(code).toBeDefined();
    const source = ts.createSourceFile('block.ts', code!, ts.ScriptTarget.ES2022, true);
    const imports = source.statements.filter(ts.isImportDeclaration).map((s) => s.getFullText(source));
    const body = source.statements.filter((s) => !ts.isImportDeclaration(s)).map((s) => s.getFullText(source));
    const js = toCommonJs(`${imports.join('')}\nexport const run = async () => {${body.join('')}\n};\n`);
    const logged: unknown[][] = [];
    const mod = { exports: {} as { run?: () => Promise<void> } };
    const fakeConsole = { log: (...args: unknown[]) => logged.push(args) };
    new Function('require', 'module', 'exports', 'console', js)(require, mod, mod.exports, fakeConsole);
    await mod.exports.run!();
    expect(logged).toEqual([[true, 12]]);
  }, 60_000);
});
