import { describeSessionStore } from '@unified-bridge/store/conformance';
import { startRedisCluster, type StartedRedisCluster } from '@unified-bridge/testing';
import { RedisStore } from '@unified-bridge/store-redis';
import { Redis } from 'ioredis';

// The same conformance suite on a 3-master Redis Cluster: every session's keys share its hash
// slot, so every script runs on one node; global keys (index, global tools) have slots of their own.
let cluster: StartedRedisCluster;
beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3 });
}, 60_000);
afterAll(async () => {
  await cluster.stop();
});

let n = 0;
describeSessionStore(
  'RedisStore (3-master Redis Cluster)',
  ({ clock, limits }) =>
    new RedisStore({ cluster: { nodes: cluster.seeds }, keyPrefix: `c${n++}:`, clock, limits, sweepIntervalMs: 0 }),
  { sweepExpired: (store) => (store as RedisStore).sweepExpired() },
);

describe('RedisStore key layout on Redis Cluster', () => {
  it('should put every key of a session in one hash slot, and sessions on different masters', async () => {
    const store = new RedisStore({ cluster: { nodes: cluster.seeds }, keyPrefix: 'slots:', sweepIntervalMs: 0 });
    const node = new Redis(cluster.nodes[0]!.url);
    try {
      const owners = new Set<string>();
      for (const id of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']) {
        const { keys, channel } = store.keys.session(id);
        const slots = await Promise.all([...keys, channel].map((k) => node.cluster('KEYSLOT', k)));
        expect(new Set(slots).size).toBe(1);
        const s = await store.createSession({ id });
        await store.registerVariable(s.id, { name: 'x', type: 'integer', value: 1 });
        const shards = (await node.cluster('SHARDS')) as unknown[];
        owners.add(String(shardOf(shards, slots[0] as number)));
      }
      expect(owners.size).toBeGreaterThan(1);
    } finally {
      node.disconnect();
      await store.close();
    }
  });
});

/** The index of the shard (in CLUSTER SHARDS) that serves `slot`. */
function shardOf(shards: unknown[], slot: number): number {
  return shards.findIndex((shard) => {
    const fields = shard as unknown[];
    const ranges = fields[fields.indexOf('slots') + 1] as number[];
    for (let i = 0; i + 1 < ranges.length; i += 2) if (slot >= ranges[i]! && slot <= ranges[i + 1]!) return true;
    return false;
  });
}
