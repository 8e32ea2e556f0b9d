import { createRedisStore } from './redis-store.js';

describe('createRedisStore options', () => {
  it('should reject bad options with an error naming the option', () => {
    expect(() => createRedisStore({ url: 'http://x' })).toThrow(/options\.url/);
    expect(() => createRedisStore({ url: 'redis://a', cluster: { nodes: ['b:1'] } })).toThrow(/one of/);
    expect(() => createRedisStore({ cluster: { nodes: [] } })).toThrow(/options\.cluster\.nodes/);
    expect(() => createRedisStore({ keyPrefix: 'a{b}' })).toThrow(/options\.keyPrefix/);
    expect(() => createRedisStore({ commandTimeoutMs: 0 })).toThrow(/options\.commandTimeoutMs/);
    expect(() => createRedisStore({ sweepIntervalMs: -1 })).toThrow(/options\.sweepIntervalMs/);
    expect(() => createRedisStore({ inlineEventBytes: 1.5 })).toThrow(/options\.inlineEventBytes/);
    expect(() => createRedisStore({ limits: { maxSessions: -1 } })).toThrow(/limits\.maxSessions/);
    expect(() => createRedisStore({ limits: { nope: 1 } as never })).toThrow(/unknown limit "nope"/);
  });

  it('should merge limits with the defaults and start connecting lazily', async () => {
    // Nothing listens on port 1: the store is created all the same, and closes cleanly.
    const store = createRedisStore({ url: 'redis://127.0.0.1:1', limits: { historyDepth: 5 }, sweepIntervalMs: 0 });
    expect(store.limits.historyDepth).toBe(5);
    expect(store.limits.maxSessions).toBe(10_000);
    expect(Object.isFrozen(store.limits)).toBe(true);
    expect(store.keys.session('abc').keys).toEqual([
      'ub:{abc}:s',
      'ub:{abc}:v',
      'ub:{abc}:n',
      'ub:{abc}:h',
      'ub:{abc}:e',
      'ub:{abc}:t',
      'ub:{abc}:x',
    ]);
    await store.close();
    await store.close();
    expect(store.health).toBe('closed');
    await expect(store.getSession('abc')).rejects.toMatchObject({ type: 'StoreClosed' });
  });
});
