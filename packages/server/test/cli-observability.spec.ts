// The built CLI's operator surface: `--metrics-port 0` (the ready line says
// where), and traces exported over OTLP when the standard OTEL_* variables
// ask for them (the OpenTelemetry Node SDK, an optional peer dependency).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const CLI = join(__dirname, '..', 'dist', 'esm', 'cli.js');

/** Spawns `unified-bridge serve ...`; resolves with the parsed ready line and a way to stop it. */
async function serve(args: string[], env: Record<string, string> = {}) {
  if (!existsSync(CLI)) throw new Error(`build the package first (npm run build): ${CLI} is missing`);
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', ...args], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    void exit.then((code) => reject(new Error(`CLI exited (${String(code)}) before ready: ${stderr}`)));
  });
  return {
    ready: JSON.parse(first) as Record<string, unknown> & { url: string },
    logs: () => stderr,
    stop: async () => {
      child.kill('SIGTERM');
      return exit;
    },
    kill: () => child.kill('SIGKILL'),
  };
}

const createSession = (url: string, headers: Record<string, string> = {}) =>
  fetch(`${url}/unified_bridge.v1.SessionService/CreateSession`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: '{}',
  });

describe('unified-bridge serve: metrics and tracing', () => {
  it('should serve /metrics on the free port --metrics-port 0 picked, and report it in the ready line', async () => {
    const cli = await serve(['--metrics-port', '0', '--log-level', 'silent']);
    try {
      expect(Object.keys(cli.ready)).toEqual(['event', 'url', 'port', 'pid', 'protocols', 'metrics']);
      const metricsUrl = cli.ready['metrics'] as string;
      expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      expect(metricsUrl).not.toBe(`${cli.ready.url}/metrics`);
      expect((await createSession(cli.ready.url)).status).toBe(200);
      const text = await (await fetch(metricsUrl)).text();
      expect(text).toContain(
        'unified_bridge_rpc_server_handled_total{service="unified_bridge.v1.SessionService",method="CreateSession",protocol="connect",code="OK"} 1',
      );
      expect((await fetch(`${cli.ready.url}/metrics`)).status).toBe(404);
      expect(await cli.stop()).toBe(0);
    } finally {
      cli.kill();
    }
  });

  it('should export the server span over OTLP, continuing the traceparent of the caller', async () => {
    const bodies: string[] = [];
    const collector = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        if (req.url === '/v1/traces') bodies.push(body);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
    const cli = await serve(['--log-level', 'info'], {
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'bridge-under-test',
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
    });
    try {
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const parentId = '00f067aa0ba902b7';
      const res = await createSession(cli.ready.url, { traceparent: `00-${traceId}-${parentId}-01` });
      expect(res.status).toBe(200);
      expect(await cli.stop()).toBe(0); // shutdown flushes the spans
      expect(cli.logs()).toContain('tracing on (OpenTelemetry SDK)');
      const spans = bodies.flatMap((b) => {
        const doc = JSON.parse(b) as {
          resourceSpans: {
            resource: { attributes: { key: string; value: { stringValue?: string } }[] };
            scopeSpans: { spans: { name: string; traceId: string; parentSpanId: string; kind: number }[] }[];
          }[];
        };
        return doc.resourceSpans.flatMap((r) =>
          r.scopeSpans.flatMap((s) =>
            s.spans.map((span) => ({
              ...span,
              service: r.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue,
            })),
          ),
        );
      });
      expect(spans.find((s) => s.name === 'unified_bridge.v1.SessionService/CreateSession')).toMatchObject({
        traceId,
        parentSpanId: parentId,
        kind: 2, // SERVER
        service: 'bridge-under-test',
      });
    } finally {
      cli.kill();
      await new Promise<void>((resolve) => collector.close(() => resolve()));
    }
  });
});
