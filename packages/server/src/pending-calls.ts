// The calls a broker has sent to workers and not yet seen finish, and the
// rules their reports follow: only the worker a call was sent to may report
// on it, and only while it is pending; chunks (streaming calls only) come
// with consecutive sequence numbers from 0, a repeated one is ignored and a
// gap is INVALID_ARGUMENT; the first result (or error) finishes the call and
// later ones are not accepted. No store, no stream: chunks go to the call's
// `emit`, results to its promise.
import type { ErrorDetail, Value } from '@unified-bridge/proto';
import { invalidArgument, workerReportedError } from './errors.js';

/** What a worker reports as a call's outcome (the ReportToolResult oneof). */
export type WorkerOutcome =
  | { case: 'result'; value: Value }
  | { case: 'error'; value: ErrorDetail }
  | { case: undefined };

/** What a call resolves to: the result (undefined when a streaming call reported none) and who ran it. */
export interface WorkerCallResult {
  readonly result: Value | undefined;
  readonly workerId: string;
}

/** The worker side a pending call needs: its id and its own index of pending calls (by call id). */
export interface CallOwner {
  readonly id: string;
  readonly calls: Map<string, unknown>;
}

/** One call sent to a worker and not finished yet. */
export interface PendingCall<W extends CallOwner = CallOwner> {
  readonly id: string;
  /** The worker the call was sent to: the only one whose reports count. */
  readonly worker: W;
  /** Whether the caller streams (chunks are accepted only then). */
  readonly streaming: boolean;
  readonly toolName: string;
  /** The sequence number the next chunk must carry. */
  nextSequence: bigint;
  /** Set once the call finished (result, error, cancel, worker gone). */
  done: boolean;
  /** Hands one chunk to the caller; resolves once taken. */
  readonly emit: (chunk: Value) => Promise<void>;
  readonly resolve: (v: WorkerCallResult) => void;
  readonly reject: (err: unknown) => void;
  /** Releases what the call holds (its abort listener). */
  readonly cleanup: () => void;
}

/** The table of pending calls, by call id (and by worker, in each worker's `calls`). */
export class PendingCalls<W extends CallOwner> {
  readonly #calls = new Map<string, PendingCall<W>>();
  readonly #onFinished: (call: PendingCall<W>) => void;

  /** `onFinished` runs after a call left the table (its worker has a slot free again). */
  constructor(onFinished: (call: PendingCall<W>) => void) {
    this.#onFinished = onFinished;
  }

  /** How many calls are pending. */
  get size(): number {
    return this.#calls.size;
  }

  /** Adds a call sent to `call.worker`. */
  add(call: PendingCall<W>): void {
    this.#calls.set(call.id, call);
    call.worker.calls.set(call.id, call);
  }

  /** Marks a call done and takes it out of the table and out of its worker's; idempotent. */
  finish(call: PendingCall<W>): void {
    if (call.done) return;
    call.done = true;
    call.cleanup();
    this.#calls.delete(call.id);
    call.worker.calls.delete(call.id);
    this.#onFinished(call);
  }

  /**
   * Delivers one chunk reported by `worker` (undefined: not connected, or
   * not its principal's). Resolves to false when the call is not waiting
   * for it (unknown, done, another worker's, not streaming), true when it
   * was delivered or is a repeat of one that was (and the call still runs).
   * A missing chunk or a gap in the sequence is INVALID_ARGUMENT.
   */
  async reportChunk(
    worker: W | undefined,
    callId: string,
    sequence: bigint,
    chunk: Value | undefined,
  ): Promise<boolean> {
    const call = this.#calls.get(callId);
    if (call === undefined || call.done || call.worker !== worker || !call.streaming) return false;
    if (chunk === undefined || chunk.kind.case === undefined) throw invalidArgument('chunk', 'chunk is required');
    if (sequence < call.nextSequence) return true; // a repeated report: already delivered
    if (sequence > call.nextSequence) {
      throw invalidArgument('sequence', `expected chunk sequence ${call.nextSequence}, got ${sequence}`);
    }
    call.nextSequence++;
    await call.emit(chunk).catch(() => {});
    return !call.done;
  }

  /**
   * Finishes a call with the outcome `worker` reported: an error rejects it
   * (as the worker's ErrorDetail, see {@link workerReportedError}), anything
   * else resolves it. False when the report is late (done, cancelled, timed
   * out), a duplicate, or not from the call's worker.
   */
  reportResult(worker: W | undefined, callId: string, outcome: WorkerOutcome): boolean {
    const call = this.#calls.get(callId);
    if (call === undefined || call.done || call.worker !== worker) return false;
    this.finish(call);
    if (outcome.case === 'error') {
      call.reject(workerReportedError(call.worker.id, call.toolName, outcome.value));
    } else {
      const result = outcome.case === 'result' && outcome.value.kind.case !== undefined ? outcome.value : undefined;
      call.resolve({ result, workerId: call.worker.id });
    }
    return true;
  }
}
