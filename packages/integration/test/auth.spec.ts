// Bearer-token auth on a real `unified-bridge serve --auth-token ...` process (dedicated server),
// over gRPC and Connect.
// Covers:
// - no token or a wrong token: Unauthenticated, and nothing is created;
// - the right token (a string, or a function called per call): sessions and variables work;
// - plain fetch without a token gets a Connect `unauthenticated` error.
import { Code } from '@connectrpc/connect';
import { useBridgeServer } from '@unified-bridge/testing/jest';
import { bridgeError, PROTOCOLS, uniqueId, useClients } from './support/helpers.js';

const TOKEN = 'integration-s3cret';
const bridge = useBridgeServer({ authTokens: [TOKEN] });
const openClient = useClients(() => bridge.url);

describe.each(PROTOCOLS)('bearer-token auth over %s', (protocol) => {
  it('should refuse a call without a token or with a wrong one', async () => {
    const id = uniqueId('auth-denied');
    const none = await bridgeError(openClient({ protocol }).createSession({ id }), 'Unauthenticated');
    expect(none.code).toBe(Code.Unauthenticated);
    await bridgeError(openClient({ protocol, token: 'wrong' }).createSession({ id }), 'Unauthenticated');
    // Nothing was created: the id is still free for an authenticated caller.
    await using session = await openClient({ protocol, token: TOKEN }).createSession({ id });
    expect(session.id).toBe(id);
  });

  it('should serve a caller with the right token (static or per call)', async () => {
    let calls = 0;
    const client = openClient({
      protocol,
      token: () => {
        calls++;
        return TOKEN;
      },
    });
    await using session = await client.createSession({ id: uniqueId('auth-ok') });
    await session.register('x', 'integer', 1);
    await session.set('x', 2);
    expect(await session.get('x', { fresh: true })).toBe(2);
    expect(calls).toBeGreaterThanOrEqual(4);
  });
});

describe('bearer-token auth with plain fetch', () => {
  it('should answer a call without a token with a Connect unauthenticated error', async () => {
    const res = await fetch(`${bridge.url}/unified_bridge.v1.SessionService/CreateSession`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { code?: string }).code).toBe('unauthenticated');
    const ok = await fetch(`${bridge.url}/unified_bridge.v1.SessionService/CreateSession`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: '{}',
    });
    expect(ok.status).toBe(200);
  });
});
