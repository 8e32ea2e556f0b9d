import { describeSessionStore } from '@unified-bridge/store/conformance';
import { startRedis, type StartedRedis } from '@unified-bridge/testing';
import { RedisStore } from './redis-store.js';

let redis: StartedRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});

let n = 0;
describeSessionStore(
  'RedisStore (standalone redis-server)',
  // Each store gets its own key prefix: the stores of one test file share one Redis.
  ({ clock, limits }) => new RedisStore({ url: redis.url, keyPrefix: `t${n++}:`, clock, limits, sweepIntervalMs: 0 }),
  { sweepExpired: (store) => (store as RedisStore).sweepExpired() },
);
