// unified_bridge.v1.VariableService on a SessionStore.
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import { create } from '@bufbuild/protobuf';
import { VariableUpdateResultSchema } from '@unified-bridge/proto';
import type { VariableService, Variable } from '@unified-bridge/proto';
import {
  expectedVersionOption,
  historyEntryToProto,
  int64ToNumber,
  nonNegative,
  valueFromWire,
  variableToProto,
  watchEventToProto,
} from './convert.js';
import { storeErrorDetail } from './errors.js';
import { checkSession, run } from './service-context.js';
import type { ServiceDeps } from './service-context.js';

/** The VariableService implementation (independent of any HTTP adapter). */
export function createVariableServiceImpl(deps: ServiceDeps): ServiceImpl<typeof VariableService> {
  const { store } = deps;
  /** Checks visibility, then runs the store work raced against the call's signal. */
  const inSession = async <T>(ctx: HandlerContext, sessionId: string, work: () => Promise<T>): Promise<T> => {
    await checkSession(deps, ctx, sessionId);
    return run(ctx, work);
  };

  return {
    async registerVariable(req, ctx) {
      const value = valueFromWire('initial_value', req.initialValue);
      const record = await inSession(ctx, req.sessionId, () =>
        store.registerVariable(req.sessionId, {
          name: req.name,
          type: req.type,
          value,
          constraints: req.constraints ?? {},
          metadata: { ...req.metadata },
        }),
      );
      return { variable: variableToProto(record) };
    },

    async getVariable(req, ctx) {
      const record = await inSession(ctx, req.sessionId, () => store.getVariable(req.sessionId, req.identifier));
      return { variable: variableToProto(record) };
    },

    async getVariables(req, ctx) {
      const { found, missing } = await inSession(ctx, req.sessionId, () =>
        store.getVariables(req.sessionId, req.identifiers),
      );
      const variables: Record<string, Variable> = {};
      for (const [identifier, record] of found) variables[identifier] = variableToProto(record);
      return { variables, missing: [...missing] };
    },

    async updateVariable(req, ctx) {
      const value = valueFromWire('value', req.value);
      const expected = expectedVersionOption('expected_version', req.expectedVersion);
      const record = await inSession(ctx, req.sessionId, () =>
        store.updateVariable(req.sessionId, req.identifier, value, { metadata: { ...req.metadata }, ...expected }),
      );
      return { variable: variableToProto(record) };
    },

    async updateVariables(req, ctx) {
      const updates = req.updates.map((u, i) => {
        const expected = expectedVersionOption(`updates[${i}].expected_version`, u.expectedVersion);
        return {
          identifier: u.identifier,
          value: valueFromWire(u.identifier === '' ? `updates[${i}].value` : u.identifier, u.value),
          metadata: { ...u.metadata },
          ...expected,
        };
      });
      const results = await inSession(ctx, req.sessionId, () =>
        store.updateVariables(req.sessionId, updates, { atomic: req.atomic }),
      );
      return {
        results: results.map((r) =>
          create(VariableUpdateResultSchema, {
            identifier: r.identifier,
            outcome: r.ok
              ? { case: 'variable', value: variableToProto(r.variable) }
              : { case: 'error', value: storeErrorDetail(r.error) },
          }),
        ),
      };
    },

    async deleteVariable(req, ctx) {
      await inSession(ctx, req.sessionId, () => store.deleteVariable(req.sessionId, req.identifier));
      return {};
    },

    async listVariables(req, ctx) {
      const pageSize = nonNegative('page_size', req.pageSize);
      const page = await inSession(ctx, req.sessionId, () =>
        store.listVariables(req.sessionId, { pattern: req.pattern, pageSize, pageToken: req.pageToken }),
      );
      return { variables: page.variables.map(variableToProto), nextPageToken: page.nextPageToken };
    },

    async getVariableHistory(req, ctx) {
      const limit = nonNegative('limit', req.limit);
      const [variable, entries] = await inSession(ctx, req.sessionId, async () => {
        const v = await store.getVariable(req.sessionId, req.identifier);
        return [v, await store.getHistory(req.sessionId, v.id, { limit })] as const;
      });
      return { entries: entries.map((e) => historyEntryToProto(variable, e)) };
    },

    async rollbackVariable(req, ctx) {
      const version = int64ToNumber('version', req.version);
      const expected = expectedVersionOption('expected_version', req.expectedVersion);
      const record = await inSession(ctx, req.sessionId, () =>
        store.rollbackVariable(req.sessionId, req.identifier, version, expected),
      );
      return { variable: variableToProto(record) };
    },

    async *watchVariables(req, ctx) {
      await checkSession(deps, ctx, req.sessionId);
      const signal = AbortSignal.any([ctx.signal, deps.streamsSignal]);
      signal.throwIfAborted();
      const sinceRevision =
        req.sinceRevision === undefined ? undefined : int64ToNumber('since_revision', req.sinceRevision);
      const events = store.watch(req.sessionId, {
        names: req.names,
        includeInitial: req.includeInitial,
        ...(sinceRevision !== undefined ? { sinceRevision } : {}),
        signal,
      });
      for await (const event of events) {
        yield watchEventToProto(event);
      }
      // The store ends a watch cleanly when the signal aborts: say why.
      if (deps.streamsSignal.aborted) throw deps.streamsSignal.reason;
      ctx.signal.throwIfAborted();
    },
  };
}
