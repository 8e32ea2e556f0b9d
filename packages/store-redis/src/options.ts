import type { Clock, StoreLimits } from '@unified-bridge/store';
import { DEFAULT_TYPE_ENGINE, resolveStoreLimits, type StoreTypeEngine } from '@unified-bridge/store/internal';
import type { Cluster, Redis } from 'ioredis';

/** One seed node of a Redis Cluster: `"host:port"` or `{ host, port }`. */
export type RedisClusterNode = string | { readonly host: string; readonly port: number };

/**
 * Options of {@link createRedisStore}. Give one of `url`, `cluster` or `client`
 * (none: `redis://127.0.0.1:6379`); everything else has a default.
 */
export interface RedisStoreOptions {
  /**
   * A standalone Redis (or a proxy in front of one), as `redis://[user:password@]host:port[/db]`
   * or `rediss://` for TLS. Default `redis://127.0.0.1:6379` when neither `cluster` nor `client` is given.
   */
  url?: string;
  /**
   * A Redis Cluster: its seed nodes (any reachable master finds the rest). Every session
   * lives in one hash slot, so every call is one script on one node.
   * @example { nodes: ['10.0.0.1:6379', '10.0.0.2:6379'] }
   */
  cluster?: { readonly nodes: readonly RedisClusterNode[] };
  /**
   * An ioredis `Redis` or `Cluster` you already have. The store defines its scripts on it,
   * opens one more connection for pub/sub with `duplicate()`, and does not close it on
   * `close()` (you do). Default: the store opens and closes its own.
   */
  client?: Redis | Cluster;
  /**
   * Prefix of every key and channel, so several stores (or apps) share one Redis. Must not
   * contain `{` or `}` (the session id is the hash tag). Default `"ub:"`.
   */
  keyPrefix?: string;
  /**
   * Limits; missing fields take `DEFAULT_STORE_LIMITS`. `limits.watchWindow` is the resume window:
   * the change events kept per session (a Redis Stream trimmed to that length). `maxSessions` holds
   * across every store on the same Redis; `maxWatchersPerSession` and `watcherBufferSize` are per
   * store instance (each replica holds its own watchers' buffers).
   */
  limits?: Partial<StoreLimits>;
  /**
   * Time source for TTLs and timestamps. Default `Date.now`. The time is passed into every script
   * (Redis's own clock decides nothing but the backstop key TTLs), so the replicas that share a
   * Redis should keep their clocks in sync (NTP): a replica whose clock is `d` ms ahead sees sessions
   * expire `d` ms early.
   */
  clock?: Clock;
  /** The types engine. Default: `@unified-bridge/types`. Every replica must use the same types. */
  engine?: StoreTypeEngine;
  /** How long to wait for a TCP connection to Redis, in ms. Default 5,000. */
  connectTimeoutMs?: number;
  /**
   * The longest any call waits for Redis, in ms; past it the call fails with `StoreUnavailable`
   * (a write's outcome is then unknown: it may have been applied). Default 5,000.
   */
  commandTimeoutMs?: number;
  /**
   * The retry delay that `StoreUnavailable` errors carry (`retryAfterMs`), in ms, and the longest
   * wait between reconnect attempts. Default 1,000.
   */
  retryAfterMs?: number;
  /**
   * How long an expired session's id keeps answering `SessionExpired` (naming its owner) instead of
   * `SessionNotFound`, in ms; one small key per expired session for that long. Default 86,400,000 (24 h).
   */
  expiredRetentionMs?: number;
  /**
   * How much longer than a session's idle TTL Redis keeps its keys, in ms. Expiry is decided with
   * the replicas' clock on every call; the key TTL (idle TTL + this grace, slid on every call) is
   * the backstop that removes sessions nobody touches any more, so a grace covers clock skew
   * between the replicas and Redis. Default 60,000.
   */
  keyTtlGraceMs?: number;
  /**
   * How often the store checks the sessions it has watchers on for expiry, in ms (a session whose
   * keys Redis removed sends no notification). 0 disables the timer (call `sweepExpired()`). The
   * timer is `unref`ed. Default 10,000.
   */
  sweepIntervalMs?: number;
  /**
   * Largest change notification that carries its events inline (one pub/sub message), in bytes;
   * larger ones carry only the revision and every replica reads the events from the stream.
   * Default 65,536.
   */
  inlineEventBytes?: number;
}

/** The options with every default applied. */
export interface ResolvedOptions {
  readonly limits: Readonly<StoreLimits>;
  readonly keyPrefix: string;
  readonly clock: Clock;
  readonly engine: StoreTypeEngine;
  readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number;
  readonly retryAfterMs: number;
  readonly expiredRetentionMs: number;
  readonly keyTtlGraceMs: number;
  readonly sweepIntervalMs: number;
  readonly inlineEventBytes: number;
}

const DEFAULTS = {
  connectTimeoutMs: 5_000,
  commandTimeoutMs: 5_000,
  retryAfterMs: 1_000,
  expiredRetentionMs: 24 * 60 * 60 * 1000,
  keyTtlGraceMs: 60_000,
  sweepIntervalMs: 10_000,
  inlineEventBytes: 64 * 1024,
} as const;

/** Options that must be at least 1 (the others may be 0). */
const POSITIVE = new Set(['connectTimeoutMs', 'commandTimeoutMs', 'retryAfterMs', 'expiredRetentionMs']);

/**
 * Applies the defaults and checks every option.
 * @throws TypeError or RangeError naming the option and the fix.
 */
export function resolveOptions(options: RedisStoreOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('createRedisStore(options): options must be an object');
  }
  const given = [options.url, options.cluster, options.client].filter((o) => o !== undefined).length;
  if (given > 1) {
    throw new TypeError('createRedisStore(): give one of options.url, options.cluster or options.client, not several');
  }
  if (options.url !== undefined && (typeof options.url !== 'string' || !/^rediss?:\/\//.test(options.url))) {
    throw new TypeError(
      `createRedisStore(): options.url must be a redis:// or rediss:// URL, got ${String(options.url)}`,
    );
  }
  if (options.cluster !== undefined && (!Array.isArray(options.cluster.nodes) || options.cluster.nodes.length === 0)) {
    throw new TypeError(
      'createRedisStore(): options.cluster.nodes must be a non-empty array of "host:port" or { host, port }',
    );
  }
  const keyPrefix = options.keyPrefix ?? 'ub:';
  if (typeof keyPrefix !== 'string' || /[{}]/.test(keyPrefix)) {
    throw new TypeError(
      `createRedisStore(): options.keyPrefix must be a string without "{" or "}" (the session id is the hash tag), got ${String(keyPrefix)}`,
    );
  }
  const numbers = { ...DEFAULTS } as Record<keyof typeof DEFAULTS, number>;
  for (const key of Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]) {
    const value = options[key];
    if (value === undefined) continue;
    const min = POSITIVE.has(key) ? 1 : 0;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
      throw new RangeError(`createRedisStore(): options.${key} must be an integer >= ${min}, got ${String(value)}`);
    }
    numbers[key] = value;
  }
  return {
    ...numbers,
    limits: resolveStoreLimits(options.limits, 'createRedisStore'),
    keyPrefix,
    clock: options.clock ?? { now: Date.now },
    engine: options.engine ?? DEFAULT_TYPE_ENGINE,
  };
}
