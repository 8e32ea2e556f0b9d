import { ManualClock } from '../conformance.js';
import { MemoryStore } from './memory-store.js';
import { isStoreError, type StoreError } from '../store-error.js';

async function errorOf(p: Promise<unknown>): Promise<StoreError> {
  try {
    await p;
  } catch (err) {
    if (isStoreError(err)) return err;
    throw err;
  }
  throw new Error('expected a StoreError');
}

describe('MemoryStore (backend specifics)', () => {
  it('should reject bad options with a RangeError naming the option', () => {
    expect(() => new MemoryStore({ limits: { maxSessions: -1 } })).toThrow(/limits\.maxSessions/);
    expect(() => new MemoryStore({ limits: { sessionTtlMs: 0 } })).toThrow(/limits\.sessionTtlMs/);
    expect(() => new MemoryStore({ limits: { nope: 1 } as never })).toThrow(/unknown limit "nope"/);
    expect(() => new MemoryStore({ sweepIntervalMs: -1 })).toThrow(/sweepIntervalMs/);
  });

  it('should count live sessions and their variables in stats(), not expired or closed ones', async () => {
    const clock = new ManualClock();
    await using store = new MemoryStore({ clock, sweepIntervalMs: 0 });
    expect(await store.stats()).toEqual({ sessions: 0, variables: 0 });
    const a = await store.createSession({ ttlMs: 1000 });
    const b = await store.createSession({ ttlMs: 60_000 });
    const c = await store.createSession({ ttlMs: 60_000 });
    await store.registerVariable(a.id, { name: 'x', type: 'integer', value: 1 });
    await store.registerVariable(b.id, { name: 'x', type: 'integer', value: 1 });
    await store.registerVariable(b.id, { name: 'y', type: 'integer', value: 2 });
    await store.registerVariable(c.id, { name: 'x', type: 'integer', value: 1 });
    expect(await store.stats()).toEqual({ sessions: 3, variables: 4 });
    await store.closeSession(c.id);
    clock.advance(1001); // a has expired (not swept yet)
    expect(await store.stats()).toEqual({ sessions: 1, variables: 2 });
    await store.close();
    expect((await errorOf(store.stats())).type).toBe('StoreClosed');
  });

  it('should merge limits with the defaults', async () => {
    await using store = new MemoryStore({ limits: { historyDepth: 5 } });
    expect(store.limits.historyDepth).toBe(5);
    expect(store.limits.maxSessions).toBe(10_000);
    expect(Object.isFrozen(store.limits)).toBe(true);
  });

  it('should copy the caller value on write and binary values on every read', async () => {
    await using store = new MemoryStore({ sweepIntervalMs: 0 });
    const { id } = await store.createSession();
    const input = { a: [1, 2] };
    await store.registerVariable(id, { name: 'j', type: 'json', value: input });
    input.a.push(3);
    expect((await store.getVariable(id, 'j')).value).toEqual({ a: [1, 2] });
    const emb = await store.registerVariable(id, {
      name: 'e',
      type: 'embedding',
      value: [1, 2, 3],
      constraints: { dimensions: 3 },
    });
    (emb.value as Float64Array)[0] = 99;
    const read = await store.getVariable(id, 'e');
    expect(Array.from(read.value as Float64Array)).toEqual([1, 2, 3]);
    (read.value as Float64Array)[1] = 99;
    const history = await store.getHistory(id, 'e');
    expect(Array.from(history[0]?.value as Float64Array)).toEqual([1, 2, 3]);
  });

  it('should expire idle sessions on sweepExpired() and report SessionExpired after it', async () => {
    const clock = new ManualClock();
    await using store = new MemoryStore({ clock, limits: { sessionTtlMs: 1000 }, sweepIntervalMs: 0 });
    await store.createSession({ id: 'a' });
    await store.createSession({ id: 'b' });
    clock.advance(1000);
    expect(store.sweepExpired()).toBe(2);
    expect((await errorOf(store.getSession('a'))).type).toBe('SessionExpired');
    expect(store.sweepExpired()).toBe(0);
  });

  it('should run the sweep on its timer and end the watchers of expired sessions', async () => {
    jest.useFakeTimers();
    try {
      const clock = new ManualClock();
      await using store = new MemoryStore({ clock, limits: { sessionTtlMs: 1000 }, sweepIntervalMs: 500 });
      await store.createSession({ id: 'a' });
      const w = store.watch('a')[Symbol.asyncIterator]();
      expect((await w.next()).value?.kind).toBe('synced');
      const pending = w.next();
      clock.advance(1000);
      jest.advanceTimersByTime(500);
      expect((await errorOf(pending)).type).toBe('SessionExpired');
    } finally {
      jest.useRealTimers();
    }
  });

  it('should not keep the process alive with its sweep timer', async () => {
    const store = new MemoryStore({ sweepIntervalMs: 5 });
    const timer = (store as unknown as { timer: NodeJS.Timeout }).timer;
    expect(timer.hasRef()).toBe(false);
    await store.close();
    await store.close();
    expect((await errorOf(store.createSession())).type).toBe('StoreClosed');
  });

  it('should make room for a new session by sweeping expired ones at the limit', async () => {
    const clock = new ManualClock();
    await using store = new MemoryStore({ clock, limits: { sessionTtlMs: 1000, maxSessions: 1 }, sweepIntervalMs: 0 });
    await store.createSession({ id: 'a' });
    clock.advance(1000);
    await store.createSession({ id: 'b' });
    expect((await store.listSessions()).sessions.map((s) => s.id)).toEqual(['b']);
  });

  it('should keep paging correct after many deletes and re-registrations', async () => {
    await using store = new MemoryStore({ sweepIntervalMs: 0 });
    const { id } = await store.createSession();
    for (let i = 0; i < 300; i++) await store.registerVariable(id, { name: `v${i}`, type: 'integer', value: i });
    for (let round = 0; round < 30; round++) {
      for (let i = 0; i < 300; i += 3) await store.deleteVariable(id, `v${i}`);
      for (let i = 0; i < 300; i += 3) await store.registerVariable(id, { name: `v${i}`, type: 'integer', value: i });
    }
    const names: string[] = [];
    let pageToken = '';
    do {
      const page = await store.listVariables(id, { pageSize: 1000, pageToken });
      names.push(...page.variables.map((v) => v.name));
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(names).toEqual(Array.from({ length: 300 }, (_, i) => `v${i}`).sort());
  });

  it('should resolve a variable by id even when its name contains underscores', async () => {
    await using store = new MemoryStore({ sweepIntervalMs: 0 });
    const { id } = await store.createSession();
    const v = await store.registerVariable(id, { name: 'a_b_c', type: 'integer', value: 1 });
    expect((await store.getVariable(id, v.id)).name).toBe('a_b_c');
  });
});
