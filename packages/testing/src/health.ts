import http from 'node:http';
import https from 'node:https';
import { createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { Health, HealthCheckResponse_ServingStatus } from '@unified-bridge/proto';

const POLL_INTERVAL_MS = 50;

/**
 * Polls `grpc.health.v1.Health/Check` at `baseUrl` until it answers SERVING, `signal` aborts,
 * or `deadline` (epoch ms) passes; on timeout it throws an Error that names the last failure.
 */
export async function waitForServing(
  baseUrl: string,
  deadline: number,
  signal: AbortSignal,
  headers?: Record<string, string>,
): Promise<void> {
  // No keep-alive: an idle pooled socket would otherwise hold up the server's graceful stop.
  const agent = baseUrl.startsWith('https:')
    ? new https.Agent({ keepAlive: false })
    : new http.Agent({ keepAlive: false });
  const client = createClient(Health, createConnectTransport({ baseUrl, httpVersion: '1.1', nodeOptions: { agent } }));
  let last = 'no answer yet';
  for (;;) {
    signal.throwIfAborted();
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new Error(`health check did not report SERVING in time (last: ${last})`);
    try {
      const res = await client.check(
        { service: '' },
        { timeoutMs: Math.max(1, Math.min(remaining, 2_000)), signal, ...(headers ? { headers } : {}) },
      );
      if (res.status === HealthCheckResponse_ServingStatus.SERVING) return;
      last = `status ${HealthCheckResponse_ServingStatus[res.status] ?? res.status}`;
    } catch (err) {
      signal.throwIfAborted();
      last = err instanceof Error ? err.message : String(err);
    }
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.min(POLL_INTERVAL_MS, Math.max(0, deadline - Date.now())));
      timer.unref();
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
