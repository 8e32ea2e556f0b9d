import { storeErrorOf, num, type Suite } from './harness.js';

/** Variables: registration and name rules, reads by name or id, updates with CAS, immutable snapshots, delete, listing, read-modify-write, limits. */
export function describeVariables(suite: Suite): void {
  const { describe, it, expect, withSession, floatVar } = suite;
  describe('variables', () => {
    it('should register a variable with an id, version 0 and timestamps', async () => {
      const { store, clock, sid } = await withSession();
      const v = await store.registerVariable(sid, {
        name: 'temperature',
        type: 'float',
        value: 0.7,
        constraints: { min: 0, max: 1 },
        metadata: { unit: 'none' },
      });
      expect(v.id).toMatch(/^var_temperature_[A-Za-z0-9]+$/);
      expect(v.name).toBe('temperature');
      expect(v.type).toBe('float');
      expect(v.value).toBe(0.7);
      expect(v.constraints).toEqual({ min: 0, max: 1 });
      expect(v.metadata).toEqual({ unit: 'none' });
      expect(v.version).toBe(0);
      expect(v.revision).toBe(1);
      expect(v.createdAt).toBe(clock.now());
      expect(v.updatedAt).toBe(clock.now());
    });

    it('should enforce the name rules', async () => {
      const { store, sid } = await withSession();
      for (const good of ['a', '_x', 'a.b-c_d9', 'A'.repeat(128)]) {
        expect((await store.registerVariable(sid, { name: good, type: 'float', value: 1 })).name).toBe(good);
      }
      for (const bad of ['', '1a', '-a', '.a', 'a b', 'a*', 'a/b', 'é', 'A'.repeat(129)]) {
        await storeErrorOf(
          () => store.registerVariable(sid, { name: bad, type: 'float', value: 1 }),
          'InvalidArgument',
        );
      }
    });

    it('should refuse a duplicate name, a bad value and bad constraints, changing nothing', async () => {
      const { store, sid } = await withSession();
      await floatVar(store, sid, 'x');
      await storeErrorOf(() => floatVar(store, sid, 'x'), 'AlreadyExists');
      const bad = await storeErrorOf(() => floatVar(store, sid, 'y', 1.5), 'ValidationError');
      expect(bad.violations.length).toBeGreaterThan(0);
      expect(bad.violations[0]?.constraint).toBe('max');
      await storeErrorOf(
        () => store.registerVariable(sid, { name: 'z', type: 'float', value: 1, constraints: { min: 2, max: 1 } }),
        'InvalidArgument',
      );
      await storeErrorOf(
        () => store.registerVariable(sid, { name: 'z', type: 'float', value: 1, constraints: { nope: 1 } }),
        'InvalidArgument',
      );
      await storeErrorOf(
        () => store.registerVariable(sid, { name: 'z', type: 'no-such-type', value: 1 }),
        'InvalidArgument',
      );
      expect((await store.getSession(sid)).variableCount).toBe(1);
      expect((await store.getSession(sid)).revision).toBe(1);
    });

    it('should get by name or id, and batch get found and missing', async () => {
      const { store, sid } = await withSession();
      const x = await floatVar(store, sid, 'x');
      const y = await floatVar(store, sid, 'y');
      expect((await store.getVariable(sid, 'x')).id).toBe(x.id);
      expect((await store.getVariable(sid, x.id)).name).toBe('x');
      await storeErrorOf(() => store.getVariable(sid, 'nope'), 'VariableNotFound');
      await storeErrorOf(() => store.getVariable(sid, `${x.id}0`), 'VariableNotFound');
      const { found, missing } = await store.getVariables(sid, ['x', y.id, 'nope', 'gone']);
      expect([...found.keys()]).toEqual(['x', y.id]);
      expect(found.get(y.id)?.name).toBe('y');
      expect(missing).toEqual(['nope', 'gone']);
    });

    it('should update with validation, versions, metadata and expectedVersion CAS', async () => {
      const { store, clock, sid } = await withSession();
      await floatVar(store, sid, 'x');
      clock.advance(10);
      const v1 = await store.updateVariable(sid, 'x', 0.75, { metadata: { by: 'me' } });
      expect(v1.version).toBe(1);
      expect(v1.value).toBe(0.75);
      expect(v1.metadata).toEqual({ by: 'me' });
      expect(v1.updatedAt).toBe(clock.now());
      expect(v1.createdAt).toBe(clock.now() - 10);
      const bad = await storeErrorOf(() => store.updateVariable(sid, 'x', 2), 'ValidationError');
      expect(bad.violations[0]?.constraint).toBe('max');
      const conflict = await storeErrorOf(
        () => store.updateVariable(sid, 'x', 0.1, { expectedVersion: 0 }),
        'VersionConflict',
      );
      expect(conflict.currentVersion).toBe(1);
      expect((await store.getVariable(sid, 'x')).value).toBe(0.75);
      const v2 = await store.updateVariable(sid, v1.id, 0.2, { expectedVersion: 1 });
      expect(v2.version).toBe(2);
      expect(v2.revision).toBe(v1.revision + 1);
      await storeErrorOf(() => store.updateVariable(sid, 'nope', 0.2), 'VariableNotFound');
    });

    it('should return immutable snapshots', async () => {
      const { store, sid } = await withSession();
      await store.registerVariable(sid, { name: 'j', type: 'json', value: { a: [1, 2] } });
      const got = await store.getVariable(sid, 'j');
      try {
        ((got.value as { a: number[] }).a as number[]).push(3);
        (got as { version: number }).version = 99;
      } catch {
        // frozen snapshots throw in strict mode; copies do not: both are fine
      }
      const again = await store.getVariable(sid, 'j');
      expect(again.value).toEqual({ a: [1, 2] });
      expect(again.version).toBe(0);
    });

    it('should delete a variable and its history, freeing the name', async () => {
      const { store, sid } = await withSession();
      await floatVar(store, sid, 'x');
      await store.updateVariable(sid, 'x', 0.9);
      const last = await store.deleteVariable(sid, 'x');
      expect(last.value).toBe(0.9);
      await storeErrorOf(() => store.getVariable(sid, 'x'), 'VariableNotFound');
      await storeErrorOf(() => store.deleteVariable(sid, 'x'), 'VariableNotFound');
      const again = await floatVar(store, sid, 'x', 0.1);
      expect(again.version).toBe(0);
      expect((await store.getHistory(sid, 'x')).map((h) => h.version)).toEqual([0]);
    });

    it('should list by anchored glob with stable paging by name', async () => {
      const { store, sid } = await withSession();
      for (const n of ['temp_b', 'temp_a', 'xtemp_c', 'ab', 'bb', 'abc', 'temp_d']) await floatVar(store, sid, n);
      const list = async (pattern: string) =>
        (await store.listVariables(sid, { pattern })).variables.map((v) => v.name);
      expect(await list('temp_*')).toEqual(['temp_a', 'temp_b', 'temp_d']);
      expect(await list('?b')).toEqual(['ab', 'bb']);
      expect(await list('ab')).toEqual(['ab']);
      expect(await list('*c')).toEqual(['abc', 'xtemp_c']);
      expect(await list('')).toHaveLength(7);
      expect(await list('*')).toHaveLength(7);
      const p1 = await store.listVariables(sid, { pageSize: 3 });
      expect(p1.variables.map((v) => v.name)).toEqual(['ab', 'abc', 'bb']);
      await floatVar(store, sid, 'aa');
      await floatVar(store, sid, 'temp_c');
      await store.deleteVariable(sid, 'temp_d');
      const p2 = await store.listVariables(sid, { pageSize: 3, pageToken: p1.nextPageToken });
      expect(p2.variables.map((v) => v.name)).toEqual(['temp_a', 'temp_b', 'temp_c']);
      const p3 = await store.listVariables(sid, { pageSize: 3, pageToken: p2.nextPageToken });
      expect(p3.variables.map((v) => v.name)).toEqual(['xtemp_c']);
      expect(p3.nextPageToken).toBe('');
      const filtered = await store.listVariables(sid, { pattern: 'temp_?', pageSize: 2 });
      expect(filtered.variables.map((v) => v.name)).toEqual(['temp_a', 'temp_b']);
      const filtered2 = await store.listVariables(sid, {
        pattern: 'temp_?',
        pageSize: 2,
        pageToken: filtered.nextPageToken,
      });
      expect(filtered2.variables.map((v) => v.name)).toEqual(['temp_c']);
      expect(filtered2.nextPageToken).toBe('');
    });

    it('should end 50 concurrent read-modify-write increments at exactly 50', async () => {
      const { store, sid } = await withSession();
      await store.registerVariable(sid, { name: 'counter', type: 'integer', value: 0 });
      await Promise.all(
        Array.from({ length: 50 }, () =>
          store.modifyVariable(sid, 'counter', async (cur) => {
            await Promise.resolve();
            return num(cur.value) + 1;
          }),
        ),
      );
      const v = await store.getVariable(sid, 'counter');
      expect(num(v.value)).toBe(50);
      expect(v.version).toBe(50);
    });

    it('should give up modifyVariable after maxRetries conflicts', async () => {
      const { store, sid } = await withSession();
      await store.registerVariable(sid, { name: 'counter', type: 'integer', value: 0 });
      const err = await storeErrorOf(
        () =>
          store.modifyVariable(
            sid,
            'counter',
            async (cur) => {
              await store.updateVariable(sid, 'counter', num(cur.value) + 100);
              return num(cur.value) + 1;
            },
            { maxRetries: 2 },
          ),
        'VersionConflict',
      );
      expect(err.currentVersion).toBe(3);
    });

    it('should enforce variable, value size and metadata limits', async () => {
      const { store, sid } = await withSession({ maxVariablesPerSession: 2, maxValueBytes: 64 });
      await store.registerVariable(sid, { name: 's', type: 'string', value: 'short' });
      const big = await storeErrorOf(() => store.updateVariable(sid, 's', 'x'.repeat(100)), 'ResourceExhausted');
      expect(big.limit).toBe('maxValueBytes');
      await floatVar(store, sid, 'b');
      const full = await storeErrorOf(() => floatVar(store, sid, 'c'), 'ResourceExhausted');
      expect(full.limit).toBe('maxVariablesPerSession');
      const meta = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v']));
      await storeErrorOf(() => store.updateVariable(sid, 'b', 0.1, { metadata: meta }), 'InvalidArgument');
      expect((await store.getVariable(sid, 's')).value).toBe('short');
    });
  });
}
