/**
 * Not a baseline: our own server, forked like the baselines so its CPU and
 * heap are read the same way. Runs `startBridgeServer` over a MemoryStore
 * whose limits allow a session of millions of variables, with the bench's
 * host tools (echo, add, a binary stream), and answers an extra `preload`
 * command that fills a session directly through the store (registering a
 * million variables over RPC would take the whole run). With `--metrics off`
 * it runs without its Prometheus metrics (`metrics: false`).
 */
import { MemoryStore } from '@unified-bridge/store';
import { createBridgeLogger, startBridgeServer, type HostToolDefinition } from '@unified-bridge/server';
import { serveChild } from './child.js';
import { CHUNK, CHUNK_BYTES, HOST_ADD, HOST_BYTES, HOST_ECHO, chunkSizes } from './tool-payload.js';

/** Arguments of the `preload` command. */
export interface PreloadArgs {
  sessionId: string;
  count: number;
  prefix: string;
}

/** The host tools of the tools suite. */
const tools: HostToolDefinition[] = [
  { name: HOST_ECHO, description: 'Returns its arguments', handler: (args) => args },
  {
    name: HOST_ADD,
    description: 'Adds two numbers',
    parameters: {
      type: 'object',
      properties: { a: { type: 'number' }, b: { type: 'number' } },
      required: ['a', 'b'],
    },
    handler: ({ a, b }) => (a as number) + (b as number),
  },
  {
    name: HOST_BYTES,
    description: 'Streams `bytes` bytes as uint8 tensors of `chunkBytes` (at most 64 KiB)',
    streaming: true,
    async *handler({ bytes, chunkBytes }, ctx) {
      for (const size of chunkSizes(Number(bytes), Number(chunkBytes ?? CHUNK_BYTES))) {
        if (ctx.signal.aborted) return;
        yield { dtype: 'uint8', shape: [size], data: size === CHUNK_BYTES ? CHUNK : CHUNK.subarray(0, size) };
      }
    },
  },
];

/** `--metrics off` starts the server with `metrics: false` (the bench's metrics-overhead case). */
const metricsOff = process.argv.slice(2).join(' ') === '--metrics off';

serveChild(async () => {
  const store = new MemoryStore({
    limits: { maxVariablesPerSession: 2_000_000, maxWatchersPerSession: 10_000 },
  });
  const server = await startBridgeServer({
    host: '127.0.0.1',
    port: 0,
    store,
    tools,
    logger: createBridgeLogger('warn'),
    ...(metricsOff ? { metrics: false as const } : {}),
  });
  const gc = (globalThis as { gc?: () => void }).gc;
  return {
    port: server.port,
    stop: async () => {
      await server.stop();
      await store[Symbol.asyncDispose]();
    },
    commands: {
      preload: async (raw: unknown) => {
        const { sessionId, count, prefix } = raw as PreloadArgs;
        gc?.();
        const heapBefore = process.memoryUsage().heapUsed;
        const t0 = Date.now();
        await store.createSession({ id: sessionId });
        for (let i = 0; i < count; i++) {
          await store.registerVariable(sessionId, { name: `${prefix}${i}`, type: 'integer', value: i });
        }
        const ms = Date.now() - t0;
        gc?.();
        gc?.();
        const heapAfter = process.memoryUsage().heapUsed;
        return { ms, heapBefore, heapAfter };
      },
    },
  };
});
