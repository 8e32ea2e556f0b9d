import type { WatchEvent } from '../session-store.js';
import { storeErrorOf, type Suite } from './harness.js';

/** Watch: synced then live changes, initial values, resume and `Compacted`, overflow, abort, fan-out, store close. */
export function describeWatch(suite: Suite): void {
  const { describe, it, expect, withSession, floatVar } = suite;
  describe('watch', () => {
    it('should send synced first, then every change with revisions increasing by one', async () => {
      const { store, sid } = await withSession();
      await floatVar(store, sid, 'x');
      const w = store.watch(sid)[Symbol.asyncIterator]();
      const synced = (await w.next()).value as WatchEvent;
      expect(synced).toEqual({ kind: 'synced', revision: 1 });
      await floatVar(store, sid, 'y');
      await store.updateVariable(sid, 'x', 0.9);
      await store.rollbackVariable(sid, 'x', 0);
      await store.deleteVariable(sid, 'y');
      const events: WatchEvent[] = [];
      for (let i = 0; i < 4; i++) events.push((await w.next()).value as WatchEvent);
      expect(events.map((e) => [e.kind, e.revision, e.variable?.name])).toEqual([
        ['created', 2, 'y'],
        ['updated', 3, 'x'],
        ['rolled_back', 4, 'x'],
        ['deleted', 5, 'y'],
      ]);
      expect(events[2]?.variable?.value).toBe(0.5);
      await w.return?.();
    });

    it('should send initial values ordered by name, filtered by names', async () => {
      const { store, sid } = await withSession();
      for (const n of ['b', 'a', 'c']) await floatVar(store, sid, n);
      const w = store.watch(sid, { includeInitial: true, names: ['c', 'a', 'missing'] })[Symbol.asyncIterator]();
      const first = [(await w.next()).value, (await w.next()).value, (await w.next()).value] as WatchEvent[];
      expect(first.map((e) => [e.kind, e.revision, e.variable?.name])).toEqual([
        ['initial', 3, 'a'],
        ['initial', 3, 'c'],
        ['synced', 3, undefined],
      ]);
      await store.updateVariable(sid, 'b', 0.1);
      await store.updateVariable(sid, 'c', 0.2);
      const e = (await w.next()).value as WatchEvent;
      expect([e.kind, e.revision, e.variable?.name]).toEqual(['updated', 5, 'c']);
      await w.return?.();
    });

    it('should resume from a revision, and fail with Compacted before the window', async () => {
      const { store, sid } = await withSession({ watchWindow: 5 });
      await floatVar(store, sid, 'x', 0);
      for (let i = 1; i <= 9; i++) await store.updateVariable(sid, 'x', i / 10);
      // revisions 1..10; the window holds 6..10, so resuming after 5 works, after 4 does not.
      const w = store.watch(sid, { sinceRevision: 7 })[Symbol.asyncIterator]();
      const got: WatchEvent[] = [];
      for (let i = 0; i < 4; i++) got.push((await w.next()).value as WatchEvent);
      expect(got.map((e) => [e.kind, e.revision])).toEqual([
        ['updated', 8],
        ['updated', 9],
        ['updated', 10],
        ['synced', 10],
      ]);
      await w.return?.();
      const ok = store.watch(sid, { sinceRevision: 5 })[Symbol.asyncIterator]();
      expect((await ok.next()).value?.revision).toBe(6);
      await ok.return?.();
      const err = await storeErrorOf(
        () => store.watch(sid, { sinceRevision: 4 })[Symbol.asyncIterator]().next(),
        'Compacted',
      );
      expect(err.oldestRevision).toBe(6);
      await storeErrorOf(
        () => store.watch(sid, { sinceRevision: 11 })[Symbol.asyncIterator]().next(),
        'InvalidArgument',
      );
      const current = store.watch(sid, { sinceRevision: 10 })[Symbol.asyncIterator]();
      expect((await current.next()).value).toEqual({ kind: 'synced', revision: 10 });
      await current.return?.();
    });

    it('should end a watcher that falls behind with a resumable WatcherOverflow', async () => {
      const { store, sid } = await withSession({ watcherBufferSize: 4 });
      await floatVar(store, sid, 'x', 0);
      const w = store.watch(sid)[Symbol.asyncIterator]();
      expect((await w.next()).value).toEqual({ kind: 'synced', revision: 1 });
      await store.updateVariable(sid, 'x', 0.1);
      expect((await w.next()).value?.revision).toBe(2);
      for (let i = 2; i <= 9; i++) await store.updateVariable(sid, 'x', i / 10);
      const err = await storeErrorOf(() => w.next(), 'WatcherOverflow');
      expect(err.lastRevision).toBe(2);
      expect((await w.next()).done).toBe(true);
      const resumed = store.watch(sid, { sinceRevision: err.lastRevision })[Symbol.asyncIterator]();
      const revisions: number[] = [];
      for (let i = 0; i < 8; i++) revisions.push(((await resumed.next()).value as WatchEvent).revision);
      expect(revisions).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
      expect((await resumed.next()).value?.kind).toBe('synced');
      await resumed.return?.();
    });

    it('should end cleanly at once when the signal is aborted, and free the watcher slot', async () => {
      const { store, sid } = await withSession({ maxWatchersPerSession: 1 });
      const ac = new AbortController();
      const w = store.watch(sid, { signal: ac.signal })[Symbol.asyncIterator]();
      expect((await w.next()).value?.kind).toBe('synced');
      const pending = w.next();
      const full = await storeErrorOf(() => store.watch(sid)[Symbol.asyncIterator]().next(), 'ResourceExhausted');
      expect(full.limit).toBe('maxWatchersPerSession');
      ac.abort();
      expect((await pending).done).toBe(true);
      const again = store.watch(sid)[Symbol.asyncIterator]();
      expect((await again.next()).value?.kind).toBe('synced');
      await again.return?.();
      const third = store.watch(sid)[Symbol.asyncIterator]();
      expect((await third.next()).value?.kind).toBe('synced');
      await third.return?.();
      const preAborted = store.watch(sid, { signal: AbortSignal.abort() })[Symbol.asyncIterator]();
      expect((await preAborted.next()).done).toBe(true);
    });

    it('should work with for-await and break', async () => {
      const { store, sid } = await withSession({ maxWatchersPerSession: 1 });
      await floatVar(store, sid, 'x', 0);
      const seen: string[] = [];
      const loop = (async () => {
        for await (const e of store.watch(sid)) {
          seen.push(e.kind);
          if (e.kind === 'synced') await store.updateVariable(sid, 'x', 0.3);
          if (e.kind === 'updated') break;
        }
      })();
      await loop;
      expect(seen).toEqual(['synced', 'updated']);
      const next = store.watch(sid)[Symbol.asyncIterator]();
      expect((await next.next()).value?.kind).toBe('synced');
      await next.return?.();
    });

    it('should fan out one change to many watchers', async () => {
      const { store, sid } = await withSession();
      await floatVar(store, sid, 'x', 0);
      const watchers = Array.from({ length: 50 }, () => store.watch(sid)[Symbol.asyncIterator]());
      for (const w of watchers) expect((await w.next()).value?.kind).toBe('synced');
      await store.updateVariable(sid, 'x', 0.5);
      for (const w of watchers) {
        const e = (await w.next()).value as WatchEvent;
        expect([e.kind, e.revision, e.variable?.value]).toEqual(['updated', 2, 0.5]);
        await w.return?.();
      }
    });

    it('should end every watcher with StoreClosed when the store closes', async () => {
      const { store, sid } = await withSession();
      const w = store.watch(sid)[Symbol.asyncIterator]();
      expect((await w.next()).value?.kind).toBe('synced');
      const pending = w.next();
      await store.close();
      await storeErrorOf(() => pending, 'StoreClosed');
      await storeErrorOf(() => store.getSession(sid), 'StoreClosed');
    });
  });
}
