import { create } from '@bufbuild/protobuf';
import { VariableEventKind as WireKind, WatchVariablesRequestSchema } from '@unified-bridge/proto';
import type { SessionScope, VariableCache } from './cache.js';
import { namesByWireNumber } from './wire-enum.js';
import { recordFromWire, type VariableRecord } from './codec.js';
import { toBridgeError, toBridgeErrorFor, type BridgeError } from './errors.js';
import { backoffDelayMs, sleep, type RetryPolicy } from './retry.js';
import type { Rpc } from './rpc.js';

/** Every {@link VariableEventKind}: the one list the type is derived from. */
export const VARIABLE_EVENT_KINDS = Object.freeze([
  'initial',
  'synced',
  'created',
  'updated',
  'deleted',
  'rolledBack',
] as const);

/**
 * What a watch event reports: `initial` (current value, sent first when
 * asked), `synced` (everything up to `revision` was sent; the stream is
 * live), `created`, `updated`, `deleted` (`variable` holds its last state),
 * `rolledBack`.
 */
export type VariableEventKind = (typeof VARIABLE_EVENT_KINDS)[number];

/** One event of `session.watch()`. */
export interface VariableEvent<T = unknown> {
  /** What happened. */
  readonly kind: VariableEventKind;
  /** The session revision of the change (for `initial` and `synced`: of the snapshot). */
  readonly revision: number;
  /** The variable after the change; undefined for `synced`. */
  readonly variable: VariableRecord<T> | undefined;
}

/**
 * Options of `session.watch()`.
 *
 * @example
 * ```ts
 * for await (const ev of session.watch(['temperature'], { includeInitial: true })) console.log(ev.kind, ev.variable?.value);
 * ```
 */
export interface WatchOptions {
  /** Send the current value of each watched variable first (`initial` events). Default false. */
  includeInitial?: boolean;
  /** Start after this revision (every retained later change is sent first). Default: now. */
  sinceRevision?: number;
  /** Ends the iteration (without an error) when aborted. */
  signal?: AbortSignal;
  /**
   * Resume from the last revision after a dropped stream (Unavailable,
   * WatcherOverflow), with the client's retry backoff. Default true. A
   * resume the server cannot serve (Compacted) ends the iteration with that error.
   */
  resume?: boolean;
}

/** Wire `VariableEventKind` -> {@link VariableEventKind}, by name (`ROLLED_BACK` -> `rolledBack`). */
const KINDS = namesByWireNumber(WireKind, VARIABLE_EVENT_KINDS);

const resumable = (e: BridgeError): boolean => e.type === 'Unavailable' || e.type === 'WatcherOverflow';

/** Hooks of {@link watchVariables} for the cache's coherence watcher. */
export interface WatchHooks {
  /** Called when a stream broke and is about to be resumed. */
  onDisconnect?: () => void;
}

/**
 * A resumable WatchVariables stream as an async iterable of events. After a
 * dropped stream it resumes from the last revision it delivered (skipping
 * anything already delivered); before the first `synced` it starts over.
 */
export async function* watchVariables(
  rpc: Rpc,
  policy: RetryPolicy,
  sessionId: string,
  names: readonly string[],
  options: WatchOptions,
  hooks: WatchHooks = {},
): AsyncGenerator<VariableEvent, void, undefined> {
  if (rpc.closed) throw rpc.closedError();
  const signal = rpc.signal(options.signal);
  let last = options.sinceRevision === undefined ? undefined : BigInt(options.sinceRevision);
  let initialDone = !options.includeInitial;
  let failures = 0;
  for (;;) {
    const req = create(WatchVariablesRequestSchema, {
      sessionId,
      names: [...names],
      // Before the first SYNCED the snapshot is incomplete: ask for it again.
      includeInitial: !initialDone,
      sinceRevision: initialDone ? last : undefined,
    });
    try {
      for await (const ev of rpc.variables.watchVariables(req, { signal })) {
        failures = 0;
        const kind = KINDS.get(ev.kind);
        if (kind === undefined) continue;
        if (kind === 'synced') {
          initialDone = true;
          if (last === undefined || ev.revision > last) last = ev.revision;
          yield { kind, revision: Number(ev.revision), variable: undefined };
          continue;
        }
        if (kind !== 'initial') {
          if (last !== undefined && ev.revision <= last) continue; // already delivered before a resume
          last = ev.revision;
        }
        yield { kind, revision: Number(ev.revision), variable: recordFromWire(ev.variable) };
      }
      if (signal.aborted) return;
      // The server ended the stream without a status: resume like after a drop.
    } catch (e) {
      if (signal.aborted) return;
      const err = toBridgeErrorFor(e, signal);
      if (options.resume === false || !resumable(err)) throw err;
      failures++;
      if (failures >= Math.max(policy.maxAttempts, 2)) throw err;
      hooks.onDisconnect?.();
      await sleepOrEnd(backoffDelayMs(policy, failures, err.retryDelayMs), signal);
      if (signal.aborted) return;
      continue;
    }
    failures++;
    hooks.onDisconnect?.();
    await sleepOrEnd(backoffDelayMs(policy, failures), signal);
    if (signal.aborted) return;
  }
}

async function sleepOrEnd(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(ms, signal);
  } catch {
    // aborted: the caller checks the signal
  }
}

/**
 * Keeps one session's cache coherent in `"watch"` mode: one WatchVariables
 * stream (all names, initial values first) applies every change to the cache.
 * The cache serves the session only while the stream is live; after a
 * Compacted resume it clears the session's entries and starts over.
 */
export class CacheWatcher {
  #controller: AbortController | undefined;
  #ended = false;

  constructor(
    private readonly rpc: Rpc,
    private readonly policy: RetryPolicy,
    private readonly scope: SessionScope,
    private readonly cache: VariableCache,
  ) {}

  /** True while a stream is open or being resumed. */
  get running(): boolean {
    return this.#controller !== undefined;
  }

  /** Starts the stream unless it runs, the session is gone, or the client is closed. */
  ensure(): void {
    if (this.#controller !== undefined || this.#ended || this.rpc.closed) return;
    const controller = new AbortController();
    this.#controller = controller;
    void this.#run(controller.signal).finally(() => {
      if (this.#controller === controller) this.#controller = undefined;
      this.scope.servable = false;
    });
  }

  /** Stops the stream for good (session closed). */
  stop(): void {
    this.#ended = true;
    this.scope.servable = false;
    this.#controller?.abort();
    this.#controller = undefined;
  }

  async #run(signal: AbortSignal): Promise<void> {
    const { scope, cache } = this;
    for (;;) {
      try {
        const events = watchVariables(
          this.rpc,
          this.policy,
          scope.sessionId,
          [],
          { includeInitial: true, signal },
          { onDisconnect: () => (scope.servable = false) },
        );
        for await (const ev of events) {
          if (ev.kind === 'synced') scope.servable = true;
          else if (ev.kind === 'deleted') {
            if (ev.variable) cache.markDeleted(scope, ev.variable.name, ev.revision);
          } else if (ev.variable) cache.store(scope, ev.variable);
        }
        return;
      } catch (e) {
        scope.servable = false;
        const err = toBridgeError(e);
        if (err.type === 'Compacted') {
          // Changes were lost: nothing cached for this session can be trusted.
          cache.clearScope(scope);
          continue;
        }
        if (err.type === 'SessionNotFound' || err.type === 'SessionExpired') {
          cache.clearScope(scope);
          this.#ended = true;
        }
        // Otherwise (server gone for longer than the retry policy): stop; the
        // next read restarts the stream and reads from the server meanwhile.
        return;
      }
    }
  }
}
