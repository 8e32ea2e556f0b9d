/**
 * The conformance suite every {@link SessionStore} backend must pass.
 *
 * Needs Jest (it calls the global `describe`, `it`, `expect`, `afterEach`)
 * and fast-check (a peer dependency). Stability: experimental; new cases may
 * be added in minor releases, since every backend must honour the interface
 * as documented.
 *
 * @example
 * // my-store.spec.ts
 * import { describeSessionStore } from '@unified-bridge/store/conformance';
 * describeSessionStore('MyStore', ({ clock, limits }) => new MyStore({ clock, limits }));
 *
 * @packageDocumentation
 */
import type { SessionStore } from './session-store.js';
import { describeBatches } from './conformance/batches.js';
import { createSuite, type ConformanceContext, type ConformanceOptions } from './conformance/harness.js';
import { describeHistory } from './conformance/history.js';
import { describeModel } from './conformance/model.js';
import { describeSessions } from './conformance/sessions.js';
import { describeTools } from './conformance/tools.js';
import { describeVariables } from './conformance/variables.js';
import { describeWatch } from './conformance/watch.js';

export { ManualClock } from './conformance/harness.js';
export type { ConformanceContext, ConformanceOptions } from './conformance/harness.js';

/**
 * Declares the conformance suite for one backend as a Jest `describe` block.
 * `createStore` is called once per test with a fresh {@link ConformanceContext};
 * the suite closes each store after its test. Each aspect (sessions,
 * variables, batches, history, watch, tools, the model test) is a nested
 * `describe` of its own file under `src/conformance/`.
 *
 * @example
 * describeSessionStore('MemoryStore', ({ clock, limits }) => new MemoryStore({ clock, limits, sweepIntervalMs: 0 }),
 *   { sweepExpired: (s) => (s as MemoryStore).sweepExpired() });
 */
export function describeSessionStore(
  name: string,
  createStore: (context: ConformanceContext) => SessionStore | Promise<SessionStore>,
  options: ConformanceOptions = {},
): void {
  const suite = createSuite(createStore, options);
  suite.describe(`SessionStore conformance: ${name}`, () => {
    describeSessions(suite);
    describeVariables(suite);
    describeBatches(suite);
    describeHistory(suite);
    describeWatch(suite);
    describeTools(suite);
    describeModel(suite);
  });
}
