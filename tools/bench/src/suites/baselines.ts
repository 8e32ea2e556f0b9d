/**
 * Baselines measured in the same run: the raw node:http2 floor, grpc-js,
 * bare connect-node (gRPC and Connect protocols) and Redis, each server in
 * its own child process, same payload as a bridge get.
 */
import { Redis } from 'ioredis';
import { startChild, type ChildServer } from '../child-server.js';
import { connectClient, grpcJsClient, rawHttp2Client, type UnaryClient } from '../clients.js';
import { fmtUs, perWorker, type BenchContext } from '../context.js';
import { measureConcurrent, measureSerial, toCase } from '../measure.js';
import { REQUEST_BYTES, RESPONSE_BYTES } from '../baselines/payload.js';
import { findRedisServer, startRedis } from '../baselines/redis.js';
import { FLOOR_CASE } from '../results.js';
import { parseRedisCpuInfo, type CpuSource } from '../cpu.js';

const GROUP = 'baselines';

/** Name of the floor case at a given concurrency. */
export const floorConcurrentName = (workers: number): string => `floor.http2.concurrent.w${workers}`;

async function unaryCase(
  ctx: BenchContext,
  name: string,
  client: UnaryClient,
  server: CpuSource,
  protocol: 'grpc' | 'connect' | 'http2',
): Promise<void> {
  const { unaryIterations, warmup } = ctx.config;
  const m = await measureSerial(() => client.call(), { iterations: unaryIterations, warmup, server });
  const c = toCase(m, { name, group: GROUP, protocol });
  ctx.record(c);
  ctx.progress(`${name}: median ${fmtUs(c.median)}, server CPU ${c.cpuUsPerOpServer?.toFixed(1)} µs/op`);
}

/** Two round trips per operation, like a bridge worker's get + set. */
async function concurrentCase(
  ctx: BenchContext,
  name: string,
  client: UnaryClient,
  server: ChildServer,
  workers: number,
  protocol: 'grpc' | 'connect' | 'http2',
): Promise<void> {
  const m = await measureConcurrent(
    async () => {
      await client.call();
      await client.call();
    },
    { workers, perWorker: perWorker(ctx.config, workers), warmupPerWorker: 2, server },
  );
  const c = toCase(m, {
    name,
    group: 'concurrency',
    protocol,
    floor: floorConcurrentName(workers),
    extra: { workers },
  });
  ctx.record(c);
  ctx.progress(`${name}: ${c.opsPerSec?.toFixed(0)} ops/s, median ${fmtUs(c.median)}`);
}

/** Runs the floor and the framework baselines. */
export async function runBaselines(ctx: BenchContext): Promise<void> {
  // The floor: raw node:http2.
  {
    const server = await startChild(ctx.script('raw-http2.js'));
    const client = await rawHttp2Client(server.port);
    try {
      await unaryCase(ctx, FLOOR_CASE, client, server, 'http2');
      for (const w of ctx.config.workers) await concurrentCase(ctx, floorConcurrentName(w), client, server, w, 'http2');
    } finally {
      await client.close();
      await server.stop();
    }
  }
  const maxWorkers = Math.max(...ctx.config.workers);
  // @grpc/grpc-js.
  {
    const server = await startChild(ctx.script('grpc-js.js'));
    const client = grpcJsClient(server.port);
    try {
      await unaryCase(ctx, 'baseline.grpcjs.unary', client, server, 'grpc');
      await concurrentCase(ctx, `baseline.grpcjs.concurrent.w${maxWorkers}`, client, server, maxWorkers, 'grpc');
    } finally {
      await client.close();
      await server.stop();
    }
  }
  // Bare connect-node, both protocols.
  {
    const server = await startChild(ctx.script('connect-node.js'));
    try {
      for (const protocol of ['grpc', 'connect'] as const) {
        const client = connectClient(server.port, protocol);
        try {
          await unaryCase(ctx, `baseline.connect.${protocol}.unary`, client, server, protocol);
          if (protocol === 'grpc') {
            await concurrentCase(
              ctx,
              `baseline.connect.grpc.concurrent.w${maxWorkers}`,
              client,
              server,
              maxWorkers,
              protocol,
            );
          }
        } finally {
          await client.close();
        }
      }
    } finally {
      await server.stop();
    }
  }
}

/**
 * Measures the floor once more (same size as the first time) and returns its
 * median in µs: the run reports how far the floor drifted between the start
 * and the end, a direct reading of how noisy the machine was.
 */
export async function remeasureFloor(ctx: BenchContext): Promise<number> {
  const server = await startChild(ctx.script('raw-http2.js'));
  const client = await rawHttp2Client(server.port);
  try {
    const { unaryIterations, warmup } = ctx.config;
    const m = await measureSerial(() => client.call(), { iterations: unaryIterations, warmup, server });
    return toCase(m, { name: FLOOR_CASE, group: GROUP }).median;
  } finally {
    await client.close();
    await server.stop();
  }
}

/** Redis GET/SET through ioredis, when redis-server is on PATH. Returns its version or null. */
export async function runRedis(ctx: BenchContext): Promise<string | null> {
  const binary = findRedisServer();
  if (binary === null) return null;
  const redis = await startRedis(binary);
  const client = new Redis({ host: '127.0.0.1', port: redis.port, lazyConnect: true, maxRetriesPerRequest: 1 });
  // A second connection reads the server's own CPU counters (INFO cpu, microseconds).
  const admin = new Redis({ host: '127.0.0.1', port: redis.port, lazyConnect: true, maxRetriesPerRequest: 1 });
  const server: CpuSource = { method: 'redis-info', cpuUs: async () => parseRedisCpuInfo(await admin.info('cpu')) };
  try {
    await client.connect();
    await admin.connect();
    const value = Buffer.from(RESPONSE_BYTES);
    await client.set('bench_var_0', value);
    const { unaryIterations, warmup } = ctx.config;
    for (const [name, op] of [
      ['baseline.redis.get', () => client.getBuffer('bench_var_0')],
      ['baseline.redis.set', () => client.set('bench_var_0', value)],
    ] as const) {
      const m = await measureSerial(op, { iterations: unaryIterations, warmup, server });
      const c = toCase(m, {
        name,
        group: GROUP,
        protocol: 'resp',
        extra: { valueBytes: value.length, requestBytes: REQUEST_BYTES.length, serverCpu: 'redis INFO cpu' },
      });
      ctx.record(c);
      ctx.progress(`${name}: median ${fmtUs(c.median)}`);
    }
  } finally {
    client.disconnect();
    admin.disconnect();
    await redis.stop();
  }
  return redis.version;
}
