import fc from 'fast-check';
import type { SessionStore, StoredVariable } from '../session-store.js';
import { isStoreError, type StoreError } from '../store-error.js';
import { num, storeErrorOf, type Suite } from './harness.js';

/** One variable of the reference model. */
interface ModelVar {
  value: number;
  version: number;
  /** Retained versions (depth 3: current plus two past), newest first. */
  history: { version: number; value: number }[];
}

/** The reference model: what the session should hold. */
interface Model {
  vars: Map<string, ModelVar>;
  revision: number;
}

/** The backend under test. */
interface Real {
  store: SessionStore;
  sid: string;
}

/** A model test command: `run` checks the store against the model, then updates the model. */
function command(label: string, run: (m: Model, r: Real) => Promise<void>): fc.AsyncCommand<Model, Real> {
  return { check: () => true, run, toString: () => label };
}

const inRange = (v: number) => v >= 0 && v <= 100;

const write = (m: Model, mv: ModelVar, value: number) => {
  mv.version++;
  mv.value = value;
  mv.history.unshift({ version: mv.version, value });
  mv.history.length = Math.min(mv.history.length, 3);
  m.revision++;
};

/** Model: random sequences of variable calls behave like a simple reference model (fast-check commands). */
export function describeModel(suite: Suite): void {
  const { describe, it, expect, make, options } = suite;

  const expectVar = (rec: StoredVariable, name: string, mv: ModelVar, m: Model) => {
    expect([rec.name, num(rec.value), rec.version]).toEqual([name, mv.value, mv.version]);
    expect(rec.revision).toBeLessThanOrEqual(m.revision);
  };

  async function register(m: Model, r: Real, name: string, value: number): Promise<void> {
    const call = () =>
      r.store.registerVariable(r.sid, { name, type: 'integer', value, constraints: { min: 0, max: 100 } });
    if (m.vars.has(name)) {
      await storeErrorOf(call, 'AlreadyExists');
    } else if (!inRange(value)) {
      await storeErrorOf(call, 'ValidationError');
    } else {
      const rec = await call();
      m.revision++;
      const mv = { value, version: 0, history: [{ version: 0, value }] };
      m.vars.set(name, mv);
      expectVar(rec, name, mv, m);
      expect(rec.revision).toBe(m.revision);
    }
  }

  async function update(
    m: Model,
    r: Real,
    name: string,
    value: number,
    expectedVersion: number | undefined,
  ): Promise<void> {
    const call = () => r.store.updateVariable(r.sid, name, value, { expectedVersion });
    const mv = m.vars.get(name);
    if (mv === undefined) return void (await storeErrorOf(call, 'VariableNotFound'));
    if (expectedVersion !== undefined && expectedVersion !== mv.version) {
      const err = await storeErrorOf(call, 'VersionConflict');
      expect(err.currentVersion).toBe(mv.version);
      return;
    }
    if (!inRange(value)) return void (await storeErrorOf(call, 'ValidationError'));
    const rec = await call();
    write(m, mv, value);
    expectVar(rec, name, mv, m);
    expect(rec.revision).toBe(m.revision);
  }

  async function remove(m: Model, r: Real, name: string): Promise<void> {
    const call = () => r.store.deleteVariable(r.sid, name);
    if (!m.vars.has(name)) return void (await storeErrorOf(call, 'VariableNotFound'));
    await call();
    m.vars.delete(name);
    m.revision++;
  }

  async function get(m: Model, r: Real, name: string): Promise<void> {
    const call = () => r.store.getVariable(r.sid, name);
    const mv = m.vars.get(name);
    if (mv === undefined) return void (await storeErrorOf(call, 'VariableNotFound'));
    const rec = await call();
    expectVar(rec, name, mv, m);
    expect((await r.store.getVariable(r.sid, rec.id)).name).toBe(name);
    const h = await r.store.getHistory(r.sid, name);
    expect(h.map((e) => [e.version, num(e.value)])).toEqual(mv.history.map((e) => [e.version, e.value]));
    expect((await r.store.getSession(r.sid)).revision).toBe(m.revision);
  }

  async function list(m: Model, r: Real, pattern: string): Promise<void> {
    const re = new RegExp(`^${pattern.replaceAll('*', '.*').replaceAll('?', '.')}$`);
    const expected = [...m.vars.keys()].filter((n) => re.test(n)).sort();
    const got: string[] = [];
    let pageToken = '';
    do {
      const page = await r.store.listVariables(r.sid, { pattern, pageSize: 1, pageToken });
      got.push(...page.variables.map((v) => v.name));
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
    expect(got).toEqual(expected);
  }

  async function batch(m: Model, r: Real, names: string[], value: number, atomic: boolean): Promise<void> {
    // Values differ per entry so a half-applied batch would show.
    const updates = names.map((n, i) => ({ identifier: n, value: value + i }));
    const call = () => r.store.updateVariables(r.sid, updates, { atomic });
    const fails = updates.filter((u) => !m.vars.has(u.identifier) || !inRange(u.value));
    if (atomic) {
      if (fails.length > 0) {
        let err: unknown;
        try {
          await call();
        } catch (e) {
          err = e;
        }
        expect(isStoreError(err)).toBe(true);
        expect((err as StoreError).violations.map((v) => v.field)).toEqual(fails.map((f) => f.identifier));
        return;
      }
      const res = await call();
      for (const u of updates) write(m, m.vars.get(u.identifier) as ModelVar, u.value);
      expect(res.every((x) => x.ok)).toBe(true);
      return;
    }
    const res = await call();
    res.forEach((x, i) => {
      const u = updates[i] as { identifier: string; value: number };
      const mv = m.vars.get(u.identifier);
      const shouldFail = mv === undefined || !inRange(u.value);
      expect(x.ok).toBe(!shouldFail);
      if (!shouldFail && mv !== undefined) write(m, mv, u.value);
    });
  }

  async function rollback(m: Model, r: Real, name: string, version: number): Promise<void> {
    const call = () => r.store.rollbackVariable(r.sid, name, version);
    const mv = m.vars.get(name);
    const old = mv?.history.find((h) => h.version === version);
    if (mv === undefined || old === undefined) return void (await storeErrorOf(call, 'VariableNotFound'));
    const rec = await call();
    write(m, mv, old.value);
    expectVar(rec, name, mv, m);
  }

  describe('model', () => {
    it('should behave like a simple reference model (fast-check commands)', async () => {
      const names = ['a', 'b', 'ab'];
      const nameArb = fc.constantFrom(...names);
      const valueArb = fc.integer({ min: -5, max: 105 });
      await fc.assert(
        fc.asyncProperty(
          fc.commands(
            [
              fc
                .tuple(nameArb, valueArb)
                .map(([n, v]) => command(`register(${n}, ${v})`, (m, r) => register(m, r, n, v))),
              fc
                .tuple(nameArb, valueArb, fc.option(fc.nat(4), { nil: undefined }))
                .map(([n, v, e]) =>
                  command(`update(${n}, ${v}, expected ${String(e)})`, (m, r) => update(m, r, n, v, e)),
                ),
              nameArb.map((n) => command(`delete(${n})`, (m, r) => remove(m, r, n))),
              nameArb.map((n) => command(`get(${n})`, (m, r) => get(m, r, n))),
              fc.constantFrom('*', 'a*', '?', '*b', 'a?').map((p) => command(`list(${p})`, (m, r) => list(m, r, p))),
              fc
                .tuple(fc.subarray(names, { minLength: 1 }), valueArb, fc.boolean())
                .map(([ns, v, atomic]) =>
                  command(`batch(${ns.join(',')}, ${v}, atomic=${atomic})`, (m, r) => batch(m, r, ns, v, atomic)),
                ),
              fc
                .tuple(nameArb, fc.nat(4))
                .map(([n, version]) => command(`rollback(${n}, ${version})`, (m, r) => rollback(m, r, n, version))),
            ],
            { maxCommands: 60, size: 'max' },
          ),
          async (cmds) => {
            const { store } = await make({ historyDepth: 3 });
            const session = await store.createSession();
            const real: Real = { store, sid: session.id };
            const model: Model = { vars: new Map(), revision: 0 };
            await fc.asyncModelRun(() => ({ model, real }), cmds);
            await store.close();
          },
        ),
        { numRuns: options.modelRuns ?? 100 },
      );
    }, 60_000);
  });
}
