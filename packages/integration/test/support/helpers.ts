// Shared helpers of the integration specs: the protocols every scenario runs over, waiting
// for conditions (never for fixed times), unique ids, error capture and RPC counting.
import { randomBytes } from 'node:crypto';
import type { Interceptor } from '@connectrpc/connect';
import {
  createBridgeClient,
  isBridgeError,
  type BridgeClient,
  type BridgeClientOptions,
  type BridgeError,
  type BridgeErrorType,
} from '@unified-bridge/client';

/** The two wire protocols every scenario runs over. */
export const PROTOCOLS = ['grpc', 'connect'] as const;
/** One of {@link PROTOCOLS}. */
export type Protocol = (typeof PROTOCOLS)[number];

/** A unique id (session ids, variable names) so tests on one server never collide. */
export function uniqueId(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

/**
 * Polls `probe` until it returns a truthy value and resolves with it; rejects with `what` in
 * the message after `timeoutMs` (default 20 s: generous for a loaded 2-core machine). This is
 * waiting for a condition, never a fixed sleep.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | Promise<T>,
  { timeoutMs = 20_000, intervalMs = 10 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value as NonNullable<T>;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`waitFor(${what}): condition not met within ${timeoutMs} ms (last: ${String(last)})`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Awaits `promise`, expects it to reject with a BridgeError (of `type` when given) and returns it. */
export async function bridgeError(promise: Promise<unknown>, type?: BridgeErrorType): Promise<BridgeError> {
  let outcome: { ok: true; value: unknown } | { ok: false; error: unknown };
  try {
    outcome = { ok: true, value: await promise };
  } catch (error) {
    outcome = { ok: false, error };
  }
  if (outcome.ok) throw new Error(`expected a BridgeError${type ? ` (${type})` : ''}, but the call succeeded`);
  const err = outcome.error;
  if (!isBridgeError(err)) throw new Error(`expected a BridgeError, got ${String(err)}`, { cause: err });
  if (type !== undefined && err.type !== type) {
    throw new Error(`expected a BridgeError of type ${type}, got ${err.type}: ${err.message}`, { cause: err });
  }
  return err;
}

/** An interceptor that counts the RPCs a client sends, by method name (proves cache hits). */
export function rpcCounter(): { interceptor: Interceptor; count: (method: string) => number } {
  const counts = new Map<string, number>();
  return {
    interceptor: (next) => (req) => {
      counts.set(req.method.name, (counts.get(req.method.name) ?? 0) + 1);
      return next(req);
    },
    count: (method) => counts.get(method) ?? 0,
  };
}

/**
 * Clients for one spec file: `open(options)` creates a client of the server at `baseUrl()` (or
 * `options.baseUrl`);
 * every client opened in a test is closed after it (afterEach), also when the test fails.
 */
export function useClients(baseUrl: () => string): (options?: BridgeClientOptions) => BridgeClient {
  const open: BridgeClient[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
  });
  return (options = {}) => {
    const client = createBridgeClient({ ...options, baseUrl: options.baseUrl ?? baseUrl() });
    open.push(client);
    return client;
  };
}
