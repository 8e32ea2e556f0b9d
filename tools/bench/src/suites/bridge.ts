/**
 * The bridge itself: our server in its own process (forked, CPU read over
 * IPC), driven by @unified-bridge/client. The seed's four benchmark groups
 * (single operations, batch vs individual, 80/20 cache effectiveness,
 * concurrent workers) plus session size and a plain connect-es client.
 */
import { createClient } from '@connectrpc/connect';
import { Http2SessionManager, createGrpcTransport } from '@connectrpc/connect-node';
import { createBridgeClient, type BridgeClient, type Session } from '@unified-bridge/client';
import { SessionService, VariableService } from '@unified-bridge/proto';
import { startChild, type ChildServer } from '../child-server.js';
import { perWorker, recordWithProgress as record, type BenchContext } from '../context.js';
import {
  measureBatched,
  measureConcurrent,
  measureSerial,
  mergeMeasurements,
  scalarCase,
  toCase,
  type Measurement,
} from '../measure.js';
import { logHistogram } from '../stats.js';
import { floorConcurrentName } from './baselines.js';

type Protocol = 'grpc' | 'connect';

/** Deterministic PRNG (mulberry32), so every run uses the same access pattern. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The seed's 80/20 pattern: `accesses` names drawn from 20 variables where
 * the first 4 (the hot 20%) get 80% of the accesses.
 */
export function accessPattern(accesses: number, seed = 42): string[] {
  const rnd = mulberry32(seed);
  const out: string[] = [];
  for (let i = 0; i < accesses; i++) {
    const hot = rnd() < 0.8;
    const idx = hot ? Math.floor(rnd() * 4) : 4 + Math.floor(rnd() * 16);
    out.push(`cache_test_${idx}`);
  }
  return out;
}

const plus1 = (v: unknown): number | bigint => (typeof v === 'bigint' ? v + 1n : Number(v) + 1);

async function withClient<T>(
  baseUrl: string,
  options: Omit<Parameters<typeof createBridgeClient>[0], 'baseUrl'>,
  fn: (client: BridgeClient, session: Session) => Promise<T>,
): Promise<T> {
  const client = createBridgeClient({ baseUrl, retry: false, ...options });
  try {
    const session = await client.createSession();
    try {
      return await fn(client, session);
    } finally {
      await session.close().catch(() => undefined);
    }
  } finally {
    await client.close();
  }
}

async function singleOps(ctx: BenchContext, server: ChildServer, baseUrl: string, protocol: Protocol): Promise<void> {
  const { unaryIterations, warmup, registerCount, batches } = ctx.config;
  const group = 'single';
  // Default size (10,000 entries); a TTL longer than the run so cached gets never expire.
  const cache = { mode: 'ttl' as const, ttlMs: 600_000 };
  await withClient(baseUrl, { protocol, cache }, async (client, session) => {
    // register: each iteration registers a new integer variable.
    const regWarm = Math.min(warmup, 500);
    const reg = await measureSerial((i) => session.register(`bench_reg_${i}`, 'integer', i), {
      iterations: registerCount,
      warmup: regWarm,
      server,
    });
    const names = Array.from({ length: registerCount }, (_, i) => `bench_reg_${regWarm + i}`);
    const n = names.length;
    record(ctx, toCase(reg, { name: `bridge.${protocol}.register`, group, protocol }));

    // get, uncached: the client cache is cleared before every get (outside the timed part).
    const unc = await measureSerial((i) => session.get(names[i % n]!), {
      iterations: unaryIterations,
      warmup,
      server,
      prepare: () => client.cache.clear(),
    });
    record(ctx, toCase(unc, { name: `bridge.${protocol}.get.uncached`, group, protocol }));

    // get, cached: every name read once, then hits only, timed in batches.
    for (const name of names) await session.get(name);
    const before = client.cache.stats();
    const hit = await measureBatched((i) => session.get(names[i % n]!), { batches, perBatch: n, server });
    const after = client.cache.stats();
    const hits = after.hits - before.hits;
    const misses = after.misses - before.misses;
    if (misses > 0) throw new Error(`get.cached: ${misses} misses during the cached run (expected none)`);
    record(
      ctx,
      toCase(hit, { name: `bridge.${protocol}.get.cached`, group, protocol, extra: { hits, misses, perBatch: n } }),
    );

    // update (set): validated locally, one round trip.
    const upd = await measureSerial((i) => session.set(names[i % n]!, i), {
      iterations: unaryIterations,
      warmup,
      server,
    });
    record(ctx, toCase(upd, { name: `bridge.${protocol}.update`, group, protocol }));

    if (protocol === 'grpc') {
      // Our server through a plain connect-es client: separates client-library cost from server cost.
      const sessionManager = new Http2SessionManager(baseUrl);
      const raw = createClient(VariableService, createGrpcTransport({ baseUrl, sessionManager }));
      try {
        const m = await measureSerial((i) => raw.getVariable({ sessionId: session.id, identifier: names[i % n]! }), {
          iterations: unaryIterations,
          warmup,
          server,
        });
        record(ctx, toCase(m, { name: 'bridge.grpc.raw.get', group, protocol }));
      } finally {
        sessionManager.abort();
      }
    }
  });
}

async function batchOps(ctx: BenchContext, server: ChildServer, baseUrl: string): Promise<void> {
  const { batchRepeats, batchGetSizes } = ctx.config;
  const group = 'batch';
  const protocol = 'grpc';
  await withClient(baseUrl, { protocol, cache: { mode: 'ttl', ttlMs: 600_000 } }, async (client, session) => {
    const updNames = Array.from({ length: 100 }, (_, i) => `batch_${i}`);
    for (const name of updNames) await session.register(name, 'integer', 0);
    let v = 0;
    const ind = await measureSerial(
      async () => {
        for (const name of updNames) await session.set(name, ++v);
      },
      { iterations: batchRepeats, warmup: 3, server },
    );
    const indCase = toCase(ind, { name: 'bridge.grpc.batch.individual_100', group, protocol, unit: 'ms' });
    record(ctx, indCase);
    const bat = await measureSerial(
      async () => {
        v++;
        const results = await session.setMany(Object.fromEntries(updNames.map((n) => [n, v])));
        if (results.length !== 100 || results.some((r) => !r.ok))
          throw new Error('batch update of 100 did not apply all');
      },
      { iterations: batchRepeats, warmup: 3, server },
    );
    const batCase = toCase(bat, { name: 'bridge.grpc.batch.update_100', group, protocol, unit: 'ms' });
    batCase.extra = { speedupVsIndividual: indCase.median / batCase.median, atomic: true };
    record(ctx, batCase);

    const maxGet = Math.max(...batchGetSizes);
    const getNames = Array.from({ length: maxGet }, (_, i) => `bget_${i}`);
    for (let i = 0; i < maxGet; i += 50) {
      await Promise.all(getNames.slice(i, i + 50).map((name, k) => session.register(name, 'integer', i + k)));
    }
    for (const size of batchGetSizes) {
      const subset = getNames.slice(0, size);
      const m = await measureSerial(
        async () => {
          const got = await session.getMany(subset);
          if (got.size !== size) throw new Error(`batch get of ${size} returned ${got.size}`);
        },
        { iterations: Math.max(5, batchRepeats), warmup: 3, server, prepare: () => client.cache.clear() },
      );
      const c = toCase(m, { name: `bridge.grpc.batch.get_${size}`, group, protocol, unit: 'ms' });
      c.extra = { usPerVariable: (c.median * 1e3) / size };
      record(ctx, c);
    }
  });
}

async function access8020(
  ctx: BenchContext,
  server: ChildServer,
  baseUrl: string,
  mode: 'ttl' | 'watch',
): Promise<void> {
  const group = 'access';
  const protocol = 'grpc';
  // The client's default TTL (1 s) and size: the cache as users get it.
  await withClient(baseUrl, { protocol, cache: { mode } }, async (client, session) => {
    for (let i = 0; i < 20; i++) await session.register(`cache_test_${i}`, 'float', i * 0.1);
    const pattern = accessPattern(ctx.config.accesses);
    client.cache.clear();
    const before = client.cache.stats();
    const m = await measureSerial((i) => session.get(pattern[i]!), { iterations: pattern.length, server });
    const after = client.cache.stats();
    const hits = after.hits - before.hits;
    const misses = after.misses - before.misses;
    const hitRate = (100 * hits) / Math.max(1, hits + misses);
    const name = `bridge.grpc.access8020.${mode}`;
    const first = m.samplesUs.slice(0, 100).reduce((a, b) => a + b, 0) / 100;
    const last = m.samplesUs.slice(-100).reduce((a, b) => a + b, 0) / 100;
    record(
      ctx,
      toCase(m, {
        name,
        group,
        protocol,
        extra: { hits, misses, meanFirst100Us: first, meanLast100Us: last, improvement: first / last },
      }),
    );
    ctx.distribution({ name, bins: logHistogram(m.samplesUs, 40) });
    record(
      ctx,
      scalarCase({
        name: `${name}.hit_rate`,
        unit: '%',
        median: hitRate,
        better: 'higher',
        group,
        protocol,
        extra: { hits, misses, accesses: pattern.length },
      }),
    );
  });
}

async function concurrency(ctx: BenchContext, server: ChildServer, baseUrl: string): Promise<void> {
  const protocol = 'grpc';
  await withClient(baseUrl, { protocol, cache: false }, async (_client, session) => {
    for (let i = 0; i < 10; i++) await session.register(`concurrent_${i}`, 'integer', 0);
    for (const workers of ctx.config.workers) {
      const m = await measureConcurrent(
        async (_w, i) => {
          const name = `concurrent_${i % 10}`;
          const v = await session.get(name);
          await session.set(name, plus1(v));
        },
        { workers, perWorker: perWorker(ctx.config, workers), warmupPerWorker: 2, server },
      );
      record(
        ctx,
        toCase(m, {
          name: `bridge.grpc.concurrent.w${workers}`,
          group: 'concurrency',
          protocol,
          floor: floorConcurrentName(workers),
          extra: { workers },
        }),
      );
    }
  });
}

async function sessionSize(ctx: BenchContext, server: ChildServer, baseUrl: string): Promise<void> {
  const { unaryIterations, warmup, largeSession } = ctx.config;
  const group = 'scale';
  const protocol = 'grpc';
  const client = createBridgeClient({ baseUrl, protocol, cache: false, retry: false });
  try {
    const small = await client.createSession();
    for (let i = 0; i < 10; i++) await small.register(`small_${i}`, 'integer', i);
    const ms = await measureSerial((i) => small.get(`small_${i % 10}`), {
      iterations: unaryIterations,
      warmup,
      server,
    });
    record(ctx, toCase(ms, { name: 'bridge.grpc.get.session_10', group, protocol }));
    await small.close();

    ctx.progress(`loading ${largeSession} variables into one session of the server (through its store)...`);
    const sessionId = `bench-large-${process.pid}`;
    const pre = (await server.request('preload', { sessionId, count: largeSession, prefix: 'big_' })) as {
      ms: number;
      heapBefore: number;
      heapAfter: number;
    };
    const perVar = (pre.heapAfter - pre.heapBefore) / largeSession;
    record(
      ctx,
      scalarCase({
        name: 'bridge.server.heap_per_variable',
        unit: 'bytes',
        median: perVar,
        group,
        extra: { variables: largeSession, loadMs: pre.ms, heapAfterMiB: pre.heapAfter / 2 ** 20 },
      }),
    );
    const large = client.session(sessionId);
    const ml = await measureSerial((i) => large.get(`big_${(i * 7919) % largeSession}`), {
      iterations: unaryIterations,
      warmup,
      server,
    });
    record(
      ctx,
      toCase(ml, {
        name: `bridge.grpc.get.session_${largeSession}`,
        group,
        protocol,
        extra: { variables: largeSession },
      }),
    );
    await large.close();
  } finally {
    await client.close();
  }
}

/**
 * What the Prometheus metrics cost: server CPU per GetVariable (plain
 * connect-es client, gRPC) on the bench's bridge server (metrics on, the
 * default) and on a second one started with `metrics: false`, in alternating
 * rounds of the same run so that drift of the machine hits both alike.
 */
async function metricsOverhead(ctx: BenchContext, on: ChildServer): Promise<void> {
  const { unaryIterations, warmup } = ctx.config;
  const group = 'single';
  const protocol = 'grpc';
  const off = await startChild(ctx.script('bridge.js'), { args: ['--metrics', 'off'] });
  const managers: Http2SessionManager[] = [];
  try {
    const targets = await Promise.all(
      [on, off].map(async (server) => {
        const baseUrl = `http://127.0.0.1:${server.port}`;
        const sessionManager = new Http2SessionManager(baseUrl);
        managers.push(sessionManager);
        const transport = createGrpcTransport({ baseUrl, sessionManager });
        const { session } = await createClient(SessionService, transport).createSession({});
        const variables = createClient(VariableService, transport);
        const sessionId = session!.id;
        await variables.registerVariable({
          sessionId,
          name: 'm',
          type: 'integer',
          initialValue: { kind: { case: 'intValue', value: 1n } },
        });
        const get = () => variables.getVariable({ sessionId, identifier: 'm' });
        // The same warm-up for both (the second server starts cold): JIT and connection settled.
        for (let i = 0; i < Math.max(warmup, unaryIterations / 2); i++) await get();
        return { server, get, parts: [] as Measurement[] };
      }),
    );
    const rounds = 8;
    const perRound = Math.max(1, Math.ceil(unaryIterations / rounds));
    for (let r = 0; r < rounds; r++) {
      // Alternate which server goes first in each round.
      for (const t of r % 2 === 0 ? targets : [...targets].reverse()) {
        t.parts.push(await measureSerial(() => t.get(), { iterations: perRound, server: t.server }));
      }
    }
    const [withMetrics, without] = targets.map((t) => mergeMeasurements(t.parts)) as [Measurement, Measurement];
    const onCase = toCase(withMetrics, { name: 'bridge.grpc.raw.get.metrics_on', group, protocol });
    const offCase = toCase(without, { name: 'bridge.grpc.raw.get.metrics_off', group, protocol });
    record(ctx, onCase);
    record(ctx, offCase);
    const cpuOn = onCase.cpuUsPerOpServer!;
    const cpuOff = offCase.cpuUsPerOpServer!;
    record(
      ctx,
      scalarCase({
        name: 'bridge.server.metrics_cpu_overhead',
        unit: '%',
        median: (cpuOn / cpuOff - 1) * 100,
        group,
        protocol,
        extra: { cpuUsPerOpServerOn: cpuOn, cpuUsPerOpServerOff: cpuOff, rounds, getsPerRound: perRound, budgetPct: 5 },
      }),
    );
  } finally {
    for (const m of managers) m.abort();
    await off.stop();
  }
}

/** Runs every bridge case against one forked bridge server. */
export async function runBridge(ctx: BenchContext): Promise<void> {
  const server = await startChild(ctx.script('bridge.js'), { maxOldSpaceMiB: 8192 });
  const baseUrl = `http://127.0.0.1:${server.port}`;
  try {
    await singleOps(ctx, server, baseUrl, 'grpc');
    await singleOps(ctx, server, baseUrl, 'connect');
    await metricsOverhead(ctx, server);
    await batchOps(ctx, server, baseUrl);
    await access8020(ctx, server, baseUrl, 'ttl');
    await access8020(ctx, server, baseUrl, 'watch');
    await concurrency(ctx, server, baseUrl);
    await sessionSize(ctx, server, baseUrl);
  } finally {
    await server.stop();
  }
}
