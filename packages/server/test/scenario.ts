// One scenario that calls every SessionService and VariableService RPC and
// provokes every store error mapping; run through createRouterTransport (unit)
// and over real sockets for each protocol (integration).
import { create } from '@bufbuild/protobuf';
import { Code, createClient } from '@connectrpc/connect';
import type { Transport } from '@connectrpc/connect';
import { ErrorType, SessionService, ValueSchema, VariableEventKind, VariableService } from '@unified-bridge/proto';
import type { Value, WatchVariablesResponse } from '@unified-bridge/proto';
import { MemoryStore } from '@unified-bridge/store';
import { expectFailure } from './helpers.js';
import type { FakeClock } from './helpers.js';

/** The store configuration the scenario expects (small windows so limits are easy to hit). */
export function scenarioStore(clock: FakeClock): MemoryStore {
  return new MemoryStore({ clock, sweepIntervalMs: 0, limits: { watchWindow: 3, maxVariablesPerSession: 5 } });
}

const dbl = (n: number): Value => create(ValueSchema, { kind: { case: 'doubleValue', value: n } });
const int = (n: bigint): Value => create(ValueSchema, { kind: { case: 'intValue', value: n } });
const str = (s: string): Value => create(ValueSchema, { kind: { case: 'stringValue', value: s } });

/** Calls every RPC through `transport`; `prefix` keeps session ids apart between runs on one server. */
export async function exerciseEveryRpc(transport: Transport, prefix: string, clock: FakeClock): Promise<void> {
  const sessions = createClient(SessionService, transport);
  const vars = createClient(VariableService, transport);
  const sid = `${prefix}-main`;

  // --- SessionService ---
  const generated = await sessions.createSession({});
  expect(generated.session?.id).toMatch(/.+/);
  const created = await sessions.createSession({ sessionId: sid, ttlSeconds: 600, metadata: { owner: 'test' } });
  expect(created.session).toMatchObject({ id: sid, ttlSeconds: 600, metadata: { owner: 'test' }, variableCount: 0 });
  await expectFailure(sessions.createSession({ sessionId: sid }), Code.AlreadyExists, ErrorType.ALREADY_EXISTS);
  await expectFailure(sessions.getSession({ sessionId: `${prefix}-nope` }), Code.NotFound, ErrorType.SESSION_NOT_FOUND);
  const hb = await sessions.heartbeat({ sessionId: sid });
  expect(hb.session?.expiresAt).toBeDefined();
  const listed = await sessions.listSessions({ pageSize: 1000 });
  expect(listed.sessions.map((s) => s.id)).toEqual(expect.arrayContaining([sid, generated.session!.id]));
  const firstPage = await sessions.listSessions({ pageSize: 1 });
  expect(firstPage.sessions).toHaveLength(1);
  expect(firstPage.nextPageToken).not.toBe('');
  await expectFailure(sessions.listSessions({ pageSize: -1 }), Code.InvalidArgument, ErrorType.INVALID_ARGUMENT);

  // Expiry: a session used after its idle TTL says so.
  const short = `${prefix}-short`;
  await sessions.createSession({ sessionId: short, ttlSeconds: 1 });
  clock.advance(2000);
  await expectFailure(sessions.getSession({ sessionId: short }), Code.NotFound, ErrorType.SESSION_EXPIRED);

  // --- VariableService ---
  const reg = await vars.registerVariable({
    sessionId: sid,
    name: 'temperature',
    type: 'float',
    initialValue: dbl(0.5),
    constraints: { min: 0, max: 1 },
    metadata: { unit: 'none' },
  });
  expect(reg.variable).toMatchObject({
    name: 'temperature',
    type: 'float',
    version: 0n,
    constraints: { min: 0, max: 1 },
  });
  expect(reg.variable?.id).toMatch(/^var_temperature_/);
  expect(reg.variable?.value?.kind).toEqual({ case: 'doubleValue', value: 0.5 });
  await vars.registerVariable({ sessionId: sid, name: 'count', type: 'integer', initialValue: int(9007199254740993n) });
  await vars.registerVariable({ sessionId: sid, name: 'label', type: 'string', initialValue: str('a') });
  await expectFailure(
    vars.registerVariable({ sessionId: sid, name: 'label', type: 'string', initialValue: str('b') }),
    Code.AlreadyExists,
    ErrorType.ALREADY_EXISTS,
  );
  const invalid = await expectFailure(
    vars.registerVariable({
      sessionId: sid,
      name: 'bad',
      type: 'float',
      initialValue: dbl(1.5),
      constraints: { max: 1 },
    }),
    Code.InvalidArgument,
    ErrorType.VALIDATION_ERROR,
  );
  expect(invalid.fieldViolations[0]).toMatchObject({ constraint: 'max', description: 'value 1.5 is above maximum 1' });
  await expectFailure(
    vars.registerVariable({ sessionId: sid, name: 'novalue', type: 'float' }),
    Code.InvalidArgument,
    ErrorType.VALIDATION_ERROR,
  );
  await expectFailure(
    vars.registerVariable({ sessionId: `${prefix}-nope`, name: 'x', type: 'float', initialValue: dbl(1) }),
    Code.NotFound,
    ErrorType.SESSION_NOT_FOUND,
  );

  const got = await vars.getVariable({ sessionId: sid, identifier: 'count' });
  expect(got.variable?.value?.kind).toEqual({ case: 'intValue', value: 9007199254740993n });
  const byId = await vars.getVariable({ sessionId: sid, identifier: reg.variable!.id });
  expect(byId.variable?.name).toBe('temperature');
  await expectFailure(
    vars.getVariable({ sessionId: sid, identifier: 'missing' }),
    Code.NotFound,
    ErrorType.VARIABLE_NOT_FOUND,
  );
  const many = await vars.getVariables({ sessionId: sid, identifiers: ['count', 'missing', 'label'] });
  expect(Object.keys(many.variables).sort()).toEqual(['count', 'label']);
  expect(many.missing).toEqual(['missing']);

  // Watch: initial values, SYNCED, then live changes.
  const abort = new AbortController();
  const stream = vars.watchVariables(
    { sessionId: sid, names: ['temperature'], includeInitial: true },
    { signal: abort.signal },
  );
  const it = stream[Symbol.asyncIterator]();
  const initial = (await it.next()).value as WatchVariablesResponse;
  expect(initial.kind).toBe(VariableEventKind.INITIAL);
  expect(initial.variable?.name).toBe('temperature');
  const synced = (await it.next()).value as WatchVariablesResponse;
  expect(synced.kind).toBe(VariableEventKind.SYNCED);

  const upd = await vars.updateVariable({
    sessionId: sid,
    identifier: 'temperature',
    value: dbl(0.7),
    metadata: { by: 'a' },
  });
  expect(upd.variable).toMatchObject({ version: 1n, metadata: { unit: 'none', by: 'a' } });
  const changed = (await it.next()).value as WatchVariablesResponse;
  expect(changed.kind).toBe(VariableEventKind.UPDATED);
  expect(changed.variable?.value?.kind).toEqual({ case: 'doubleValue', value: 0.7 });
  expect(changed.revision).toBe(upd.variable!.revision);
  abort.abort(); // the client goes away: its iteration fails locally (the code depends on the transport)
  await expect(it.next()).rejects.toBeInstanceOf(Error);

  const conflict = await expectFailure(
    vars.updateVariable({ sessionId: sid, identifier: 'temperature', value: dbl(0.8), expectedVersion: 0n }),
    Code.Aborted,
    ErrorType.VERSION_CONFLICT,
  );
  expect(conflict.currentVersion).toBe(1n);
  await expectFailure(
    vars.updateVariable({ sessionId: sid, identifier: 'temperature', value: dbl(2) }),
    Code.InvalidArgument,
    ErrorType.VALIDATION_ERROR,
  );
  await expectFailure(
    vars.updateVariable({ sessionId: sid, identifier: 'missing', value: dbl(2) }),
    Code.NotFound,
    ErrorType.VARIABLE_NOT_FOUND,
  );
  const v2 = await vars.updateVariable({
    sessionId: sid,
    identifier: 'temperature',
    value: dbl(0.9),
    expectedVersion: 1n,
  });
  expect(v2.variable?.version).toBe(2n);

  // Batches: atomic (all or nothing, every failure listed) and per-item.
  const atomicFail = await expectFailure(
    vars.updateVariables({
      sessionId: sid,
      atomic: true,
      updates: [
        { identifier: 'label', value: str('ok') },
        { identifier: 'temperature', value: dbl(5) },
        { identifier: 'missing', value: dbl(1) },
      ],
    }),
    Code.InvalidArgument,
    ErrorType.VALIDATION_ERROR,
  );
  expect(atomicFail.fieldViolations.map((v) => v.field)).toEqual(expect.arrayContaining(['temperature', 'missing']));
  expect((await vars.getVariable({ sessionId: sid, identifier: 'label' })).variable?.value?.kind.value).toBe('a');
  const atomicOk = await vars.updateVariables({
    sessionId: sid,
    atomic: true,
    updates: [
      { identifier: 'label', value: str('b') },
      { identifier: 'count', value: int(1n) },
    ],
  });
  expect(atomicOk.results.map((r) => r.outcome.case)).toEqual(['variable', 'variable']);
  const mixed = await vars.updateVariables({
    sessionId: sid,
    atomic: false,
    updates: [
      { identifier: 'label', value: str('c') },
      { identifier: 'temperature', value: dbl(9) },
    ],
  });
  expect(mixed.results[0]?.outcome.case).toBe('variable');
  expect(mixed.results[1]?.outcome.case).toBe('error');
  expect(mixed.results[1]?.outcome.value).toMatchObject({ type: ErrorType.VALIDATION_ERROR });

  // List, history, rollback, delete.
  const list = await vars.listVariables({ sessionId: sid, pattern: 't*' });
  expect(list.variables.map((v) => v.name)).toEqual(['temperature']);
  const all = await vars.listVariables({ sessionId: sid, pageSize: 2 });
  expect(all.variables.map((v) => v.name)).toEqual(['count', 'label']);
  const rest = await vars.listVariables({ sessionId: sid, pageSize: 2, pageToken: all.nextPageToken });
  expect(rest.variables.map((v) => v.name)).toEqual(['temperature']);
  const history = await vars.getVariableHistory({ sessionId: sid, identifier: 'temperature' });
  expect(history.entries.map((e) => e.version)).toEqual([2n, 1n, 0n]);
  expect(history.entries[2]?.value?.kind).toEqual({ case: 'doubleValue', value: 0.5 });
  const limited = await vars.getVariableHistory({ sessionId: sid, identifier: 'temperature', limit: 1 });
  expect(limited.entries).toHaveLength(1);
  const rolled = await vars.rollbackVariable({ sessionId: sid, identifier: 'temperature', version: 0n });
  expect(rolled.variable).toMatchObject({ version: 3n });
  expect(rolled.variable?.value?.kind).toEqual({ case: 'doubleValue', value: 0.5 });
  await expectFailure(
    vars.rollbackVariable({ sessionId: sid, identifier: 'temperature', version: 99n }),
    Code.NotFound,
    ErrorType.VARIABLE_NOT_FOUND,
  );
  await expectFailure(
    vars.rollbackVariable({ sessionId: sid, identifier: 'temperature', version: 0n, expectedVersion: 0n }),
    Code.Aborted,
    ErrorType.VERSION_CONFLICT,
  );
  await vars.deleteVariable({ sessionId: sid, identifier: 'label' });
  await expectFailure(
    vars.deleteVariable({ sessionId: sid, identifier: 'label' }),
    Code.NotFound,
    ErrorType.VARIABLE_NOT_FOUND,
  );

  // Compacted: the watch window holds 3 events, far more happened.
  const compacted = await expectFailure(
    drain(vars.watchVariables({ sessionId: sid, sinceRevision: 1n })),
    Code.OutOfRange,
    ErrorType.COMPACTED,
  );
  expect(compacted.oldestRevision).toBeGreaterThan(1n);

  // ResourceExhausted: at most 5 variables per session.
  await vars.registerVariable({ sessionId: sid, name: 'v3', type: 'boolean', initialValue: boolValue(true) });
  await vars.registerVariable({ sessionId: sid, name: 'v4', type: 'boolean', initialValue: boolValue(true) });
  await vars.registerVariable({ sessionId: sid, name: 'v5', type: 'boolean', initialValue: boolValue(true) });
  const exhausted = await expectFailure(
    vars.registerVariable({ sessionId: sid, name: 'v6', type: 'boolean', initialValue: boolValue(true) }),
    Code.ResourceExhausted,
    ErrorType.RESOURCE_EXHAUSTED,
  );
  expect(exhausted.details['limit']).toBe('maxVariablesPerSession');

  // Closing a session ends its watchers with NOT_FOUND and removes it.
  const closing = vars.watchVariables({ sessionId: sid })[Symbol.asyncIterator]();
  expect(((await closing.next()).value as WatchVariablesResponse).kind).toBe(VariableEventKind.SYNCED);
  await sessions.closeSession({ sessionId: sid });
  await expectFailure(closing.next(), Code.NotFound, ErrorType.SESSION_NOT_FOUND);
  await expectFailure(sessions.getSession({ sessionId: sid }), Code.NotFound, ErrorType.SESSION_NOT_FOUND);
  await expectFailure(sessions.closeSession({ sessionId: sid }), Code.NotFound, ErrorType.SESSION_NOT_FOUND);
}

function boolValue(b: boolean): Value {
  return create(ValueSchema, { kind: { case: 'boolValue', value: b } });
}

async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of stream) {
    // consume
  }
}
