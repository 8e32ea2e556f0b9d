// One port for everything: HTTP/2 cleartext (prior knowledge, as gRPC
// clients use it) and HTTP/1.1, told apart by the 24-byte HTTP/2 connection
// preface; or TLS with ALPN (h2 and http/1.1). Plain http2.createServer has
// no HTTP/1.1 fallback, hence the sniffing net.Server in front.
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { BridgeLogger } from './logger.js';

/** The HTTP/2 client connection preface (RFC 9113, section 3.4). */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** A request handler for both HTTP versions (what connectNodeAdapter returns). */
export type NodeRequestHandler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

/**
 * HTTP/2 hardening settings of the standalone server.
 *
 * @example
 * startBridgeServer({ http2: { maxConcurrentStreams: 1000, keepaliveIntervalMs: 10_000 } });
 */
export interface Http2Options {
  /** Streams a client may open at once on one connection. Default 256. */
  readonly maxConcurrentStreams?: number;
  /**
   * A connection with no open stream for this long gets GOAWAY and closes,
   * in ms. Default 300,000 (5 minutes); 0 disables.
   */
  readonly idleTimeoutMs?: number;
  /**
   * Interval of keepalive PINGs on each HTTP/2 connection, in ms, to detect
   * dead peers behind NATs and load balancers. Default 60,000; 0 disables.
   */
  readonly keepaliveIntervalMs?: number;
  /** A PING not acknowledged within this many ms closes the connection. Default 20,000. */
  readonly keepaliveTimeoutMs?: number;
}

/** TLS material (PEM). With TLS, ALPN offers h2 and http/1.1 on the same port. */
export interface TlsOptions {
  /** The certificate chain, PEM. */
  readonly cert: string | Buffer;
  /** The private key, PEM. */
  readonly key: string | Buffer;
}

/** What {@link listen} needs. */
export interface ListenOptions {
  readonly host: string;
  readonly port: number;
  readonly tls: TlsOptions | undefined;
  readonly http2: Required<Http2Options>;
  readonly logger: BridgeLogger;
}

/** A listening socket serving both HTTP versions. */
export interface BridgeListener {
  /** The bound port (the real one when 0 was asked). */
  readonly port: number;
  /** The bound address. */
  readonly host: string;
  /** Stops accepting connections and sends GOAWAY to every HTTP/2 connection; idle HTTP/1.1 connections close. */
  beginClose(): void;
  /**
   * Closes the listener: {@link BridgeListener.beginClose}, then waits up to
   * `graceMs` for connections to end and destroys the rest.
   */
  close(graceMs: number): Promise<void>;
}

/** The default HTTP/2 settings. */
export const DEFAULT_HTTP2_OPTIONS: Readonly<Required<Http2Options>> = Object.freeze({
  maxConcurrentStreams: 256,
  idleTimeoutMs: 300_000,
  keepaliveIntervalMs: 60_000,
  keepaliveTimeoutMs: 20_000,
});

/** Starts listening; resolves once bound (rejects on EADDRINUSE and the like). */
export async function listen(handler: NodeRequestHandler, options: ListenOptions): Promise<BridgeListener> {
  const { logger } = options;
  const h2opts = options.http2;
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  let closing = false;

  const settings: http2.Settings = { maxConcurrentStreams: h2opts.maxConcurrentStreams };
  const onSession = (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    hardenSession(session, h2opts, logger);
    session.once('close', () => sessions.delete(session));
    if (closing) session.close();
  };
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  // Connections that have not sent a request yet (HTTP version still being
  // sniffed, or TLS not yet negotiated): idle by definition, so closing the
  // listener destroys them instead of waiting out the grace period.
  const undecided = new Set<net.Socket>();
  const holdUndecided = (socket: net.Socket) => {
    if (closing) {
      socket.destroy();
      return;
    }
    undecided.add(socket);
    socket.once('close', () => undecided.delete(socket));
  };

  let server: net.Server;
  // HTTP/1.1 connections and their requests in flight. Node's own
  // closeIdleConnections() only tracks servers that listen themselves, and
  // ours never do (connections are handed to them), hence this bookkeeping.
  const h1Active = new Map<net.Socket, number>();
  const trackH1 = (socket: net.Socket) => {
    if (h1Active.has(socket)) return;
    h1Active.set(socket, 0);
    socket.once('close', () => h1Active.delete(socket));
  };
  const closeIdleH1 = () => {
    for (const [socket, active] of h1Active) if (active === 0) socket.destroy();
  };
  const userHandler = handler;
  handler = (req, res) => {
    if (req.httpVersionMajor === 1) {
      const socket = req.socket;
      trackH1(socket);
      h1Active.set(socket, (h1Active.get(socket) ?? 0) + 1);
      // While closing, HTTP/1.1 responses close their connection once sent.
      if (closing) (res as http.ServerResponse).shouldKeepAlive = false;
      res.once('close', () => {
        const left = (h1Active.get(socket) ?? 1) - 1;
        if (h1Active.has(socket)) h1Active.set(socket, left);
        if (closing && left === 0) socket.end();
      });
    }
    userHandler(req, res);
  };

  if (options.tls !== undefined) {
    const secure = http2.createSecureServer(
      { cert: options.tls.cert, key: options.tls.key, allowHTTP1: true, ALPNProtocols: ['h2', 'http/1.1'], settings },
      handler as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void,
    );
    secure.on('session', onSession);
    secure.on('connection', (socket: net.Socket) => {
      track(socket);
      holdUndecided(socket);
    });
    secure.on('secureConnection', (socket: TLSSocket) => {
      // The TLS socket wraps the raw one: the raw connection is no longer undecided.
      const raw = (socket as unknown as { _parent?: net.Socket | null })._parent;
      if (raw !== undefined && raw !== null) undecided.delete(raw);
      if (socket.alpnProtocol !== 'h2') trackH1(socket);
    });
    server = secure;
  } else {
    const h2 = http2.createServer(
      { settings },
      handler as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void,
    );
    h2.on('session', onSession);
    const plain = http.createServer(handler as http.RequestListener);
    server = net.createServer((socket) => {
      track(socket);
      holdUndecided(socket);
      sniff(socket, ({ protocol, peeked }) => {
        undecided.delete(socket);
        socket.unshift(peeked);
        if (protocol === 'h2') {
          h2.emit('connection', socket);
        } else {
          trackH1(socket);
          plain.emit('connection', socket);
          socket.resume(); // the HTTP/1 parser reads only once the socket flows again
        }
      });
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => logger.error({ err }, 'listener error'));
  const address = server.address() as net.AddressInfo;

  let serverClosed: Promise<void> | undefined;
  const beginClose = () => {
    if (closing) return;
    closing = true;
    serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of sessions) s.close(); // GOAWAY; open streams may finish, idle sessions close now
    for (const socket of undecided) socket.destroy();
    undecided.clear();
    closeIdleH1();
  };

  return {
    port: address.port,
    host: address.address,
    beginClose,
    async close(graceMs) {
      beginClose();
      closeIdleH1();
      if (sockets.size > 0 || sessions.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        const allClosed = new Promise<void>((resolve) => {
          const check = () => {
            closeIdleH1();
            if (sockets.size === 0 && sessions.size === 0) resolve();
          };
          for (const s of sockets) s.once('close', () => setImmediate(check));
          for (const s of sessions) s.once('close', () => setImmediate(check));
          check();
        });
        const graceOver = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, graceMs);
          timer.unref();
        });
        await Promise.race([allClosed, graceOver]);
        clearTimeout(timer);
      }
      for (const s of sessions) s.destroy();
      for (const s of sockets) s.destroy();
      await serverClosed;
    },
  };
}

/** What {@link sniff} found out about a connection. */
interface Sniffed {
  /** `"h2"` for HTTP/2 with prior knowledge (it sent the preface), `"http1"` for anything else. */
  readonly protocol: 'h2' | 'http1';
  /** The bytes read so far, to hand back to the socket. */
  readonly peeked: Buffer;
}

/**
 * Reads just enough of a new connection to tell HTTP/2 prior knowledge (the
 * preface) from anything else, then hands the bytes back. A connection that
 * sends nothing for 10 s is dropped.
 */
function sniff(socket: net.Socket, decided: (sniffed: Sniffed) => void): void {
  let buf: Buffer = Buffer.alloc(0);
  const cleanup = () => {
    socket.off('data', onData);
    socket.off('error', onError);
    socket.setTimeout(0);
  };
  const onError = () => {
    cleanup();
    socket.destroy();
  };
  const onData = (chunk: Buffer) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    const n = Math.min(buf.length, PREFACE.length);
    const matches = buf.subarray(0, n).equals(PREFACE.subarray(0, n));
    if (matches && buf.length < PREFACE.length) return; // need more bytes
    cleanup();
    socket.pause();
    decided({ protocol: matches ? 'h2' : 'http1', peeked: buf });
  };
  socket.on('data', onData);
  socket.on('error', onError);
  socket.setTimeout(10_000, () => {
    cleanup();
    socket.destroy();
  });
}

/** Idle timeout (no open stream) and keepalive PINGs for one HTTP/2 session. */
function hardenSession(session: http2.ServerHttp2Session, o: Required<Http2Options>, logger: BridgeLogger): void {
  let open = 0;
  let idleTimer: NodeJS.Timeout | undefined;
  const armIdle = () => {
    if (o.idleTimeoutMs <= 0) return;
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      logger.debug({}, 'closing idle HTTP/2 connection');
      session.close();
    }, o.idleTimeoutMs);
    idleTimer.unref();
  };
  session.on('stream', (stream) => {
    open++;
    clearTimeout(idleTimer);
    stream.once('close', () => {
      open--;
      if (open === 0) armIdle();
    });
  });
  armIdle();

  let pingTimer: NodeJS.Timeout | undefined;
  if (o.keepaliveIntervalMs > 0) {
    pingTimer = setInterval(() => {
      if (session.closed || session.destroyed) return;
      const deadline = setTimeout(() => {
        logger.warn({}, 'HTTP/2 keepalive PING not acknowledged: closing connection');
        session.destroy();
      }, o.keepaliveTimeoutMs);
      deadline.unref();
      const sent = session.ping((err) => {
        clearTimeout(deadline);
        if (err !== null && !session.destroyed) session.destroy();
      });
      if (!sent) clearTimeout(deadline);
    }, o.keepaliveIntervalMs);
    pingTimer.unref();
  }
  session.once('close', () => {
    clearTimeout(idleTimer);
    clearInterval(pingTimer);
  });
  session.on('error', (err) => logger.debug({ err }, 'HTTP/2 session error'));
}
