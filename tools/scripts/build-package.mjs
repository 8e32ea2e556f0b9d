#!/usr/bin/env node
// Builds the package in the current directory as ESM (dist/esm, type-checked,
// with declarations) and CommonJS (dist/cjs, same declarations), so that both
// `import` and `require` resolve with correct types.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
const run = (...args) => execFileSync(process.execPath, [tsc, ...args], { stdio: 'inherit' });

rmSync('dist', { recursive: true, force: true });
run('-p', 'tsconfig.json');
run(
  '-p',
  'tsconfig.json',
  '--outDir',
  'dist/cjs',
  '--module',
  'commonjs',
  '--moduleResolution',
  'node10',
  '--verbatimModuleSyntax',
  'false',
  '--declaration',
  'false',
  '--declarationMap',
  'false',
  '--composite',
  'false',
  '--incremental',
  'false',
  '--noCheck',
);
writeFileSync('dist/cjs/package.json', JSON.stringify({ type: 'commonjs' }) + '\n');
copyDeclarations('dist/esm', 'dist/cjs');

function copyDeclarations(from, to) {
  for (const name of readdirSync(from)) {
    const src = join(from, name);
    const dst = join(to, name);
    if (statSync(src).isDirectory()) {
      mkdirSync(dst, { recursive: true });
      copyDeclarations(src, dst);
    } else if (name.endsWith('.d.ts') || name.endsWith('.d.ts.map')) {
      cpSync(src, dst);
    }
  }
}
