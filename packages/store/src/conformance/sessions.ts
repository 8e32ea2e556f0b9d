import { storeErrorOf, type Suite } from './harness.js';

/** Sessions: creation, ids, idle TTL and expiry, close, listing, `maxSessions`. */
export function describeSessions(suite: Suite): void {
  const { describe, it, expect, make, withSession, floatVar, options } = suite;
  describe('sessions', () => {
    it('should create a session with a generated id and report counts and times', async () => {
      const { store, clock } = await make({ sessionTtlMs: 60_000 });
      const s = await store.createSession({ metadata: { team: 'a' }, owner: 'alice' });
      expect(s.id.length).toBeGreaterThan(0);
      expect(s.createdAt).toBe(clock.now());
      expect(s.lastUsedAt).toBe(clock.now());
      expect(s.expiresAt).toBe(clock.now() + 60_000);
      expect(s.ttlMs).toBe(60_000);
      expect(s.variableCount).toBe(0);
      expect(s.metadata).toEqual({ team: 'a' });
      expect(s.owner).toBe('alice');
      await floatVar(store, s.id, 'x');
      const again = await store.getSession(s.id);
      expect(again.variableCount).toBe(1);
      expect(again.revision).toBe(1);
      const other = await store.createSession();
      expect(other.id).not.toBe(s.id);
    });

    it('should refuse a duplicate or malformed caller id', async () => {
      const { store } = await make();
      await store.createSession({ id: 'abc:1' });
      await storeErrorOf(() => store.createSession({ id: 'abc:1' }), 'AlreadyExists');
      await storeErrorOf(() => store.createSession({ id: 'has space' }), 'InvalidArgument');
      await storeErrorOf(() => store.createSession({ id: 'x'.repeat(129) }), 'InvalidArgument');
      await storeErrorOf(() => store.createSession({ ttlMs: -5 }), 'InvalidArgument');
    });

    it('should fail with SessionNotFound for an unknown session', async () => {
      const { store } = await make();
      await storeErrorOf(() => store.getSession('nope'), 'SessionNotFound');
      await storeErrorOf(() => store.getVariable('nope', 'x'), 'SessionNotFound');
    });

    it('should slide the idle TTL on use and on heartbeat', async () => {
      const { store, clock } = await make({ sessionTtlMs: 1000 });
      const s = await store.createSession({ id: 's1' });
      clock.advance(900);
      const touched = await store.touchSession('s1');
      expect(touched.expiresAt).toBe(s.createdAt + 1900);
      clock.advance(900);
      await store.getSession('s1');
      clock.advance(900);
      const still = await store.getSession('s1');
      expect(still.lastUsedAt).toBe(clock.now());
    });

    it('should expire an idle session and never re-create it silently', async () => {
      const { store, clock } = await make({ sessionTtlMs: 1000 });
      await store.createSession({ id: 's1' });
      await store.createSession({ id: 's2', ttlMs: 5000 });
      await floatVar(store, 's1', 'x');
      clock.advance(1000);
      await storeErrorOf(() => store.getVariable('s1', 'x'), 'SessionExpired');
      await storeErrorOf(() => store.getSession('s1'), 'SessionExpired');
      await storeErrorOf(() => store.registerVariable('s1', { name: 'y', type: 'float', value: 1 }), 'SessionExpired');
      expect((await store.getSession('s2')).ttlMs).toBe(5000);
      // SessionExpired names the owner, so a server can tell the owner "expired" and others "not found".
      await store.createSession({ id: 's3', owner: 'alice' });
      clock.advance(1000);
      const first = await storeErrorOf(() => store.getSession('s3'), 'SessionExpired');
      const again = await storeErrorOf(() => store.getSession('s3'), 'SessionExpired');
      expect([first.details['owner'], again.details['owner']]).toEqual(['alice', 'alice']);
      expect((await storeErrorOf(() => store.getSession('s1'), 'SessionExpired')).details['owner']).toBe('');
      const listed = await store.listSessions();
      expect(listed.sessions.map((x) => x.id)).toEqual(['s2']);
      const fresh = await store.createSession({ id: 's1' });
      expect(fresh.variableCount).toBe(0);
    });

    if (options.sweepExpired !== undefined) {
      const sweep = options.sweepExpired;
      it('should end the watchers of an expired session with SessionExpired', async () => {
        const { store, clock } = await make({ sessionTtlMs: 1000 });
        await store.createSession({ id: 's1' });
        const it1 = store.watch('s1')[Symbol.asyncIterator]();
        expect((await it1.next()).value?.kind).toBe('synced');
        clock.advance(1000);
        await sweep(store);
        await storeErrorOf(() => it1.next(), 'SessionExpired');
        await storeErrorOf(() => store.getSession('s1'), 'SessionExpired');
      });
    }

    it('should close a session: remove its state, end its watchers after their buffered events', async () => {
      const { store, sid } = await withSession();
      await floatVar(store, sid, 'x');
      await store.registerTool(sid, { name: 't', owner: 'host' });
      const w = store.watch(sid)[Symbol.asyncIterator]();
      expect((await w.next()).value?.kind).toBe('synced');
      await store.updateVariable(sid, 'x', 0.7);
      await store.closeSession(sid);
      expect((await w.next()).value?.kind).toBe('updated');
      await storeErrorOf(() => w.next(), 'SessionNotFound');
      await storeErrorOf(() => store.getSession(sid), 'SessionNotFound');
      await storeErrorOf(() => store.closeSession(sid), 'SessionNotFound');
      const again = await store.createSession({ id: sid });
      expect(again.variableCount).toBe(0);
      expect(again.toolCount).toBe(0);
      await storeErrorOf(() => store.getVariable(sid, 'x'), 'VariableNotFound');
    });

    it('should list sessions ordered by id, paged, filtered by owner', async () => {
      const { store } = await make();
      for (const id of ['c', 'a', 'e', 'b', 'd']) await store.createSession({ id, owner: id < 'c' ? 'alice' : 'bob' });
      const p1 = await store.listSessions({ pageSize: 2 });
      expect(p1.sessions.map((s) => s.id)).toEqual(['a', 'b']);
      const p2 = await store.listSessions({ pageSize: 2, pageToken: p1.nextPageToken });
      expect(p2.sessions.map((s) => s.id)).toEqual(['c', 'd']);
      const p3 = await store.listSessions({ pageSize: 2, pageToken: p2.nextPageToken });
      expect(p3.sessions.map((s) => s.id)).toEqual(['e']);
      expect(p3.nextPageToken).toBe('');
      const alice = await store.listSessions({ owner: 'alice' });
      expect(alice.sessions.map((s) => s.id)).toEqual(['a', 'b']);
      await storeErrorOf(() => store.listSessions({ pageToken: 'garbage!' }), 'InvalidArgument');
    });

    it('should enforce maxSessions with ResourceExhausted naming the limit', async () => {
      const { store } = await make({ maxSessions: 2 });
      await store.createSession();
      await store.createSession();
      const err = await storeErrorOf(() => store.createSession(), 'ResourceExhausted');
      expect(err.limit).toBe('maxSessions');
    });
  });
}
