import type { ExecuteToolStreamRequest } from '@unified-bridge/proto';
import { decodeValue } from './codec.js';
import { BridgeError, isBridgeError, toBridgeErrorFor, withToolName } from './errors.js';
import type { Rpc } from './rpc.js';
import { metricsFromWire, type ToolMetrics } from './tool-types.js';

/**
 * The output of a streaming tool call as an async iterable of decoded
 * chunks, in order. The call starts when iteration starts (once: a second
 * iteration is a TypeError); `break` (or the signal) cancels it and the tool
 * is told. Sequence numbers and the final message are checked: a stream that
 * drops before its end fails with `Unavailable` after the chunks received.
 *
 * @example
 * ```ts
 * const stream = session.tools.stream<number>('count', { n: 3 });
 * for await (const n of stream) console.log(n);
 * console.log(stream.totalChunks, stream.metrics?.durationMs);
 * ```
 */
export class ToolStream<T = unknown> implements AsyncIterable<T> {
  #started = false;
  #metrics: ToolMetrics | undefined;
  #total: number | undefined;

  /** Use `session.tools.stream()`. */
  constructor(private readonly run: (stream: ToolStream<T>) => AsyncGenerator<T, void, undefined>) {}

  /** The call's metrics, once the final message arrived. */
  get metrics(): ToolMetrics | undefined {
    return this.#metrics;
  }

  /** How many chunks the tool sent, once the final message arrived. */
  get totalChunks(): number | undefined {
    return this.#total;
  }

  /** @internal Records the final message. */
  end(total: number, metrics: ToolMetrics | undefined): void {
    this.#total = total;
    this.#metrics = metrics;
  }

  /** Starts the call (once). */
  [Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    if (this.#started) throw new TypeError('a tool stream can be iterated only once: call stream() again');
    this.#started = true;
    return this.run(this);
  }
}

/** One ExecuteToolStream call for {@link openToolStream}. */
export interface ToolStreamCall {
  readonly rpc: Rpc;
  /** The request (session, tool name, checked arguments). */
  readonly request: ExecuteToolStreamRequest;
  /** Aborts the call. */
  readonly signal: AbortSignal | undefined;
  /** The deadline of the whole stream, in ms; undefined: none. */
  readonly timeoutMs: number | undefined;
  /** Turns a failure of the call into the error the caller sees (sets `toolName`, drops stale tool lists). */
  readonly failed: (err: BridgeError) => BridgeError;
}

/**
 * A {@link ToolStream} of one call: starts it when iterated, checks the
 * sequence numbers and the final message, and cancels the call when the
 * consumer stops early.
 */
export function openToolStream<T>(call: ToolStreamCall): ToolStream<T> {
  const { rpc, request: req, timeoutMs, failed } = call;
  const name = req.toolName;
  return new ToolStream<T>(async function* (stream) {
    if (rpc.closed) throw withToolName(rpc.closedError(), name);
    const own = new AbortController();
    const signal = rpc.signal(call.signal ? AbortSignal.any([call.signal, own.signal]) : own.signal);
    const bad = (message: string): BridgeError =>
      new BridgeError('Internal', `tool '${name}' stream: ${message}`, { toolName: name });
    try {
      let next = 0n;
      let ended = false;
      for await (const m of rpc.tools.executeToolStream(req, { signal, timeoutMs })) {
        if (ended) throw bad('the server sent a message after the final one');
        if (m.sequence !== next) throw bad(`expected sequence ${next}, got ${m.sequence}`);
        next++;
        if (m.payload.case === 'chunk') {
          yield decodeValue(m.payload.value, `chunk ${m.sequence} of tool '${name}'`) as T;
        } else if (m.payload.case === 'end') {
          const total = m.payload.value.totalChunks;
          if (total !== m.sequence) throw bad(`the final message counts ${total} chunks, ${m.sequence} were sent`);
          stream.end(Number(total), metricsFromWire(m.payload.value.metrics));
          ended = true;
        } else {
          throw bad(`message ${m.sequence} has neither a chunk nor the end`);
        }
      }
      if (!ended) {
        throw new BridgeError('Unavailable', `tool '${name}' stream ended before its final message`, {
          toolName: name,
        });
      }
    } catch (e) {
      if (isBridgeError(e) && e.toolName === name) throw e;
      throw failed(toBridgeErrorFor(e, signal));
    } finally {
      // Breaking out of the loop lands here: cancel the call so the tool stops.
      own.abort(new BridgeError('Cancelled', 'the stream was closed by its consumer'));
    }
  });
}
