import { once } from 'node:events';
import net from 'node:net';
import {
  activeFaults,
  CUTS,
  quotedList,
  validateFault,
  type ActiveFaults,
  type Cut,
  type Direction,
  type Fault,
} from './faults.js';
import { Connection, type ConnectionOwner } from './proxied-connection.js';

/** Options of {@link FaultProxy.start}. */
export interface FaultProxyOptions {
  /** Where to forward: a URL such as `http://127.0.0.1:4000` or `{ host, port }`. Required. */
  target: string | URL | { host: string; port: number };
  /** Interface the proxy listens on (on a free port chosen by the OS); default `"127.0.0.1"`. */
  host?: string;
  /** Faults active from the start; default none. */
  faults?: Fault | readonly Fault[];
}

/** Counters of a {@link FaultProxy} since it started. */
export interface FaultProxyStats {
  /** Connections open right now. */
  openConnections: number;
  /** Connections accepted in total. */
  acceptedConnections: number;
  /** Bytes delivered to the target. */
  upstreamBytes: number;
  /** Bytes delivered to clients. */
  downstreamBytes: number;
  /** Bytes discarded by a `blackhole` fault (both directions). */
  discardedBytes: number;
}

/**
 * A TCP proxy in front of a server with faults that can be switched while connections are live:
 * latency, bandwidth cap, cut after N bytes, TCP reset, clean close, silent blackhole, and
 * dropping every current connection. Use it to test how clients behave on bad networks.
 * Listens on a free port; `stop()` (or `await using`) closes it and every connection.
 *
 * @example
 * await using proxy = await FaultProxy.start({ target: server.url });
 * const client = createBridgeClient({ baseUrl: proxy.url });
 * proxy.setFault({ type: 'cut-after', bytes: 1000, direction: 'downstream' });
 */
export class FaultProxy implements AsyncDisposable, ConnectionOwner {
  /** URL of the proxy: the target URL's scheme with the proxy's host and port. */
  readonly url: string;
  /** Port the proxy listens on. */
  readonly port: number;
  /** Host the proxy listens on. */
  readonly host: string;

  readonly #server: net.Server;
  #targetHost: string;
  #targetPort: number;
  readonly #connections = new Set<Connection>();
  #faults: readonly Fault[] = [];
  #active: Record<Direction, ActiveFaults>;
  #stopped: Promise<void> | undefined;
  #accepted = 0;
  #upstreamBytes = 0;
  #downstreamBytes = 0;
  #discardedBytes = 0;

  private constructor(
    server: net.Server,
    host: string,
    port: number,
    protocol: string,
    target: { host: string; port: number },
  ) {
    this.#server = server;
    this.host = host;
    this.port = port;
    this.url = `${protocol}//${host.includes(':') ? `[${host}]` : host}:${port}`;
    this.#targetHost = target.host;
    this.#targetPort = target.port;
    this.#active = { upstream: activeFaults([], 'upstream'), downstream: activeFaults([], 'downstream') };
    server.on('connection', (socket) => this.#accept(socket));
  }

  /**
   * Starts a proxy to `options.target` on a free port.
   * @example await using proxy = await FaultProxy.start({ target: 'http://127.0.0.1:4000' });
   */
  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    if (options === null || typeof options !== 'object') {
      throw new TypeError('FaultProxy.start(options): options must be an object with a "target"');
    }
    const { protocol, host, port } = parseTarget(options.target, 'FaultProxy.start');
    const listenHost = options.host ?? '127.0.0.1';
    const server = net.createServer({ allowHalfOpen: true });
    server.listen(0, listenHost);
    await once(server, 'listening');
    server.unref();
    const address = server.address() as net.AddressInfo;
    const proxy = new FaultProxy(server, listenHost, address.port, protocol, { host, port });
    if (options.faults !== undefined) proxy.setFault(options.faults);
    return proxy;
  }

  /**
   * Points new connections at another target (for example a server restarted on a new port),
   * so clients keep the proxy's URL. Current connections stay on the old target; call
   * `dropConnections()` to move them.
   * @example proxy.setTarget(restarted.url);
   */
  setTarget(target: FaultProxyOptions['target']): void {
    const { host, port } = parseTarget(target, 'FaultProxy.setTarget');
    this.#targetHost = host;
    this.#targetPort = port;
  }

  /**
   * Replaces the active faults with `fault` (or the list given; an empty list clears them).
   * Takes effect at once on live connections; `reset` and `close` cut every current connection.
   * @example proxy.setFault([{ type: 'latency', ms: 50 }, { type: 'bandwidth', bytesPerSecond: 10_000 }]);
   */
  setFault(fault: Fault | readonly Fault[]): void {
    const list = (Array.isArray(fault) ? [...(fault as readonly Fault[])] : [fault as Fault]).map(validateFault);
    this.#faults = list;
    this.#active = {
      upstream: activeFaults(list, 'upstream'),
      downstream: activeFaults(list, 'downstream'),
    };
    for (const c of this.#connections) c.cutCounted = 0;
    const cut = this.#instantCut();
    if (cut) this.dropConnections(cut);
  }

  /** Removes every fault: traffic flows normally again (connections already cut stay cut). */
  clearFaults(): void {
    this.setFault([]);
  }

  /** The active faults. */
  get faults(): readonly Fault[] {
    return this.#faults;
  }

  /**
   * Cuts every current connection (new ones are accepted as usual): with a TCP reset
   * (default) or a clean close.
   */
  dropConnections(how: Cut = 'reset'): void {
    if (!CUTS.includes(how)) {
      throw new RangeError(`FaultProxy.dropConnections(how): how must be ${quotedList(CUTS)}, got ${String(how)}`);
    }
    for (const c of [...this.#connections]) c.terminate(how);
  }

  /** Connection and byte counters since start. */
  stats(): FaultProxyStats {
    return {
      openConnections: this.#connections.size,
      acceptedConnections: this.#accepted,
      upstreamBytes: this.#upstreamBytes,
      downstreamBytes: this.#downstreamBytes,
      discardedBytes: this.#discardedBytes,
    };
  }

  /** Stops listening and destroys every connection. Idempotent. */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      for (const c of [...this.#connections]) c.terminate('destroy');
      await closed;
    })();
    return this.#stopped;
  }

  /** Same as {@link FaultProxy.stop}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  /** @internal */
  faultsFor(dir: Direction): ActiveFaults {
    return this.#active[dir];
  }

  /** @internal */
  count(dir: Direction, bytes: number): void {
    if (dir === 'upstream') this.#upstreamBytes += bytes;
    else this.#downstreamBytes += bytes;
  }

  /** @internal */
  discard(bytes: number): void {
    this.#discardedBytes += bytes;
  }

  /** @internal */
  forget(conn: Connection): void {
    this.#connections.delete(conn);
  }

  #instantCut(): Cut | undefined {
    if (this.#faults.some((f) => f.type === 'reset')) return 'reset';
    if (this.#faults.some((f) => f.type === 'close')) return 'close';
    return undefined;
  }

  #accept(client: net.Socket): void {
    this.#accepted++;
    if (this.#stopped) {
      client.destroy();
      return;
    }
    const cut = this.#instantCut();
    if (cut === 'reset') {
      client.on('error', () => {});
      client.resetAndDestroy();
      return;
    }
    if (cut === 'close') {
      client.on('error', () => {});
      client.end(() => client.destroy());
      client.resume();
      return;
    }
    const upstream = net.connect({ host: this.#targetHost, port: this.#targetPort, allowHalfOpen: true });
    this.#connections.add(new Connection(this, client, upstream));
  }
}

/** Parses a proxy target (a URL or `{ host, port }`); `where` names the caller in errors. */
function parseTarget(
  target: FaultProxyOptions['target'],
  where: string,
): { protocol: string; host: string; port: number } {
  let protocol = 'http:';
  let host: string;
  let port: number;
  if (typeof target === 'string' || target instanceof URL) {
    let u: URL;
    try {
      u = new URL(String(target));
    } catch {
      throw new TypeError(`${where}: target ${JSON.stringify(String(target))} is not a valid URL`);
    }
    protocol = u.protocol;
    host = u.hostname.replace(/^\[(.*)\]$/, '$1');
    port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
  } else if (target && typeof target === 'object' && typeof target.host === 'string') {
    host = target.host;
    port = target.port;
  } else {
    throw new TypeError(`${where}: options.target must be a URL or { host, port }`);
  }
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new RangeError(`${where}: target port must be 1..65535, got ${String(port)}`);
  }
  return { protocol, host, port };
}
