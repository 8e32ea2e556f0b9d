import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BridgeLogLevel } from '@unified-bridge/server';
import { trackChild, untrackChild } from './exit-hooks.js';
import { waitForServing } from './health.js';
import { resolveServerCli } from './server-cli.js';

/** How a server process ended (`code` and `signal` as Node's `ChildProcess` reports them). */
export interface ServerExit {
  /** Exit code, or `null` when a signal ended the process. */
  code: number | null;
  /** Signal that ended the process, or `null`. */
  signal: NodeJS.Signals | null;
}

/** Log level names of the server CLI (`--log-level`): the server's own `BridgeLogLevel`. */
export type ServerLogLevel = BridgeLogLevel;

/**
 * Options of {@link startServer}. Every field is optional; server settings are passed to
 * `unified-bridge serve` as flags, anything else through `args`.
 */
export interface StartServerOptions {
  /** Interface to listen on; default `"127.0.0.1"`. The port is always chosen by the OS. */
  host?: string;
  /** Bearer tokens the server accepts (`--auth-token`, repeated); default none (no auth). */
  authTokens?: readonly string[];
  /** Largest accepted message in bytes (`--max-message-bytes`); default: the server's (10 MiB). */
  maxMessageBytes?: number;
  /**
   * Idle session TTL in milliseconds (`--session-ttl`); default: the server's. Must be a whole
   * number of seconds (e.g. `2000`): the CLI takes seconds, and a silent rounding would change it.
   */
  sessionTtlMs?: number;
  /** How long the server lets in-flight calls finish on SIGTERM, in ms (`--grace-ms`); default: the server's (10000). */
  serverGraceMs?: number;
  /** Server log level (`--log-level`); default: the server's (info). */
  logLevel?: ServerLogLevel;
  /** Extra CLI arguments appended after the others (other limits, future flags); default none. */
  args?: readonly string[];
  /** Environment variables added to (or, with `undefined`, removed from) this process's env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Working directory of the server; default: the server's own temp dir ({@link StartedServer.tempDir}). */
  cwd?: string;
  /** Node.js flags for the server process (for example `["--inspect"]`); default none. */
  execArgv?: readonly string[];
  /** How long to wait for the ready line and a SERVING health check; default 20000. */
  startupTimeoutMs?: number;
  /** How long `stop()` waits after SIGTERM before SIGKILL; default 5000. */
  stopGraceMs?: number;
  /** How many log lines `logs()` keeps (the newest); default 1000. */
  maxLogLines?: number;
  /** The CLI script to run; default: the `bin` of the installed `@unified-bridge/server`. */
  cliPath?: string;
}

const STDERR_TAIL_LINES = 40;

/** Bounded ring of log lines. */
class LogRing {
  readonly #lines: string[] = [];
  constructor(readonly max: number) {}
  push(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > this.max) this.#lines.splice(0, this.#lines.length - this.max);
  }
  all(): string[] {
    return [...this.#lines];
  }
}

function eachLine(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).replace(/\r$/, '');
      buffered = buffered.slice(nl + 1);
      if (line.length > 0) onLine(line);
    }
  });
  stream.on('end', () => {
    if (buffered.length > 0) onLine(buffered);
    buffered = '';
  });
}

function positive(name: string, value: unknown, { integer = false }: { integer?: boolean } = {}): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new RangeError(
      `startServer(): options.${name} must be a ${integer ? 'positive integer' : 'number > 0'}, got ${String(value)}`,
    );
  }
}

function stringList(name: string, value: unknown, { nonEmpty }: { nonEmpty: boolean }): readonly string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && (!nonEmpty || v.length > 0))) {
    throw new TypeError(`startServer(): options.${name} must be an array of ${nonEmpty ? 'non-empty ' : ''}strings`);
  }
  return value as string[];
}

function cliArgs(options: StartServerOptions): string[] {
  positive('maxMessageBytes', options.maxMessageBytes, { integer: true });
  positive('sessionTtlMs', options.sessionTtlMs);
  if (options.sessionTtlMs !== undefined && options.sessionTtlMs % 1000 !== 0) {
    const s = Math.max(1, Math.round(options.sessionTtlMs / 1000));
    throw new RangeError(
      `startServer(): options.sessionTtlMs must be a whole number of seconds (the CLI's --session-ttl takes seconds), ` +
        `got ${String(options.sessionTtlMs)}; use a multiple of 1000 such as ${String(s * 1000)}`,
    );
  }
  positive('startupTimeoutMs', options.startupTimeoutMs);
  positive('maxLogLines', options.maxLogLines, { integer: true });
  if (options.serverGraceMs !== undefined && !(Number.isInteger(options.serverGraceMs) && options.serverGraceMs >= 0)) {
    throw new RangeError(
      `startServer(): options.serverGraceMs must be an integer >= 0, got ${String(options.serverGraceMs)}`,
    );
  }
  if (options.stopGraceMs !== undefined && !(typeof options.stopGraceMs === 'number' && options.stopGraceMs >= 0)) {
    throw new RangeError(
      `startServer(): options.stopGraceMs must be a number >= 0, got ${String(options.stopGraceMs)}`,
    );
  }
  const args = ['serve', '--host', options.host ?? '127.0.0.1', '--port', '0'];
  for (const token of stringList('authTokens', options.authTokens, { nonEmpty: true }))
    args.push('--auth-token', token);
  if (options.maxMessageBytes !== undefined) args.push('--max-message-bytes', String(options.maxMessageBytes));
  if (options.sessionTtlMs !== undefined) args.push('--session-ttl', String(options.sessionTtlMs / 1000));
  if (options.serverGraceMs !== undefined) args.push('--grace-ms', String(options.serverGraceMs));
  if (options.logLevel !== undefined) args.push('--log-level', options.logLevel);
  args.push(...stringList('args', options.args, { nonEmpty: false }));
  return args;
}

function describeExit(exit: ServerExit): string {
  return exit.signal ? `signal ${exit.signal}` : `code ${String(exit.code)}`;
}

/**
 * A `unified-bridge serve` child process started by {@link startServer}: ready (health SERVING)
 * when you get it. `stop()` (or `await using`) ends it and removes its temp dir; a child still
 * running when the test process exits is killed.
 */
export class StartedServer implements AsyncDisposable {
  /** Base URL for clients, such as `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Port the server listens on (chosen by the OS). */
  readonly port: number;
  /** Process id of the server. */
  readonly pid: number;
  /** A temp dir of this server only (its `TMPDIR`), removed when it exits. */
  readonly tempDir: string;
  /** Resolves when the process has exited and its temp dir is removed (never rejects). */
  readonly exited: Promise<ServerExit>;

  readonly #child: ChildProcess;
  readonly #logs: LogRing;
  readonly #graceMs: number;
  #exit: ServerExit | undefined;
  #stopping: Promise<ServerExit> | undefined;

  /** Not for direct use: call {@link startServer}. */
  constructor(init: {
    child: ChildProcess;
    url: string;
    port: number;
    tempDir: string;
    logs: LogRing;
    exited: Promise<ServerExit>;
    graceMs: number;
  }) {
    this.#child = init.child;
    this.url = init.url;
    this.port = init.port;
    this.pid = init.child.pid!;
    this.tempDir = init.tempDir;
    this.#logs = init.logs;
    this.#graceMs = init.graceMs;
    this.exited = init.exited.then((exit) => (this.#exit = exit));
  }

  /** Whether the process is still running. */
  get running(): boolean {
    return this.#exit === undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** The newest log lines of the server (stderr, and stdout after the ready line), oldest first. */
  logs(): string[] {
    return this.#logs.all();
  }

  /**
   * Sends SIGTERM, waits for the process to exit (SIGKILL after `graceMs`, default the
   * `stopGraceMs` option) and removes the temp dir. Idempotent; resolves with how it exited.
   */
  stop(options: { graceMs?: number } = {}): Promise<ServerExit> {
    this.#stopping ??= (async () => {
      if (!this.running) return this.exited;
      this.#ref();
      this.#child.kill('SIGTERM');
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), options.graceMs ?? this.#graceMs);
      timer.unref();
      try {
        return await this.exited;
      } finally {
        clearTimeout(timer);
      }
    })();
    return this.#stopping;
  }

  /**
   * Sends `signal` (default SIGKILL) to the process, as `ChildProcess.kill` does; returns whether
   * it was delivered. Await {@link StartedServer.exited} to wait for the exit.
   * @example server.kill('SIGKILL'); await server.exited;
   */
  kill(signal: NodeJS.Signals | number = 'SIGKILL'): boolean {
    if (!this.running) return false;
    this.#ref();
    return this.#child.kill(signal);
  }

  /** Same as {@link StartedServer.stop}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  #ref(): void {
    this.#child.ref();
    (this.#child.stdout as Socket | null)?.ref?.();
    (this.#child.stderr as Socket | null)?.ref?.();
  }
}

/**
 * Starts the real `unified-bridge serve` CLI as a child process on a free port, waits for its
 * ready line and a SERVING health check, and resolves to a {@link StartedServer}. If the server
 * does not become ready within `startupTimeoutMs` (or exits), it is killed and the error
 * includes its stderr.
 *
 * @example
 * await using server = await startServer({ authTokens: ['secret'] });
 * const client = createBridgeClient({ baseUrl: server.url });
 */
export async function startServer(options: StartServerOptions = {}): Promise<StartedServer> {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('startServer(options): options must be an object');
  }
  const args = cliArgs(options);
  const cli = options.cliPath ?? resolveServerCli();
  const startupTimeoutMs = options.startupTimeoutMs ?? 20_000;
  const tempDir = await mkdtemp(join(tmpdir(), 'unified-bridge-'));
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tempDir, TMP: tempDir, TEMP: tempDir };
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [...(options.execArgv ?? []), cli, ...args], {
      cwd: options.cwd ?? tempDir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    rmSync(tempDir, { recursive: true, force: true });
    throw err;
  }
  trackChild(child, tempDir);
  const logs = new LogRing(options.maxLogLines ?? 1000);
  let spawnError: Error | undefined;
  const exited = new Promise<ServerExit>((resolve) => {
    child.once('error', (err) => {
      spawnError ??= err;
      // A process that failed to spawn emits no 'close'.
      if (child.pid === undefined) {
        untrackChild(child);
        void rm(tempDir, { recursive: true, force: true }).finally(() => resolve({ code: null, signal: null }));
      }
    });
    child.once('close', (code, signal) => {
      untrackChild(child);
      void rm(tempDir, { recursive: true, force: true }).finally(() => resolve({ code, signal }));
    });
  });

  let onReady!: (info: { url: string; port: number }) => void;
  const ready = new Promise<{ url: string; port: number }>((resolve) => (onReady = resolve));
  let isReady = false;
  eachLine(child.stdout!, (line) => {
    if (!isReady) {
      try {
        const info = JSON.parse(line) as { event?: unknown; url?: unknown; port?: unknown };
        if (info && info.event === 'listening' && typeof info.url === 'string') {
          isReady = true;
          onReady({ url: info.url.replace(/\/$/, ''), port: Number(info.port ?? new URL(info.url).port) });
          return;
        }
      } catch {
        // Not the ready line: keep it as a log line.
      }
    }
    logs.push(line);
  });
  eachLine(child.stderr!, (line) => logs.push(line));

  let timer: NodeJS.Timeout | undefined;
  const aborter = new AbortController();
  let starting = true;
  const failed = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not ready within ${startupTimeoutMs} ms`)), startupTimeoutMs);
    void exited.then((exit) => {
      if (starting) reject(spawnError ?? new Error(`the server exited (${describeExit(exit)}) before it was ready`));
    });
  });
  failed.catch(() => {});
  const deadline = Date.now() + startupTimeoutMs;
  const headers = options.authTokens?.[0] ? { authorization: `Bearer ${options.authTokens[0]}` } : undefined;
  try {
    const info = await Promise.race([ready, failed]);
    await Promise.race([waitForServing(info.url, deadline, aborter.signal, headers), failed]);
    starting = false;
    clearTimeout(timer);
    const server = new StartedServer({
      child,
      url: info.url,
      port: info.port,
      tempDir,
      logs,
      exited,
      graceMs: options.stopGraceMs ?? 5_000,
    });
    // The server must not keep the test process alive; exit hooks kill it if it is left running.
    child.unref();
    (child.stdout as Socket | null)?.unref?.();
    (child.stderr as Socket | null)?.unref?.();
    return server;
  } catch (err) {
    starting = false;
    clearTimeout(timer);
    aborter.abort();
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) child.kill('SIGKILL');
    const exit = await exited;
    let tail = logs.all().slice(-STDERR_TAIL_LINES).join('\n');
    for (const token of options.authTokens ?? []) tail = tail.split(token).join('***');
    const reason = err instanceof Error ? err.message : String(err);
    const shown = args.map((a, i) => (args[i - 1] === '--auth-token' ? '***' : a));
    throw new Error(
      `startServer(): ${reason} (${process.execPath} ${[cli, ...shown].join(' ')}; ${describeExit(exit)})\n` +
        `--- server output (last ${STDERR_TAIL_LINES} lines) ---\n${tail || '(none)'}`,
      { cause: err },
    );
  }
}
