// A minimal TCP relay whose target can be switched: it gives a restarted server (which gets a
// new port from the OS) the URL of the old one, so a client keeps its baseUrl across a restart.
// (FaultProxy of @unified-bridge/testing has a fixed target; faults are its job, not this.)
import net from 'node:net';

/** A TCP relay on a free port of 127.0.0.1 that forwards each new connection to the current target. */
export class Relay implements AsyncDisposable {
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  #target: { host: string; port: number };

  private constructor(server: net.Server, target: { host: string; port: number }) {
    this.#server = server;
    this.#target = target;
  }

  /** Starts a relay to `target` (a URL such as `http://127.0.0.1:4000`). */
  static async start(target: string): Promise<Relay> {
    const server = net.createServer();
    const relay = new Relay(server, Relay.#parse(target));
    server.on('connection', (client) => relay.#relay(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return relay;
  }

  static #parse(url: string): { host: string; port: number } {
    const u = new URL(url);
    return { host: u.hostname, port: Number(u.port) };
  }

  /** The URL clients use: `http://127.0.0.1:<relay port>`. */
  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as net.AddressInfo).port}`;
  }

  /** Forwards connections accepted from now on to `target` (existing ones are left alone). */
  retarget(target: string): void {
    this.#target = Relay.#parse(target);
  }

  #relay(client: net.Socket): void {
    const upstream = net.connect(this.#target);
    for (const s of [client, upstream]) {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** Stops listening and destroys every connection. */
  async stop(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** Same as {@link Relay.stop}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
