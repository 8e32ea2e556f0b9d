// Worker tools: remote clients serve tools through ToolWorkerService. The
// broker keeps the connected workers (connected-worker.ts, where their states
// are described), the pools of workers per tool (several workers of one tool
// share its calls, as worker-scheduler.ts decides: least busy first, ties
// round-robin), the calls in flight (pending-calls.ts, with the rules their
// reports follow), and the heartbeats that tell a live worker from a dead
// one. A worker that goes away loses its tools at once and its calls fail
// with UNAVAILABLE naming it.
import { randomUUID } from 'node:crypto';
import { Code } from '@connectrpc/connect';
import type { ConnectError } from '@connectrpc/connect';
import { ErrorType } from '@unified-bridge/proto';
import type { Value } from '@unified-bridge/proto';
import type { SessionStore, ToolRecord } from '@unified-bridge/store';
import { canonicalJson } from '@unified-bridge/types/internal';
import { ConnectedWorker } from './connected-worker.js';
import type { ToolPool, WorkerToolSpec } from './connected-worker.js';
import { connectError, toolNotFound, workerUnavailable } from './errors.js';
import type { BridgeLogger } from './logger.js';
import { PendingCalls } from './pending-calls.js';
import type { PendingCall, WorkerCallResult, WorkerOutcome } from './pending-calls.js';
import type { Invocation } from './tool-invocation.js';
import { CallScheduler } from './worker-scheduler.js';

/** The default interval of worker heartbeats, in ms. */
export const DEFAULT_WORKER_HEARTBEAT_MS = 5000;
/** How many heartbeat intervals a worker may miss before it counts as dead. */
export const DEFAULT_WORKER_MISSED_HEARTBEATS = 3;
/** Calls a worker accepts at once when it does not say. */
export const DEFAULT_WORKER_CONCURRENCY = 16;

/** What a worker asks for when it connects. */
export interface WorkerRegistration {
  /** The id it asked for ("" lets the broker make one). */
  readonly workerId: string;
  /** The session it serves, or null for global tools. */
  readonly sessionId: string | null;
  /** The authenticated principal of the stream (undefined without auth). */
  readonly principal: string | undefined;
  /** Calls it accepts at once (0 means 16). */
  readonly maxConcurrency: number;
  readonly tools: readonly WorkerToolSpec[];
  /** The idle TTL of the session served, in ms, when known (heartbeats touch it at least twice per TTL). */
  readonly sessionTtlMs?: number;
}

const poolKey = (sessionId: string | null, name: string): string => `${sessionId ?? ''}\u0000${name}`;

/** Options of the broker. */
export interface WorkerBrokerOptions {
  readonly store: SessionStore;
  readonly logger: BridgeLogger;
  /** How often workers must beat, in ms (and how often they are pinged). */
  readonly heartbeatIntervalMs: number;
  /** Missed intervals after which a worker is dropped. */
  readonly missedHeartbeats: number;
}

/** The broker between callers and worker-served tools. */
export class WorkerBroker {
  readonly #store: SessionStore;
  readonly #logger: BridgeLogger;
  readonly heartbeatIntervalMs: number;
  readonly #missed: number;
  readonly #workers = new Map<string, ConnectedWorker>();
  readonly #pools = new Map<string, ToolPool>();
  /** The calls sent to workers and not finished; a finished call frees a slot in its worker's pools. */
  readonly #calls = new PendingCalls<ConnectedWorker>((call) => {
    for (const p of call.worker.pools) p.scheduler.pump();
  });
  /** Store changes of registration and removal run one at a time, in order. */
  #chain: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #nonce = 0n;
  #closed = false;

  constructor(options: WorkerBrokerOptions) {
    this.#store = options.store;
    this.#logger = options.logger;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs;
    this.#missed = options.missedHeartbeats;
  }

  /** How many workers are connected. */
  get workerCount(): number {
    return this.#workers.size;
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(work);
    this.#chain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /**
   * Registers a worker and its tools (in the store, owner = the worker id).
   * A worker id already connected for the same principal is replaced (its
   * stream ends with UNAVAILABLE, its calls fail); another principal's id
   * fails with ALREADY_EXISTS. Tools shared with other workers must have the
   * same `streaming` flag and parameters.
   */
  connect(reg: WorkerRegistration): Promise<ConnectedWorker> {
    return this.#serial(async () => {
      if (this.#closed) throw connectError(Code.Unavailable, ErrorType.UNAVAILABLE, 'server shutting down');
      const id = reg.workerId !== '' ? reg.workerId : `worker_${randomUUID().replaceAll('-', '')}`;
      const existing = this.#workers.get(id);
      if (existing !== undefined) {
        if (existing.principal !== reg.principal) {
          throw connectError(Code.AlreadyExists, ErrorType.ALREADY_EXISTS, `worker id ${id} is in use`, {
            details: { worker: id },
          });
        }
        this.#drop(existing, workerUnavailable(id, `worker ${id} connected again: this stream was replaced`));
        await this.#release(existing);
      }
      const worker = new ConnectedWorker(
        id,
        reg.sessionId,
        reg.principal,
        reg.maxConcurrency > 0 ? reg.maxConcurrency : DEFAULT_WORKER_CONCURRENCY,
      );
      const joined: ToolPool[] = [];
      const created: ToolPool[] = [];
      try {
        for (const spec of reg.tools) {
          const k = poolKey(reg.sessionId, spec.name);
          const pool = this.#pools.get(k);
          if (pool !== undefined) {
            if (
              pool.spec.streaming !== spec.streaming ||
              canonicalJson(pool.spec.parameters ?? null) !== canonicalJson(spec.parameters ?? null)
            ) {
              throw connectError(
                Code.AlreadyExists,
                ErrorType.ALREADY_EXISTS,
                `tool ${spec.name} is already served by ${pool.owner} with different parameters or streaming flag`,
                { details: { tool: spec.name, owner: pool.owner } },
              );
            }
            joined.push(pool);
            continue;
          }
          await this.#store.registerTool(reg.sessionId, {
            name: spec.name,
            description: spec.description,
            ...(spec.parameters !== undefined ? { parameters: spec.parameters } : {}),
            streaming: spec.streaming,
            metadata: { ...spec.metadata },
            owner: id,
          });
          created.push({
            key: k,
            sessionId: reg.sessionId,
            spec,
            owner: id,
            scheduler: new CallScheduler<ConnectedWorker>(),
          });
        }
      } catch (err) {
        for (const p of created) {
          await this.#store.unregisterTool(p.sessionId, p.spec.name, id).catch(() => {});
        }
        throw err;
      }
      for (const p of created) this.#pools.set(p.key, p);
      for (const p of [...created, ...joined]) {
        p.scheduler.add(worker);
        worker.pools.push(p);
      }
      this.#workers.set(id, worker);
      worker.state = 'open';
      worker.lastSeen = Date.now();
      worker.lastTouched = worker.lastSeen; // connecting read the session, which slid its TTL
      worker.touchEveryMs = this.#touchEvery(reg.sessionTtlMs);
      this.#startTimer();
      for (const p of joined) p.scheduler.pump();
      this.#logger.debug(
        { worker: id, session: reg.sessionId, tools: reg.tools.map((t) => t.name) },
        'tool worker connected',
      );
      return worker;
    });
  }

  /**
   * Ends a worker: its stream ends with `reason`, its calls in flight fail at
   * once with UNAVAILABLE naming it, it gets no new calls, and its tools
   * leave the store (or pass to the next worker of a shared tool).
   * Resolves once the store is updated. Idempotent.
   */
  disconnect(worker: ConnectedWorker, reason: ConnectError, callError?: ConnectError): Promise<void> {
    if (worker.ended) return this.#chain;
    this.#drop(worker, reason, callError);
    return this.#serial(() => this.#release(worker));
  }

  /**
   * The synchronous part of ending a worker, all in the tick its stream ends:
   * first its tools leave the routing (a pool without workers is gone, so a
   * new call of its tools fails with ToolNotFound from now on, even while the
   * store record is still being removed by {@link WorkerBroker.#release}),
   * then its calls in flight fail with UNAVAILABLE and its stream ends.
   */
  #drop(worker: ConnectedWorker, reason: ConnectError, callError: ConnectError = reason): void {
    if (worker.ended) return;
    worker.state = 'ended';
    if (this.#workers.get(worker.id) === worker) this.#workers.delete(worker.id);
    const failure =
      callError.code === Code.Unavailable ? callError : workerUnavailable(worker.id, `worker ${worker.id} went away`);
    const orphans: ((err: unknown) => void)[] = [];
    for (const p of worker.pools) {
      if (p.scheduler.remove(worker) === 0) {
        if (this.#pools.get(p.key) === p) this.#pools.delete(p.key);
        orphans.push(...p.scheduler.takeWaiters());
      }
    }
    for (const call of [...worker.calls.values()]) {
      this.#calls.finish(call);
      call.reject(failure);
    }
    for (const fail of orphans) fail(failure);
    worker.events.fail(reason);
    worker.stopWatching?.();
    if (this.#workers.size === 0) this.#stopTimer();
    this.#logger.debug({ worker: worker.id, reason: reason.rawMessage }, 'tool worker disconnected');
  }

  /** The store part of ending a worker: remove its tools, or hand shared ones to the next worker. */
  async #release(worker: ConnectedWorker): Promise<void> {
    for (const p of worker.pools) {
      if (p.owner !== worker.id) continue;
      try {
        await this.#store.unregisterTool(p.sessionId, p.spec.name, worker.id);
      } catch {
        // The session (and its tools) may be gone already, or the store closed.
      }
      const heir = p.scheduler.workers[0];
      if (heir === undefined || this.#pools.get(p.key) !== p) continue;
      try {
        await this.#store.registerTool(p.sessionId, {
          name: p.spec.name,
          description: p.spec.description,
          ...(p.spec.parameters !== undefined ? { parameters: p.spec.parameters } : {}),
          streaming: p.spec.streaming,
          metadata: { ...p.spec.metadata },
          owner: heir.id,
        });
        p.owner = heir.id;
      } catch (err) {
        this.#logger.warn(
          { err, tool: p.spec.name, worker: heir.id },
          'could not hand a shared tool to the next worker',
        );
      }
    }
    worker.pools.length = 0;
    worker.state = 'released';
  }

  /** Ends every worker (at shutdown) with `reason`; no worker may connect afterwards. */
  async close(reason: ConnectError): Promise<void> {
    this.#closed = true;
    this.#stopTimer();
    await Promise.all([...this.#workers.values()].map((w) => this.disconnect(w, reason)));
  }

  /** The connected worker of an id, if the principal may act for it. */
  #workerFor(workerId: string, principal: string | undefined): ConnectedWorker | undefined {
    const w = this.#workers.get(workerId);
    return w !== undefined && w.principal === principal ? w : undefined;
  }

  /** Records a heartbeat; fails with UNAVAILABLE when the worker is not connected (it should reconnect). */
  heartbeat(workerId: string, principal: string | undefined): void {
    const w = this.#workerFor(workerId, principal);
    if (w === undefined) {
      throw workerUnavailable(workerId, `worker ${workerId} is not connected: open ServeTools again`);
    }
    w.lastSeen = Date.now();
    this.#touch(w);
  }

  /** At most once per heartbeat interval, and at least twice per session TTL. */
  #touchEvery(sessionTtlMs: number | undefined): number {
    if (sessionTtlMs === undefined || !(sessionTtlMs > 0)) return this.heartbeatIntervalMs;
    return Math.max(1, Math.min(this.heartbeatIntervalMs, Math.floor(sessionTtlMs / 2)));
  }

  /**
   * A worker serving a session is use of that session: its heartbeats slide
   * the session's idle TTL (store.touchSession), throttled to one touch per
   * {@link ConnectedWorker.touchEveryMs}. A session that is gone ends the worker
   * through the session watch, so a failed touch is only logged.
   */
  #touch(w: ConnectedWorker): void {
    if (w.sessionId === null || w.touching) return;
    const now = Date.now();
    if (now - w.lastTouched < w.touchEveryMs) return;
    w.touching = true;
    w.lastTouched = now;
    const sessionId = w.sessionId;
    this.#store.touchSession(sessionId).then(
      (record) => {
        w.touching = false;
        w.touchEveryMs = this.#touchEvery(record.ttlMs);
      },
      (err: unknown) => {
        w.touching = false;
        this.#logger.debug({ err, worker: w.id, session: sessionId }, 'a worker heartbeat could not touch its session');
      },
    );
  }

  /**
   * Delivers one chunk of a streaming call; resolves to false when the call
   * is not waiting any more (unknown, done, cancelled, not streaming).
   * A repeated sequence number is ignored; a gap is INVALID_ARGUMENT
   * (the rules of {@link PendingCalls.reportChunk}).
   */
  reportChunk(
    workerId: string,
    principal: string | undefined,
    callId: string,
    sequence: bigint,
    chunk: Value | undefined,
  ): Promise<boolean> {
    return this.#calls.reportChunk(this.#heardFrom(workerId, principal), callId, sequence, chunk);
  }

  /** Completes a call; false when it was late (done, cancelled, timed out) or a duplicate. */
  reportResult(workerId: string, principal: string | undefined, callId: string, outcome: WorkerOutcome): boolean {
    return this.#calls.reportResult(this.#heardFrom(workerId, principal), callId, outcome);
  }

  /** The connected worker a report comes from (if the principal may act for it), marked as alive. */
  #heardFrom(workerId: string, principal: string | undefined): ConnectedWorker | undefined {
    const w = this.#workerFor(workerId, principal);
    if (w !== undefined) w.lastSeen = Date.now();
    return w;
  }

  /**
   * Runs a call on a worker of the tool's pool, waiting for a free slot if
   * every worker is busy. Resolves to the worker's result (undefined when a
   * streaming call reported none); chunks go through `inv.emit`. When the
   * call's signal aborts, the worker gets a `cancel` and the call rejects
   * with the signal's reason.
   */
  async call(inv: Invocation): Promise<WorkerCallResult> {
    const record: ToolRecord = inv.tool;
    const pool = this.#pools.get(poolKey(record.sessionId, record.name));
    if (pool === undefined || pool.scheduler.workers.length === 0) {
      // Its last worker is gone (the store record is on its way out): the tool no longer exists.
      throw toolNotFound(record.name, inv.sessionId);
    }
    const worker = await pool.scheduler.acquire(inv.signal);
    worker.reserved--;
    if (inv.signal.aborted || worker.ended) {
      // The slot given to this call goes unused: hand it to the next waiter.
      for (const p of worker.pools) p.scheduler.pump();
      inv.signal.throwIfAborted();
      throw workerUnavailable(worker.id, `worker ${worker.id} went away`);
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        if (call.done) return;
        this.#calls.finish(call);
        worker.send({
          event: {
            case: 'cancel',
            value: {
              callId: call.id,
              reason: String((inv.signal.reason as Error | undefined)?.message ?? 'cancelled'),
            },
          },
        });
        reject(inv.signal.reason);
      };
      const call: PendingCall<ConnectedWorker> = {
        id: inv.callId,
        worker,
        streaming: inv.streaming,
        toolName: record.name,
        nextSequence: 0n,
        done: false,
        emit: inv.emit,
        resolve,
        reject,
        cleanup: () => inv.signal.removeEventListener('abort', onAbort),
      };
      this.#calls.add(call);
      inv.signal.addEventListener('abort', onAbort, { once: true });
      const left = inv.deadline - Date.now();
      worker.send({
        event: {
          case: 'call',
          value: {
            callId: call.id,
            toolName: record.name,
            sessionId: inv.sessionId,
            arguments: inv.args,
            streaming: inv.streaming,
            timeoutMs: Math.min(0xffffffff, Math.max(1, Math.ceil(left))),
            traceContext: { ...inv.traceContext },
          },
        },
      });
    });
  }

  #startTimer(): void {
    if (this.#timer !== undefined || this.heartbeatIntervalMs <= 0) return;
    this.#timer = setInterval(() => this.#tick(), this.heartbeatIntervalMs);
    this.#timer.unref();
  }

  #stopTimer(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Drops workers that missed too many heartbeats; pings the others. */
  #tick(): void {
    const now = Date.now();
    const limit = this.heartbeatIntervalMs * this.#missed;
    for (const w of [...this.#workers.values()]) {
      if (now - w.lastSeen > limit) {
        this.#logger.warn({ worker: w.id, missed: this.#missed }, 'tool worker missed its heartbeats: dropping it');
        void this.disconnect(w, workerUnavailable(w.id, `worker ${w.id} missed ${this.#missed} heartbeats`));
        continue;
      }
      w.send({ event: { case: 'ping', value: { nonce: ++this.#nonce } } });
    }
  }
}
