// What the routes observe their calls with, built from their options: the
// metrics (unless `metrics: false`), the store wrapped to time its
// operations, the call observer (request ids, spans, access log), the tool
// telemetry and the access-log summary.
import { VariableService } from '@unified-bridge/proto';
import type { SessionStore } from '@unified-bridge/store';
import { AccessSummary, DEFAULT_SUMMARY_INTERVAL_MS } from './access-summary.js';
import { CallObserver } from './call-observer.js';
import type { BridgeLogger } from './logger.js';
import { BridgeMetricSet } from './metrics.js';
import type { MetricsOptions } from './metrics.js';
import { measureStore } from './store-metrics.js';
import { ToolTelemetry } from './tool-telemetry.js';

/**
 * Options of the access log (`accessLog` of `createBridgeRoutes`). Each RPC
 * logs one line at `debug`; a summary of the status codes goes at `info`.
 *
 * @example
 * createBridgeRoutes({ accessLog: { summaryIntervalMs: 10_000 } });
 */
export interface AccessLogOptions {
  /**
   * How often the `info` line "rpc summary" (RPCs by status code since the
   * last one) is written, in ms; an interval without calls writes none, and
   * shutdown writes the rest. 0: only at shutdown. Default 60,000.
   */
  readonly summaryIntervalMs?: number;
}

/** What {@link createObservability} needs. */
export interface ObservabilityOptions {
  readonly metrics: MetricsOptions | false | undefined;
  readonly accessLog: AccessLogOptions | undefined;
  readonly logger: BridgeLogger;
  /** The store as given (its `stats()` feeds the session and variable gauges). */
  readonly store: SessionStore;
  /** How many tool workers are connected (read at scrape time). */
  readonly workers: () => number;
}

/** The observability of one routes object. */
export interface Observability {
  /** The metrics, or undefined with `metrics: false`. */
  readonly metrics: BridgeMetricSet | undefined;
  /** The store the services use: the given one, timed when metrics are on. */
  readonly store: SessionStore;
  readonly observer: CallObserver;
  readonly tools: ToolTelemetry;
  /** Writes the last summary line and stops its timer (at shutdown). */
  close(): void;
}

/** Builds the observability of a routes object; throws a TypeError/RangeError naming a bad option. */
export function createObservability(options: ObservabilityOptions): Observability {
  const { metrics: metricsOptions, logger } = options;
  if (
    metricsOptions !== undefined &&
    metricsOptions !== false &&
    (typeof metricsOptions !== 'object' || metricsOptions === null)
  ) {
    throw new TypeError('metrics must be { registry? } or false');
  }
  const intervalMs = options.accessLog?.summaryIntervalMs ?? DEFAULT_SUMMARY_INTERVAL_MS;
  if (!Number.isInteger(intervalMs) || intervalMs < 0) {
    throw new RangeError(
      `accessLog.summaryIntervalMs must be an integer >= 0 (0 = only at shutdown), got ${String(intervalMs)}`,
    );
  }
  const metrics: BridgeMetricSet | undefined =
    metricsOptions === false
      ? undefined
      : new BridgeMetricSet(metricsOptions ?? {}, {
          rpcsInFlight: () => observer.inFlight(),
          watchers: () => observer.inFlightOf(VariableService.typeName, 'WatchVariables'),
          workers: options.workers,
          toolCallsInFlight: () => tools.inFlight,
          store: options.store,
        });
  const summary = new AccessSummary(logger, intervalMs);
  const observer: CallObserver = new CallObserver({ logger, metrics, summary });
  const tools = new ToolTelemetry(metrics);
  return {
    metrics,
    store: metrics === undefined ? options.store : measureStore(options.store, metrics),
    observer,
    tools,
    close: () => summary.close(),
  };
}
