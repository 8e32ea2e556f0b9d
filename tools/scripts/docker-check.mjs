#!/usr/bin/env node
// Checks docker/Dockerfile without a Docker engine: first by reading it, then by running its
// commands outside Docker.
//
// Reading: the base image is an exact Node.js version (a digest may follow) of the newest major
// that .ci/run tests; the build stage copies every workspace's package.json and the lockfile
// before `npm ci` and the sources after it (so the dependency layer is cached); the runtime
// image has the OCI labels, a non-root USER, a HEALTHCHECK and an ENTRYPOINT, and copies no
// workspace folder.
//
// Running: in a copy of the repository in the system temp folder, the RUN commands of the build
// stages in order (the `/src` work dir is that copy), then the runtime stage's COPY and RUN into
// an app folder standing for `/app`. From there, through the project's harness, the ENTRYPOINT
// serves with TLS on and the server README's tools module mounted under /app/tools (it imports
// @unified-bridge/server), a client calls a tool of it, the HEALTHCHECK command passes, and it
// fails once the server has stopped.
//
// Usage: node tools/scripts/docker-check.mjs [--keep]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { codeBlocks } from './lib/readme.mjs';
import { readJson, root } from './lib/workspace.mjs';

const dockerfile = join(root, 'docker', 'Dockerfile');
const self = fileURLToPath(import.meta.url);

/** The Dockerfile as instructions: `{ op, args, stage }`, continuation lines joined. */
function parseDockerfile(text) {
  const joined = text.replace(/\\\n/g, ' ');
  const out = [];
  let stage;
  for (const raw of joined.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [, op, args] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    if (!op) continue;
    if (op.toUpperCase() === 'FROM') stage = /\bAS\s+(\S+)/i.exec(args)?.[1] ?? args;
    out.push({ op: op.toUpperCase(), args: args.trim(), stage });
  }
  return out;
}

/** `KEY=value KEY2="value 2"` pairs of an ENV or LABEL instruction. */
function pairs(args) {
  return Object.fromEntries([...args.matchAll(/([\w.-]+)=("([^"]*)"|\S+)/g)].map((m) => [m[1], m[3] ?? m[2]]));
}

function staticProblems(instructions) {
  const problems = [];
  const need = (ok, message) => ok || problems.push(message);
  const args = Object.fromEntries(
    instructions.filter((i) => i.op === 'ARG' && i.stage === undefined).map((i) => i.args.split('=')),
  );
  const image = args.NODE_IMAGE ?? '';
  const tag = /^node:(\d+)\.(\d+)\.(\d+)-[\w-]+(@sha256:[0-9a-f]{64})?$/.exec(image);
  const ciRun = readFileSync(join(root, '.ci', 'run'), 'utf8');
  const tested = (/^NODE_VERSIONS="([^"]*)"/m.exec(ciRun)?.[1] ?? '').split(/\s+/).filter(Boolean);
  const newest = tested.sort((a, b) => Number(b.split('.')[0]) - Number(a.split('.')[0]))[0];
  need(tag, `base image ${image || '(none)'} is not an exact node:<x.y.z>-<variant> tag`);
  need(
    tag && `${tag[1]}.${tag[2]}.${tag[3]}` === newest,
    `base image ${image} is not Node.js ${newest}, the newest version .ci/run tests`,
  );

  const build = instructions.filter((i) => i.stage === 'build');
  const ci = build.findIndex((i) => i.op === 'RUN' && /\bnpm ci\b/.test(i.args));
  need(ci >= 0, 'the build stage runs no npm ci');
  const copied = build
    .slice(0, ci)
    .filter((i) => i.op === 'COPY')
    .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
  const manifests = ['package.json', 'package-lock.json'];
  for (const pattern of readJson(join(root, 'package.json')).workspaces ?? []) {
    const base = pattern.replace(/\/\*$/, '');
    for (const dir of execFileSync('ls', [join(root, base)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)) {
      if (existsSync(join(root, base, dir, 'package.json'))) manifests.push(`${base}/${dir}/package.json`);
    }
  }
  for (const m of manifests) need(copied.includes(m), `the build stage does not copy ${m} before npm ci`);
  need(
    copied.every((c) => manifests.includes(c)),
    `the build stage copies more than manifests before npm ci: ${copied.filter((c) => !manifests.includes(c))}`,
  );
  need(
    build.slice(ci + 1).some((i) => i.op === 'COPY' && i.args === '. .'),
    'the build stage does not copy the sources after npm ci',
  );

  const runtime = instructions.filter((i) => i.stage === instructions.at(-1).stage);
  const labels = Object.assign({}, ...runtime.filter((i) => i.op === 'LABEL').map((i) => pairs(i.args)));
  for (const key of ['title', 'description', 'source', 'licenses', 'version', 'revision']) {
    need(labels[`org.opencontainers.image.${key}`], `no LABEL org.opencontainers.image.${key}`);
  }
  const user = runtime.filter((i) => i.op === 'USER').at(-1)?.args;
  need(user && user !== 'root' && user !== '0', 'the runtime image runs as root');
  need(
    runtime.some((i) => i.op === 'HEALTHCHECK' && /\bCMD\b/.test(i.args)),
    'the runtime image has no HEALTHCHECK CMD',
  );
  need(
    runtime.some((i) => i.op === 'ENTRYPOINT'),
    'the runtime image has no ENTRYPOINT',
  );
  for (const copy of runtime.filter((i) => i.op === 'COPY')) {
    need(!/\bpackages\//.test(copy.args), `the runtime image copies a workspace folder: COPY ${copy.args}`);
  }
  return problems;
}

/** Runs the RUN commands of the build stages in `work` (for /src) and assembles `app` (for /app). */
function runCommands(instructions, work, app) {
  const map = (p) => p.replace(/^\/src(?=\/|$)/, work).replace(/^\/app(?=\/|$)/, app);
  const stages = [...new Set(instructions.map((i) => i.stage).filter(Boolean))];
  const runtimeStage = stages.at(-1);
  const env = {};
  for (const i of instructions) {
    if (i.op === 'ENV') Object.assign(env, pairs(i.args));
    if (i.op === 'RUN' && i.stage !== runtimeStage) {
      const command = i.args.replace(/^(--[\w-]+=\S+\s+)+/, '');
      console.log(`[${i.stage}] RUN ${command}`);
      const r = spawnSync('sh', ['-c', command], { cwd: work, env: { ...process.env, ...env }, stdio: 'inherit' });
      if (r.status !== 0) throw new Error(`[${i.stage}] RUN ${command} exited ${r.status}`);
    }
    if (i.stage !== runtimeStage) continue;
    if (i.op === 'COPY') {
      const parts = i.args.split(/\s+/);
      const from = parts.find((p) => p.startsWith('--from='))?.slice('--from='.length);
      const [src, dst] = parts.filter((p) => !p.startsWith('--'));
      const target = dst.startsWith('/') ? map(dst) : join(app, dst);
      mkdirSync(dirname(target), { recursive: true });
      cpSync(from ? map(src) : join(work, src), target, { recursive: true, verbatimSymlinks: true });
      console.log(`[${i.stage}] COPY ${i.args}`);
    }
    if (i.op === 'RUN') {
      const command = i.args.replace(/(^|\s)(\/app)(?=\/|\s|$)/g, `$1${app}`);
      execFileSync('sh', ['-c', command], { cwd: app, stdio: 'inherit' });
      console.log(`[${i.stage}] RUN ${i.args}`);
    }
  }
  const jsonArgs = (op) => JSON.parse(instructions.filter((i) => i.stage === runtimeStage && i.op === op).at(-1).args);
  const health = instructions.find((i) => i.stage === runtimeStage && i.op === 'HEALTHCHECK').args;
  return {
    entrypoint: jsonArgs('ENTRYPOINT').map(map),
    cmd: jsonArgs('CMD'),
    healthcheck: JSON.parse(health.slice(health.indexOf('CMD') + 3)).map(map),
    env: Object.assign(
      {},
      ...instructions.filter((i) => i.stage === runtimeStage && i.op === 'ENV').map((i) => pairs(i.args)),
    ),
  };
}

/** The checks against the assembled app folder, in a process that trusts the test certificate. */
async function serveChecks(tmp) {
  const { app, image, cert, key } = JSON.parse(readFileSync(join(tmp, 'image.json'), 'utf8'));
  const { startServer } = await import('@unified-bridge/testing');
  const { createBridgeClient } = await import('@unified-bridge/client');
  const [node, cliPath, ...rest] = image.entrypoint;
  if (!/(^|\/)node$/.test(node) || rest.length > 0 || image.cmd[0] !== 'serve')
    throw new Error(`unexpected ENTRYPOINT/CMD: ${JSON.stringify(image)}`);
  // The image's environment, but on loopback and any free port here; TLS through the variables
  // the health check reads as well.
  const env = {
    ...image.env,
    UNIFIED_BRIDGE_HOST: '127.0.0.1',
    PORT: '0',
    UNIFIED_BRIDGE_TLS_CERT: cert,
    UNIFIED_BRIDGE_TLS_KEY: key,
    UNIFIED_BRIDGE_TOOLS_MODULE: join(app, 'tools', 'my-tools.mjs'),
  };
  const runHealthcheck = (port) =>
    new Promise((resolve) => {
      const [cmd, ...args] = image.healthcheck;
      const child = spawn(cmd === 'node' ? process.execPath : cmd, args, {
        cwd: app,
        env: { ...process.env, ...env, PORT: String(port), NODE_EXTRA_CA_CERTS: '' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      child.on('exit', (code) => resolve({ code, err: err.trim() }));
    });
  const server = await startServer({ cliPath, cwd: app, env });
  let port;
  try {
    if (!server.url.startsWith('https://')) throw new Error(`${server.url}: TLS is not on`);
    port = server.port;
    const client = createBridgeClient({ baseUrl: server.url, protocol: 'grpc' });
    try {
      const session = await client.createSession();
      const greeting = await session.tools.call('greet', { name: 'docker' });
      if (greeting !== 'hello docker') throw new Error(`greet returned ${JSON.stringify(greeting)}`);
      console.log(`ok - the entrypoint serves ${server.url} with the mounted tools module (greet: ${greeting})`);
    } finally {
      await client.close();
    }
    const up = await runHealthcheck(port);
    if (up.code !== 0) throw new Error(`HEALTHCHECK failed against the TLS server: ${up.err}`);
    console.log('ok - HEALTHCHECK passes with TLS on');
  } finally {
    await server.stop();
  }
  const down = await runHealthcheck(port);
  if (down.code === 0) throw new Error('HEALTHCHECK passed with the server stopped');
  console.log(`ok - HEALTHCHECK fails once the server stopped (${down.err})`);
}

async function main() {
  const instructions = parseDockerfile(readFileSync(dockerfile, 'utf8'));
  const problems = staticProblems(instructions);
  for (const p of problems) console.error(`problem: ${p}`);
  if (problems.length > 0) return 1;
  console.log('ok - docker/Dockerfile: pinned LTS base, cached dependency layer, OCI labels, non-root, HEALTHCHECK');

  const tmp = mkdtempSync(join(tmpdir(), 'ub-docker-'));
  try {
    const work = join(tmp, 'src');
    const app = join(tmp, 'app');
    mkdirSync(app);
    // The build context: the repository's files, less what docker/Dockerfile.dockerignore drops
    // (node_modules, dist, .git, ...: none of them is listed by git ls-files -co --exclude-standard).
    const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: root, encoding: 'utf8' })
      .split('\0')
      .filter((f) => f && existsSync(join(root, f)));
    for (const f of files) cpSync(join(root, f), join(work, f), { recursive: true });
    const image = runCommands(instructions, work, app);
    for (const link of execFileSync('find', [app, '-type', 'l', '-lname', '*packages/*'], { encoding: 'utf8' }).split(
      '\n',
    )) {
      if (link) throw new Error(`a workspace link in the image: ${link}`);
    }
    const toolsBlock = codeBlocks(readFileSync(join(root, 'packages', 'server', 'README.md'), 'utf8')).find(
      (b) => b.file === 'my-tools.mjs',
    );
    if (!toolsBlock) throw new Error('the server README has no my-tools.mjs block');
    writeFileSync(join(app, 'tools', 'my-tools.mjs'), toolsBlock.code);
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1'],
        ...['-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(tmp, 'key.pem'), '-out', join(tmp, 'cert.pem')],
      ],
      { stdio: 'ignore' },
    );
    writeFileSync(
      join(tmp, 'image.json'),
      JSON.stringify({ app, image, cert: join(tmp, 'cert.pem'), key: join(tmp, 'key.pem') }),
    );
    const code = await new Promise((resolve) => {
      const child = spawn(process.execPath, [self, '--serve', tmp], {
        stdio: 'inherit',
        env: { ...process.env, NODE_EXTRA_CA_CERTS: join(tmp, 'cert.pem') },
      });
      child.on('exit', (c) => resolve(c ?? 1));
    });
    return code;
  } finally {
    if (process.argv.includes('--keep')) console.log(`kept ${tmp}`);
    else rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--serve') {
  await serveChecks(process.argv[3]).then(
    () => process.exit(0),
    (err) => {
      console.error(`problem: ${err instanceof Error ? err.message : err}`);
      process.exit(1);
    },
  );
} else {
  process.exit(await main());
}
