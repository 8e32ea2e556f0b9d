import { describeSessionStore } from '@unified-bridge/store/conformance';
import { startRedisCluster, type StartedRedisCluster } from '@unified-bridge/testing';
import { RedisStore } from '@unified-bridge/store-redis';

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
