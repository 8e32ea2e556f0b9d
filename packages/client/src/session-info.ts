import { timestampDate } from '@bufbuild/protobuf/wkt';
import type { Session as WireSession } from '@unified-bridge/proto';
import { BridgeError } from './errors.js';

/** A session as the server reports it (`session.info()`, `session.heartbeat()`). */
export interface SessionInfo {
  /** The session id. */
  readonly id: string;
  /** Metadata given at creation. */
  readonly metadata: Readonly<Record<string, string>>;
  /** When the session was created. */
  readonly createdAt: Date | undefined;
  /** When a call last named the session. */
  readonly lastUsedAt: Date | undefined;
  /** When the session expires unless used again. */
  readonly expiresAt: Date | undefined;
  /** The idle TTL in seconds. */
  readonly ttlSeconds: number;
  /** How many variables the session holds. */
  readonly variableCount: number;
  /** How many tools the session can call. */
  readonly toolCount: number;
}

/** Converts a wire session. */
export function sessionInfoFromWire(s: WireSession | undefined): SessionInfo {
  if (s === undefined) throw new BridgeError('Internal', 'the server sent a response without its session');
  return {
    id: s.id,
    metadata: s.metadata,
    createdAt: s.createdAt ? timestampDate(s.createdAt) : undefined,
    lastUsedAt: s.lastUsedAt ? timestampDate(s.lastUsedAt) : undefined,
    expiresAt: s.expiresAt ? timestampDate(s.expiresAt) : undefined,
    ttlSeconds: s.ttlSeconds,
    variableCount: s.variableCount,
    toolCount: s.toolCount,
  };
}
