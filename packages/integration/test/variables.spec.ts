// Variables against a real `unified-bridge serve` process, over gRPC and Connect (seed 000:
// TestVariableLifecycle, TestBatchOperations, TestErrorHandling, TestPythonAPIPatterns).
// Covers:
// - lifecycle: register (id `var_test_var_<random>`, version 0), get by name and by id, listed,
//   version 1 after one update, delete -> get fails with VariableNotFound ('not found'), has() false;
//   update metadata merged, history newest first (limit), rollback as a new version, list by glob
//   pattern and page by page;
// - every constraint with its exact message, the value unchanged after a rejected update:
//   float min/max, string min_length/max_length, pattern, enum, choice, embedding dimensions,
//   integer conversion ('Cannot convert 'abc' to integer'); invalid constraint definitions are
//   rejected at registration;
// - the SERVER enforces the same rules: a raw VariableService client (bypassing the client's local
//   validation) gets INVALID_ARGUMENT with a ValidationError detail and field violations, for
//   single updates and atomic/non-atomic batches;
// - batch get (5 found + missing), non-atomic batch update (a, b applied, c rejected with its error
//   and unchanged), atomic batch update (nothing applied, every failure reported: locally checked
//   constraints and server-side version conflicts);
// - error handling (wrong type, missing variable), API patterns (variable handle get/set loop,
//   batch builder, dict-like has/get/set).
import { Code, ConnectError, createClient, type Client } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import type { Session } from '@unified-bridge/client';
import {
  Dtype,
  ErrorDetailSchema,
  ErrorType,
  VariableService,
  type ErrorDetail,
  type Value,
} from '@unified-bridge/proto';
import { useBridgeServer, withSession } from '@unified-bridge/testing/jest';
import { bridgeError, PROTOCOLS, type Protocol } from './support/helpers.js';

const bridge = useBridgeServer();

/** A float64 tensor value as it travels on the wire (little-endian bytes). */
function float64Tensor(values: number[]): Value['kind'] {
  const data = new Uint8Array(values.length * 8);
  const view = new DataView(data.buffer);
  values.forEach((v, i) => view.setFloat64(i * 8, v, true));
  return { case: 'tensorValue', value: { dtype: Dtype.FLOAT64, shape: [values.length], data } } as Value['kind'];
}

/**
 * One constraint case: how to register the variable, a value the client rejects locally, the
 * same value as the server sees it on the wire, and the exact message.
 */
interface ConstraintCase {
  title: string;
  type: string;
  initial: unknown;
  constraints: Record<string, unknown>;
  bad: unknown;
  wire: Value['kind'];
  message: string;
  constraint: string;
}

const CONSTRAINT_CASES: ConstraintCase[] = [
  {
    title: 'float above max',
    type: 'float',
    initial: 0.5,
    constraints: { min: 0, max: 1 },
    bad: 1.5,
    wire: { case: 'doubleValue', value: 1.5 },
    message: 'value 1.5 is above maximum 1',
    constraint: 'max',
  },
  {
    title: 'float below min',
    type: 'float',
    initial: 0.5,
    constraints: { min: 0, max: 1 },
    bad: -1,
    wire: { case: 'doubleValue', value: -1 },
    message: 'value -1 is below minimum 0',
    constraint: 'min',
  },
  {
    title: 'string shorter than min_length',
    type: 'string',
    initial: 'test',
    constraints: { min_length: 3, max_length: 10 },
    bad: 'a',
    wire: { case: 'stringValue', value: 'a' },
    message: 'must be at least 3 characters, got 1',
    constraint: 'min_length',
  },
  {
    title: 'string longer than max_length',
    type: 'string',
    initial: 'test',
    constraints: { min_length: 3, max_length: 10 },
    bad: 'a'.repeat(20),
    wire: { case: 'stringValue', value: 'a'.repeat(20) },
    message: 'must be at most 10 characters, got 20',
    constraint: 'max_length',
  },
  {
    title: 'string not matching pattern',
    type: 'string',
    initial: 'ABC123',
    constraints: { pattern: '^[A-Z]+[0-9]+$' },
    bad: 'abc123',
    wire: { case: 'stringValue', value: 'abc123' },
    message: 'must match pattern ^[A-Z]+[0-9]+$',
    constraint: 'pattern',
  },
  {
    title: 'string not in enum',
    type: 'string',
    initial: 'a',
    constraints: { enum: ['a', 'b'] },
    bad: 'c',
    wire: { case: 'stringValue', value: 'c' },
    message: 'must be one of: a, b',
    constraint: 'enum',
  },
  {
    title: 'choice not in choices',
    type: 'choice',
    initial: 'a',
    constraints: { choices: ['a', 'b'] },
    bad: 'c',
    wire: { case: 'stringValue', value: 'c' },
    message: 'must be one of: a, b',
    constraint: 'choices',
  },
  {
    title: 'embedding with the wrong dimensions',
    type: 'embedding',
    initial: [0.1, 0.2, 0.3],
    constraints: { dimensions: 3 },
    bad: [1, 2],
    wire: float64Tensor([1, 2]),
    message: 'must have exactly 3 dimensions',
    constraint: 'dimensions',
  },
  {
    title: 'integer from a non-numeric string',
    type: 'integer',
    initial: 42,
    constraints: {},
    bad: 'abc',
    wire: { case: 'stringValue', value: 'abc' },
    message: "Cannot convert 'abc' to integer",
    constraint: 'type',
  },
];

/** Normalises values for comparison (embeddings come back as typed arrays). */
const plain = (v: unknown): unknown => (ArrayBuffer.isView(v) ? Array.from(v as Float64Array) : v);

const rawClients = new Map<Protocol, Client<typeof VariableService>>();

/** A raw generated VariableService client (one per protocol and file): no local validation, no cache. */
function rawVariables(protocol: Protocol): Client<typeof VariableService> {
  const existing = rawClients.get(protocol);
  if (existing) return existing;
  const transport =
    protocol === 'grpc'
      ? createGrpcTransport({ baseUrl: bridge.url })
      : createConnectTransport({ baseUrl: bridge.url, httpVersion: '1.1' });
  const client = createClient(VariableService, transport);
  rawClients.set(protocol, client);
  return client;
}

/** The ErrorDetail of a failed raw call, checking its status code. */
async function rawFailure(promise: Promise<unknown>, code: Code): Promise<ErrorDetail> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConnectError);
  expect((err as ConnectError).code).toBe(code);
  const [detail] = (err as ConnectError).findDetails(ErrorDetailSchema);
  if (detail === undefined) throw new Error('the error carries no unified_bridge.v1.ErrorDetail');
  return detail;
}

describe.each(PROTOCOLS)('variables over %s', (protocol) => {
  const opts = { client: { protocol } } as const;

  describe('lifecycle', () => {
    it(
      'should register a variable and read it by name, by id and in the listing',
      withSession(opts, async (session) => {
        const rec = await session.register('test_var', 'float', 3.14, {
          constraints: { min: 0, max: 10 },
          metadata: { purpose: 'testing' },
        });
        expect(rec.id).toMatch(/^var_test_var_/);
        expect(rec).toMatchObject({ name: 'test_var', type: 'float', value: 3.14, version: 0 });
        expect(rec.constraints).toEqual({ min: 0, max: 10 });
        expect(rec.metadata).toEqual({ purpose: 'testing' });

        expect(await session.get('test_var', { fresh: true })).toBe(3.14);
        expect(await session.get(rec.id, { fresh: true })).toBe(3.14);
        const names = (await session.list().toArray()).map((v) => v.name);
        expect(names).toContain('test_var');
        expect((await session.info()).variableCount).toBe(1);
      }),
    );

    it(
      'should bump the version to 1 after one update',
      withSession(opts, async (session) => {
        await session.register('counter', 'integer', 0);
        const written = await session.set('counter', 42);
        expect(written.version).toBe(1);
        const read = await session.getVariable('counter', { fresh: true });
        expect(read).toMatchObject({ value: 42, version: 1 });
        const listed = (await session.list('counter').toArray())[0];
        expect(listed).toMatchObject({ name: 'counter', value: 42, version: 1 });
      }),
    );

    it(
      'should delete a variable: get fails with VariableNotFound and has() is false',
      withSession(opts, async (session) => {
        await session.register('temp_var', 'string', 'temporary');
        expect(await session.has('temp_var')).toBe(true);
        await session.delete('temp_var');
        expect(await session.has('temp_var')).toBe(false);
        const err = await bridgeError(session.get('temp_var'), 'VariableNotFound');
        expect(err.message.toLowerCase()).toContain('not found');
        const fresh = await bridgeError(session.get('temp_var', { fresh: true }), 'VariableNotFound');
        expect(fresh.code).toBe(Code.NotFound);
        expect((await session.list().toArray()).map((v) => v.name)).not.toContain('temp_var');
      }),
    );

    it(
      'should merge update metadata, keep history newest first and roll back as a new version',
      withSession(opts, async (session) => {
        await session.register('lr', 'float', 0.1, { metadata: { owner: 'opt' } });
        await session.set('lr', 0.2, { metadata: { source: 'step-1' } });
        await session.set('lr', 0.3);
        const rec = await session.getVariable('lr', { fresh: true });
        expect(rec.metadata).toEqual({ owner: 'opt', source: 'step-1' });
        const history = await session.history('lr');
        expect(history.map((h) => [h.version, h.value])).toEqual([
          [2, 0.3],
          [1, 0.2],
          [0, 0.1],
        ]);
        expect((await session.history('lr', { limit: 1 })).map((h) => h.version)).toEqual([2]);
        const rolled = await session.rollback('lr', 0);
        expect(rolled).toMatchObject({ value: 0.1, version: 3 });
        expect(await session.get('lr', { fresh: true })).toBe(0.1);
        await bridgeError(session.rollback('lr', 99), 'VariableNotFound');
      }),
    );

    it(
      'should list by glob pattern, in name order, page by page',
      withSession(opts, async (session) => {
        for (const name of ['opt.b', 'opt.a', 'opt.c', 'other', 'opt2']) await session.register(name, 'integer', 1);
        const matched = (await session.list('opt.*').toArray()).map((v) => v.name);
        expect(matched).toEqual(['opt.a', 'opt.b', 'opt.c']);
        expect((await session.list('opt?').toArray()).map((v) => v.name)).toEqual(['opt2']);
        const pages: string[][] = [];
        for await (const page of session.list('*', { pageSize: 2 }).pages()) pages.push(page.map((v) => v.name));
        expect(pages).toEqual([['opt.a', 'opt.b'], ['opt.c', 'opt2'], ['other']]);
      }),
    );
  });

  describe('constraints (checked by the client before the round trip)', () => {
    it.each(CONSTRAINT_CASES)('should reject $title with "$message" and keep the value', async (c) => {
      await withSession(opts, async (session) => {
        await session.register('v', c.type, c.initial, { constraints: c.constraints });
        const err = await bridgeError(session.set('v', c.bad), 'ValidationError');
        expect(err.code).toBe(Code.InvalidArgument);
        expect(err.message).toContain(c.message);
        expect(err.fieldViolations[0]).toMatchObject({ field: 'v', constraint: c.constraint, description: c.message });
        const after = await session.getVariable('v', { fresh: true });
        expect(plain(after.value)).toEqual(plain(c.initial));
        expect(after.version).toBe(0);
      })();
    });

    it(
      'should accept valid updates of constrained variables (and lossless conversions)',
      withSession(opts, async (session) => {
        await session.register('percentage', 'float', 0.5, { constraints: { min: 0, max: 1 } });
        await session.set('percentage', 0.8);
        expect(await session.get('percentage', { fresh: true })).toBe(0.8);
        await session.register('pattern_string', 'string', 'ABC123', { constraints: { pattern: '^[A-Z]+[0-9]+$' } });
        await session.set('pattern_string', 'XYZ789');
        expect(await session.get('pattern_string', { fresh: true })).toBe('XYZ789');
        await session.register('n', 'integer', 0);
        await session.set('n', '3'); // "3" converts losslessly to 3
        expect(await session.get('n', { fresh: true })).toBe(3);
      }),
    );

    it(
      'should reject invalid constraint definitions at registration',
      withSession(opts, async (session) => {
        const minMax = await bridgeError(session.register('bad1', 'float', 0.5, { constraints: { min: 2, max: 1 } }));
        expect(minMax.code).toBe(Code.InvalidArgument);
        const unknown = await bridgeError(session.register('bad2', 'float', 0.5, { constraints: { maxx: 1 } }));
        expect(unknown.code).toBe(Code.InvalidArgument);
        expect(await session.has('bad1')).toBe(false);
        expect(await session.has('bad2')).toBe(false);
      }),
    );
  });

  describe('constraints (enforced by the server: raw VariableService client, no local validation)', () => {
    it.each(CONSTRAINT_CASES)(
      'should answer $title with INVALID_ARGUMENT and field violations, value unchanged',
      async (c) => {
        await withSession(opts, async (session) => {
          const registered = await session.register('v', c.type, c.initial, { constraints: c.constraints });
          const raw = rawVariables(protocol);
          const detail = await rawFailure(
            raw.updateVariable({ sessionId: session.id, identifier: 'v', value: { kind: c.wire } }),
            Code.InvalidArgument,
          );
          expect(detail.type).toBe(ErrorType.VALIDATION_ERROR);
          expect(detail.message).toContain(c.message);
          expect(detail.fieldViolations.length).toBeGreaterThan(0);
          expect(detail.fieldViolations[0]).toMatchObject({ constraint: c.constraint, description: c.message });
          const after = await raw.getVariable({ sessionId: session.id, identifier: registered.id });
          expect(after.variable?.version).toBe(0n);
          expect(plain((await session.getVariable('v', { fresh: true })).value)).toEqual(plain(c.initial));
        })();
      },
    );

    it(
      'should reject an atomic raw batch as a whole, reporting every failure',
      withSession(opts, async (session) => {
        await session.register('x', 'integer', 1);
        await session.register('y', 'integer', 2, { constraints: { max: 10 } });
        await session.register('z', 'integer', 3, { constraints: { max: 10 } });
        const raw = rawVariables(protocol);
        const detail = await rawFailure(
          raw.updateVariables({
            sessionId: session.id,
            atomic: true,
            updates: [
              { identifier: 'x', value: { kind: { case: 'intValue', value: 100n } } },
              { identifier: 'y', value: { kind: { case: 'intValue', value: 200n } } },
              { identifier: 'z', value: { kind: { case: 'stringValue', value: 'abc' } } },
            ],
          }),
          Code.InvalidArgument,
        );
        const fields = detail.fieldViolations.map((v) => v.field);
        expect(fields).toEqual(expect.arrayContaining(['y', 'z']));
        expect(fields).not.toContain('x');
        const descriptions = detail.fieldViolations.map((v) => v.description);
        expect(descriptions).toEqual(
          expect.arrayContaining(['value 200 is above maximum 10', "Cannot convert 'abc' to integer"]),
        );
        const got = await session.getMany(['x', 'y', 'z']);
        expect(Object.fromEntries(got)).toEqual({ x: 1, y: 2, z: 3 });
        const fresh = await raw.getVariables({ sessionId: session.id, identifiers: ['x', 'y', 'z'] });
        expect(Object.values(fresh.variables).map((v) => v.version)).toEqual([0n, 0n, 0n]);
      }),
    );

    it(
      'should apply a non-atomic raw batch per update, with an error result for the rejected one',
      withSession(opts, async (session) => {
        await session.register('a', 'integer', 1);
        await session.register('b', 'integer', 2);
        await session.register('c', 'integer', 3, { constraints: { max: 10 } });
        const raw = rawVariables(protocol);
        const res = await raw.updateVariables({
          sessionId: session.id,
          atomic: false,
          updates: [
            { identifier: 'a', value: { kind: { case: 'intValue', value: 10n } } },
            { identifier: 'b', value: { kind: { case: 'intValue', value: 20n } } },
            { identifier: 'c', value: { kind: { case: 'intValue', value: 30n } } },
          ],
        });
        expect(res.results.map((r) => [r.identifier, r.outcome.case])).toEqual([
          ['a', 'variable'],
          ['b', 'variable'],
          ['c', 'error'],
        ]);
        const cError = res.results[2]?.outcome.value as ErrorDetail;
        expect(cError.type).toBe(ErrorType.VALIDATION_ERROR);
        expect(cError.fieldViolations[0]?.description).toBe('value 30 is above maximum 10');
        const fresh = await raw.getVariables({ sessionId: session.id, identifiers: ['a', 'b', 'c'] });
        const values = Object.fromEntries(Object.entries(fresh.variables).map(([k, v]) => [k, v.value?.kind.value]));
        expect(values).toEqual({ a: 10n, b: 20n, c: 3n });
      }),
    );
  });

  describe('batch operations', () => {
    it(
      'should batch-get 5 variables, reporting missing ones by absence',
      withSession(opts, async (session) => {
        for (let i = 0; i < 5; i++) await session.register(`var_${i}`, 'integer', i * 10);
        const names = [...Array.from({ length: 5 }, (_, i) => `var_${i}`), 'missing_var'];
        const values = await session.getMany(names);
        expect(values.size).toBe(5);
        for (let i = 0; i < 5; i++) expect(values.get(`var_${i}`)).toBe(i * 10);
        expect(values.has('missing_var')).toBe(false);
        const records = await session.getVariables(names);
        expect([...records.keys()]).toEqual(names.slice(0, 5));
        expect(records.get('var_3')).toMatchObject({ name: 'var_3', value: 30, version: 0 });
      }),
    );

    it(
      'should batch-get from the server (cold cache): found and missing',
      withSession({ client: { protocol, cache: false } }, async (session, { client }) => {
        expect(client.cache.mode).toBe('off');
        for (let i = 0; i < 5; i++) await session.register(`var_${i}`, 'integer', i * 10);
        const values = await session.getMany(['var_0', 'nope_1', 'var_4', 'nope_2']);
        expect([...values.entries()]).toEqual([
          ['var_0', 0],
          ['var_4', 40],
        ]);
      }),
    );

    it(
      'should apply a non-atomic batch update partially: a, b applied, c rejected and unchanged',
      withSession(opts, async (session) => {
        await session.register('a', 'integer', 1);
        await session.register('b', 'integer', 2);
        await session.register('c', 'integer', 3, { constraints: { max: 10 } });
        const results = await session.setMany({ a: 10, b: 20, c: 30 }, { atomic: false });
        expect(results.map((r) => [r.name, r.ok])).toEqual([
          ['a', true],
          ['b', true],
          ['c', false],
        ]);
        const c = results[2];
        if (c === undefined || c.ok) throw new Error('c should have failed');
        expect(c.error.type).toBe('ValidationError');
        expect(c.error.message).toContain('value 30 is above maximum 10');
        const fresh = await session.getMany(['a', 'b', 'c']);
        expect(Object.fromEntries(fresh)).toEqual({ a: 10, b: 20, c: 3 });
        expect((await session.getVariable('c', { fresh: true })).version).toBe(0);
        expect((await session.getVariable('a', { fresh: true })).value).toBe(10);
      }),
    );

    it(
      'should apply nothing from a failing atomic batch and report every failure',
      withSession(opts, async (session) => {
        await session.register('x', 'integer', 1);
        await session.register('y', 'integer', 2, { constraints: { max: 100 } });
        await session.register('z', 'integer', 3, { constraints: { max: 10 } });
        const err = await bridgeError(session.setMany({ x: 100, y: 200, z: 300 }), 'ValidationError');
        expect(err.fieldViolations.map((v) => [v.field, v.description])).toEqual([
          ['y', 'value 200 is above maximum 100'],
          ['z', 'value 300 is above maximum 10'],
        ]);
        for (const [name, value] of [
          ['x', 1],
          ['y', 2],
          ['z', 3],
        ] as const) {
          expect(await session.getVariable(name, { fresh: true })).toMatchObject({ value, version: 0 });
        }
      }),
    );

    it(
      'should apply nothing from an atomic batch the server rejects (version conflicts), reporting each',
      withSession(opts, async (session) => {
        await session.register('x', 'integer', 1);
        await session.register('y', 'integer', 2);
        await session.register('z', 'integer', 3);
        const err = await bridgeError(
          session.batch((b) =>
            b.set('x', 10).set('y', 20, { expectedVersion: 7 }).set('z', 30, { expectedVersion: 9 }),
          ),
        );
        expect(err.code).toBe(Code.Aborted);
        expect(err.fieldViolations.map((v) => v.field).sort()).toEqual(['y', 'z']);
        const fresh = await session.getMany(['x', 'y', 'z']);
        expect(Object.fromEntries(fresh)).toEqual({ x: 1, y: 2, z: 3 });
        expect((await session.getVariable('x', { fresh: true })).version).toBe(0);
      }),
    );
  });

  describe('error handling', () => {
    it(
      'should reject a value of the wrong type with "Cannot convert"',
      withSession(opts, async (session) => {
        await session.register('typed', 'integer', 42);
        const err = await bridgeError(session.set('typed', 'not a number'), 'ValidationError');
        expect(err.message).toContain('Cannot convert');
        const fractional = await bridgeError(session.set('typed', 3.5), 'ValidationError');
        expect(fractional.code).toBe(Code.InvalidArgument);
        expect(await session.get('typed', { fresh: true })).toBe(42);
      }),
    );

    it(
      'should report a missing variable as VariableNotFound ("not found") for reads, writes and deletes',
      withSession(opts, async (session) => {
        for (const call of [
          () => session.get('does_not_exist'),
          () => session.getVariable('does_not_exist', { fresh: true }),
          () => session.set('does_not_exist', 1),
          () => session.delete('does_not_exist'),
        ]) {
          const err = await bridgeError(call(), 'VariableNotFound');
          expect(err.message.toLowerCase()).toContain('not found');
          expect(err.code).toBe(Code.NotFound);
        }
      }),
    );

    it(
      'should refuse a second variable of the same name with AlreadyExists',
      withSession(opts, async (session) => {
        await session.register('dup', 'integer', 1);
        await bridgeError(session.register('dup', 'integer', 2), 'AlreadyExists');
        expect(await session.get('dup', { fresh: true })).toBe(1);
      }),
    );
  });

  describe('API patterns', () => {
    it(
      'should read and write through a variable handle in a loop',
      withSession(opts, async (session) => {
        await session.register('proxy_var', 'integer', 0);
        const v = session.variable<number>('proxy_var');
        for (let i = 1; i <= 5; i++) {
          await v.set(i);
          expect(await v.get()).toBe(i);
          expect(v.peek()).toBe(i);
        }
        expect((await v.getVariable({ fresh: true })).version).toBe(5);
        await v.update((n) => n * 10);
        expect(await v.get({ fresh: true })).toBe(50);
      }),
    );

    it(
      'should apply a batch built with the builder atomically',
      withSession(opts, async (session) => {
        for (let i = 0; i < 5; i++) await session.register(`batch_${i}`, 'integer', i);
        const results = await session.batch((b) => {
          for (let i = 0; i < 5; i++) b.set(`batch_${i}`, i * 10);
        });
        expect(results.every((r) => r.ok)).toBe(true);
        for (let i = 0; i < 5; i++) {
          expect(await session.getVariable(`batch_${i}`, { fresh: true })).toMatchObject({ value: i * 10, version: 1 });
        }
      }),
    );

    it(
      'should support dict-like use: has / get / set',
      withSession(opts, async (session: Session) => {
        expect(await session.has('new_var')).toBe(false);
        await session.register('new_var', 'integer', 42);
        expect(await session.has('new_var')).toBe(true);
        expect(await session.get('new_var')).toBe(42);
        await session.set('new_var', 100);
        expect(await session.get('new_var')).toBe(100);
        expect(await session.has('not_exist')).toBe(false);
      }),
    );
  });
});
