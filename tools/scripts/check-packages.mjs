#!/usr/bin/env node
// Checks the publishing shape of every public package under packages/ (any folder whose
// package.json is not private, so a new package is checked without editing this file):
//
// - metadata: description, license, keywords, homepage, bugs, repository.directory, engines;
// - dependency ranges: @connectrpc/* are peer dependencies with caret ranges (the host app owns
//   the Connect version), every other runtime range is a range (no exact pin), and every peer
//   has an exact devDependency so the lockfile pins what our own CI runs;
// - `typesVersions` mirrors every `exports` subpath, so `moduleResolution: node10` finds the
//   declarations of `/web`, `/conformance`, `/jest`, ... (`--fix` rewrites it from `exports`);
// - the packed tarball, as npm would publish it: LICENSE (the repository's) and README, every
//   file that package.json points at, no specs or build info, and source maps whose sources
//   exist in the tarball (so stack traces and "go to definition" land on a real file);
// - @arethetypeswrong/cli on the tarball with the `strict` profile: node10, node16 (CJS and
//   ESM) and bundler resolution all find types that match the JavaScript.
//
// Usage: node tools/scripts/check-packages.mjs [--fix] [package folder names...]
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, relative } from 'node:path';
import { pack, publicPackages, readJson, root } from './lib/workspace.mjs';

const args = process.argv.slice(2);
const fix = args.includes('--fix');
const only = args.filter((a) => !a.startsWith('--'));
const license = readFileSync(join(root, 'LICENSE'), 'utf8');
const rootPkg = readJson(join(root, 'package.json'));
const repoUrl = 'git+https://github.com/unified-bridge/unified-bridge.git';

/** The declaration file a CommonJS (node10) consumer gets for one `exports` entry. */
function requireTypes(entry) {
  if (typeof entry === 'string') return entry.endsWith('.d.ts') ? entry : undefined;
  if (entry === null || typeof entry !== 'object') return undefined;
  for (const condition of ['require', 'node', 'default', 'import']) {
    if (condition in entry) {
      const found = requireTypes(entry[condition]);
      if (found) return found;
    }
  }
  return typeof entry.types === 'string' ? entry.types : undefined;
}

/** The `typesVersions` that lets node10 resolution find every subpath of `exports`. */
function expectedTypesVersions(pkg) {
  const map = {};
  for (const [key, entry] of Object.entries(pkg.exports ?? {})) {
    if (key === '.' || key === './package.json' || !key.startsWith('./')) continue;
    const types = requireTypes(entry);
    if (types) map[key.slice(2)] = [types];
  }
  return Object.keys(map).length > 0 ? { '*': map } : undefined;
}

/** Problems with metadata and dependency ranges of one package.json. */
function checkManifest({ name, pkg }) {
  const problems = [];
  const need = (ok, message) => ok || problems.push(message);
  need(typeof pkg.description === 'string' && pkg.description.length > 0, 'no "description"');
  need(pkg.license === rootPkg.license, `"license" must be ${rootPkg.license}`);
  need(Array.isArray(pkg.keywords) && pkg.keywords.length > 0, 'no "keywords"');
  need(/^https:\/\/\S+$/.test(pkg.homepage ?? ''), 'no "homepage" URL');
  need(/^https:\/\/\S+$/.test(pkg.bugs?.url ?? ''), 'no "bugs.url"');
  need(pkg.repository?.url === repoUrl, `"repository.url" must be ${repoUrl}`);
  need(pkg.repository?.directory === `packages/${name}`, `"repository.directory" must be packages/${name}`);
  need(typeof pkg.engines?.node === 'string', 'no "engines.node"');
  need(!pkg.name.startsWith('@') || pkg.publishConfig?.access === 'public', '"publishConfig.access" must be public');
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
    for (const [dep, range] of Object.entries(pkg[field] ?? {})) {
      need(!/^\d/.test(range), `${field}.${dep} is pinned to ${range}: use a range (^${range}) so hosts can dedupe`);
    }
  }
  for (const dep of Object.keys(pkg.dependencies ?? {})) {
    need(
      !dep.startsWith('@connectrpc/'),
      `${dep} must be a peer dependency: the host app owns its Connect version (connect-* packages pin each other exactly)`,
    );
  }
  for (const [dep, range] of Object.entries(pkg.peerDependencies ?? {})) {
    need(!dep.startsWith('@connectrpc/') || range.startsWith('^'), `peerDependencies.${dep} must be a caret range`);
    const pinned = pkg.devDependencies?.[dep] ?? rootPkg.devDependencies?.[dep];
    need(
      typeof pinned === 'string' && /^\d/.test(pinned),
      `peer ${dep} needs an exact devDependency here or at the root (what the lockfile pins for our CI)`,
    );
  }
  const expected = expectedTypesVersions(pkg);
  if (JSON.stringify(pkg.typesVersions) !== JSON.stringify(expected)) {
    problems.push(
      `"typesVersions" does not mirror "exports" (node10 resolution of subpaths): run 'node tools/scripts/check-packages.mjs --fix'`,
    );
  }
  return problems;
}

/** Rewrites `typesVersions` from `exports`, keeping the key right after `exports`. */
function writeTypesVersions({ file, pkg }) {
  const expected = expectedTypesVersions(pkg);
  if (JSON.stringify(pkg.typesVersions) === JSON.stringify(expected)) return pkg;
  const out = {};
  for (const [key, value] of Object.entries(pkg)) {
    if (key === 'typesVersions') continue;
    out[key] = value;
    if (key === 'exports' && expected) out.typesVersions = expected;
  }
  writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
  console.log(`wrote typesVersions of ${relative(root, file)}`);
  return out;
}

/** Every file path that package.json points at (exports, main, types, bin, typesVersions). */
function pointedAt(pkg) {
  const paths = new Set();
  const walk = (v) => {
    if (typeof v === 'string') paths.add(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(pkg.exports);
  walk(pkg.typesVersions);
  for (const field of ['main', 'module', 'types', 'typings']) walk(pkg[field]);
  walk(typeof pkg.bin === 'string' ? [pkg.bin] : Object.values(pkg.bin ?? {}));
  return [...paths].filter((p) => !p.includes('*')).map((p) => normalize(p));
}

function listFiles(dir, base = dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...listFiles(full, base));
    else out.push(relative(base, full));
  }
  return out;
}

/** Problems in the unpacked tarball of one package. */
function checkTarball(unpacked, pkg) {
  const problems = [];
  const files = new Set(listFiles(unpacked));
  if (!files.has('LICENSE')) problems.push('tarball has no LICENSE');
  else if (readFileSync(join(unpacked, 'LICENSE'), 'utf8') !== license)
    problems.push('LICENSE differs from the repository LICENSE');
  if (!files.has('README.md')) problems.push('tarball has no README.md');
  for (const p of pointedAt(pkg)) if (!files.has(p)) problems.push(`package.json points at ${p}, not in the tarball`);
  for (const f of files) {
    if (/\.(spec|test)\.[cm]?[jt]s$/.test(f) || f.endsWith('.tsbuildinfo')) problems.push(`tarball ships ${f}`);
    if (/\.[cm]?js$/.test(f)) {
      const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(join(unpacked, f), 'utf8'))?.[1];
      if (url && !url.startsWith('data:') && !files.has(join(dirname(f), url)))
        problems.push(`${f} names a source map ${url} that is not in the tarball`);
    }
    if (!f.endsWith('.map')) continue;
    const map = JSON.parse(readFileSync(join(unpacked, f), 'utf8'));
    map.sources.forEach((source, i) => {
      const target = normalize(join(dirname(f), map.sourceRoot ?? '', source));
      if (!files.has(target) && typeof map.sourcesContent?.[i] !== 'string')
        problems.push(`${f}: source ${source} is neither in the tarball (${target}) nor inlined`);
    });
  }
  return problems;
}

const tmp = mkdtempSync(join(tmpdir(), 'check-packages-'));
let failed = false;
try {
  for (const entry of publicPackages(only)) {
    const pkg = fix ? writeTypesVersions(entry) : entry.pkg;
    console.log(`\n${pkg.name}`);
    const problems = checkManifest({ ...entry, pkg });
    const tarball = pack(entry.dir, tmp);
    const unpacked = join(tmp, entry.name);
    mkdirSync(unpacked);
    execFileSync('tar', ['-xzf', tarball, '-C', unpacked, '--strip-components=1']);
    problems.push(...checkTarball(unpacked, pkg));
    for (const p of problems) console.error(`  problem: ${p}`);
    try {
      execFileSync('npx', ['--no-install', 'attw', tarball, '--profile', 'strict', '--format', 'table-flipped'], {
        stdio: 'inherit',
      });
    } catch {
      problems.push('attw found problems (see above)');
    }
    if (problems.length > 0) failed = true;
    else console.log('  metadata, ranges, typesVersions, tarball contents and source maps: ok');
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
