#!/usr/bin/env node
// Builds the package in the current directory as ESM (dist/esm, type-checked,
// with declarations) and CommonJS (dist/cjs, same declarations), so that both
// `import` and `require` resolve with correct types.
//
// The build is written to a fresh folder and swapped into place at the end, so
// a test run that reads `dist` while a build runs never sees it half-written.
//
// Per-format shims (as tshy does for lru-cache): a source `src/X-esm.mts` takes the
// place of `src/X.ts` in the ESM build (for what only an ES module can write, such
// as `import.meta.url`); the CommonJS build keeps `X.ts`. The package's exports map
// picks dist/esm or dist/cjs, and so the shim of the format in use.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
const run = (...args) => execFileSync(process.execPath, [tsc, ...args], { stdio: 'inherit' });

const out = `.dist-build-${process.pid}`;
const old = `.dist-old-${process.pid}`;
rmSync(out, { recursive: true, force: true });
try {
  run('-p', 'tsconfig.json', '--outDir', `${out}/esm`, '--tsBuildInfoFile', `${out}/esm/.tsbuildinfo`);
  run(
    '-p',
    'tsconfig.json',
    '--outDir',
    `${out}/cjs`,
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
  writeFileSync(`${out}/cjs/package.json`, JSON.stringify({ type: 'commonjs' }) + '\n');
  applyEsmShims(`${out}/esm`, `${out}/cjs`);
  copyDeclarations(`${out}/esm`, `${out}/cjs`);
  for (const bin of binEntries()) execFileSync('chmod', ['+x', join(out, bin)]);
  if (existsSync('dist')) renameSync('dist', old);
  renameSync(out, 'dist');
} finally {
  rmSync(out, { recursive: true, force: true });
  rmSync(old, { recursive: true, force: true });
}

/** Files named in package.json "bin", relative to dist (e.g. "esm/cli.js"). */
function binEntries() {
  const pkg = require(join(process.cwd(), 'package.json'));
  const bins = typeof pkg.bin === 'string' ? [pkg.bin] : Object.values(pkg.bin ?? {});
  return bins.map((b) => b.replace(/^\.\/dist\//, '')).filter((b) => !b.startsWith('.'));
}

/** In `esm`, each `X-esm.mjs` becomes `X.js` (the `X.ts` build of it goes); in `cjs`, every `X-esm.*` goes. */
function applyEsmShims(esm, cjs) {
  for (const name of readdirSync(esm, { recursive: true })) {
    const shim = /^(.*)-esm\.mjs$/.exec(name);
    if (shim === null) continue;
    const base = shim[1];
    rmSync(join(esm, `${base}.js.map`), { force: true });
    renameSync(join(esm, name), join(esm, `${base}.js`));
    for (const dir of [esm, cjs]) {
      for (const ext of ['.d.mts', '.d.mts.map', '.mjs', '.mjs.map']) {
        if (dir === esm && ext === '.mjs.map') continue; // the renamed .js still points at it
        rmSync(join(dir, `${base}-esm${ext}`), { force: true });
      }
    }
  }
}

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
