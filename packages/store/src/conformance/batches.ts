import type { StoredVariable, WatchEvent } from '../session-store.js';
import { storeErrorOf, type Suite } from './harness.js';

/** Batches: atomic all-or-nothing with every failure reported, non-atomic per key, never half-visible. */
export function describeBatches(suite: Suite): void {
  const { describe, it, expect, withSession, floatVar } = suite;
  describe('batches', () => {
    it('should apply an atomic batch all or nothing, reporting every failure', async () => {
      const { store, sid } = await withSession();
      for (const n of ['a', 'b', 'c']) await floatVar(store, sid, n);
      const err = await storeErrorOf(
        () =>
          store.updateVariables(
            sid,
            [
              { identifier: 'a', value: 0.9 },
              { identifier: 'b', value: 7 },
              { identifier: 'c', value: 0.1, expectedVersion: 4 },
              { identifier: 'zz', value: 0.1 },
            ],
            { atomic: true },
          ),
        'ValidationError',
      );
      expect(err.violations.map((v) => v.field)).toEqual(['b', 'c', 'zz']);
      for (const n of ['a', 'b', 'c']) expect((await store.getVariable(sid, n)).version).toBe(0);
      expect((await store.getSession(sid)).revision).toBe(3);
      const ok = await store.updateVariables(
        sid,
        [
          { identifier: 'a', value: 0.9 },
          { identifier: 'b', value: 0.8 },
        ],
        { atomic: true },
      );
      expect(ok.map((r) => r.ok && r.variable.version)).toEqual([1, 1]);
    });

    it('should apply a non-atomic batch per key, in request order', async () => {
      const { store, sid } = await withSession();
      for (const n of ['a', 'b']) await floatVar(store, sid, n);
      const results = await store.updateVariables(
        sid,
        [
          { identifier: 'a', value: 0.9 },
          { identifier: 'b', value: 7 },
          { identifier: 'nope', value: 0.1 },
        ],
        { atomic: false },
      );
      expect(results.map((r) => r.identifier)).toEqual(['a', 'b', 'nope']);
      expect(results.map((r) => (r.ok ? 'ok' : r.error.type))).toEqual(['ok', 'ValidationError', 'VariableNotFound']);
      expect((await store.getVariable(sid, 'a')).value).toBe(0.9);
      expect((await store.getVariable(sid, 'b')).value).toBe(0.5);
      const a = await store.getVariable(sid, 'a');
      await storeErrorOf(
        () =>
          store.updateVariables(
            sid,
            [
              { identifier: 'a', value: 0.1 },
              { identifier: a.id, value: 0.2 },
            ],
            { atomic: false },
          ),
        'InvalidArgument',
      );
    });

    it('should never show a reader or a watcher half of an atomic batch', async () => {
      const { store, sid } = await withSession();
      const names = Array.from({ length: 20 }, (_, i) => `v${String(i).padStart(2, '0')}`);
      for (const n of names) await floatVar(store, sid, n, 0);
      const w = store.watch(sid)[Symbol.asyncIterator]();
      const synced = (await w.next()).value as WatchEvent;
      const reads: Promise<{ found: ReadonlyMap<string, StoredVariable> }>[] = [];
      const batch = store.updateVariables(
        sid,
        names.map((n) => ({ identifier: n, value: 1 })),
        { atomic: true },
      );
      for (let i = 0; i < 10; i++) reads.push(store.getVariables(sid, names));
      await batch;
      for (const r of await Promise.all(reads)) {
        const values = new Set([...r.found.values()].map((v) => v.value));
        expect(values.size).toBe(1);
      }
      const revisions: number[] = [];
      for (let i = 0; i < names.length; i++) {
        const e = (await w.next()).value as WatchEvent;
        expect(e.kind).toBe('updated');
        revisions.push(e.revision);
      }
      expect(revisions).toEqual(names.map((_, i) => synced.revision + 1 + i));
      await w.return?.();
    });
  });
}
