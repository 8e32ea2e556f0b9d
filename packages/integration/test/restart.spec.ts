// Server restart (seed 000 chaos testing: "server restarts"; seed 004: crash recovery), over gRPC
// and Connect. The client talks to a FaultProxy whose target is switched (setTarget) to the new
// server process, so the SAME client object keeps its baseUrl across the restart.
// Covers:
// - the old process either stops gracefully (SIGTERM) or crashes (SIGKILL: connections reset);
// - while the server is down, calls fail with Unavailable (after the client's read retries);
// - after a new server process is up, the same client reconnects by itself: calls work again;
// - a session that lived only in the old process's memory is reported gone (SessionNotFound) for
//   info, reads and writes, and is NOT re-created by using it;
// - a watch-mode cache never serves values of the lost session: once its stream broke it stops
//   serving, and after the restart reads report SessionNotFound instead of the old value.
import { FaultProxy, startServer, type StartedServer } from '@unified-bridge/testing';
import { bridgeError, PROTOCOLS, uniqueId, useClients, waitFor } from './support/helpers.js';

let server: StartedServer;
let proxy: FaultProxy;
const openClient = useClients(() => proxy.url);

beforeAll(async () => {
  server = await startServer();
  proxy = await FaultProxy.start({ target: server.url });
}, 30_000);

afterAll(async () => {
  await proxy?.stop();
  await server?.stop();
}, 30_000);

const STOPS = [
  ['graceful stop (SIGTERM)', (s: StartedServer) => s.stop().then(() => undefined)],
  ['crash (SIGKILL)', (s: StartedServer) => (s.kill('SIGKILL'), s.exited.then(() => undefined))],
] as const;

describe.each(PROTOCOLS)('a server restart, seen over %s', (protocol) => {
  it.each(STOPS)(
    'should reconnect the same client after a %s and report the in-memory session gone',
    async (_how, stop) => {
      const client = openClient({ protocol, retry: { maxAttempts: 3, initialDelayMs: 20 } });
      const session = await client.createSession({ id: uniqueId('restart') });
      await session.register('x', 'integer', 1);
      expect(await session.get('x', { fresh: true })).toBe(1);
      const oldPid = server.pid;

      await stop(server);
      expect(server.running).toBe(false);
      await bridgeError(session.get('x', { fresh: true }), 'Unavailable');
      await bridgeError(client.createSession(), 'Unavailable');

      server = await startServer();
      proxy.setTarget(server.url);
      expect(server.pid).not.toBe(oldPid);

      // The same client, the same baseUrl: calls work again.
      const fresh = await client.createSession({ id: uniqueId('after-restart') });
      await fresh.register('y', 'integer', 2);
      expect(await fresh.get('y', { fresh: true })).toBe(2);

      // The old session lived only in the old process: gone, and using it does not re-create it.
      await bridgeError(session.info(), 'SessionNotFound');
      await bridgeError(session.get('x', { fresh: true }), 'SessionNotFound');
      await bridgeError(session.set('x', 5), 'SessionNotFound');
      await bridgeError(session.register('z', 'integer', 0), 'SessionNotFound');
      const ids: string[] = [];
      for await (const s of client.listSessions()) ids.push(s.id);
      expect(ids).toContain(fresh.id);
      expect(ids).not.toContain(session.id);
      await bridgeError(session.info(), 'SessionNotFound');
      await fresh.close();
    },
  );

  it('should not let a watch-mode cache serve values of a session the restarted server lost', async () => {
    const client = openClient({ protocol, cache: { mode: 'watch' }, retry: { maxAttempts: 3, initialDelayMs: 20 } });
    const session = await client.createSession({ id: uniqueId('restart-watch') });
    await session.register('x', 'integer', 1);
    expect(await session.get('x')).toBe(1);
    await waitFor('the coherence stream to be live', () => session.peek('x') === 1);

    server.kill('SIGKILL');
    await server.exited;
    await waitFor('the cache to stop serving', () => session.peek('x') === undefined);

    server = await startServer();
    proxy.setTarget(server.url);
    await bridgeError(session.get('x'), 'SessionNotFound');
    expect(session.peek('x')).toBeUndefined();
    await bridgeError(session.get('x'), 'SessionNotFound');
  });
});
