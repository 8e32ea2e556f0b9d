#!/usr/bin/env node
// Prints get and update operations per second of RedisStore (on a redis-server started here)
// next to MemoryStore in the same process. Figures only, for notes; the benchmarks live in
// tools/bench. Run after a build: node packages/store-redis/scripts/throughput.mjs
import { MemoryStore } from '@unified-bridge/store';
import { RedisStore } from '@unified-bridge/store-redis';
import { startRedis } from '@unified-bridge/testing';

const OPS = Number(process.env.OPS ?? 5000);
const CONCURRENCY = [1, 32];

async function measure(store, label) {
  const s = await store.createSession();
  await store.registerVariable(s.id, { name: 'x', type: 'float', value: 0 });
  const rows = [];
  for (const concurrency of CONCURRENCY) {
    for (const op of ['get', 'update']) {
      let i = 0;
      const started = process.hrtime.bigint();
      const cpu = process.cpuUsage();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (i < OPS) {
            i++;
            if (op === 'get') await store.getVariable(s.id, 'x');
            else await store.updateVariable(s.id, 'x', i);
          }
        }),
      );
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const used = process.cpuUsage(cpu);
      rows.push({
        store: label,
        op,
        concurrency,
        'ops/s': Math.round(OPS / seconds),
        'client CPU µs/op': Math.round((used.user + used.system) / OPS),
      });
    }
  }
  await store.close();
  return rows;
}

const redis = await startRedis();
try {
  const memory = await measure(new MemoryStore({ sweepIntervalMs: 0 }), 'MemoryStore');
  const onRedis = await measure(new RedisStore({ url: redis.url, sweepIntervalMs: 0 }), 'RedisStore');
  console.table([...memory, ...onRedis]);
  for (const r of onRedis) {
    const m = memory.find((x) => x.op === r.op && x.concurrency === r.concurrency);
    console.log(`${r.op} x${r.concurrency}: RedisStore/MemoryStore ops/s = ${(r['ops/s'] / m['ops/s']).toFixed(4)}`);
  }
} finally {
  await redis.stop();
}
