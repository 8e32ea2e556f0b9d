import type { BridgeClient } from '../../src/client.js';
import type { BridgeClientOptions } from '../../src/client-options.js';
import { createBridgeClient } from '../../src/node.js';
import type { Session } from '../../src/session.js';
import { FakeBridge } from './fake-bridge.js';

/** A client on an in-memory FakeBridge with quick retries, and a session `s1` on it. */
export interface FakeSession {
  readonly fake: FakeBridge;
  readonly client: BridgeClient;
  readonly session: Session;
}

/** Creates a {@link FakeSession}; `opts` override the client options. Close `client` when done. */
export async function startFakeSession(opts: Partial<BridgeClientOptions> = {}): Promise<FakeSession> {
  const fake = new FakeBridge();
  const client = createBridgeClient({
    transport: fake.transport(),
    retry: { initialDelayMs: 1, maxDelayMs: 5 },
    ...opts,
  });
  const session = await client.createSession({ id: 's1', metadata: { owner: 'test' } });
  return { fake, client, session };
}
