/**
 * Tool calls (issue 8): echo latency of a host tool (inside the forked bridge
 * server) and of a worker tool (served by @unified-bridge/client in a third
 * process), streaming throughput of 10 MiB in 64 KiB binary chunks against a
 * bare connect-node stream of the same messages, calls in flight, and a batch
 * of 50 calls against 50 sequential ones. Every server and the worker run in
 * their own process; the bench process is the caller.
 */
import { createClient } from '@connectrpc/connect';
import { Http2SessionManager, createGrpcTransport } from '@connectrpc/connect-node';
import { createBridgeClient } from '@unified-bridge/client';
import { ToolService } from '@unified-bridge/proto';
import { startChild, type ChildServer } from '../child-server.js';
import { recordWithProgress as record, type BenchContext } from '../context.js';
import { measureConcurrent, measureSerial, toCase } from '../measure.js';
import type { CaseResult } from '../results.js';
import { STREAM_TARGET_MBPS, mbPerSec, throughputCase } from '../throughput.js';
import { median } from '../stats.js';
import {
  CHUNK_BYTES,
  ECHO_ARGS,
  HOST_ADD,
  HOST_BYTES,
  HOST_ECHO,
  STREAM_BYTES,
  STREAM_CHUNKS,
  WORKER_ECHO,
} from '../baselines/tool-payload.js';

const GROUP = 'tools';
const protocol = 'grpc';

/** Name of the connect-node streaming baseline (the floor of the bridge stream case). */
export const STREAM_BASELINE = 'baseline.connect.grpc.stream_10mib';
/** Name of the bridge streaming case (time per 10 MiB stream). */
export const STREAM_CASE = 'tools.grpc.host.stream_10mib';
/** Sizes of a byte stream from a decoded chunk (a uint8 TensorValue). */
function chunkBytes(chunk: unknown): number {
  const data = (chunk as { data?: unknown } | null)?.data;
  if (!(data instanceof Uint8Array)) throw new Error('stream chunk is not a uint8 tensor');
  return data.byteLength;
}

/** The connect-node streaming baseline: same messages, a plain connect-es client, no logic of ours. */
async function streamBaseline(ctx: BenchContext): Promise<CaseResult> {
  const server = await startChild(ctx.script('connect-node.js'));
  const baseUrl = `http://127.0.0.1:${server.port}`;
  const sessionManager = new Http2SessionManager(baseUrl);
  const client = createClient(ToolService, createGrpcTransport({ baseUrl, sessionManager }));
  try {
    const once = async (): Promise<void> => {
      let bytes = 0;
      let chunks = 0;
      for await (const m of client.executeToolStream({
        sessionId: 'bench',
        toolName: HOST_BYTES,
        arguments: { bytes: STREAM_BYTES, chunkBytes: CHUNK_BYTES },
      })) {
        if (m.payload.case === 'chunk' && m.payload.value.kind.case === 'tensorValue') {
          bytes += m.payload.value.kind.value.data.byteLength;
          chunks++;
        }
      }
      if (bytes !== STREAM_BYTES || chunks !== STREAM_CHUNKS) {
        throw new Error(`baseline stream moved ${bytes} bytes in ${chunks} chunks`);
      }
    };
    const m = await measureSerial(once, { iterations: ctx.config.toolStreamRepeats, warmup: 2, server });
    const c = toCase(m, {
      name: STREAM_BASELINE,
      group: GROUP,
      protocol,
      unit: 'ms',
      extra: { bytes: STREAM_BYTES, chunks: STREAM_CHUNKS, chunkBytes: CHUNK_BYTES },
    });
    record(ctx, c);
    const t = throughputCase(c, STREAM_BYTES);
    record(ctx, t);
    return t;
  } finally {
    sessionManager.abort();
    await server.stop();
  }
}

/** Runs the tool cases against a forked bridge server, a forked worker and a forked connect-node server. */
export async function runTools(ctx: BenchContext): Promise<void> {
  const { unaryIterations, warmup, toolStreamRepeats, toolInFlight, toolConcurrentCalls, batchRepeats, toolBatchSize } =
    ctx.config;
  const baseline = await streamBaseline(ctx);

  const server = await startChild(ctx.script('bridge.js'), { maxOldSpaceMiB: 2048 });
  const baseUrl = `http://127.0.0.1:${server.port}`;
  let worker: ChildServer | undefined;
  const client = createBridgeClient({ baseUrl, protocol, retry: false, cache: false });
  try {
    worker = await startChild(ctx.script('tool-worker.js'), { args: [baseUrl] });
    const session = await client.createSession();
    const spec = await session.tools.spec(WORKER_ECHO);
    ctx.progress(`worker ${spec.owner} serves ${WORKER_ECHO} (forked process ${worker.pid})`);

    // 1. Echo latency: a host tool, then a worker tool (caller -> server -> worker stream -> report -> caller).
    for (const [kind, tool, source] of [
      ['host', HOST_ECHO, undefined],
      ['worker', WORKER_ECHO, worker],
    ] as const) {
      const echoed = await session.tools.call(tool, ECHO_ARGS);
      if (JSON.stringify(echoed) !== JSON.stringify(ECHO_ARGS)) {
        throw new Error(`${tool} answered ${JSON.stringify(echoed)}`);
      }
      const durationsMs: number[] = [];
      const m = await measureSerial(
        async () => {
          const r = await session.tools.callWithMetrics(tool, ECHO_ARGS);
          durationsMs.push(r.metrics.durationMs);
        },
        { iterations: unaryIterations, warmup, server, ...(source ? { worker: source } : {}) },
      );
      record(
        ctx,
        toCase(m, {
          name: `tools.grpc.${kind}.echo`,
          group: GROUP,
          protocol,
          extra: {
            serverToolMedianUs: median(durationsMs.slice(warmup)) * 1e3,
            ...(source ? { workerProcess: 'forked' } : {}),
          },
        }),
      );
    }

    // 2. Streaming throughput: 10 MiB as 160 uint8 tensors of 64 KiB, consumed with session.tools.stream().
    const once = async (): Promise<void> => {
      let bytes = 0;
      let chunks = 0;
      for await (const chunk of session.tools.stream(HOST_BYTES, { bytes: STREAM_BYTES, chunkBytes: CHUNK_BYTES })) {
        bytes += chunkBytes(chunk);
        chunks++;
      }
      if (bytes !== STREAM_BYTES || chunks !== STREAM_CHUNKS) {
        throw new Error(`${HOST_BYTES} moved ${bytes} bytes in ${chunks} chunks`);
      }
    };
    const sm = await measureSerial(once, { iterations: toolStreamRepeats, warmup: 2, server });
    const streamCase = toCase(sm, {
      name: STREAM_CASE,
      group: GROUP,
      protocol,
      unit: 'ms',
      floor: STREAM_BASELINE,
      extra: { bytes: STREAM_BYTES, chunks: STREAM_CHUNKS, chunkBytes: CHUNK_BYTES },
    });
    record(ctx, streamCase);
    const mbps = mbPerSec(STREAM_BYTES, streamCase.median);
    record(
      ctx,
      throughputCase(streamCase, STREAM_BYTES, {
        targetMBps: STREAM_TARGET_MBPS,
        meetsTarget: mbps > STREAM_TARGET_MBPS,
        vsConnectNode: mbps / baseline.median,
      }),
    );

    // 3. Calls in flight: N async loops, each calling the small add tool one call after another.
    for (const inFlight of toolInFlight) {
      const m = await measureConcurrent(
        async (w, i) => {
          const sum = await session.tools.call(HOST_ADD, { a: w, b: i });
          if (sum !== w + i) throw new Error(`${HOST_ADD} answered ${String(sum)} for ${w} + ${i}`);
        },
        {
          workers: inFlight,
          perWorker: Math.max(2, Math.ceil(toolConcurrentCalls / inFlight)),
          warmupPerWorker: 2,
          server,
        },
      );
      record(
        ctx,
        toCase(m, {
          name: `tools.grpc.host.concurrent.w${inFlight}`,
          group: GROUP,
          protocol,
          extra: { workers: inFlight, callsPerSec: (m.ops * 1e6) / m.wallUs },
        }),
      );
    }

    // 4. A batch of N calls (ExecuteTools, the server's default concurrency) vs N sequential calls.
    const calls = Array.from({ length: toolBatchSize }, (_, k) => ({ name: HOST_ADD, args: { a: k, b: 1 } }));
    const seq = await measureSerial(
      async () => {
        for (const c of calls) await session.tools.call(c.name, c.args);
      },
      { iterations: batchRepeats, warmup: 3, server },
    );
    const seqCase = toCase(seq, {
      name: `tools.grpc.host.batch.sequential_${toolBatchSize}`,
      group: GROUP,
      protocol,
      unit: 'ms',
      extra: { calls: toolBatchSize },
    });
    seqCase.extra = { ...seqCase.extra, usPerCall: (seqCase.median * 1e3) / toolBatchSize };
    record(ctx, seqCase);
    const bat = await measureSerial(
      async () => {
        const results = await session.tools.callMany(calls);
        if (results.length !== toolBatchSize || results.some((r, k) => !r.ok || r.value !== k + 1)) {
          throw new Error(`callMany of ${toolBatchSize} did not return every sum`);
        }
      },
      { iterations: batchRepeats, warmup: 3, server },
    );
    const batCase = toCase(bat, {
      name: `tools.grpc.host.batch.call_many_${toolBatchSize}`,
      group: GROUP,
      protocol,
      unit: 'ms',
      extra: { calls: toolBatchSize, maxConcurrency: 'server default (16)' },
    });
    batCase.extra = {
      ...batCase.extra,
      usPerCall: (batCase.median * 1e3) / toolBatchSize,
      speedupVsSequential: seqCase.median / batCase.median,
    };
    record(ctx, batCase);
    await session.close().catch(() => undefined);
  } finally {
    await client.close();
    await worker?.stop();
    await server.stop();
  }
}
