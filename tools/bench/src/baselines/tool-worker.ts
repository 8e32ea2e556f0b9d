/**
 * Not a server: a tool worker in its own process, so its CPU is not charged
 * to the caller (the bench process) or to the bridge server. It connects to
 * the bridge URL given as its first argument with @unified-bridge/client
 * (gRPC protocol), serves the global worker echo tool through
 * `client.serveTools(null, ...)`, and reports ready (port 0: it listens on
 * nothing) once the server registered it. CPU and stop work as for the
 * server children.
 */
import { createBridgeClient } from '@unified-bridge/client';
import { serveChild } from './child.js';
import { WORKER_ECHO } from './tool-payload.js';

serveChild(async () => {
  const baseUrl = process.argv[2];
  if (baseUrl === undefined || !/^https?:\/\//.test(baseUrl)) {
    throw new Error('usage: tool-worker.js <bridge base URL>');
  }
  const client = createBridgeClient({ baseUrl, protocol: 'grpc' });
  // Up to 128 calls at once, so the worker is not the limit of a concurrency case.
  const worker = client.serveTools(
    null,
    [{ name: WORKER_ECHO, description: 'Returns its arguments', handler: (args) => args }],
    { maxConcurrency: 128 },
  );
  try {
    await worker.ready;
  } catch (err) {
    await client.close();
    throw err;
  }
  return {
    port: 0,
    stop: async () => {
      await worker.stop();
      await client.close();
    },
    commands: { workerId: () => worker.workerId },
  };
});
