// unified_bridge.v1.ToolWorkerService: remote clients serve tools. The
// ServeTools stream registers the worker and carries calls, cancellations
// and pings to it; reports and heartbeats come back as unary calls.
import { create } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import { ServeToolsResponseSchema } from '@unified-bridge/proto';
import type { ToolWorkerService } from '@unified-bridge/proto';
import { STORE_RULES } from '@unified-bridge/store';
import { invalidArgument, invalidToolSpec, toConnectError, workerUnavailable } from './errors.js';
import type { BridgeLogger } from './logger.js';
import { principalOf, visibleSession } from './service-context.js';
import type { ServiceDeps } from './service-context.js';
import type { SessionEndWatch } from './session-watch.js';
import { checkToolSpec } from './tool-definition.js';
import type { SpecProblem } from './tool-definition.js';
import type { WorkerToolSpec } from './connected-worker.js';
import type { WorkerBroker } from './worker-broker.js';

/** The most tools one worker may announce. */
export const MAX_WORKER_TOOLS = 1000;

/** The ToolWorkerService implementation (independent of any HTTP adapter). */
export function createToolWorkerServiceImpl(
  deps: ServiceDeps,
  broker: WorkerBroker,
  sessions: SessionEndWatch,
  logger: BridgeLogger,
): ServiceImpl<typeof ToolWorkerService> {
  return {
    async *serveTools(req, ctx) {
      const workerId = req.workerId;
      if (workerId !== '' && (!STORE_RULES.ownerPattern.test(workerId) || workerId === 'host')) {
        throw invalidArgument(
          'worker_id',
          'worker_id must be 1-128 characters of [A-Za-z0-9_.:-] and not "host" (or empty to get one)',
        );
      }
      if (req.tools.length === 0) throw invalidArgument('tools', 'a worker must serve at least one tool');
      if (req.tools.length > MAX_WORKER_TOOLS) {
        throw invalidArgument('tools', `a worker may serve at most ${MAX_WORKER_TOOLS} tools, got ${req.tools.length}`);
      }
      const problems: SpecProblem[] = [];
      const seen = new Set<string>();
      const tools: WorkerToolSpec[] = req.tools.map((t, i) => {
        for (const p of checkToolSpec({ name: t.name, parameters: t.parameters, metadata: t.metadata })) {
          problems.push({ ...p, field: `tools[${i}].${p.field}` });
        }
        if (seen.has(t.name)) {
          problems.push({ field: `tools[${i}].name`, constraint: 'unique', message: `tool ${t.name} is listed twice` });
        }
        seen.add(t.name);
        return {
          name: t.name,
          description: t.description,
          parameters: t.parameters,
          streaming: t.streaming,
          metadata: { ...t.metadata },
        };
      });
      if (problems.length > 0) throw invalidToolSpec(problems);
      const sessionId = req.sessionId === '' ? null : req.sessionId;
      const session = sessionId === null ? undefined : await visibleSession(deps, ctx, sessionId);
      const signal = AbortSignal.any([ctx.signal, deps.streamsSignal]);
      signal.throwIfAborted();

      const worker = await broker.connect({
        workerId,
        sessionId,
        principal: principalOf(ctx),
        maxConcurrency: req.maxConcurrency,
        tools,
        ...(session !== undefined ? { sessionTtlMs: session.ttlMs } : {}),
      });
      const onAbort = () => {
        const reason = deps.streamsSignal.aborted
          ? toConnectError(deps.streamsSignal.reason, logger)
          : workerUnavailable(worker.id, `worker ${worker.id} disconnected`);
        void broker.disconnect(worker, reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      if (sessionId !== null) {
        worker.stopWatching = sessions.onEnd(sessionId, (reason) => {
          const err = toConnectError(reason, logger);
          void broker.disconnect(
            worker,
            err,
            workerUnavailable(worker.id, `worker ${worker.id} left: ${err.rawMessage}`),
          );
        });
      }
      try {
        yield create(ServeToolsResponseSchema, {
          event: {
            case: 'registered',
            value: { workerId: worker.id, heartbeatIntervalMs: broker.heartbeatIntervalMs },
          },
        });
        yield* worker.events;
      } finally {
        signal.removeEventListener('abort', onAbort);
        // The stream is over (ended by us, or by the worker going away).
        await broker.disconnect(worker, workerUnavailable(worker.id, `worker ${worker.id} disconnected`));
      }
    },

    async reportToolChunk(req, ctx) {
      const accepted = await broker.reportChunk(req.workerId, principalOf(ctx), req.callId, req.sequence, req.chunk);
      return { accepted };
    },

    async reportToolResult(req, ctx) {
      return { accepted: broker.reportResult(req.workerId, principalOf(ctx), req.callId, req.outcome) };
    },

    async workerHeartbeat(req, ctx) {
      broker.heartbeat(req.workerId, principalOf(ctx));
      return {};
    },
  };
}
