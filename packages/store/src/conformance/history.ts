import { storeErrorOf, type Suite } from './harness.js';

/** History: bounded and newest first, disabled at depth 0, rollback as a new version. */
export function describeHistory(suite: Suite): void {
  const { describe, it, expect, withSession, floatVar } = suite;
  describe('history', () => {
    it('should keep a bounded history, newest first, with values, times and metadata', async () => {
      const { store, clock, sid } = await withSession({ historyDepth: 3 });
      const v0 = await floatVar(store, sid, 'x', 0.1);
      for (const [i, value] of [0.2, 0.3, 0.4].entries()) {
        clock.advance(1);
        await store.updateVariable(sid, 'x', value, { metadata: { step: String(i + 1) } });
      }
      const h = await store.getHistory(sid, 'x');
      expect(h.map((e) => [e.version, e.value])).toEqual([
        [3, 0.4],
        [2, 0.3],
        [1, 0.2],
      ]);
      expect(h[0]?.metadata).toEqual({ step: '3' });
      expect(h[0]?.updatedAt).toBe(clock.now());
      expect(h[2]?.updatedAt).toBe(v0.createdAt + 1);
      expect((await store.getHistory(sid, 'x', { limit: 1 })).map((e) => e.version)).toEqual([3]);
    });

    it('should disable history at depth 0', async () => {
      const { store, sid } = await withSession({ historyDepth: 0 });
      await floatVar(store, sid, 'x', 0.1);
      await store.updateVariable(sid, 'x', 0.2);
      expect(await store.getHistory(sid, 'x')).toEqual([]);
      await storeErrorOf(() => store.rollbackVariable(sid, 'x', 0), 'VariableNotFound');
    });

    it('should roll back by writing an old value as a new version', async () => {
      const { store, sid } = await withSession({ historyDepth: 3 });
      await floatVar(store, sid, 'x', 0.1);
      for (const value of [0.2, 0.3, 0.4]) await store.updateVariable(sid, 'x', value);
      await storeErrorOf(() => store.rollbackVariable(sid, 'x', 0), 'VariableNotFound');
      const r = await store.rollbackVariable(sid, 'x', 1);
      expect(r.version).toBe(4);
      expect(r.value).toBe(0.2);
      await storeErrorOf(() => store.rollbackVariable(sid, 'x', 0), 'VariableNotFound');
      const c = await storeErrorOf(
        () => store.rollbackVariable(sid, 'x', 3, { expectedVersion: 2 }),
        'VersionConflict',
      );
      expect(c.currentVersion).toBe(4);
      expect((await store.getVariable(sid, 'x')).version).toBe(4);
    });
  });
}
