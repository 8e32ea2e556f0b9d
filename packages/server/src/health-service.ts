// grpc.health.v1.Health: Check and Watch for the overall server ("") and for
// each service name, so standard probes (grpc_health_probe, Kubernetes gRPC
// probes, Connect JSON over HTTP/1.1) work.
import { Code, ConnectError } from '@connectrpc/connect';
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import { HealthCheckResponse_ServingStatus as ServingStatus } from '@unified-bridge/proto';
import type { Health, HealthCheckResponse_ServingStatus } from '@unified-bridge/proto';
import { abortable } from '@unified-bridge/types/internal';

/**
 * Serving status of the bridge's services, as reported by grpc.health.v1.
 * The overall service `""` and every registered service name start SERVING;
 * {@link BridgeHealth.setServing} flips them all (shutdown sets NOT_SERVING).
 *
 * @example
 * const routes = createBridgeRoutes();
 * routes.health.setServing(false); // probes now see NOT_SERVING
 */
export class BridgeHealth {
  readonly #statuses = new Map<string, HealthCheckResponse_ServingStatus>();
  readonly #listeners = new Set<() => void>();
  #version = 0;

  /** Creates a health registry for `services` (plus the overall service `""`), all SERVING. Use `routes.health`. */
  constructor(services: readonly string[]) {
    this.#statuses.set('', ServingStatus.SERVING);
    for (const s of services) this.#statuses.set(s, ServingStatus.SERVING);
  }

  /** The status of `service`, or `undefined` for a service this server does not know. */
  status(service: string): HealthCheckResponse_ServingStatus | undefined {
    return this.#statuses.get(service);
  }

  /** The names of the services this registry reports on (including `""`). */
  services(): string[] {
    return [...this.#statuses.keys()];
  }

  /** A counter that increases with every status change (for watchers that must not miss one). */
  get version(): number {
    return this.#version;
  }

  /** Sets every service SERVING (`true`) or NOT_SERVING (`false`) and notifies watchers. */
  setServing(serving: boolean): void {
    const status = serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
    for (const key of this.#statuses.keys()) this.#statuses.set(key, status);
    this.#version++;
    for (const l of [...this.#listeners]) l();
  }

  /**
   * Resolves once the status changed after `sinceVersion` (at once if it
   * already has), or rejects when `signal` aborts.
   */
  changed(sinceVersion: number, signal: AbortSignal): Promise<void> {
    if (this.#version !== sinceVersion) return Promise.resolve();
    let listener: (() => void) | undefined;
    const p = new Promise<void>((resolve) => {
      listener = resolve;
      this.#listeners.add(resolve);
    });
    return abortable(p, signal).finally(() => {
      if (listener) this.#listeners.delete(listener);
    });
  }
}

/**
 * The grpc.health.v1.Health implementation over a {@link BridgeHealth}.
 * `streamsSignal` ends Watch streams (server shutdown) with its abort reason.
 */
export function createHealthServiceImpl(health: BridgeHealth, streamsSignal: AbortSignal): ServiceImpl<typeof Health> {
  return {
    check(req) {
      const status = health.status(req.service);
      if (status === undefined) throw new ConnectError(`unknown service ${JSON.stringify(req.service)}`, Code.NotFound);
      return { status };
    },
    async *watch(req, ctx: HandlerContext) {
      const signal = AbortSignal.any([ctx.signal, streamsSignal]);
      let last: HealthCheckResponse_ServingStatus | undefined;
      for (;;) {
        const version = health.version;
        const status = health.status(req.service) ?? ServingStatus.SERVICE_UNKNOWN;
        if (status !== last) {
          last = status;
          yield { status };
        }
        try {
          await health.changed(version, signal);
        } catch (err) {
          if (ctx.signal.aborted) return; // the client went away or the deadline passed
          throw err; // shutdown: UNAVAILABLE "server shutting down"
        }
      }
    },
  };
}
