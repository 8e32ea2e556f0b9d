// /metrics after known traffic, parsed by a Prometheus text-format parser:
// RPCs by service, method, protocol and code, their latency histograms,
// tool calls, store operations, rejected requests by reason and the gauges.
import { Code, createClient } from '@connectrpc/connect';
import type { Interceptor } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport, Http2SessionManager } from '@connectrpc/connect-node';
import { SessionService, ToolService, VariableEventKind, VariableService } from '@unified-bridge/proto';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import type { PrometheusFamily } from 'parse-prometheus-text-format';
import { Registry } from 'prom-client';
import { createBridgeRoutes, startBridgeServer } from '../src/index.js';
import { silentLogger } from '../src/logger.js';

const TOKEN = 's3cret';
const bearer: Interceptor = (next) => (req) => {
  req.header.set('authorization', `Bearer ${TOKEN}`);
  return next(req);
};
const int = (n: number) => ({ kind: { case: 'intValue' as const, value: BigInt(n) } });

/**
 * The `_count` of the histogram `name` whose labels include `labels`, from
 * prom-client's registry JSON (the text parser keeps no labels of histograms).
 */
async function histogramCount(
  registry: Registry,
  name: string,
  labels: Record<string, string>,
): Promise<number | undefined> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  if (metric === undefined) throw new Error(`no metric ${name}`);
  const values = metric.values as { metricName?: string; labels: Record<string, string | number>; value: number }[];
  return values.find(
    (v) => v.metricName === `${name}_count` && Object.entries(labels).every(([k, want]) => v.labels[k] === want),
  )?.value;
}

/** The value of the sample of `name` whose labels include `labels` (undefined when there is none). */
function sample(families: PrometheusFamily[], name: string, labels: Record<string, string> = {}): number | undefined {
  const family = families.find((f) => f.name === name);
  if (family === undefined) throw new Error(`no metric ${name}`);
  const m = family.metrics.find((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v));
  if (m === undefined) return undefined;
  return Number(m.value ?? m.count);
}

describe('/metrics', () => {
  it('should count known traffic exactly, by service, method, protocol, code, tool, operation and reason', async () => {
    await using server = await startBridgeServer({
      logger: silentLogger,
      auth: { tokens: [TOKEN] },
      maxMessageBytes: 4096,
      rateLimit: { callsPerSecond: 0.001, burst: 2 },
      tools: [{ name: 'echo', handler: (args) => args }],
      metrics: { port: 0 },
    });
    expect(server.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(server.metricsUrl).not.toContain(`:${server.port}/`);
    const sessionManager = new Http2SessionManager(server.url);
    const grpc = createGrpcTransport({ baseUrl: server.url, sessionManager, interceptors: [bearer] });
    const connect = createConnectTransport({ baseUrl: server.url, httpVersion: '1.1', interceptors: [bearer] });
    const watchAbort = new AbortController();
    try {
      const sessions = createClient(SessionService, grpc);
      const variables = createClient(VariableService, grpc);
      const tools = createClient(ToolService, grpc);
      await sessions.createSession({ sessionId: 'm1' });
      await variables.registerVariable({ sessionId: 'm1', name: 'x', type: 'integer', initialValue: int(1) });
      for (let i = 0; i < 3; i++) await variables.getVariable({ sessionId: 'm1', identifier: 'x' });
      await expect(variables.getVariable({ sessionId: 'm1', identifier: 'nope' })).rejects.toMatchObject({
        code: Code.NotFound,
      });
      const overConnect = createClient(VariableService, connect);
      for (let i = 0; i < 2; i++) await overConnect.getVariable({ sessionId: 'm1', identifier: 'x' });
      // Tool calls: a burst of 2, then the rate limit refuses the third.
      await tools.executeTool({ sessionId: 'm1', toolName: 'echo', arguments: { a: 1 } });
      await tools.executeTool({ sessionId: 'm1', toolName: 'echo', arguments: { a: 2 } });
      await expect(tools.executeTool({ sessionId: 'm1', toolName: 'echo' })).rejects.toMatchObject({
        code: Code.ResourceExhausted,
      });
      // No token.
      const anonymous = createClient(SessionService, createGrpcTransport({ baseUrl: server.url, sessionManager }));
      await expect(anonymous.createSession({})).rejects.toMatchObject({ code: Code.Unauthenticated });
      // Over maxMessageBytes.
      await expect(
        variables.registerVariable({
          sessionId: 'm1',
          name: 'big',
          type: 'string',
          initialValue: { kind: { case: 'stringValue', value: 'x'.repeat(5000) } },
        }),
      ).rejects.toMatchObject({ code: Code.ResourceExhausted, rawMessage: 'message too large' });
      // Malformed: bytes that are no GetVariableRequest.
      const malformed = await fetch(`${server.url}/unified_bridge.v1.VariableService/GetVariable`, {
        method: 'POST',
        headers: { 'content-type': 'application/proto', authorization: `Bearer ${TOKEN}` },
        body: new Uint8Array([0xff, 0xff, 0xff, 0xff]),
      });
      expect(malformed.status).toBeGreaterThanOrEqual(400);
      // The metric's code is the one the caller got.
      const malformedCode = ((await malformed.json()) as { code: string }).code.toUpperCase();
      // A watch stays open while we scrape.
      const stream = variables.watchVariables({ sessionId: 'm1' }, { signal: watchAbort.signal });
      const watch = stream[Symbol.asyncIterator]();
      expect(((await watch.next()).value as { kind: number }).kind).toBe(VariableEventKind.SYNCED);

      expect((await fetch(`${server.url}/metrics`)).status).toBe(404); // not on the main port by default
      const res = await fetch(server.metricsUrl!);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const families = parsePrometheusTextFormat(await res.text());
      const handled = (service: string, method: string, protocol: string, code: string) =>
        sample(families, 'unified_bridge_rpc_server_handled_total', {
          service: `unified_bridge.v1.${service}`,
          method,
          protocol,
          code,
        });
      expect({
        create: handled('SessionService', 'CreateSession', 'grpc', 'OK'),
        unauthenticated: handled('SessionService', 'CreateSession', 'grpc', 'UNAUTHENTICATED'),
        register: handled('VariableService', 'RegisterVariable', 'grpc', 'OK'),
        tooLarge: handled('VariableService', 'RegisterVariable', 'grpc', 'RESOURCE_EXHAUSTED'),
        getGrpc: handled('VariableService', 'GetVariable', 'grpc', 'OK'),
        getMissing: handled('VariableService', 'GetVariable', 'grpc', 'NOT_FOUND'),
        getConnect: handled('VariableService', 'GetVariable', 'connect', 'OK'),
        getMalformed: handled('VariableService', 'GetVariable', 'connect', malformedCode),
        execute: handled('ToolService', 'ExecuteTool', 'grpc', 'OK'),
        executeLimited: handled('ToolService', 'ExecuteTool', 'grpc', 'RESOURCE_EXHAUSTED'),
        watch: handled('VariableService', 'WatchVariables', 'grpc', 'OK'),
      }).toEqual({
        create: 1,
        unauthenticated: 1,
        register: 1,
        tooLarge: 1,
        getGrpc: 3,
        getMissing: 1,
        getConnect: 2,
        getMalformed: 1,
        execute: 2,
        executeLimited: 1,
        watch: undefined, // still open
      });
      const total = families.find((f) => f.name === 'unified_bridge_rpc_server_handled_total')!;
      expect(total.metrics.reduce((n, m) => n + Number(m.value), 0)).toBe(14);
      const registry = server.routes.metrics!.registry;
      const handling = (method: string, protocol: string) =>
        histogramCount(registry, 'unified_bridge_rpc_server_handling_seconds', {
          service: 'unified_bridge.v1.VariableService',
          method,
          protocol,
        });
      expect([await handling('GetVariable', 'grpc'), await handling('GetVariable', 'connect')]).toEqual([4, 3]);
      expect(
        Object.fromEntries(
          ['too_large', 'rate_limited', 'unauthenticated', 'malformed'].map((reason) => [
            reason,
            sample(families, 'unified_bridge_rejected_total', { reason }),
          ]),
        ),
      ).toEqual({ too_large: 1, rate_limited: 1, unauthenticated: 1, malformed: 1 });
      expect(sample(families, 'unified_bridge_tool_calls_total', { tool: 'echo', code: 'OK' })).toBe(2);
      expect(await histogramCount(registry, 'unified_bridge_tool_call_duration_seconds', { tool: 'echo' })).toBe(2);
      const store = (operation: string, outcome: string) =>
        histogramCount(registry, 'unified_bridge_store_operation_duration_seconds', { operation, outcome });
      expect(
        await Promise.all([store('getVariable', 'ok'), store('getVariable', 'error'), store('registerVariable', 'ok')]),
      ).toEqual([5, 1, 1]);
      expect({
        sessions: sample(families, 'unified_bridge_sessions'),
        variables: sample(families, 'unified_bridge_variables'),
        watchers: sample(families, 'unified_bridge_watchers'),
        workers: sample(families, 'unified_bridge_workers'),
        toolCalls: sample(families, 'unified_bridge_tool_calls_in_flight'),
        watchInFlight: sample(families, 'unified_bridge_rpc_server_in_flight', { method: 'WatchVariables' }),
        getInFlight: sample(families, 'unified_bridge_rpc_server_in_flight', { method: 'GetVariable' }),
      }).toEqual({
        sessions: 1,
        variables: 1,
        watchers: 1,
        workers: 0,
        toolCalls: 0,
        watchInFlight: 1,
        getInFlight: 0,
      });
    } finally {
      watchAbort.abort();
      sessionManager.abort();
    }
  });

  it('should serve /metrics on the main port only when asked, and not at all with metrics: false', async () => {
    await using onMain = await startBridgeServer({ logger: silentLogger, metrics: { onMainPort: true } });
    expect(onMain.metricsUrl).toBe(`${onMain.url}/metrics`);
    await createClient(
      SessionService,
      createConnectTransport({ baseUrl: onMain.url, httpVersion: '1.1' }),
    ).createSession({});
    const families = parsePrometheusTextFormat(await (await fetch(onMain.metricsUrl!)).text());
    expect(sample(families, 'unified_bridge_rpc_server_handled_total', { method: 'CreateSession' })).toBe(1);
    expect((await fetch(onMain.metricsUrl!, { method: 'POST' })).status).toBe(405);

    await using off = await startBridgeServer({ logger: silentLogger, metrics: false });
    expect([off.metricsUrl, off.routes.metrics]).toEqual([undefined, undefined]);
  });

  it('should register in the registry an embedder passes, and refuse a bad metrics option', async () => {
    const registry = new Registry();
    const routes = createBridgeRoutes({ logger: silentLogger, metrics: { registry } });
    try {
      expect(routes.metrics?.registry).toBe(registry);
      expect((await registry.getMetricsAsJSON()).map((m) => m.name)).toContain(
        'unified_bridge_rpc_server_handled_total',
      );
    } finally {
      await routes.shutdown({ graceMs: 0 });
    }
    expect(() => createBridgeRoutes({ metrics: { registry: {} as Registry } })).toThrow(/metrics\.registry/);
    await expect(startBridgeServer({ metrics: { port: 70000 } })).rejects.toThrow(/metrics\.port/);
  });
});
