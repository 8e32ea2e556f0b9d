import type { BridgeLogger, BridgeServerOptions, StartedBridgeServer } from '@unified-bridge/server';
import { waitForServing } from './health.js';

/**
 * Options of {@link startInProcessServer}: those of `startBridgeServer` of
 * `@unified-bridge/server` (host defaults to 127.0.0.1, port to 0), plus `maxLogLines`.
 */
export type InProcessServerOptions = BridgeServerOptions & {
  /** How many log lines `logs()` keeps (the newest); default 1000. */
  maxLogLines?: number;
};

/** The levels a BridgeLogger logs at (its methods). */
type Level = keyof BridgeLogger;

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return { type: value.name, message: value.message, stack: value.stack };
  return value;
}

/** A logger that keeps JSON lines in a bounded ring and forwards them to `next`, if any. */
function recordingLogger(max: number, next: BridgeLogger | undefined): { logger: BridgeLogger; lines: string[] } {
  const lines: string[] = [];
  const at = (level: Level) => (obj: object, msg?: string) => {
    let line: string;
    try {
      line = JSON.stringify({ level, time: Date.now(), ...obj, ...(msg === undefined ? {} : { msg }) }, jsonSafe);
    } catch {
      line = JSON.stringify({ level, time: Date.now(), msg });
    }
    lines.push(line);
    if (lines.length > max) lines.splice(0, lines.length - max);
    next?.[level](obj, msg);
  };
  return { logger: { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') }, lines };
}

/**
 * A bridge server running inside this process (no child process), started by
 * {@link startInProcessServer}. Ready (health SERVING) when you get it.
 */
export class InProcessServer implements AsyncDisposable {
  /** Base URL for clients, such as `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Port the server listens on. */
  readonly port: number;
  /** Process id: this process. */
  readonly pid: number = process.pid;
  /** The server returned by `startBridgeServer` (routes, store, protocols, ...). */
  readonly server: StartedBridgeServer;
  readonly #lines: string[];
  #stopping: Promise<void> | undefined;

  /** Not for direct use: call {@link startInProcessServer}. */
  constructor(server: StartedBridgeServer, lines: string[]) {
    this.server = server;
    this.url = server.url.replace(/\/$/, '');
    this.port = server.port;
    this.#lines = lines;
  }

  /**
   * The newest log lines of the server as JSON strings, oldest first (debug lines only if the
   * logger you passed, or none, enables them: they are always recorded).
   */
  logs(): string[] {
    return [...this.#lines];
  }

  /** Stops the server gracefully (in-flight calls drain, streams end UNAVAILABLE). Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= this.server.stop();
    return this.#stopping;
  }

  /** Same as {@link InProcessServer.stop}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

/**
 * Starts a bridge server in this process on a free port of 127.0.0.1 (fast tests, host tools):
 * wraps `startBridgeServer` of `@unified-bridge/server`, passing `options` through, and waits
 * for a SERVING health check. Its logs are recorded for `logs()` (and also go to
 * `options.logger` if given; by default nowhere else, to keep test output clean).
 *
 * @example
 * await using server = await startInProcessServer({ sessionTtlMs: 60_000 });
 */
export async function startInProcessServer(options: InProcessServerOptions = {}): Promise<InProcessServer> {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('startInProcessServer(options): options must be an object');
  }
  const { maxLogLines = 1000, ...serverOptions } = options;
  if (!Number.isInteger(maxLogLines) || maxLogLines <= 0) {
    throw new RangeError(
      `startInProcessServer(): options.maxLogLines must be a positive integer, got ${String(maxLogLines)}`,
    );
  }
  const { startBridgeServer } = await import('@unified-bridge/server');
  const { logger, lines } = recordingLogger(maxLogLines, serverOptions.logger);
  const server = await startBridgeServer({ host: '127.0.0.1', port: 0, ...serverOptions, logger });
  const started = new InProcessServer(server, lines);
  try {
    await waitForServing(started.url, Date.now() + 10_000, new AbortController().signal);
  } catch (err) {
    await started.stop();
    throw new Error(`startInProcessServer(): ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return started;
}
