// Prometheus metrics of the bridge (prom-client): RPCs, tool calls, store
// operations and rejected requests as counters and histograms recorded on the
// hot path through pre-bound children, and the sizes of things (sessions,
// variables, watchers, workers, calls in flight) as gauges read at scrape time.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SessionStore, StoreStats } from '@unified-bridge/store';
import { REJECT_REASONS } from './observed-call.js';
import type { RejectReason } from './observed-call.js';
import { RPC_PROTOCOLS, STATUS_CODE_NAMES } from './rpc-status.js';
import type { RpcProtocol, StatusCode } from './rpc-status.js';

/**
 * Options of the bridge's metrics (`metrics` of `createBridgeRoutes` and
 * `startBridgeServer`; `false` turns them off).
 *
 * @example
 * import { Registry } from 'prom-client';
 * const registry = new Registry();
 * const routes = createBridgeRoutes({ metrics: { registry } });
 * // later: res.end(await registry.metrics()) with content type registry.contentType
 */
export interface MetricsOptions {
  /**
   * The prom-client `Registry` the metrics are registered in. Default: a new
   * one of these routes' own (read it back from `routes.metrics.registry`), so
   * two routes objects in one process never collide. Pass prom-client's
   * global `register` to expose them beside your own metrics; one registry
   * holds the metrics of one routes object only.
   */
  readonly registry?: Registry;
}

/** The metrics of a routes object (`routes.metrics`). */
export interface BridgeMetrics {
  /** The prom-client registry holding them: `await registry.metrics()` is the text exposition. */
  readonly registry: Registry;
}

/** Latency buckets of RPCs and tool calls, in seconds (100 µs to 10 s). */
const CALL_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Latency buckets of store operations, in seconds (10 µs to 1 s). */
const STORE_BUCKETS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1];

/** Distinct tool names labelled before the rest are counted as `tool="other"` (bounded series). */
export const MAX_TOOL_LABELS = 1000;

/** Where the gauges read their values at scrape time. */
export interface GaugeSources {
  /** Calls in flight per procedure (`service/method`). */
  readonly rpcsInFlight: () => Iterable<readonly [service: string, method: string, count: number]>;
  /** Open WatchVariables streams of this server. */
  readonly watchers: () => number;
  /** Connected tool workers. */
  readonly workers: () => number;
  /** Tool calls running (host and worker tools). */
  readonly toolCallsInFlight: () => number;
  /** The store whose `stats()` (when it has one) gives the session and variable counts. */
  readonly store: SessionStore;
}

type Child = { inc(): void };
type Observer = { observe(value: number): void };

/** The recording side of one procedure's RPC metrics, bound once per handler. */
export interface ProcedureMetrics {
  /** Counts one finished call and observes its duration. */
  record(protocol: RpcProtocol, code: StatusCode, seconds: number): void;
}

/** The bridge's metric set (internal: embedders see {@link BridgeMetrics}). */
export class BridgeMetricSet implements BridgeMetrics {
  readonly registry: Registry;
  readonly #handled: Counter<'service' | 'method' | 'protocol' | 'code'>;
  readonly #handling: Histogram<'service' | 'method' | 'protocol'>;
  readonly #toolCalls: Counter<'tool' | 'code'>;
  readonly #toolDuration: Histogram<'tool'>;
  readonly #storeDuration: Histogram<'operation' | 'outcome'>;
  readonly #rejected: Map<RejectReason, Child>;
  readonly #toolLabels = new Set<string>();
  readonly #toolChildren = new Map<string, { calls: (Child | undefined)[]; duration: Observer }>();
  readonly #storeChildren = new Map<string, readonly [ok: Observer, error: Observer]>();

  constructor(options: MetricsOptions, sources: GaugeSources) {
    if (options.registry !== undefined && !(options.registry instanceof Registry)) {
      throw new TypeError('metrics.registry must be a prom-client Registry (new Registry() from prom-client)');
    }
    const registry = options.registry ?? new Registry();
    this.registry = registry;
    const registers = [registry];
    this.#handled = new Counter({
      name: 'unified_bridge_rpc_server_handled_total',
      help: 'RPCs finished, by service, method, protocol (grpc, grpc-web, connect) and status code',
      labelNames: ['service', 'method', 'protocol', 'code'],
      registers,
    });
    this.#handling = new Histogram({
      name: 'unified_bridge_rpc_server_handling_seconds',
      help: 'Time from request to the end of the response (the end of the stream for streams), by service, method and protocol',
      labelNames: ['service', 'method', 'protocol'],
      buckets: CALL_BUCKETS,
      registers,
    });
    new Gauge({
      name: 'unified_bridge_rpc_server_in_flight',
      help: 'RPCs running now (streams count while open), by service and method',
      labelNames: ['service', 'method'],
      registers,
      collect() {
        this.reset();
        for (const [service, method, count] of sources.rpcsInFlight()) this.set({ service, method }, count);
      },
    });
    const stats = cachedStats(sources.store);
    /** A gauge without labels, read from `read` at scrape time (left unset when it gives undefined). */
    const gauge = (name: string, help: string, read: () => number | undefined | Promise<number | undefined>) =>
      new Gauge({
        name,
        help,
        registers,
        async collect() {
          const value = await read();
          if (value !== undefined) this.set(value);
        },
      });
    gauge(
      'unified_bridge_sessions',
      'Live sessions in the store (the store total: the same on every server sharing the store)',
      async () => (await stats())?.sessions,
    );
    gauge(
      'unified_bridge_variables',
      'Variables of the live sessions in the store (the store total)',
      async () => (await stats())?.variables,
    );
    gauge('unified_bridge_watchers', 'Open WatchVariables streams of this server', sources.watchers);
    gauge('unified_bridge_workers', 'Tool workers connected to this server', sources.workers);
    gauge(
      'unified_bridge_tool_calls_in_flight',
      'Tool calls running now on this server (host tools and calls sent to workers)',
      sources.toolCallsInFlight,
    );
    this.#toolCalls = new Counter({
      name: 'unified_bridge_tool_calls_total',
      help: `Tool calls finished, by tool and status code (batch items count one each; tool="other" past ${MAX_TOOL_LABELS} names, tool="unknown" for names that are not a tool)`,
      labelNames: ['tool', 'code'],
      registers,
    });
    this.#toolDuration = new Histogram({
      name: 'unified_bridge_tool_call_duration_seconds',
      help: 'Duration of tool calls, from lookup to result, by tool',
      labelNames: ['tool'],
      buckets: CALL_BUCKETS,
      registers,
    });
    this.#storeDuration = new Histogram({
      name: 'unified_bridge_store_operation_duration_seconds',
      help: 'Duration of SessionStore operations, by operation (the method name) and outcome (ok, error)',
      labelNames: ['operation', 'outcome'],
      buckets: STORE_BUCKETS,
      registers,
    });
    const rejected = new Counter({
      name: 'unified_bridge_rejected_total',
      help: 'Requests refused before they did anything, by reason: too_large (over maxMessageBytes), rate_limited (a tool call over rateLimit), unauthenticated, malformed (could not be decoded)',
      labelNames: ['reason'],
      registers,
    });
    this.#rejected = new Map(REJECT_REASONS.map((reason) => [reason, rejected.labels(reason)] as const));
    for (const reason of REJECT_REASONS) rejected.inc({ reason }, 0);
  }

  /** The RPC metrics of one procedure, with their children bound on first use. */
  procedure(service: string, method: string): ProcedureMetrics {
    const handled = this.#handled;
    const handling = this.#handling;
    const counters = RPC_PROTOCOLS.map(() => new Array<Child | undefined>(STATUS_CODE_NAMES.length));
    const histograms = new Array<Observer | undefined>(RPC_PROTOCOLS.length);
    return {
      record(protocol, code, seconds) {
        const p = RPC_PROTOCOLS.indexOf(protocol);
        const row = counters[p]!;
        (row[code] ??= handled.labels(service, method, protocol, STATUS_CODE_NAMES[code] ?? 'UNKNOWN')).inc();
        (histograms[p] ??= handling.labels(service, method, protocol)).observe(seconds);
      },
    };
  }

  /** Counts one refused request. */
  reject(reason: RejectReason): void {
    this.#rejected.get(reason)!.inc();
  }

  /** Counts one finished tool call (`tool` undefined: the name was no tool). */
  toolCall(tool: string | undefined, code: StatusCode, seconds: number): void {
    let label = tool ?? 'unknown';
    if (tool !== undefined && !this.#toolLabels.has(tool)) {
      if (this.#toolLabels.size < MAX_TOOL_LABELS) this.#toolLabels.add(tool);
      else label = 'other';
    }
    let children = this.#toolChildren.get(label);
    if (children === undefined) {
      children = { calls: [], duration: this.#toolDuration.labels(label) };
      this.#toolChildren.set(label, children);
    }
    (children.calls[code] ??= this.#toolCalls.labels(label, STATUS_CODE_NAMES[code] ?? 'UNKNOWN')).inc();
    children.duration.observe(seconds);
  }

  /** Observes one store operation. */
  storeOperation(operation: string, ok: boolean, seconds: number): void {
    let children = this.#storeChildren.get(operation);
    if (children === undefined) {
      children = [this.#storeDuration.labels(operation, 'ok'), this.#storeDuration.labels(operation, 'error')];
      this.#storeChildren.set(operation, children);
    }
    children[ok ? 0 : 1].observe(seconds);
  }
}

/** The counts a store's optional `stats()` reports, read once per scrape (shared by the gauges of one scrape). */
function cachedStats(store: SessionStore): () => Promise<StoreStats | undefined> {
  let pending: Promise<StoreStats | undefined> | undefined;
  return () => {
    if (typeof store.stats !== 'function') return Promise.resolve(undefined);
    if (pending === undefined) {
      pending = store.stats().catch(() => undefined);
      // The gauges of one scrape collect in the same tick: the next scrape reads afresh.
      setImmediate(() => (pending = undefined));
    }
    return pending;
  };
}
