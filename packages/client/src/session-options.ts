// The option and result types of `Session` methods (a leaf: types only).
import type { VariableRecord } from './codec.js';
import type { BridgeError } from './errors.js';
import type { CallOptions } from './rpc.js';

/** Options of `session.get()` / `session.getVariable()`. */
export interface GetOptions extends CallOptions {
  /** Bypass a cached entry and read from the server (the result is cached). Default false. */
  fresh?: boolean;
}

/** Options of `session.register()`. */
export interface RegisterOptions extends CallOptions {
  /** The constraints (for example `{ min: 0, max: 1 }`). Default none. */
  constraints?: Record<string, unknown>;
  /** Free-form metadata. Default none. */
  metadata?: Record<string, string>;
}

/** Options of `session.set()`. */
export interface SetOptions extends CallOptions {
  /** Apply only if the current version equals this (else a VersionConflict error). Such a write may be retried on Unavailable. */
  expectedVersion?: number;
  /** Metadata merged into the variable's metadata and recorded in its history. */
  metadata?: Record<string, string>;
}

/** Options of `session.setMany()`. */
export interface SetManyOptions extends CallOptions {
  /** All or nothing (default true); false gives a result per update. */
  atomic?: boolean;
}

/** One update of `session.setMany()` given as a list. */
export interface SetManyEntry {
  /** The variable's name or id. */
  name: string;
  /** The new value. */
  value: unknown;
  /** Apply only if the current version equals this. */
  expectedVersion?: number;
  /** Metadata merged into the variable's metadata. */
  metadata?: Record<string, string>;
}

/** The outcome of one update of `setMany()` / `batch()`. */
export type SetManyResult =
  | { readonly name: string; readonly ok: true; readonly variable: VariableRecord }
  | { readonly name: string; readonly ok: false; readonly error: BridgeError };

/** Options of `session.update()`. */
export interface UpdateOptions extends CallOptions {
  /** How many read-modify-write rounds to try before giving up with the last VersionConflict. Default 100. */
  maxAttempts?: number;
  /** Metadata recorded with the write. */
  metadata?: Record<string, string>;
}

/** Options of `session.list()`. */
export interface ListOptions extends CallOptions {
  /** Variables per page (1..1000). Default: the server's (100). */
  pageSize?: number;
}

/** Options of `session.history()`. */
export interface HistoryOptions extends CallOptions {
  /** The most entries to return (newest first). Default: all retained. */
  limit?: number;
}

/** Options of `session.rollback()`. */
export interface RollbackOptions extends CallOptions {
  /** Apply only if the current version equals this. */
  expectedVersion?: number;
}

/** Options of `client.session()` and `client.createSession()` about the session object itself. */
export interface SessionHandleOptions {
  /**
   * Send a heartbeat every this many ms while the session object is open
   * (unref'd timer: it does not keep the process alive). Default: off.
   */
  heartbeatIntervalMs?: number;
}
