import { StoreError } from '@unified-bridge/store';
import { storeClosed } from '@unified-bridge/store/internal';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { SCRIPTS, type ScriptName } from './lua.js';
import type { RedisClusterNode, RedisStoreOptions, ResolvedOptions } from './options.js';

/** Every {@link RedisStoreHealth}, in lifecycle order (the source of the type). */
export const REDIS_STORE_HEALTH = Object.freeze(['connecting', 'ready', 'unavailable', 'closed'] as const);

/**
 * The state of a Redis store's connection, as `store.health` reports it:
 *
 * - `connecting`: opened, not connected yet; calls wait (at most `commandTimeoutMs`).
 * - `ready`: connected; calls are served (`store.healthy` is true).
 * - `unavailable`: the connection was lost or could not be made; every call fails at once with
 *   `StoreUnavailable` (with `retryAfterMs`) while the client reconnects in the background, and the
 *   state goes back to `ready` by itself when Redis returns.
 * - `closed`: `close()` was called; every call fails with `StoreClosed`.
 */
export type RedisStoreHealth = (typeof REDIS_STORE_HEALTH)[number];

/** A Redis client with the store's scripts defined on it (called with their `Buffer` variant). */
type ScriptClient = Redis | Cluster;

/** Errors of Redis itself that mean "not now" rather than "wrong": the cluster or the node is not serving. */
const TRANSIENT_REPLY = /^(CLUSTERDOWN|TRYAGAIN|LOADING|MASTERDOWN|READONLY|BUSY|NOREPLICAS|MISCONF)\b/;

/** A `StoreUnavailable` error with the retry delay and what went wrong. */
export function unavailable(retryAfterMs: number, reason: string, cause?: unknown): StoreError {
  return new StoreError('StoreUnavailable', `the Redis store is unavailable (${reason}); retry in ${retryAfterMs} ms`, {
    retryAfterMs,
    details: { retryAfterMs: String(retryAfterMs) },
    cause,
  });
}

/** Whether an error from ioredis is a Redis reply to a command that ran (a script or usage error). */
function isReplyError(err: unknown): err is Error {
  return err instanceof Error && err.name === 'ReplyError';
}

function clusterNode(node: RedisClusterNode): { host: string; port: number } {
  if (typeof node !== 'string') return { host: node.host, port: node.port };
  const cut = node.lastIndexOf(':');
  return { host: node.slice(0, cut), port: Number(node.slice(cut + 1)) };
}

/**
 * The store's connections to Redis: one client for commands (with the scripts defined on it) and a
 * duplicate for pub/sub, the health of the pair, and the one wrapper every call goes through
 * (deadline, fast failure while unavailable, errors turned into `StoreUnavailable`).
 */
export class Connection {
  /** The client that runs every command and script. */
  readonly commands: ScriptClient;
  /** The client that holds the subscriptions of the watch channels. */
  readonly subscriber: ScriptClient;
  /** Whether `commands` was given by the caller (then `close()` leaves it open). */
  private readonly borrowed: boolean;
  private state: RedisStoreHealth = 'connecting';
  private readonly listeners = new Set<(health: RedisStoreHealth) => void>();

  constructor(
    options: RedisStoreOptions,
    private readonly settings: ResolvedOptions,
  ) {
    const redisOptions: RedisOptions = {
      connectTimeout: settings.connectTimeoutMs,
      commandTimeout: settings.commandTimeoutMs,
      maxRetriesPerRequest: null,
      enableOfflineQueue: true,
      enableAutoPipelining: true,
      retryStrategy: (times) => Math.min(times * 50, settings.retryAfterMs),
    };
    if (options.client !== undefined) {
      this.commands = options.client;
      this.borrowed = true;
    } else if (options.cluster !== undefined) {
      this.commands = new Cluster(options.cluster.nodes.map(clusterNode), {
        redisOptions,
        enableOfflineQueue: true,
        enableAutoPipelining: true,
        clusterRetryStrategy: (times) => Math.min(times * 50, settings.retryAfterMs),
        slotsRefreshTimeout: settings.connectTimeoutMs,
      });
      this.borrowed = false;
    } else {
      this.commands = new Redis(options.url ?? 'redis://127.0.0.1:6379', redisOptions);
      this.borrowed = false;
    }
    for (const [name, script] of Object.entries(SCRIPTS)) {
      this.commands.defineCommand(name, { numberOfKeys: script.keys, lua: script.lua });
    }
    this.subscriber =
      this.commands instanceof Cluster
        ? this.commands.duplicate(undefined, { enableAutoPipelining: false })
        : this.commands.duplicate({ enableAutoPipelining: false });
    if (this.commands.status === 'ready') this.state = 'ready';
    this.commands.on('ready', () => this.setState('ready'));
    for (const event of ['close', 'reconnecting', 'end']) {
      this.commands.on(event, () => {
        if (this.state !== 'connecting' || event === 'end') this.setState('unavailable');
      });
    }
    // Connection errors are reported through the state and the calls' errors; without a listener
    // ioredis would print each one.
    this.commands.on('error', (err: unknown) => {
      if (this.state === 'connecting' && !isReplyError(err)) this.setState('unavailable');
    });
    this.subscriber.on('error', () => {});
  }

  /** The connection's state. */
  get health(): RedisStoreHealth {
    return this.state;
  }

  /** Calls `listener` on every change of {@link health}; returns the function that stops it. */
  onHealthChange(listener: (health: RedisStoreHealth) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once the commands connection is ready (rejects with `StoreUnavailable` after `timeoutMs`). */
  async ready(timeoutMs: number): Promise<void> {
    if (this.state === 'ready') return;
    if (this.state === 'closed') throw storeClosed();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        stop();
        reject(unavailable(this.settings.retryAfterMs, `not connected within ${timeoutMs} ms`));
      }, timeoutMs);
      const stop = this.onHealthChange((h) => {
        if (h !== 'ready' && h !== 'closed') return;
        clearTimeout(timer);
        stop();
        if (h === 'ready') resolve();
        else reject(storeClosed());
      });
    });
  }

  /** Runs a script with `Buffer` replies. */
  script(name: ScriptName, keys: readonly string[], args: readonly (string | number | Buffer)[]): Promise<unknown> {
    return this.call(() => {
      const run = (this.commands as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[
        `${name}Buffer`
      ] as (...a: unknown[]) => Promise<unknown>;
      return run.call(this.commands, ...keys, ...args);
    });
  }

  /**
   * Runs one Redis call within the command deadline. While the connection is unavailable it fails
   * at once; a lost connection, a timeout or a cluster that is not serving fails with
   * `StoreUnavailable`; a Redis error reply (a bug) passes through as it is.
   */
  async call<T>(run: () => Promise<T>): Promise<T> {
    if (this.state === 'closed') throw storeClosed();
    if (this.state === 'unavailable') throw unavailable(this.settings.retryAfterMs, 'not connected to Redis');
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(unavailable(this.settings.retryAfterMs, `no reply within ${this.settings.commandTimeoutMs} ms`)),
        this.settings.commandTimeoutMs,
      );
    });
    try {
      return await Promise.race([run(), deadline]);
    } catch (err) {
      if (err instanceof StoreError) throw err;
      if (this.health === 'closed') throw storeClosed();
      if (isReplyError(err) && !TRANSIENT_REPLY.test(err.message)) throw err;
      throw unavailable(this.settings.retryAfterMs, err instanceof Error ? err.message : String(err), err);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes both connections (the commands client only if the store opened it). Idempotent. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.setState('closed');
    this.subscriber.disconnect();
    if (!this.borrowed) this.commands.disconnect();
  }

  private setState(next: RedisStoreHealth): void {
    if (this.state === next || this.state === 'closed') return;
    this.state = next;
    for (const listener of [...this.listeners]) listener(next);
  }
}
