import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import type * as api from './index.js';

/** The TypeScript code blocks of the README, in order. */
function readmeBlocks(): string[] {
  const text = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  return [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/** Transpiles a README block to CommonJS and runs it against the built package. */
function run(code: string): void {
  const out = ts.transpileModule(code, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  new Function('require', 'exports', out.outputText)(require, {});
}

describe('README', () => {
  it('should run the quick start', () => {
    const [quickStart] = readmeBlocks();
    expect(quickStart).toContain("compileType('float', { min: 0, max: 1 })");
    run(quickStart!);
  });

  it('should run the custom type example', () => {
    const blocks = readmeBlocks();
    const custom = blocks.find((b) => b.includes('registerType<number>'));
    expect(custom).toBeDefined();
    // The README registers 'percent'; rename it so this spec does not depend on registration order.
    run(custom!.replace(/'percent'/g, "'readme_percent'").replace(/to percent/g, 'to readme_percent'));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { compileType } = require('@unified-bridge/types') as Pick<typeof api, 'compileType'>;
    const r = compileType('readme_percent', { step: 5 });
    expect(r.ok && r.compiled.validate(15)).toEqual({ ok: true, value: 15 });
    expect(r.ok && r.compiled.validate(7)).toEqual({
      ok: false,
      violations: [{ constraint: 'type', message: 'Cannot convert 7 to readme_percent' }],
    });
    expect(compileType('readme_percent', { step: 7 })).toEqual({
      ok: false,
      violations: [{ constraint: 'step', message: 'step must divide 100' }],
    });
  });
});
