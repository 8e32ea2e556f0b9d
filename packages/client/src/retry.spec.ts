import { BridgeError } from './errors.js';
import { DEFAULT_RETRY, NO_RETRY, backoffDelayMs, resolveRetryPolicy, withRetry } from './retry.js';

const unavailable = (retryDelayMs?: number): BridgeError => new BridgeError('Unavailable', 'down', { retryDelayMs });

describe('retry', () => {
  it('should resolve options with defaults and reject bad ones by name', () => {
    expect(resolveRetryPolicy(undefined)).toBe(DEFAULT_RETRY);
    expect(resolveRetryPolicy(false)).toBe(NO_RETRY);
    expect(resolveRetryPolicy({ maxAttempts: 6 })).toMatchObject({ maxAttempts: 6, initialDelayMs: 50 });
    expect(() => resolveRetryPolicy({ jitter: 2 })).toThrow(/retry.jitter/);
    expect(() => resolveRetryPolicy({ multiplier: 0.5 })).toThrow(/retry.multiplier/);
    expect(() => resolveRetryPolicy('yes' as never)).toThrow(TypeError);
  });

  it('should grow the delay exponentially within the jitter, capped, and honour the server delay', () => {
    const p = { ...DEFAULT_RETRY, initialDelayMs: 100, maxDelayMs: 1000, jitter: 0.2 };
    for (let i = 0; i < 50; i++) {
      const d1 = backoffDelayMs(p, 1);
      const d3 = backoffDelayMs(p, 3);
      const d9 = backoffDelayMs(p, 9);
      expect(d1).toBeGreaterThanOrEqual(80);
      expect(d1).toBeLessThanOrEqual(120);
      expect(d3).toBeGreaterThanOrEqual(320);
      expect(d3).toBeLessThanOrEqual(480);
      expect(d9).toBeLessThanOrEqual(1200);
    }
    expect(backoffDelayMs(p, 1, 5000)).toBe(5000);
  });

  it('should retry retryable failures only, up to maxAttempts', async () => {
    const policy = { ...DEFAULT_RETRY, initialDelayMs: 1, maxDelayMs: 2 };
    let n = 0;
    await expect(
      withRetry(policy, { timeoutMs: undefined, signal: undefined, retryable: () => true }, () => {
        n++;
        return n < 3 ? Promise.reject(unavailable()) : Promise.resolve('ok');
      }),
    ).resolves.toBe('ok');
    expect(n).toBe(3);
    n = 0;
    await expect(
      withRetry(policy, { timeoutMs: undefined, signal: undefined, retryable: () => false }, () => {
        n++;
        return Promise.reject(unavailable());
      }),
    ).rejects.toMatchObject({ type: 'Unavailable' });
    expect(n).toBe(1);
  });

  it('should not wait past the deadline', async () => {
    let n = 0;
    await expect(
      withRetry(DEFAULT_RETRY, { timeoutMs: 50, signal: undefined, retryable: () => true }, () => {
        n++;
        return Promise.reject(unavailable(60_000));
      }),
    ).rejects.toMatchObject({ type: 'Unavailable' });
    expect(n).toBe(1);
  });

  it('should stop waiting when the signal aborts', async () => {
    const ac = new AbortController();
    const p = withRetry(DEFAULT_RETRY, { timeoutMs: undefined, signal: ac.signal, retryable: () => true }, () =>
      Promise.reject(unavailable(60_000)),
    );
    setImmediate(() => ac.abort());
    await expect(p).rejects.toMatchObject({ type: 'Cancelled' });
  });

  it('should wait with the given sleep and classify failures with the given toError', async () => {
    const waits: number[] = [];
    const seen: unknown[] = [];
    let n = 0;
    const result = await withRetry(
      { ...DEFAULT_RETRY, maxAttempts: 3 },
      {
        timeoutMs: undefined,
        signal: undefined,
        retryable: (e) => e.type === 'RateLimited',
        toError: (e) => {
          seen.push(e);
          return new BridgeError('RateLimited', 'slow down', { retryDelayMs: 7000 });
        },
        sleep: async (ms) => void waits.push(ms),
      },
      () => (++n < 3 ? Promise.reject(new Error(`attempt ${n}`)) : Promise.resolve('ok')),
    );
    expect(result).toBe('ok');
    expect(seen.map((e) => (e as Error).message)).toEqual(['attempt 1', 'attempt 2']);
    expect(waits).toHaveLength(2);
    expect(waits.every((ms) => ms >= 7000)).toBe(true);
  });

  it('should report a failed wait as a BridgeError', async () => {
    const p = withRetry(
      DEFAULT_RETRY,
      {
        timeoutMs: undefined,
        signal: undefined,
        retryable: () => true,
        sleep: () => Promise.reject(new Error('timer broke')),
      },
      () => Promise.reject(unavailable()),
    );
    await expect(p).rejects.toMatchObject({ name: 'BridgeError', message: 'timer broke' });
  });
});
