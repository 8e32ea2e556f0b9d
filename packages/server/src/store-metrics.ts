// Store operation latency for any SessionStore (the in-memory one, Redis
// later): a Proxy that times every method returning a promise, labelled by
// the method's name and whether it failed. The store is called with itself
// as `this`, so class stores with private fields work unchanged.
import type { SessionStore } from '@unified-bridge/store';
import type { BridgeMetricSet } from './metrics.js';

/** Methods that are not operations to time: streams, lifecycle, the metrics' own reads. */
const UNTIMED: ReadonlySet<string> = new Set(['watch', 'close', 'stats']);

type AnyFunction = (...args: unknown[]) => unknown;

/** `store`, with each operation's latency observed in `unified_bridge_store_operation_duration_seconds`. */
export function measureStore(store: SessionStore, metrics: BridgeMetricSet): SessionStore {
  // Per function (not per name): a method replaced later (a test spy) is wrapped anew.
  const wrappers = new WeakMap<AnyFunction, AnyFunction>();
  const wrap = (name: string | symbol, fn: AnyFunction): AnyFunction => {
    if (typeof name !== 'string' || UNTIMED.has(name)) return fn.bind(store);
    return (...args: unknown[]): unknown => {
      const startedAt = performance.now();
      const result = fn.apply(store, args);
      if (result instanceof Promise) {
        result.then(
          () => metrics.storeOperation(name, true, (performance.now() - startedAt) / 1000),
          () => metrics.storeOperation(name, false, (performance.now() - startedAt) / 1000),
        );
      }
      return result;
    };
  };
  return new Proxy(store, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop);
      if (typeof value !== 'function') return value;
      const fn = value as AnyFunction;
      let w = wrappers.get(fn);
      if (w === undefined) {
        w = wrap(prop, fn);
        wrappers.set(fn, w);
      }
      return w;
    },
  });
}
