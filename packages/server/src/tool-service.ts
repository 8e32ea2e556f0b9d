// unified_bridge.v1.ToolService: list and call the tools a session sees.
import { setMaxListeners } from 'node:events';
import { create } from '@bufbuild/protobuf';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import { ExecuteToolStreamResponseSchema, ToolCallResultSchema, ToolMetricsSchema } from '@unified-bridge/proto';
import type { ToolCallResult, ToolService } from '@unified-bridge/proto';
import { AsyncQueue } from './async-queue.js';
import { nonNegative, toolToProto } from './convert.js';
import { callErrorContext, errorOutcome, invalidArgument, toolCancelled } from './errors.js';
import type { BridgeLogger } from './logger.js';
import { checkSession, run } from './service-context.js';
import type { ServiceDeps } from './service-context.js';
import { checkRate, executeTool } from './tool-executor.js';
import type { ToolRuntime } from './tool-executor.js';

/** The default and largest concurrency of ExecuteTools. */
export const DEFAULT_BATCH_CONCURRENCY = 16;
/** The most calls one ExecuteTools request may hold. */
export const MAX_BATCH_CALLS = 1000;

const metrics = (durationMs: number, executedBy: string) => create(ToolMetricsSchema, { durationMs, executedBy });

/** The ToolService implementation (independent of any HTTP adapter). */
export function createToolServiceImpl(
  deps: ServiceDeps,
  rt: ToolRuntime,
  logger: BridgeLogger,
): ServiceImpl<typeof ToolService> {
  const { store } = deps;
  /** Auth visibility, then one token of the rate limit. */
  const admit = async (ctx: HandlerContext, sessionId: string): Promise<void> => {
    await checkSession(deps, ctx, sessionId);
    checkRate(rt, sessionId);
  };

  return {
    async listTools(req, ctx) {
      const pageSize = nonNegative('page_size', req.pageSize);
      await checkSession(deps, ctx, req.sessionId);
      await rt.host.ready.catch(() => {});
      const page = await run(ctx, () => store.listTools(req.sessionId, { pageSize, pageToken: req.pageToken }));
      return { tools: page.tools.map(toolToProto), nextPageToken: page.nextPageToken };
    },

    async executeTool(req, ctx) {
      await admit(ctx, req.sessionId);
      const out = await executeTool(rt, ctx, {
        sessionId: req.sessionId,
        toolName: req.toolName,
        args: req.arguments,
        streaming: false,
      });
      return { result: out.result, metrics: metrics(out.durationMs, out.executedBy) };
    },

    async *executeToolStream(req, ctx) {
      await admit(ctx, req.sessionId);
      type Message = MessageInitShape<typeof ExecuteToolStreamResponseSchema>;
      const queue = new AsyncQueue<Message>();
      let sequence = 0n;
      let chunks = 0n;
      const pushChunk = (chunk: Message['payload'] & { case: 'chunk' }) => {
        chunks++;
        return queue.push({ sequence: sequence++, payload: chunk });
      };
      const consumerGone = new AbortController();
      executeTool(rt, ctx, {
        sessionId: req.sessionId,
        toolName: req.toolName,
        args: req.arguments,
        streaming: true,
        onChunk: (value) => pushChunk({ case: 'chunk', value }),
        signal: consumerGone.signal,
      }).then(
        (out) => {
          if (out.result !== undefined) void pushChunk({ case: 'chunk', value: out.result });
          void queue.push({
            sequence: sequence++,
            payload: {
              case: 'end',
              value: { totalChunks: chunks, metrics: metrics(out.durationMs, out.executedBy) },
            },
          });
          queue.end();
        },
        (err: unknown) => queue.fail(err),
      );
      try {
        for await (const m of queue) yield create(ExecuteToolStreamResponseSchema, m);
      } finally {
        // The caller went away or the stream failed: stop the tool.
        consumerGone.abort(toolCancelled(req.toolName));
      }
    },

    async executeTools(req, ctx) {
      if (req.calls.length > MAX_BATCH_CALLS) {
        throw invalidArgument('calls', `at most ${MAX_BATCH_CALLS} calls per batch, got ${req.calls.length}`);
      }
      await checkSession(deps, ctx, req.sessionId);
      const concurrency = Math.min(
        req.maxConcurrency > 0 ? req.maxConcurrency : DEFAULT_BATCH_CONCURRENCY,
        MAX_BATCH_CALLS,
      );
      // Each call in flight listens on the request's signal: bounded by `concurrency`.
      setMaxListeners(concurrency + 10, ctx.signal);
      const results: ToolCallResult[] = new Array<ToolCallResult>(req.calls.length);
      let next = 0;
      const one = async (i: number): Promise<ToolCallResult> => {
        const call = req.calls[i]!;
        try {
          checkRate(rt, req.sessionId);
          const out = await executeTool(rt, ctx, {
            sessionId: req.sessionId,
            toolName: call.toolName,
            args: call.arguments,
            streaming: false,
          });
          return create(ToolCallResultSchema, {
            outcome: out.result === undefined ? { case: undefined } : { case: 'result', value: out.result },
            code: 0,
            metrics: metrics(out.durationMs, out.executedBy),
          });
        } catch (err) {
          const { code, detail } = errorOutcome(
            err,
            logger,
            callErrorContext(ctx.values, 'unified_bridge.v1.ToolService/ExecuteTools'),
          );
          return create(ToolCallResultSchema, { outcome: { case: 'error', value: detail }, code });
        }
      };
      const lane = async (): Promise<void> => {
        for (let i = next++; i < req.calls.length; i = next++) results[i] = await one(i);
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, req.calls.length) }, lane));
      ctx.signal.throwIfAborted();
      return { results };
    },
  };
}
