// One trace from a caller through the server into a TypeScript tool worker:
// an OpenTelemetry SDK in this process (in-memory exporter, W3C propagator)
// sees the caller's span, the server's RPC span, the server's execute_tool
// span and the worker's execute_tool span, with the handler's own span under it.
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport, Http2SessionManager } from '@connectrpc/connect-node';
import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ToolService } from '@unified-bridge/proto';
import { startBridgeServer } from '@unified-bridge/server';
import { createBridgeClient } from '../src/index.js';

const silent = { error() {}, warn() {}, info() {}, debug() {} };
const exporter = new InMemorySpanExporter();

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
});

afterAll(() => {
  trace.disable();
  propagation.disable();
  context.disable();
});

describe('tracing through a tool worker', () => {
  it("should continue the caller's trace in the server span and in the worker's span", async () => {
    await using server = await startBridgeServer({ port: 0, logger: silent, metrics: false });
    const client = createBridgeClient({ baseUrl: server.url });
    const sessionManager = new Http2SessionManager(server.url);
    try {
      const session = await client.createSession();
      const worker = client.serveTools(session, {
        double: async ({ n }) => {
          // The handler's own span nests under the worker's span.
          const inner = trace.getTracer('handler').startSpan('handler-work');
          inner.end();
          return (n as number) * 2;
        },
      });
      await worker.ready;
      exporter.reset();

      const caller = trace.getTracer('caller').startSpan('caller', { kind: SpanKind.CLIENT });
      const { traceId, spanId } = caller.spanContext();
      const tools = createClient(ToolService, createGrpcTransport({ baseUrl: server.url, sessionManager }));
      const { result } = await tools.executeTool(
        { sessionId: session.id, toolName: 'double', arguments: { n: 21 } },
        { headers: { traceparent: `00-${traceId}-${spanId}-01` } },
      );
      caller.end();
      expect(result?.kind.value).toBe(42n);
      await worker.stop();

      const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
      const byName = (name: string, scope: string) => {
        const found = spans.filter((s) => s.name === name && s.instrumentationScope.name === scope);
        expect(found).toHaveLength(1);
        return found[0]!;
      };
      const rpc = byName('unified_bridge.v1.ToolService/ExecuteTool', '@unified-bridge/server');
      const serverTool = byName('execute_tool double', '@unified-bridge/server');
      const workerTool = byName('execute_tool double', '@unified-bridge/client');
      const handler = byName('handler-work', 'handler');
      const parentOf = (s: typeof rpc) => s.parentSpanContext?.spanId;
      expect([parentOf(rpc), parentOf(serverTool), parentOf(workerTool), parentOf(handler)]).toEqual([
        spanId,
        rpc.spanContext().spanId,
        serverTool.spanContext().spanId,
        workerTool.spanContext().spanId,
      ]);
      expect([rpc.kind, workerTool.kind]).toEqual([SpanKind.SERVER, SpanKind.SERVER]);
      expect(rpc.attributes).toMatchObject({
        'rpc.system': 'grpc',
        'rpc.service': 'unified_bridge.v1.ToolService',
        'rpc.method': 'ExecuteTool',
        'rpc.grpc.status_code': 0,
        'unified_bridge.session_id': session.id,
        'unified_bridge.tool': 'double',
      });
      expect(workerTool.attributes).toMatchObject({
        'gen_ai.tool.name': 'double',
        'unified_bridge.session_id': session.id,
        'unified_bridge.worker_id': worker.workerId,
      });
    } finally {
      sessionManager.abort();
      await client.close();
    }
  });
});
