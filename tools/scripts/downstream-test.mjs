#!/usr/bin/env node
// Downstream install test: installs the packages as a new user gets them and runs the READMEs.
//
// 1. `npm pack` of every public package (what `npm publish` would upload).
// 2. Two fresh projects in the system temp folder, outside the workspace (no workspace links,
//    no lockfile), each installing those tarballs plus what the READMEs' install lines name:
//    - "adapters": the newest @connectrpc/connect-express and connect-fastify the registry has,
//      with connect and connect-node at the exact version those adapters require;
//    - "latest": the newest @connectrpc/connect and connect-node (no adapters).
//    The install must succeed (no ERESOLVE), `npm ls --all` must be clean, and there must be
//    exactly one copy of @connectrpc/connect.
// 3. Every README `import` names a package that an install line of the same README names.
// 4. The README's TypeScript blocks type-check against the installed packages with
//    moduleResolution nodenext and node10 (subpath exports through typesVersions).
// 5. Under each Node.js binary given (default: this one), with a server started through the
//    installed @unified-bridge/testing: every README block runs as an ES module and as a
//    CommonJS script, the README's Jest files run with Jest, the README's tools module serves
//    its tools through the CLI, and a stack trace through --enable-source-maps points at a .ts
//    file that exists in the installed package. (docker/healthcheck.mjs: docker-check.mjs.)
//
// Usage: node tools/scripts/downstream-test.mjs [--node /path/to/node]... [--keep]
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const self = fileURLToPath(import.meta.url);
const argv = process.argv.slice(2);

/** A command's stdout; throws (with its output) when it fails. */
function sh(cmd, cmdArgs, options = {}) {
  return execFileSync(cmd, cmdArgs, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options });
}

async function main() {
  const readmeLib = await import('./lib/readme.mjs');
  const { codeBlocks, importedPackages, installLines, packageName } = readmeLib;
  const { pack, publicPackages, readJson, root } = await import('./lib/workspace.mjs');
  const nodes = [];
  for (let i = 0; i < argv.length; i++) if (argv[i] === '--node') nodes.push(argv[++i]);
  if (nodes.length === 0) nodes.push(process.execPath);
  const keep = argv.includes('--keep');

  const tmp = mkdtempSync(join(tmpdir(), 'ub-downstream-'));
  if (!relative(root, tmp).startsWith('..')) throw new Error(`${tmp} is inside the workspace`);
  const problems = [];
  try {
    const packages = publicPackages();
    const ours = new Set(packages.map((p) => p.pkg.name));
    mkdirSync(join(tmp, 'tarballs'));
    const tarballs = new Map(packages.map((p) => [p.pkg.name, pack(p.dir, join(tmp, 'tarballs'))]));
    const rootPkg = readJson(join(root, 'package.json'));

    // What the READMEs tell a user to install, and whether their examples import only that.
    const readmes = packages.map((p) => ({ ...p, markdown: readFileSync(join(p.dir, 'README.md'), 'utf8') }));
    const named = new Set();
    for (const r of readmes) {
      const lines = installLines(r.markdown);
      if (lines.length === 0) problems.push(`${r.pkg.name} README has no npm install line`);
      const onLines = new Set(lines.flat().map(packageName));
      onLines.forEach((n) => named.add(n));
      for (const block of codeBlocks(r.markdown).filter((b) => b.lang === 'ts' || b.lang === 'js')) {
        for (const dep of importedPackages(block.code)) {
          if (!onLines.has(dep) && dep !== r.pkg.name)
            problems.push(`${r.pkg.name} README block ${block.index} imports ${dep}, which no install line names`);
        }
      }
    }

    // The adapters pin connect and connect-node exactly: ask the registry which version.
    const view = (spec, field) => JSON.parse(sh('npm', ['view', spec, field, '--json']));
    const adapters = ['@connectrpc/connect-express', '@connectrpc/connect-fastify'];
    const newest = Object.fromEntries(adapters.map((a) => [a, view(a, 'version')]));
    const peerOf = view(`@connectrpc/connect-express@${newest[adapters[0]]}`, 'peerDependencies');
    const connectFamily = ['@connectrpc/connect', '@connectrpc/connect-node', '@connectrpc/connect-web'];
    const adapterHosts = ['express', 'fastify'];
    // Tools the checks themselves need, at the workspace's versions.
    const tools = ['typescript', '@types/node', '@types/jest'].map((n) => `${n}@${rootPkg.devDependencies[n]}`);
    const thirdParty = [...named].filter((n) => !ours.has(n));
    const projects = [
      {
        name: 'adapters',
        specs: [
          ...thirdParty.filter((n) => !connectFamily.includes(n) && !adapters.includes(n)),
          ...adapters.map((a) => `${a}@${newest[a]}`),
          ...connectFamily.map((n) => `${n}@${peerOf['@connectrpc/connect']}`),
        ],
      },
      {
        name: 'latest',
        specs: thirdParty.filter((n) => !adapters.includes(n) && !adapterHosts.includes(n)).map((n) => `${n}@latest`),
      },
    ];
    for (const project of projects) {
      const dir = join(tmp, project.name);
      mkdirSync(dir);
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `downstream-${project.name}`, private: true }));
      const specs = [...[...tarballs.values()], ...project.specs, ...tools];
      console.log(`\n[${project.name}] npm install ${specs.map((s) => basename(s)).join(' ')}`);
      try {
        sh('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...specs], { cwd: dir, stdio: 'inherit' });
      } catch {
        problems.push(`[${project.name}] npm install failed`);
        continue;
      }
      problems.push(...checkTree(dir, project.name, ours, project.name === 'adapters' ? newest : {}));
      writeBlocks(dir, readmes, readmeLib);
      problems.push(...typeCheck(dir, project.name));
    }

    for (const node of nodes) {
      const version = sh(node, ['--version']).trim();
      console.log(`\n=== README examples and checks under Node.js ${version} ===`);
      const code = await new Promise((resolve) => {
        const child = spawn(node, [self, '--run', tmp], { stdio: 'inherit' });
        child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
      });
      if (code !== 0) problems.push(`checks under Node.js ${version} failed`);
    }
  } catch (err) {
    problems.push(err instanceof Error ? (err.stack ?? err.message) : String(err));
  } finally {
    if (keep) console.log(`\nkept ${tmp}`);
    else rmSync(tmp, { recursive: true, force: true });
  }
  for (const p of problems) console.error(`problem: ${p}`);
  console.log(problems.length === 0 ? '\ndownstream install test: ok' : '\ndownstream install test: FAILED');
  return problems.length === 0 ? 0 : 1;
}

/** Checks the installed tree of one project: real copies, clean peers, one connect, newest adapters. */
function checkTree(dir, name, ours, wantVersions) {
  const problems = [];
  try {
    sh('npm', ['ls', '--all'], { cwd: dir });
  } catch (err) {
    problems.push(`[${name}] npm ls --all is not clean:\n${err.stdout}${err.stderr}`);
  }
  for (const pkg of ours) {
    const at = join(dir, 'node_modules', pkg);
    if (sh('find', [at, '-maxdepth', '0', '-type', 'l']).trim() !== '') problems.push(`[${name}] ${pkg} is a link`);
  }
  const copies = sh('find', [join(dir, 'node_modules'), '-path', '*/@connectrpc/connect/package.json'])
    .trim()
    .split('\n');
  if (copies.length !== 1) problems.push(`[${name}] ${copies.length} copies of @connectrpc/connect: ${copies}`);
  const version = (p) => JSON.parse(readFileSync(join(dir, 'node_modules', p, 'package.json'), 'utf8')).version;
  const report = ['@connectrpc/connect', '@connectrpc/connect-node', ...Object.keys(wantVersions)];
  console.log(`[${name}] installed: ${report.map((p) => `${p}@${version(p)}`).join(', ')}`);
  for (const [p, want] of Object.entries(wantVersions)) {
    if (version(p) !== want) problems.push(`[${name}] ${p} is ${version(p)}, the registry's newest is ${want}`);
  }
  return problems;
}

/**
 * Writes every ts/js README block into `<project>/<package folder>/`: blocks that name a file
 * under that name (TypeScript transpiled to CommonJS .js, as a Jest user's files are), the
 * others as block-<n>.mjs and block-<n>.cjs; and the TypeScript blocks, as written, under
 * typecheck/ (scripts as ES modules, Jest files and support files as CommonJS).
 */
function writeBlocks(dir, readmes, { codeBlocks, toCommonJs, toCommonJsModule, toEsm, importedPackages }) {
  const installed = (p) => existsSync(join(dir, 'node_modules', p, 'package.json'));
  const manifest = [];
  for (const r of readmes) {
    const out = join(dir, r.name);
    mkdirSync(out, { recursive: true });
    for (const sub of ['esm', 'cjs']) mkdirSync(join(dir, 'typecheck', sub, r.name), { recursive: true });
    writeFileSync(join(dir, 'typecheck', 'esm', 'package.json'), '{ "type": "module" }\n');
    writeFileSync(join(dir, 'typecheck', 'cjs', 'package.json'), '{ "type": "commonjs" }\n');
    const write = (file, content) => {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, content);
    };
    for (const extra of readmeFixtures[r.name] ?? []) {
      write(join(out, extra.file.replace(/\.ts$/, '.js')), toCommonJsModule(extra.code));
      write(join(dir, 'typecheck', 'cjs', r.name, extra.file), extra.code);
    }
    for (const block of codeBlocks(r.markdown)) {
      if (block.lang !== 'ts' && block.lang !== 'js') continue;
      const runnable = importedPackages(block.code).every(installed);
      if (block.file) {
        const file = block.file.replace(/\.ts$/, '.js');
        write(join(out, file), block.lang === 'ts' ? toCommonJsModule(block.code) : block.code);
        if (block.lang === 'ts' && runnable) write(join(dir, 'typecheck', 'cjs', r.name, block.file), block.code);
        manifest.push({ readme: r.name, index: block.index, kind: 'file', file: join(r.name, file), runnable });
        continue;
      }
      const base = join(r.name, `block-${block.index}`);
      writeFileSync(join(dir, `${base}.mjs`), toEsm(block.code));
      writeFileSync(join(dir, `${base}.cjs`), toCommonJs(block.code));
      if (block.lang === 'ts' && runnable)
        writeFileSync(join(dir, 'typecheck', 'esm', r.name, `block-${block.index}.ts`), block.code);
      manifest.push({ readme: r.name, index: block.index, heading: block.heading, kind: 'script', base, runnable });
    }
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
}

/**
 * README blocks (`<package folder>: <section>`) that cannot pass as scripts yet, with the reason;
 * they are reported as skipped. Remove an entry once its cause is fixed.
 */
const knownIssues = {};

/** Files a README example refers to but leaves to the reader, keyed by package folder. */
const readmeFixtures = {
  store: [
    {
      file: 'my-store.ts',
      code: "import { MemoryStore } from '@unified-bridge/store';\n\n/** The reader's own backend; here the in-memory one. */\nexport class MyStore extends MemoryStore {}\n",
    },
  ],
};

/** Type-checks the README's TypeScript blocks with moduleResolution nodenext and node10. */
function typeCheck(dir, name) {
  const problems = [];
  const common = {
    target: 'es2022',
    lib: ['es2023', 'esnext.disposable', 'dom'],
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    esModuleInterop: true,
    types: ['node', 'jest'],
  };
  const configs = {
    nodenext: { module: 'nodenext', moduleResolution: 'nodenext' },
    node10: { module: 'es2022', moduleResolution: 'node10' },
  };
  for (const [resolution, options] of Object.entries(configs)) {
    const file = join(dir, `tsconfig.${resolution}.json`);
    writeFileSync(file, JSON.stringify({ compilerOptions: { ...common, ...options }, include: ['typecheck/**/*.ts'] }));
    try {
      sh(process.execPath, [join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', file], { cwd: dir });
      console.log(`[${name}] README TypeScript blocks type-check with moduleResolution ${resolution}`);
    } catch (err) {
      problems.push(`[${name}] README blocks do not type-check with moduleResolution ${resolution}:\n${err.stdout}`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// The checks that run under one Node.js binary (`--run <tmp>`), from the installed packages.

/** Runs `node args...` in `cwd`; resolves to its exit code and output. */
function runNode(args, { cwd, env = {}, timeoutMs = 60_000 }) {
  return new Promise((resolve) => {
    const merged = { ...process.env, ...env };
    for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k];
    const child = spawn(process.execPath, args, { cwd, env: merged, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => {
      out += `\n(killed after ${timeoutMs} ms)`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 1 : 0), out });
    });
  });
}

async function runChecks(tmp) {
  const results = [];
  const check = async (name, fn) => {
    try {
      const detail = await fn();
      results.push({ name, ok: true });
      console.log(`ok - ${name}${detail ? ` (${detail})` : ''}`);
    } catch (err) {
      results.push({ name, ok: false });
      console.log(`not ok - ${name}\n${String(err instanceof Error ? err.message : err).replace(/^/gm, '    ')}`);
    }
  };
  const expectExit = async (args, options) => {
    const { code, out } = await runNode(args, options);
    if (code !== 0) throw new Error(`exit ${code}\n${out}`);
    return out;
  };

  const main = join(tmp, 'adapters');
  const load = (project, name) =>
    import(pathToFileURL(createRequire(join(tmp, project, 'package.json')).resolve(name)));
  const { startRedis, startServer } = await load('adapters', '@unified-bridge/testing');
  const { createBridgeClient } = await load('adapters', '@unified-bridge/client');
  for (const [key, reason] of Object.entries(knownIssues)) console.log(`known issue "${key}": ${reason}`);
  const server = await startServer();
  // The store-redis README runs against a redis-server of its own (Debian's, as in CI).
  const redis = await startRedis();
  try {
    for (const project of ['adapters', 'latest']) {
      const dir = join(tmp, project);
      if (!existsSync(join(dir, 'manifest.json'))) continue;
      const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
      for (const entry of manifest.filter((e) => e.kind === 'script' && e.runnable)) {
        for (const ext of ['mjs', 'cjs']) {
          const name = `[${project}] ${entry.readme} README block ${entry.index} (${entry.heading}) as ${ext}`;
          const key = `${entry.readme}: ${entry.heading}`;
          if (knownIssues[key]) {
            results.push({ name, skipped: true });
            console.log(`skip - ${name} (known issue "${key}", see above)`);
            continue;
          }
          await check(name, () =>
            expectExit([`${entry.base}.${ext}`], {
              cwd: dir,
              env: { BRIDGE_URL: server.url, REDIS_URL: redis.url },
            }).then(() => undefined),
          );
        }
      }
    }

    // The README's Jest files, with Jest: one run per folder that has a jest.config.js (the
    // README's folder or a subfolder such as auth/), and one per README folder without one.
    const manifest = JSON.parse(readFileSync(join(main, 'manifest.json'), 'utf8'));
    const files = manifest.filter((e) => e.kind === 'file').map((e) => e.file);
    const configDirs = files.filter((f) => basename(f) === 'jest.config.js').map((f) => dirname(f));
    const testDirs = files.filter((f) => /\.(test|spec)\.js$/.test(f)).map((f) => dirname(f));
    const owner = (d) =>
      configDirs
        .filter((c) => d === c || d.startsWith(`${c}/`))
        .sort()
        .pop() ?? d;
    for (const jestDir of [...new Set(testDirs.map(owner))]) {
      await check(`[adapters] README Jest files in ${jestDir}/ with Jest`, async () => {
        const nested = configDirs.filter((c) => c.startsWith(`${jestDir}/`)).map((c) => `/${basename(c)}/`);
        const jest = join(main, 'node_modules', 'jest', 'bin', 'jest.js');
        const ignore = nested.flatMap((n) => ['--testPathIgnorePatterns', n]);
        const out = await expectExit([jest, '--ci', '--colors=false', '--rootDir', '.', ...ignore], {
          cwd: join(main, jestDir),
          env: { UNIFIED_BRIDGE_URL: undefined },
          timeoutMs: 180_000,
        });
        return /Tests:.*$/m.exec(out)?.[0];
      });
    }

    // The server README's tools module, served by the installed CLI.
    const toolsModule = manifest.find((e) => e.readme === 'server' && /\.mjs$/.test(e.file ?? ''));
    await check('[adapters] server README tools module through unified-bridge serve --tools-module', async () => {
      if (!toolsModule) throw new Error('the server README has no tools module block');
      const bridge = await startServer({ args: ['--tools-module', join(main, toolsModule.file)] });
      const client = createBridgeClient({ baseUrl: bridge.url, protocol: 'connect', httpVersion: '1.1' });
      try {
        const session = await client.createSession();
        const names = (await session.tools.list()).map((t) => t.name).sort();
        const greeting = await session.tools.call('greet', { name: 'downstream' });
        if (greeting !== 'hello downstream') throw new Error(`greet returned ${JSON.stringify(greeting)}`);
        return `tools ${names.join(', ')}`;
      } finally {
        await client.close();
        await bridge.stop();
      }
    });

    // Source maps: a stack trace from the installed package points at a .ts file that exists.
    for (const [ext, code] of [
      ['mjs', "import { createBridgeClient } from '@unified-bridge/client';"],
      ['cjs', "const { createBridgeClient } = require('@unified-bridge/client');"],
    ]) {
      await check(`[adapters] stack traces through source maps (${ext}) point at shipped sources`, async () => {
        const file = join(main, `stack.${ext}`);
        writeFileSync(
          file,
          `${code}\ntry { createBridgeClient({ baseUrl: 'not a url' }); } catch (err) { console.log(err.stack); }\n`,
        );
        const out = await expectExit(['--enable-source-maps', file], { cwd: main });
        const frame = /\((\/[^)]*\/node_modules\/@unified-bridge\/client\/[^):]+):(\d+):\d+\)/.exec(out);
        if (!frame) throw new Error(`no frame inside @unified-bridge/client:\n${out}`);
        const [, path, line] = frame;
        if (!path.endsWith('.ts') || !existsSync(path))
          throw new Error(`frame points at ${path}, which is not a shipped .ts file`);
        const lines = readFileSync(path, 'utf8').split('\n');
        if (!/\bthrow\b/.test(lines[Number(line) - 1] ?? '')) throw new Error(`${path}:${line} is not a throw`);
        return `${relative(main, path)}:${line}`;
      });
    }
  } finally {
    await redis.stop();
    await server.stop();
  }
  const failed = results.filter((r) => !r.ok && !r.skipped).length;
  const skipped = results.filter((r) => r.skipped).length;
  const passed = results.length - failed - skipped;
  console.log(`downstream (Node.js ${process.version}): ${passed} passed, ${failed} failed, ${skipped} skipped`);
  return failed === 0 ? 0 : 1;
}

process.exit(argv[0] === '--run' ? await runChecks(argv[1]) : await main());
