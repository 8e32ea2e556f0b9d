// One proxied connection (a client socket and its socket to the target) and its two pipes, which
// apply the faults in force to every chunk.
import type net from 'node:net';
import type { ActiveFaults, Cut, Direction } from './faults.js';

const HIGH_WATER_BYTES = 1 << 20;
const LOW_WATER_BYTES = 256 << 10;

/** What a {@link Connection} needs of the proxy that accepted it. */
export interface ConnectionOwner {
  /** The faults in force in one direction. */
  faultsFor(dir: Direction): ActiveFaults;
  /** Counts bytes delivered in one direction. */
  count(dir: Direction, bytes: number): void;
  /** Counts bytes a blackhole discarded. */
  discard(bytes: number): void;
  /** Forgets a connection that closed. */
  forget(conn: Connection): void;
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
export class Connection {
  terminated = false;
  cutCounted = 0;
  readonly #pipes: Pipe[];

  constructor(
    readonly proxy: ConnectionOwner,
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
