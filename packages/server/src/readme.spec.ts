// Runs the README's quick start exactly as written (imports resolve to the
// built packages by name; top-level await wrapped in an async function).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

function quickStart(): string {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Quick start'));
  const m = /```ts\n([\s\S]*?)```/.exec(section);
  if (!m) throw new Error('README has no ```ts block under "## Quick start"');
  return m[1]!;
}

describe('README quick start', () => {
  it('should run and print the variable value', async () => {
    const code = quickStart();
    const lines = code.split('\n');
    const imports = lines.filter((l) => l.startsWith('import '));
    const body = lines.filter((l) => !l.startsWith('import '));
    const source = `${imports.join('\n')}\nexport const run = async () => {\n${body.join('\n')}\n};\n`;
    const js = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    }).outputText;
    const logged: unknown[] = [];
    const mod = { exports: {} as { run?: () => Promise<void> } };
    const fakeConsole = { log: (...args: unknown[]) => logged.push(...args) };
    new Function('require', 'module', 'exports', 'console', js)(require, mod, mod.exports, fakeConsole);
    await mod.exports.run!();
    expect(logged).toEqual([0.7]);
  });
});
