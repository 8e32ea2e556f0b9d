import { once } from 'node:events';
import net from 'node:net';

/** Which way a fault acts: `upstream` is client→target, `downstream` is target→client. */
export type FaultDirection = 'upstream' | 'downstream' | 'both';

/**
 * A fault a {@link FaultProxy} applies to the traffic it forwards. Several faults combine
 * (for example latency plus a bandwidth cap); `direction` defaults to `"both"`.
 *
 * - `latency`: every chunk is delivered `ms` later (order is kept).
 * - `bandwidth`: delivery is capped at `bytesPerSecond` per connection and direction.
 * - `cut-after`: after `bytes` more bytes were forwarded on a connection (counted from when the
 *   fault was set, or from the connection's start; in the given direction), the connection is cut
 *   with a TCP reset (`how: "reset"`, default) or a clean close (`how: "close"`).
 * - `reset`: every current connection is reset now, and new ones are reset on accept.
 * - `close`: every current connection is closed cleanly (FIN) now, and new ones on accept.
 * - `blackhole`: sockets stay open but nothing is delivered (bytes are discarded, so a connection
 *   that lost bytes is usually unusable after the fault is cleared: drop it).
 */
export type Fault =
  | { type: 'latency'; ms: number; direction?: FaultDirection }
  | { type: 'bandwidth'; bytesPerSecond: number; direction?: FaultDirection }
  | { type: 'cut-after'; bytes: number; direction?: FaultDirection; how?: 'reset' | 'close' }
  | { type: 'reset' }
  | { type: 'close' }
  | { type: 'blackhole'; direction?: FaultDirection };

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

type Direction = 'upstream' | 'downstream';
type Cut = 'reset' | 'close';

const HIGH_WATER_BYTES = 1 << 20;
const LOW_WATER_BYTES = 256 << 10;

function appliesTo(fault: { direction?: FaultDirection }, dir: Direction): boolean {
  const d = fault.direction ?? 'both';
  return d === 'both' || d === dir;
}

function validateFault(fault: Fault): Fault {
  const bad = (msg: string): never => {
    throw new RangeError(`FaultProxy fault ${JSON.stringify(fault)}: ${msg}`);
  };
  if (fault === null || typeof fault !== 'object') bad('a fault is an object with a "type"');
  const direction = (fault as { direction?: unknown }).direction;
  if (direction !== undefined && direction !== 'upstream' && direction !== 'downstream' && direction !== 'both') {
    bad('direction must be "upstream", "downstream" or "both"');
  }
  switch (fault.type) {
    case 'latency':
      if (!(Number.isFinite(fault.ms) && fault.ms >= 0)) bad('ms must be a finite number >= 0');
      break;
    case 'bandwidth':
      if (!(Number.isFinite(fault.bytesPerSecond) && fault.bytesPerSecond > 0)) {
        bad('bytesPerSecond must be a finite number > 0');
      }
      break;
    case 'cut-after':
      if (!(Number.isInteger(fault.bytes) && fault.bytes >= 0)) bad('bytes must be an integer >= 0');
      if (fault.how !== undefined && fault.how !== 'reset' && fault.how !== 'close') {
        bad('how must be "reset" or "close"');
      }
      break;
    case 'reset':
    case 'close':
    case 'blackhole':
      break;
    default:
      bad('type must be one of latency, bandwidth, cut-after, reset, close, blackhole');
  }
  return fault;
}

interface Queued {
  chunk: Buffer;
  at: number;
  cut?: Cut;
}

/** One direction of a proxied connection. */
class Pipe {
  readonly #queue: Queued[] = [];
  #queuedBytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #bandwidthCursor = 0;
  #waitingDrain = false;
  #srcEnded = false;
  #cutting = false;

  constructor(
    readonly dir: Direction,
    readonly src: net.Socket,
    readonly dst: net.Socket,
    readonly conn: Connection,
  ) {
    src.on('data', (chunk: Buffer) => this.#onData(chunk));
    src.on('end', () => {
      this.#srcEnded = true;
      this.#flush();
    });
  }

  #onData(chunk: Buffer): void {
    if (this.#cutting || this.conn.terminated) return;
    const faults = this.conn.proxy.faultsFor(this.dir);
    if (faults.blackhole) {
      this.conn.proxy.discard(chunk.length);
      return;
    }
    let cut: Cut | undefined;
    if (faults.cut) {
      const remaining = faults.cut.bytes - this.conn.cutCounted;
      if (chunk.length >= remaining) {
        chunk = chunk.subarray(0, Math.max(0, remaining));
        cut = faults.cut.how ?? 'reset';
        this.#cutting = true;
      }
      this.conn.cutCounted += chunk.length;
    }
    const now = Date.now();
    const latency = faults.latencyMs;
    const rate = faults.bytesPerSecond;
    if (rate === undefined) {
      this.#enqueue({ chunk, at: now + latency, ...(cut ? { cut } : {}) });
    } else {
      // Deliver in slices of about 20 ms worth of bandwidth, so the cap is smooth.
      const slice = Math.max(1, Math.ceil(rate / 50));
      let offset = 0;
      do {
        const part = chunk.subarray(offset, offset + slice);
        offset += part.length;
        const start = Math.max(now + latency, this.#bandwidthCursor);
        this.#bandwidthCursor = start + (part.length * 1000) / rate;
        const last = offset >= chunk.length;
        this.#enqueue({ chunk: part, at: Math.ceil(this.#bandwidthCursor), ...(cut && last ? { cut } : {}) });
      } while (offset < chunk.length);
    }
    this.#flush();
  }

  #enqueue(item: Queued): void {
    this.#queue.push(item);
    this.#queuedBytes += item.chunk.length;
    if (this.#queuedBytes > HIGH_WATER_BYTES && !this.src.isPaused()) this.src.pause();
  }

  #flush(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.conn.terminated) return;
    const now = Date.now();
    while (!this.#waitingDrain && this.#queue.length > 0) {
      const head = this.#queue[0]!;
      if (head.at > now) {
        this.#timer = setTimeout(() => this.#flush(), head.at - now);
        this.#timer.unref();
        return;
      }
      this.#queue.shift();
      this.#queuedBytes -= head.chunk.length;
      const cut = head.cut;
      if (cut) {
        const terminate = (): void => this.conn.terminate(cut);
        if (head.chunk.length > 0 && this.dst.writable) {
          this.conn.proxy.count(this.dir, head.chunk.length);
          this.dst.write(head.chunk, terminate);
        } else {
          terminate();
        }
        return;
      }
      if (!this.dst.writable) continue;
      this.conn.proxy.count(this.dir, head.chunk.length);
      if (!this.dst.write(head.chunk)) {
        this.#waitingDrain = true;
        if (!this.src.isPaused()) this.src.pause();
        this.dst.once('drain', () => {
          this.#waitingDrain = false;
          this.#flush();
        });
      }
    }
    if (!this.#waitingDrain && this.#queuedBytes <= LOW_WATER_BYTES && this.src.isPaused()) this.src.resume();
    if (this.#queue.length === 0 && this.#srcEnded && !this.#cutting && this.dst.writable) this.dst.end();
  }

  dispose(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queue.length = 0;
    this.#queuedBytes = 0;
  }
}

/** A client connection and its connection to the target. */
class Connection {
  terminated = false;
  cutCounted = 0;
  readonly #pipes: Pipe[];

  constructor(
    readonly proxy: FaultProxy,
    readonly client: net.Socket,
    readonly upstream: net.Socket,
  ) {
    for (const s of [client, upstream]) s.setNoDelay(true);
    this.#pipes = [new Pipe('upstream', client, upstream, this), new Pipe('downstream', upstream, client, this)];
    // A reset or error on one side resets the other; a normal close of both sides ends it.
    const onError = (err: NodeJS.ErrnoException): void => {
      this.terminate(err.code === 'ECONNRESET' || err.code === 'ECONNREFUSED' ? 'reset' : 'destroy');
    };
    client.on('error', onError);
    upstream.on('error', onError);
    let closed = 0;
    const onClose = (): void => {
      if (++closed === 2) this.#dispose();
    };
    client.on('close', onClose);
    upstream.on('close', onClose);
  }

  /** Cuts the connection: TCP reset, clean close (FIN), or plain destroy. Idempotent. */
  terminate(how: Cut | 'destroy'): void {
    if (this.terminated) return;
    this.terminated = true;
    for (const p of this.#pipes) p.dispose();
    for (const s of [this.client, this.upstream]) {
      if (s.destroyed) continue;
      if (how === 'reset') {
        // resetAndDestroy needs a connected TCP handle; a socket still connecting is destroyed.
        if (s.connecting) s.destroy();
        else s.resetAndDestroy();
      } else if (how === 'close') {
        s.pause();
        s.end(() => s.destroy());
      } else {
        s.destroy();
      }
    }
  }

  #dispose(): void {
    this.terminated = true;
    for (const p of this.#pipes) p.dispose();
    this.proxy.forget(this);
  }
}

interface ActiveFaults {
  latencyMs: number;
  bytesPerSecond: number | undefined;
  blackhole: boolean;
  cut: { bytes: number; how?: Cut } | undefined;
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
export class FaultProxy implements AsyncDisposable {
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
    this.#active = { upstream: FaultProxy.#compute([], 'upstream'), downstream: FaultProxy.#compute([], 'downstream') };
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
      upstream: FaultProxy.#compute(list, 'upstream'),
      downstream: FaultProxy.#compute(list, 'downstream'),
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
  dropConnections(how: 'reset' | 'close' = 'reset'): void {
    if (how !== 'reset' && how !== 'close') {
      throw new RangeError(`FaultProxy.dropConnections(how): how must be "reset" or "close", got ${String(how)}`);
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

  static #compute(faults: readonly Fault[], dir: Direction): ActiveFaults {
    const active: ActiveFaults = { latencyMs: 0, bytesPerSecond: undefined, blackhole: false, cut: undefined };
    for (const f of faults) {
      if (f.type === 'latency' && appliesTo(f, dir)) active.latencyMs += f.ms;
      else if (f.type === 'bandwidth' && appliesTo(f, dir)) {
        active.bytesPerSecond = Math.min(active.bytesPerSecond ?? Infinity, f.bytesPerSecond);
      } else if (f.type === 'blackhole' && appliesTo(f, dir)) active.blackhole = true;
      else if (f.type === 'cut-after' && appliesTo(f, dir)) {
        active.cut = f.how ? { bytes: f.bytes, how: f.how } : { bytes: f.bytes };
      }
    }
    return active;
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
