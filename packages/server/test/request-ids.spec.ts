// Request ids and the access log: every call gets an id (the caller's sane
// x-request-id, else a new one), returned in the x-request-id header and in
// every ErrorDetail, and carried by every log line about the call; one debug
// line per RPC and an info summary by status code.
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import type { Interceptor } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport, Http2SessionManager } from '@connectrpc/connect-node';
import { ErrorDetailSchema, ErrorType, SessionService, ToolService, VariableService } from '@unified-bridge/proto';
import { startBridgeServer } from '../src/index.js';
import { failure, recordingLogger } from './helpers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** An interceptor that sends `x-request-id: <id>` when `id()` gives one. */
const withRequestId =
  (id: () => string | undefined): Interceptor =>
  (next) =>
  (req) => {
    const v = id();
    if (v !== undefined) req.header.set('x-request-id', v);
    return next(req);
  };

describe('request ids and the access log', () => {
  it('should return the id in the header, the ErrorDetail and every log line of the call', async () => {
    const logger = recordingLogger();
    let sendId: string | undefined;
    const server = await startBridgeServer({
      logger,
      maxMessageBytes: 2048,
      accessLog: { summaryIntervalMs: 0 },
      tools: [
        {
          name: 'broken',
          handler: () => {
            throw new Error('disk on fire');
          },
        },
      ],
    });
    const sessionManager = new Http2SessionManager(server.url);
    try {
      const interceptors = [withRequestId(() => sendId)];
      const connect = createConnectTransport({ baseUrl: server.url, httpVersion: '1.1', interceptors });
      const grpc = createGrpcTransport({ baseUrl: server.url, sessionManager, interceptors });
      const sessions = createClient(SessionService, connect);

      // Success: the caller's id comes back in the response header.
      sendId = 'req-ok-1';
      let header: Headers | undefined;
      await sessions.createSession({ sessionId: 'r1' }, { onHeader: (h) => (header = h) });
      expect(header?.get('x-request-id')).toBe('req-ok-1');

      // A failure: header (in the error's metadata), ErrorDetail and the access log line agree.
      sendId = 'req-missing-2';
      const missing = await failure(sessions.getSession({ sessionId: 'nope' }));
      expect([missing.err.metadata.get('x-request-id'), missing.detail.requestId]).toEqual([
        'req-missing-2',
        'req-missing-2',
      ]);
      const line = logger.lines.find((l) => l.msg === 'rpc' && l.obj['requestId'] === 'req-missing-2');
      expect(line).toMatchObject({
        level: 'debug',
        obj: {
          service: 'unified_bridge.v1.SessionService',
          method: 'GetSession',
          protocol: 'connect',
          code: 'NOT_FOUND',
          session: 'nope',
          peer: expect.stringMatching(/^(::ffff:)?127\.0\.0\.1:\d+$/),
        },
      });
      expect(line?.obj['durationMs']).toEqual(expect.any(Number));

      // An id that is not sane (too long, or with a space) is replaced by a UUID.
      for (const bad of ['x'.repeat(129), 'two words']) {
        sendId = bad;
        const { err, detail } = await failure(sessions.getSession({ sessionId: 'nope' }));
        expect(err.metadata.get('x-request-id')).toMatch(UUID);
        expect(detail.requestId).toBe(err.metadata.get('x-request-id'));
      }

      // No id sent: one is made, over gRPC too, and names the variable in the log.
      sendId = undefined;
      const vars = createClient(VariableService, grpc);
      const unknownVar = await failure(vars.getVariable({ sessionId: 'r1', identifier: 'ghost' }));
      expect(unknownVar.detail.requestId).toMatch(UUID);
      expect(unknownVar.err.metadata.get('x-request-id')).toBe(unknownVar.detail.requestId);
      expect(
        logger.lines.find((l) => l.msg === 'rpc' && l.obj['requestId'] === unknownVar.detail.requestId)?.obj,
      ).toMatchObject({ protocol: 'grpc', method: 'GetVariable', code: 'NOT_FOUND', variable: 'ghost', session: 'r1' });

      // A host tool that throws: the ToolError names the call, and so does the warning with the real error.
      sendId = 'req-tool-3';
      const tools = createClient(ToolService, grpc);
      const broken = await failure(tools.executeTool({ sessionId: 'r1', toolName: 'broken' }));
      expect([broken.err.code, broken.detail.type, broken.detail.requestId]).toEqual([
        Code.Unknown,
        ErrorType.TOOL_ERROR,
        'req-tool-3',
      ]);
      const callLines = logger.lines.filter((l) => l.obj['requestId'] === 'req-tool-3');
      expect(callLines.map((l) => [l.level, l.msg])).toEqual([
        ['warn', 'host tool failed'],
        ['debug', 'rpc'],
      ]);
      expect(String(callLines[0]!.obj['err'])).toContain('disk on fire');
      expect(callLines[1]!.obj).toMatchObject({ tool: 'broken', code: 'UNKNOWN' });

      // Batch items: each ErrorDetail of ExecuteTools names the call.
      sendId = 'req-batch-4';
      const batch = await tools.executeTools({
        sessionId: 'r1',
        calls: [{ toolName: 'broken' }, { toolName: 'no_such_tool' }],
      });
      expect(
        batch.results.map((r) => (r.outcome.case === 'error' ? r.outcome.value.requestId : r.outcome.case)),
      ).toEqual(['req-batch-4', 'req-batch-4']);

      // Refused before any handler (over maxMessageBytes): the ErrorDetail still names the call.
      sendId = 'req-big-5';
      const big = await failure(
        vars.registerVariable({
          sessionId: 'r1',
          name: 'big',
          type: 'string',
          initialValue: { kind: { case: 'stringValue', value: 'x'.repeat(4000) } },
        }),
      );
      expect([big.err.code, big.detail.type, big.detail.requestId, big.err.metadata.get('x-request-id')]).toEqual([
        Code.ResourceExhausted,
        ErrorType.PAYLOAD_TOO_LARGE,
        'req-big-5',
        'req-big-5',
      ]);
      expect(logger.lines.find((l) => l.msg === 'rpc' && l.obj['requestId'] === 'req-big-5')?.obj).toMatchObject({
        code: 'RESOURCE_EXHAUSTED',
        rejected: 'too_large',
      });
    } finally {
      sessionManager.abort();
      await server.stop();
    }
    // The summary, written at shutdown (its interval is off): every RPC above by code.
    const summaries = logger.lines.filter((l) => l.msg === 'rpc summary');
    expect(summaries.map((l) => [l.level, l.obj['rpcs'], l.obj['codes']])).toEqual([
      ['info', 8, { OK: 2, NOT_FOUND: 4, UNKNOWN: 1, RESOURCE_EXHAUSTED: 1 }],
    ]);
  });

  it('should map an INTERNAL error to the id of its call in the log', async () => {
    const logger = recordingLogger();
    await using server = await startBridgeServer({ logger, accessLog: { summaryIntervalMs: 0 } });
    const sessions = createClient(
      SessionService,
      createConnectTransport({
        baseUrl: server.url,
        httpVersion: '1.1',
        interceptors: [withRequestId(() => 'req-internal-6')],
      }),
    );
    await sessions.createSession({ sessionId: 'i1' });
    // A store failure nobody expects: the client sees INTERNAL and the id, the log has the real error.
    const store = server.routes.store as unknown as { getSession: () => Promise<never> };
    store.getSession = () => Promise.reject(new Error('socket closed by peer'));
    const { err, detail } = await failure(sessions.getSession({ sessionId: 'i1' }));
    expect([err.code, err.rawMessage, detail.requestId]).toEqual([
      Code.Internal,
      'internal server error',
      'req-internal-6',
    ]);
    const errorLine = logger.lines.find((l) => l.level === 'error' && l.obj['requestId'] === 'req-internal-6');
    expect(errorLine?.msg).toBe('unexpected error in handler');
    expect(String(errorLine?.obj['err'])).toContain('socket closed by peer');
    expect(ConnectError.from(err).findDetails(ErrorDetailSchema)).toHaveLength(1);
  });
});
