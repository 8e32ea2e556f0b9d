// @private Internal code of unified-bridge, does not follow semantic versioning.
//
// The rules every tool handler runs by, written once for host tools (run by
// the server) and worker tools (run by a client's ToolWorker): emit only in
// a streaming tool; an `async function*` yields its chunks, any other
// function may call `ctx.emit`; chunks go to a streaming caller in order, or
// are collected into an array result for a caller that waits for one value;
// a generator left early is closed with `return()`; `undefined` is sent as
// `null`. The caller builds the handler's context and says where chunks go.
import type { Value } from '@unified-bridge/proto';
import { toWire } from '../codec.js';
import { ToolFailure } from './tool-failure.js';

/** A handler's `ctx.emit`: sends one chunk; resolves once it was delivered. */
export type ToolEmit = (chunk: unknown) => Promise<void>;

/** One run of a tool handler, as {@link runToolHandler} takes it. */
export interface ToolHandlerRun<C> {
  /** The tool's name (for error messages). */
  readonly toolName: string;
  /** The handler: returns the result, or an async iterable of chunks (an `async function*`). */
  readonly handler: (args: Record<string, unknown>, ctx: C) => unknown;
  /** The call's arguments; the handler gets a shallow copy. */
  readonly args: Readonly<Record<string, unknown>>;
  /** Whether the tool streams (declared, or by default {@link isAsyncGeneratorFunction} of the handler). */
  readonly streaming: boolean;
  /**
   * Whether the caller takes chunks as they come (ExecuteToolStream). When
   * false, the chunks of a streaming tool are collected and become an array
   * result (when the tool returns nothing itself).
   */
  readonly callerStreams: boolean;
  /**
   * Aborted when the call is over for the caller (cancel, deadline,
   * shutdown): no chunk is sent or pulled after it, and the run rejects with
   * its reason.
   */
  readonly signal: AbortSignal;
  /**
   * Builds the handler's context around `emit` (the caller adds what its
   * handlers see: session, deadline, ids...).
   */
  readonly context: (emit: ToolEmit) => C;
  /**
   * Delivers one chunk, already encoded, to the streaming caller. Called one
   * chunk at a time in emit order (the next once the previous resolved),
   * with sequence numbers 0, 1, 2...; a rejection fails that emit, every
   * later one and the run. Never called when `callerStreams` is false.
   */
  readonly send: (chunk: Value, sequence: number) => Promise<void>;
}

/** True for an `async function*` (then a tool defaults to streaming). */
export function isAsyncGeneratorFunction(f: unknown): boolean {
  return (
    typeof f === 'function' && (f as { constructor?: { name?: string } }).constructor?.name === 'AsyncGeneratorFunction'
  );
}

/** True for anything with a `Symbol.asyncIterator` method (what a streaming handler may return). */
export function isAsyncIterable(v: unknown): v is AsyncIterable<unknown> {
  return (
    typeof v === 'object' && v !== null && typeof (v as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function'
  );
}

/**
 * Runs a tool handler by the rules above. Resolves to the encoded result, or
 * to `undefined` when a streaming tool called by a streaming caller ended
 * without a value of its own. Rejects with whatever the handler threw (the
 * caller maps it to its error), with `signal.reason` once the signal aborted,
 * and with a ToolFailure `InvalidResult` for a result that has no wire form.
 * `ctx.emit` rejects with a TypeError in a tool that is not streaming, with
 * the signal's reason once it aborted, and once the run is over.
 *
 * @example
 * const result = await runToolHandler({
 *   toolName: 'count',
 *   handler: tool.handler,
 *   args,
 *   streaming: true,
 *   callerStreams: true,
 *   signal,
 *   context: (emit) => ({ signal, emit }),
 *   send: (chunk, sequence) => stream.write(sequence, chunk),
 * });
 */
export async function runToolHandler<C>(run: ToolHandlerRun<C>): Promise<Value | undefined> {
  const { toolName, streaming, callerStreams, signal, send } = run;
  const collected: unknown[] = [];
  let sequence = 0;
  let delivered: Promise<void> = Promise.resolve();
  let over = false;
  const emit: ToolEmit = (chunk) => {
    if (!streaming) {
      return Promise.reject(
        new TypeError(`tool '${toolName}' is not streaming: return the result instead of calling emit()`),
      );
    }
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    if (over) return Promise.reject(new Error(`the call of tool '${toolName}' is over`));
    if (!callerStreams) {
      collected.push(chunk);
      return Promise.resolve();
    }
    let value: Value;
    try {
      value = toWire(chunk);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new TypeError(String(e)));
    }
    const seq = sequence++;
    delivered = delivered.then(() => {
      if (signal.aborted) throw signal.reason as Error;
      return send(value, seq);
    });
    // The run awaits the deliveries: an emit nobody awaited is no unhandled rejection.
    delivered.catch(() => {});
    return delivered;
  };

  let out: unknown;
  try {
    signal.throwIfAborted();
    out = await run.handler({ ...run.args }, run.context(emit));
    if (streaming && isAsyncIterable(out)) out = await drain(out, emit, signal);
    await delivered;
    signal.throwIfAborted();
  } finally {
    over = true;
  }
  if (streaming && !callerStreams && collected.length > 0 && out === undefined) out = collected;
  if (streaming && callerStreams && out === undefined) return undefined;
  try {
    return toWire(out === undefined ? null : out);
  } catch (e) {
    throw new ToolFailure(
      'InvalidResult',
      `tool '${toolName}' returned a value with no wire encoding: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  }
}

/** Emits what an async iterable yields until it ends (its return value is the result) or the signal aborts. */
async function drain(iterable: AsyncIterable<unknown>, emit: ToolEmit, signal: AbortSignal): Promise<unknown> {
  const it = iterable[Symbol.asyncIterator]();
  let finished = false;
  try {
    while (!signal.aborted) {
      const r = await it.next();
      if (r.done === true) {
        finished = true;
        return r.value;
      }
      await emit(r.value);
    }
    return undefined;
  } finally {
    if (!finished) await it.return?.();
  }
}
