import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trackChild, untrackChild } from './exit-hooks.js';

/** How `redis-server` syncs its append-only file (`appendfsync`). */
export type RedisAppendFsync = 'always' | 'everysec' | 'no';

/** Options of {@link startRedis}. Every field is optional. */
export interface StartRedisOptions {
  /**
   * Turn on the append-only file (`appendonly yes`) so data survives a restart of the process.
   * Default false: no persistence at all (`save ""`, `appendonly no`), the fastest setting.
   */
  appendOnly?: boolean;
  /**
   * How often the append-only file is synced (`appendfsync`); only with `appendOnly`. `always`
   * syncs before every write is acknowledged (no acknowledged write is lost on a crash), `everysec`
   * (Redis's default) may lose the last second. Default `"everysec"`.
   */
  appendFsync?: RedisAppendFsync;
  /** Extra `redis-server` arguments, for example `['--maxmemory', '100mb']`. Default none. */
  args?: readonly string[];
  /** The `redis-server` binary. Default `"redis-server"` from `PATH` (Debian: `apt-get install redis-server`). */
  redisServerPath?: string;
  /** How long to wait for "Ready to accept connections" per attempt, in ms. Default 10,000. */
  startupTimeoutMs?: number;
  /** How long `stop()` waits after SIGTERM before SIGKILL, in ms. Default 5,000. */
  stopGraceMs?: number;
}

/** @internal What a started node needs to start again: how, where, on which port. */
interface NodeSpec {
  readonly binary: string;
  readonly args: readonly string[];
  readonly dir: string;
  readonly port: number;
  readonly startupTimeoutMs: number;
}

const LOG_TAIL_LINES = 30;
/** Attempts to find a free port before giving up (another process may take a probed port first). */
const PORT_ATTEMPTS = 10;

/** Thrown by one start attempt whose port was taken in the meantime (the caller retries on another). */
class PortInUse extends Error {}

/** Resolves `true` when `port` on 127.0.0.1 can be bound right now. */
function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** A port that is free now (and, with `withBus`, whose cluster bus port `port + 10000` is free too). */
async function freePort(withBus: boolean): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const probe = createServer();
      probe.once('error', reject);
      probe.listen(0, '127.0.0.1', () => {
        const address = probe.address();
        probe.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
      });
    });
    if (port === 0) continue;
    if (!withBus) return port;
    if (port + 10_000 <= 65_535 && (await canBind(port + 10_000))) return port;
  }
}

/** The command line of a node: no persistence unless asked, loopback only, logs on stdout. */
function nodeArgs(options: StartRedisOptions, dir: string, port: number, cluster: boolean): string[] {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--daemonize', 'no'];
  args.push('--logfile', '', '--loglevel', 'notice');
  if (options.appendOnly === true) {
    args.push('--appendonly', 'yes', '--appendfsync', options.appendFsync ?? 'everysec');
  } else {
    args.push('--appendonly', 'no');
  }
  if (cluster) {
    args.push('--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'));
    args.push('--cluster-node-timeout', '5000');
  }
  args.push(...(options.args ?? []));
  return args;
}

/**
 * Spawns one `redis-server` process and resolves when it logs that it accepts connections.
 * Rejects with {@link PortInUse} when the port was taken, with a clear error when the binary is
 * missing, and with the log tail for anything else.
 */
function spawnNode(spec: NodeSpec): Promise<{ child: ChildProcess; exited: Promise<void> }> {
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(spec.binary, [...spec.args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: spec.dir });
    } catch (err) {
      reject(err);
      return;
    }
    const lines: string[] = [];
    let settled = false;
    const tail = (): string => lines.slice(-LOG_TAIL_LINES).join('\n') || '(none)';
    const timer = setTimeout(
      () =>
        fail(
          new Error(
            `startRedis(): redis-server on port ${spec.port} was not ready within ${spec.startupTimeoutMs} ms\n` +
              `--- redis-server output (last ${LOG_TAIL_LINES} lines) ---\n${tail()}`,
          ),
        ),
      spec.startupTimeoutMs,
    );
    const exited = new Promise<void>((done) => {
      child.once('close', () => {
        untrackChild(child);
        done();
      });
    });
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) child.kill('SIGKILL');
      void exited.then(() => reject(err));
      if (child.pid === undefined) reject(err);
    };
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        fail(
          new Error(
            `startRedis(): ${spec.binary} was not found: install Debian's redis-server ` +
              '(apt-get install redis-server) or pass redisServerPath',
            { cause: err },
          ),
        );
      } else fail(err);
    });
    if (child.pid !== undefined) trackChild(child, spec.dir);
    const onLine = (line: string): void => {
      lines.push(line);
      if (lines.length > 200) lines.shift();
      if (settled) return;
      if (/Address already in use/.test(line)) {
        fail(new PortInUse(`port ${spec.port} is in use`));
      } else if (/Ready to accept connections/.test(line)) {
        settled = true;
        clearTimeout(timer);
        resolve({ child, exited });
      }
    };
    for (const stream of [child.stdout, child.stderr]) {
      let buffered = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        buffered += chunk;
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          onLine(buffered.slice(0, nl));
          buffered = buffered.slice(nl + 1);
        }
      });
    }
    void exited.then(() => {
      if (!settled) {
        fail(
          new Error(
            `startRedis(): ${spec.binary} exited before it was ready (${spec.binary} ${spec.args.join(' ')})\n` +
              `--- redis-server output (last ${LOG_TAIL_LINES} lines) ---\n${tail()}`,
          ),
        );
      }
    });
  });
}

/** Lets a started node no longer keep the test process alive (the exit hooks kill it if left running). */
function unrefChild(child: ChildProcess): void {
  child.unref();
  (child.stdout as Socket | null)?.unref?.();
  (child.stderr as Socket | null)?.unref?.();
}

/** Checks the options of {@link startRedis} before anything is created. */
function checkOptions(options: StartRedisOptions): void {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('startRedis(options): options must be an object');
  }
  for (const name of ['startupTimeoutMs', 'stopGraceMs'] as const) {
    const value = options[name];
    if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value > 0)) {
      throw new RangeError(`startRedis(): options.${name} must be a number > 0, got ${String(value)}`);
    }
  }
  if (options.appendFsync !== undefined && !['always', 'everysec', 'no'].includes(options.appendFsync)) {
    throw new RangeError(
      `startRedis(): options.appendFsync must be "always", "everysec" or "no", got ${String(options.appendFsync)}`,
    );
  }
  if (
    options.args !== undefined &&
    (!Array.isArray(options.args) || !options.args.every((a) => typeof a === 'string'))
  ) {
    throw new TypeError('startRedis(): options.args must be an array of strings');
  }
}

/**
 * A `redis-server` child process started by {@link startRedis} (or one node of
 * {@link startRedisCluster}), ready to accept connections when you get it.
 *
 * Lifecycle: running (after start), down (after {@link StartedRedis.kill}: the process ended,
 * the port and the data dir are kept, so {@link StartedRedis.restart} brings it back on the same
 * port with the same data), stopped (after {@link StartedRedis.stop}: final, the temp dir is gone).
 */
export class StartedRedis implements AsyncDisposable {
  /** `redis://127.0.0.1:<port>`, for clients. */
  readonly url: string;
  /** Always `"127.0.0.1"`. */
  readonly host = '127.0.0.1';
  /** The TCP port (kept across restarts). */
  readonly port: number;
  /** The node's own temp dir (its `dir`: AOF, RDB, `nodes.conf`), removed by `stop()`. */
  readonly dir: string;

  #spec: NodeSpec;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #stopped = false;
  readonly #graceMs: number;

  /** Not for direct use: call {@link startRedis}. */
  constructor(init: { spec: NodeSpec; child: ChildProcess; exited: Promise<void>; graceMs: number }) {
    this.#spec = init.spec;
    this.port = init.spec.port;
    this.dir = init.spec.dir;
    this.url = `redis://127.0.0.1:${init.spec.port}`;
    this.#graceMs = init.graceMs;
    this.#adopt(init.child, init.exited);
  }

  /** The process id of the running `redis-server`, or `undefined` while it is down. */
  get pid(): number | undefined {
    return this.running ? this.#child?.pid : undefined;
  }

  /** Whether the process is running. */
  get running(): boolean {
    const c = this.#child;
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  }

  /**
   * Ends the process with `signal` (default SIGTERM: Redis flushes its AOF and exits; SIGKILL
   * simulates a crash) and waits for the exit. Port and data dir are kept for {@link restart}.
   */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.#child;
    if (child === undefined || !this.running) return this.#exited;
    child.ref();
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), this.#graceMs);
    timer.unref();
    try {
      await this.#exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Starts the node again on the same port with the same data dir and settings (after
   * {@link kill}, or kills it first with SIGTERM). With `appendOnly`, the data is loaded back.
   * @throws when the port was taken in the meantime or the node does not become ready.
   */
  async restart(): Promise<void> {
    if (this.#stopped) throw new Error('StartedRedis.restart(): the node was stopped');
    await this.kill();
    const { child, exited } = await spawnNode(this.#spec);
    this.#adopt(child, exited);
  }

  /** Ends the process (SIGTERM, SIGKILL after the grace period) and removes the temp dir. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.kill();
    await rm(this.#spec.dir, { recursive: true, force: true });
  }

  /** Same as {@link StartedRedis.stop}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  #adopt(child: ChildProcess, exited: Promise<void>): void {
    this.#child = child;
    this.#exited = exited;
    unrefChild(child);
  }
}

/** Starts one node on a free port (retrying when the probed port is taken before redis binds it). */
async function startNode(options: StartRedisOptions, cluster: boolean, dir: string): Promise<StartedRedis> {
  const binary = options.redisServerPath ?? 'redis-server';
  let lastError: unknown;
  for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
    const port = await freePort(cluster);
    const spec: NodeSpec = {
      binary,
      args: nodeArgs(options, dir, port, cluster),
      dir,
      port,
      startupTimeoutMs: options.startupTimeoutMs ?? 10_000,
    };
    try {
      const { child, exited } = await spawnNode(spec);
      return new StartedRedis({ spec, child, exited, graceMs: options.stopGraceMs ?? 5_000 });
    } catch (err) {
      lastError = err;
      if (!(err instanceof PortInUse)) break;
    }
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError instanceof PortInUse
    ? new Error(`startRedis(): no free port after ${PORT_ATTEMPTS} attempts`, { cause: lastError })
    : lastError;
}

/**
 * Starts Debian's `redis-server` on a free loopback port with its own temp dir and no
 * persistence (or an append-only file with `appendOnly`), and resolves when it accepts
 * connections. `stop()` (or `await using`) ends it and removes the dir; a server still running
 * when the test process exits is killed. A missing binary fails with an error that says how to
 * install it.
 *
 * @example
 * await using redis = await startRedis({ appendOnly: true, appendFsync: 'always' });
 * const store = createRedisStore({ url: redis.url });
 * await redis.kill('SIGKILL'); // a crash
 * await redis.restart(); // same port, same data
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<StartedRedis> {
  checkOptions(options);
  return startNode(options, false, await mkdtemp(join(tmpdir(), 'unified-bridge-redis-')));
}

/** Options of {@link startRedisCluster}: those of {@link startRedis} for every node, plus the shape. */
export interface StartRedisClusterOptions extends StartRedisOptions {
  /** How many master nodes (each gets a share of the 16,384 hash slots). Default 3, at least 3. */
  masters?: number;
  /** The `redis-cli` binary used for `--cluster create`. Default `"redis-cli"` from `PATH`. */
  redisCliPath?: string;
}

/** Runs `redis-cli` and resolves its stdout (rejects with its stderr). */
function redisCli(cli: string, args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cli, [...args], { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) {
        const hint =
          (err as NodeJS.ErrnoException).code === 'ENOENT' ? ` (${cli} was not found: install redis-tools)` : '';
        reject(new Error(`${cli} ${args.join(' ')} failed${hint}: ${stderr || stdout || err.message}`, { cause: err }));
      } else resolve(stdout);
    });
  });
}

/**
 * A Redis Cluster of master nodes on loopback started by {@link startRedisCluster}, every slot
 * assigned and `cluster_state:ok` on every node when you get it.
 */
export class StartedRedisCluster implements AsyncDisposable {
  /** The nodes, in the order they were started. */
  readonly nodes: readonly StartedRedis[];

  /** Not for direct use: call {@link startRedisCluster}. */
  constructor(nodes: readonly StartedRedis[]) {
    this.nodes = nodes;
  }

  /** `{ host, port }` of every node: the seed list a cluster client takes. */
  get seeds(): { host: string; port: number }[] {
    return this.nodes.map((n) => ({ host: n.host, port: n.port }));
  }

  /** The `redis://` URL of every node. */
  get urls(): string[] {
    return this.nodes.map((n) => n.url);
  }

  /** Stops every node and removes their temp dirs. Idempotent. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }

  /** Same as {@link StartedRedisCluster.stop}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/**
 * Starts a Redis Cluster of `masters` (default 3) `redis-server --cluster-enabled yes` nodes on
 * free loopback ports (their cluster bus ports, `port + 10000`, free too), each with its own temp
 * dir, joins them with `redis-cli --cluster create ... --cluster-replicas 0 --cluster-yes`, and
 * resolves when every node reports `cluster_state:ok`. Everything is stopped by `stop()` (or
 * `await using`), and killed if the test process exits first.
 *
 * @example
 * await using cluster = await startRedisCluster({ masters: 3 });
 * const store = createRedisStore({ cluster: { nodes: cluster.seeds } });
 */
export async function startRedisCluster(options: StartRedisClusterOptions = {}): Promise<StartedRedisCluster> {
  checkOptions(options);
  const masters = options.masters ?? 3;
  if (!Number.isInteger(masters) || masters < 3 || masters > 16) {
    throw new RangeError(
      `startRedisCluster(): options.masters must be an integer from 3 to 16, got ${String(masters)}`,
    );
  }
  const cli = options.redisCliPath ?? 'redis-cli';
  const timeoutMs = options.startupTimeoutMs ?? 10_000;
  const nodes: StartedRedis[] = [];
  try {
    for (let i = 0; i < masters; i++) {
      nodes.push(await startNode(options, true, await mkdtemp(join(tmpdir(), `unified-bridge-redis-c${i}-`))));
    }
    const addresses = nodes.map((n) => `${n.host}:${n.port}`);
    await redisCli(
      cli,
      ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'],
      timeoutMs * 3,
    );
    const deadline = Date.now() + timeoutMs * 3;
    for (const n of nodes) {
      // Poll the node's own view until the slot assignment has reached it over the cluster bus.
      for (;;) {
        const info = await redisCli(cli, ['-h', n.host, '-p', String(n.port), 'cluster', 'info'], timeoutMs);
        if (/cluster_state:ok/.test(info) && /cluster_known_nodes:(\d+)/.exec(info)?.[1] === String(masters)) break;
        if (Date.now() > deadline) throw new Error(`startRedisCluster(): node ${n.port} is not ok: ${info.trim()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    return new StartedRedisCluster(nodes);
  } catch (err) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw err;
  }
}
