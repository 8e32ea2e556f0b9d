// Sessions against a real `unified-bridge serve` process, over gRPC and Connect (seed 000:
// test_session_isolation; seed 004: SessionStore tests, test_concurrent_sessions).
// Covers:
// - isolation: the same variable name in two sessions holds independent values;
// - a duplicate session id fails with AlreadyExists (the first session is untouched);
// - close removes everything: variables gone, the session is SessionNotFound for every client,
//   it leaves the listing, its watch streams end with SessionNotFound, and a new session with the
//   same id starts empty;
// - heartbeat extends expires_at;
// - expiry on a server started with a 2 s session TTL: after it the session is SessionExpired
//   (or SessionNotFound) for reads, writes and info, and it is NOT silently re-created;
// - 5 concurrent sessions (one client each) with the same variable names do not interfere.
import { Code } from '@connectrpc/connect';
import { isBridgeError, type Session } from '@unified-bridge/client';
import { useBridgeServer } from '@unified-bridge/testing/jest';
import { bridgeError, PROTOCOLS, uniqueId, useClients, waitFor } from './support/helpers.js';

const bridge = useBridgeServer();
const openClient = useClients(() => bridge.url);

/** Ids of every session the client can list (ListSessions does not extend any TTL). */
async function listedIds(client: ReturnType<typeof openClient>): Promise<string[]> {
  const ids: string[] = [];
  for await (const s of client.listSessions()) ids.push(s.id);
  return ids;
}

describe.each(PROTOCOLS)('sessions over %s', (protocol) => {
  it('should isolate variables of the same name in two sessions', async () => {
    const client = openClient({ protocol });
    await using s1 = await client.createSession({ id: uniqueId('iso-1') });
    await using s2 = await client.createSession({ id: uniqueId('iso-2') });
    await s1.register('isolated', 'string', 'session1');
    await s2.register('isolated', 'string', 'session2');
    expect(await s1.get('isolated', { fresh: true })).toBe('session1');
    expect(await s2.get('isolated', { fresh: true })).toBe('session2');

    await s1.set('isolated', 'updated1');
    expect(await s1.get('isolated', { fresh: true })).toBe('updated1');
    expect(await s2.get('isolated', { fresh: true })).toBe('session2');

    const other = openClient({ protocol, cache: false });
    expect(await other.session(s2.id).get('isolated')).toBe('session2');
    await other.session(s1.id).delete('isolated');
    expect(await s2.has('isolated')).toBe(true);
  });

  it('should refuse a duplicate session id with AlreadyExists', async () => {
    const client = openClient({ protocol });
    const id = uniqueId('dup');
    await using first = await client.createSession({ id, metadata: { n: '1' } });
    await first.register('x', 'integer', 1);
    const err = await bridgeError(openClient({ protocol }).createSession({ id }), 'AlreadyExists');
    expect(err.code).toBe(Code.AlreadyExists);
    expect((await first.info()).metadata).toEqual({ n: '1' });
    expect(await first.get('x', { fresh: true })).toBe(1);
  });

  it('should remove everything a closed session owned', async () => {
    const owner = openClient({ protocol });
    const observer = openClient({ protocol, cache: false });
    const id = uniqueId('close');
    const session = await owner.createSession({ id });
    await session.register('a', 'integer', 1);
    await session.register('b', 'string', 'two');
    expect((await session.info()).variableCount).toBe(2);

    // A watch stream of another client on the session.
    const events = observer.session(id).watch(undefined, { includeInitial: true })[Symbol.asyncIterator]();
    const first = await events.next();
    expect(first.done).toBe(false);

    await session.close();
    expect(session.closed).toBe(true);

    // The watch ends with SessionNotFound (drain whatever was sent before the close).
    let ended: unknown;
    for (;;) {
      try {
        const next = await events.next();
        if (next.done) break;
      } catch (err) {
        ended = err;
        break;
      }
    }
    expect(isBridgeError(ended, 'SessionNotFound')).toBe(true);

    const again = observer.session(id);
    await bridgeError(again.info(), 'SessionNotFound');
    await bridgeError(again.get('a'), 'SessionNotFound');
    await bridgeError(again.set('b', 'three'), 'SessionNotFound');
    expect(await listedIds(observer)).not.toContain(id);

    // The id is free again, and a new session with it starts empty.
    await using reborn = await observer.createSession({ id });
    expect((await reborn.info()).variableCount).toBe(0);
    await bridgeError(reborn.get('a'), 'VariableNotFound');
  });

  it('should extend expires_at on heartbeat', async () => {
    const client = openClient({ protocol });
    await using session = await client.createSession({ id: uniqueId('hb'), ttlSeconds: 600 });
    const before = await session.info();
    const expiresBefore = before.expiresAt?.getTime() ?? Number.NaN;
    // Let the clock move past the last use, so "from now" is later (a condition, not a sleep).
    await waitFor('the clock to move', () => Date.now() > (before.lastUsedAt?.getTime() ?? 0) + 5, {
      intervalMs: 2,
    });
    const after = await session.heartbeat();
    expect(after.ttlSeconds).toBe(600);
    expect(after.expiresAt?.getTime()).toBeGreaterThan(expiresBefore);
    expect(after.expiresAt?.getTime()).toBe((after.lastUsedAt?.getTime() ?? 0) + 600_000);
  });

  it('should keep 5 concurrent sessions free of interference', async () => {
    const results = await Promise.all(
      Array.from({ length: 5 }, async (_, i) => {
        const client = openClient({ protocol });
        const session = await client.createSession({ id: uniqueId(`conc-${i}`) });
        await session.register('shared_name', 'integer', i);
        await session.register(`own_${i}`, 'string', `value-${i}`);
        for (let round = 0; round < 10; round++) await session.update<number>('shared_name', (n) => n + i);
        return { i, session };
      }),
    );
    const checker = openClient({ protocol, cache: false });
    for (const { i, session } of results) {
      const s = checker.session(session.id);
      expect(await s.getVariable('shared_name')).toMatchObject({ value: i + 10 * i, version: 10 });
      const names = (await s.list().toArray()).map((v) => v.name);
      expect(names).toEqual([`own_${i}`, 'shared_name']);
      expect((await s.info()).variableCount).toBe(2);
    }
    await Promise.all(results.map(({ session }) => session.close()));
  });
});

describe('with a 2 s session TTL (dedicated server)', () => {
  // Short enough to wait out, long enough that a loaded CI machine never stalls a whole TTL
  // between two calls of the set-up (each call extends the session's life).
  const ttlServer = useBridgeServer({ sessionTtlMs: 2_000 });
  const openTtlClient = useClients(() => ttlServer.url);

  describe.each(PROTOCOLS)('over %s', (protocol) => {
    it('should expire an idle session and never re-create it silently', async () => {
      const client = openTtlClient({ protocol });
      const session: Session = await client.createSession({ id: uniqueId('ttl') });
      await session.register('x', 'integer', 1);
      const info = await session.info();
      expect(info.ttlSeconds).toBe(2);

      // Expiry is the behaviour under test: wait until the server no longer lists the session
      // (ListSessions does not touch sessions, so polling it does not keep this one alive).
      await waitFor('the session to expire', async () => !(await listedIds(client)).includes(session.id), {
        intervalMs: 100,
      });

      const expired = (err: { type: string }) => ['SessionExpired', 'SessionNotFound'].includes(err.type);
      const reads = await bridgeError(session.get('x', { fresh: true }));
      expect(expired(reads)).toBe(true);
      expect(reads.code).toBe(Code.NotFound);
      const writes = await bridgeError(session.set('x', 2));
      expect(expired(writes)).toBe(true);
      const infoErr = await bridgeError(session.info());
      expect(expired(infoErr)).toBe(true);
      // Using it did not bring it back.
      expect(await listedIds(client)).not.toContain(session.id);
      const stillGone = await bridgeError(openTtlClient({ protocol, cache: false }).session(session.id).get('x'));
      expect(expired(stillGone)).toBe(true);
    });
  });
});
