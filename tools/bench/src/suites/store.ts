/**
 * In-process MemoryStore figures (issue 4): get/update time with 10, 10,000
 * and 1,000,000 variables in one session (get should stay flat; measured
 * with random keys across the session and with the same 10 hot keys), heap bytes
 * per variable at the largest size with history on, and watch fan-out
 * (watchers x updates: events/s and heap per watcher).
 */
import { setMaxListeners } from 'node:events';
import { MemoryStore } from '@unified-bridge/store';
import { fmtUs, type BenchContext } from '../context.js';
import { measureBatched, scalarCase, toCase } from '../measure.js';

const GROUP = 'store';

const gc = (): void => {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) {
    g();
    g();
  }
};

function heapUsed(): number {
  gc();
  return process.memoryUsage().heapUsed;
}

/** Runs the store cases. */
export async function runStore(ctx: BenchContext): Promise<void> {
  const { batches, perBatch, storeSizes } = ctx.config;
  const largest = Math.max(...storeSizes);
  for (const n of storeSizes) {
    const names = Array.from({ length: n }, (_, i) => `v${i}`);
    // A fixed pseudo-random visiting order, so lookups do not walk the map in insertion order.
    const order = Uint32Array.from({ length: 65_536 }, (_, i) => (i * 2_654_435_761) % n);
    const before = heapUsed();
    const store = new MemoryStore({ limits: { maxVariablesPerSession: n + 10 }, sweepIntervalMs: 0 });
    try {
      const session = await store.createSession({ id: `bench-${n}` });
      const t0 = Date.now();
      for (let i = 0; i < n; i++)
        await store.registerVariable(session.id, { name: names[i]!, type: 'integer', value: i });
      ctx.progress(`store: registered ${n} variables in ${Date.now() - t0} ms`);
      if (n === largest) {
        const bytes = (heapUsed() - before) / n;
        ctx.record(
          scalarCase({
            name: `store.heap_per_variable.n${n}`,
            unit: 'bytes',
            median: bytes,
            group: GROUP,
            extra: { variables: n, historyDepth: 'default (on)', type: 'integer' },
          }),
        );
        ctx.progress(`store.heap_per_variable.n${n}: ${bytes.toFixed(0)} bytes`);
      }
      const sid = session.id;
      const get = await measureBatched((i) => store.getVariable(sid, names[order[i & 65_535]!]!), {
        batches,
        perBatch,
      });
      const g = toCase(get, {
        name: `store.get.n${n}`,
        group: GROUP,
        unit: 'ns',
        extra: { variables: n, keys: 'random across the session' },
      });
      ctx.record(g);
      // The same 10 names (spread over the session) read over and over: their entries stay in the
      // CPU caches, so this shows the lookup algorithm's own cost as the session grows.
      const hot = Array.from({ length: 10 }, (_, k) => names[Math.floor((k * n) / 10)]!);
      const getHot = await measureBatched((i) => store.getVariable(sid, hot[i % 10]!), { batches, perBatch });
      const gh = toCase(getHot, {
        name: `store.get_hot.n${n}`,
        group: GROUP,
        unit: 'ns',
        extra: { variables: n, keys: 'same 10 names' },
      });
      ctx.record(gh);
      const upd = await measureBatched((i) => store.updateVariable(sid, names[order[i & 65_535]!]!, i), {
        batches: Math.max(5, batches >> 2),
        perBatch,
      });
      const u = toCase(upd, { name: `store.update.n${n}`, group: GROUP, unit: 'ns', extra: { variables: n } });
      ctx.record(u);
      // Reference: a plain Map with the same keys and access order (memory latency alone).
      const plain = new Map(names.map((k, i) => [k, { i }]));
      let sink = 0;
      const ref = await measureBatched(
        (i) => {
          sink += plain.get(names[order[i & 65_535]!]!)!.i;
        },
        { batches, perBatch },
      );
      ctx.record(
        toCase(ref, {
          name: `store.map_reference.n${n}`,
          group: GROUP,
          unit: 'ns',
          extra: { variables: n, sink: sink & 1 },
        }),
      );
      plain.clear();
      ctx.progress(
        `store n=${n}: get ${fmtUs(g.median / 1e3)} (random keys), ${fmtUs(gh.median / 1e3)} (10 hot keys), update ${fmtUs(u.median / 1e3)}`,
      );
    } finally {
      await store[Symbol.asyncDispose]();
    }
  }
  await watchFanout(ctx);
}

async function watchFanout(ctx: BenchContext): Promise<void> {
  const { watchers, watchUpdates } = ctx.config;
  const store = new MemoryStore({
    limits: { maxWatchersPerSession: watchers },
    sweepIntervalMs: 0,
  });
  const abort = new AbortController();
  setMaxListeners(watchers + 10, abort.signal);
  try {
    const session = await store.createSession({ id: 'bench-watch' });
    await store.registerVariable(session.id, { name: 'w', type: 'integer', value: 0 });
    const before = heapUsed();
    let delivered = 0;
    let ready = 0;
    let markReady!: () => void;
    const allReady = new Promise<void>((resolve) => (markReady = resolve));
    const consumers = Array.from({ length: watchers }, async () => {
      let seen = 0;
      for await (const e of store.watch(session.id, { signal: abort.signal })) {
        if (e.kind === 'synced') {
          if (++ready === watchers) markReady();
          continue;
        }
        seen++;
        delivered++;
        if (seen === watchUpdates) break;
      }
      return seen;
    });
    await allReady;
    const perWatcher = (heapUsed() - before) / watchers;
    let peak = 0;
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let i = 1; i <= watchUpdates; i++) {
      await store.updateVariable(session.id, 'w', i);
      if (i % 1000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed - before);
    }
    const seen = await Promise.all(consumers);
    const wallUs = Number(process.hrtime.bigint() - t0) / 1e3;
    const cpu = process.cpuUsage(cpu0);
    const events = watchers * watchUpdates;
    if (delivered !== events || seen.some((s) => s !== watchUpdates)) {
      throw new Error(`watch fan-out lost events: delivered ${delivered} of ${events}`);
    }
    ctx.record({
      name: 'store.watch.fanout',
      unit: 'ns',
      median: (wallUs * 1e3) / events,
      p99: null,
      opsPerSec: (events * 1e6) / wallUs,
      cpuUsPerOpClient: (cpu.user + cpu.system) / events,
      cpuUsPerOpServer: null,
      ratioToFloor: null,
      better: 'lower',
      group: GROUP,
      extra: { watchers, updates: watchUpdates, events, peakHeapDeltaMiB: peak / 2 ** 20 },
    });
    ctx.record(
      scalarCase({
        name: 'store.watch.heap_per_watcher',
        unit: 'bytes',
        median: perWatcher,
        group: GROUP,
        extra: { watchers },
      }),
    );
    ctx.progress(
      `store.watch.fanout: ${((events * 1e6) / wallUs).toFixed(0)} events/s, ${perWatcher.toFixed(0)} bytes/watcher`,
    );
  } finally {
    abort.abort();
    await store[Symbol.asyncDispose]();
  }
}
