// One connected tool worker (one ServeTools stream) as the broker keeps it:
// its state, its event stream, its calls in flight, the tool pools it is in
// and the bookkeeping of its heartbeats; and the pool of workers of one tool.
import { create } from '@bufbuild/protobuf';
import type { JsonObject, MessageInitShape } from '@bufbuild/protobuf';
import { ServeToolsResponseSchema } from '@unified-bridge/proto';
import type { ServeToolsResponse } from '@unified-bridge/proto';
import { AsyncQueue } from './async-queue.js';
import type { PendingCall } from './pending-calls.js';
import type { CallScheduler, SchedulableWorker } from './worker-scheduler.js';

/** A tool as a worker announces it (already checked against the spec rules). */
export interface WorkerToolSpec {
  readonly name: string;
  readonly description: string;
  readonly parameters: JsonObject | undefined;
  readonly streaming: boolean;
  readonly metadata: Readonly<Record<string, string>>;
}

/** The workers serving one tool name in one scope (a session, or global). */
export interface ToolPool {
  /** The pool's key: scope and tool name. */
  readonly key: string;
  /** The session of the tool, or null for a global one. */
  readonly sessionId: string | null;
  /** The spec every worker of the pool announced alike. */
  readonly spec: WorkerToolSpec;
  /** The owner of the store record (the worker that registered it). */
  owner: string;
  /** Its workers and the calls waiting for one of them. */
  readonly scheduler: CallScheduler<ConnectedWorker>;
}

/** The states of a {@link ConnectedWorker}, in the order it goes through them. */
export const WORKER_STATES = ['connecting', 'open', 'ended', 'released'] as const;

/** A state of a {@link ConnectedWorker}: one of {@link WORKER_STATES}. */
export type WorkerState = (typeof WORKER_STATES)[number];

/** An event for the worker's stream (a call, a cancel, a ping). */
export type WorkerEvent = MessageInitShape<typeof ServeToolsResponseSchema>;

/** One connected worker (one ServeTools stream). */
export class ConnectedWorker implements SchedulableWorker {
  /**
   * Where the worker is in its life; it only ever moves forward:
   *
   * - "connecting": `connect()` is registering its tools in the store. It is
   *   in no table of the broker yet: it gets no calls and no pings. If the
   *   registration fails it is dropped in this state and never seen.
   * - "open": registered and routable. It is in the broker's worker table
   *   and in the pool of every tool it serves, gets calls (at most
   *   `maxConcurrency` at once) and pings, and its heartbeats slide the
   *   idle TTL of the session it serves.
   * - "ended": gone, all in the one tick it was dropped (its stream ended,
   *   it missed its heartbeats, another stream took its id, its session
   *   ended, the server shuts down): out of the routing, so a new call of a
   *   tool only it served is ToolNotFound; its calls in flight failed with
   *   UNAVAILABLE; its event stream failed with the reason. Its tools' store
   *   records are on their way out (or to the next worker of a shared tool).
   * - "released": the store part is done too: no tool record names it.
   */
  state: WorkerState = 'connecting';
  /** What the worker's ServeTools stream sends, in order. */
  readonly events = new AsyncQueue<ServeToolsResponse>();
  /** Its calls in flight, by call id. */
  readonly calls: Map<string, PendingCall<ConnectedWorker>> = new Map();
  /** The pools (one per tool) it is in. */
  readonly pools: ToolPool[] = [];
  /** When it was last heard of: a heartbeat or a report (ms epoch). */
  lastSeen = Date.now();
  /** Slots given to calls that are about to be sent. */
  reserved = 0;
  /** When a heartbeat last touched the session served (ms epoch). */
  lastTouched = Date.now();
  /** How often heartbeats touch the session, at most (ms). */
  touchEveryMs = 0;
  /** Whether a touch of the session is under way. */
  touching = false;
  /** Stops watching for the end of the session served (set by the ServeTools handler). */
  stopWatching: (() => void) | undefined;

  constructor(
    readonly id: string,
    readonly sessionId: string | null,
    readonly principal: string | undefined,
    readonly maxConcurrency: number,
  ) {}

  /** True once the worker ended ("ended" or "released"). */
  get ended(): boolean {
    return this.state === 'ended' || this.state === 'released';
  }

  /** Its calls in flight plus the slots reserved for calls about to be sent. */
  get load(): number {
    return this.calls.size + this.reserved;
  }

  /** Reserves a slot for a call about to be sent. */
  reserve(): void {
    this.reserved++;
  }

  /** Queues an event for its stream (dropped once it ended). */
  send(event: WorkerEvent): void {
    if (!this.ended) void this.events.push(create(ServeToolsResponseSchema, event));
  }
}
