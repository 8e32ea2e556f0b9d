import { once } from 'node:events';
import net from 'node:net';
import { FaultProxy } from './fault-proxy.js';

/** A plain TCP echo server on a free port. */
async function startEcho(): Promise<{
  port: number;
  server: net.Server;
  sockets: Set<net.Socket>;
  close(): Promise<void>;
}> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    s.pipe(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    server,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

async function connect(port: number): Promise<net.Socket> {
  const s = net.connect({ host: '127.0.0.1', port });
  await once(s, 'connect');
  return s;
}

/** Collects everything a socket receives and how it ended. */
function record(s: net.Socket): {
  data: () => Buffer;
  ended: Promise<{ error?: NodeJS.ErrnoException; end: boolean }>;
  next(n: number): Promise<Buffer>;
} {
  const chunks: Buffer[] = [];
  let waiters: Array<() => void> = [];
  let sawEnd = false;
  let error: NodeJS.ErrnoException | undefined;
  s.on('data', (c: Buffer) => {
    chunks.push(c);
    for (const w of waiters) w();
  });
  s.on('end', () => (sawEnd = true));
  s.on('error', (e) => (error = e));
  const ended = new Promise<{ error?: NodeJS.ErrnoException; end: boolean }>((resolve) =>
    s.on('close', () => resolve(error ? { error, end: sawEnd } : { end: sawEnd })),
  );
  let consumed = 0;
  return {
    data: () => Buffer.concat(chunks),
    ended,
    next(n: number) {
      return new Promise<Buffer>((resolve, reject) => {
        const check = (): void => {
          const all = Buffer.concat(chunks);
          if (all.length - consumed >= n) {
            waiters = waiters.filter((w) => w !== check);
            const out = all.subarray(consumed, consumed + n);
            consumed += n;
            resolve(out);
          }
        };
        waiters.push(check);
        void ended.then(() =>
          reject(new Error(`socket closed after ${Buffer.concat(chunks).length - consumed} of ${n} bytes`)),
        );
        check();
      });
    },
  };
}

describe('FaultProxy (against a TCP echo server)', () => {
  let echo: Awaited<ReturnType<typeof startEcho>>;
  let proxy: FaultProxy;
  const clients: net.Socket[] = [];

  beforeEach(async () => {
    echo = await startEcho();
    proxy = await FaultProxy.start({ target: { host: '127.0.0.1', port: echo.port } });
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    await proxy.stop();
    await echo.close();
  });

  async function client(): Promise<{ socket: net.Socket; rec: ReturnType<typeof record> }> {
    const socket = await connect(proxy.port);
    clients.push(socket);
    return { socket, rec: record(socket) };
  }

  it('should forward bytes both ways without faults and count them', async () => {
    const { socket, rec } = await client();
    socket.write('hello');
    expect((await rec.next(5)).toString()).toBe('hello');
    expect(proxy.url).toBe(`http://127.0.0.1:${proxy.port}`);
    expect(proxy.stats()).toEqual({
      openConnections: 1,
      acceptedConnections: 1,
      upstreamBytes: 5,
      downstreamBytes: 5,
      discardedBytes: 0,
    });
  });

  it('should forward a half-close and close both sides', async () => {
    const { socket, rec } = await client();
    socket.end('bye');
    const result = await rec.ended;
    expect(rec.data().toString()).toBe('bye');
    expect(result).toEqual({ end: true });
  });

  it('should keep order and forward large payloads intact under latency and a bandwidth cap', async () => {
    proxy.setFault([
      { type: 'latency', ms: 20 },
      { type: 'bandwidth', bytesPerSecond: 4 << 20 },
    ]);
    const { socket, rec } = await client();
    const payload = Buffer.alloc(300_000, 0);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) % 251;
    socket.write(payload);
    expect((await rec.next(payload.length)).equals(payload)).toBe(true);
  });

  it('should delay delivery by at least the configured latency', async () => {
    proxy.setFault({ type: 'latency', ms: 150, direction: 'downstream' });
    const { socket, rec } = await client();
    const start = Date.now();
    socket.write('x');
    await rec.next(1);
    // A functional check of the fault, not a timing assertion: a lower bound that load cannot break.
    expect(Date.now() - start).toBeGreaterThanOrEqual(145);
  });

  it('should not deliver faster than the bandwidth cap', async () => {
    proxy.setFault({ type: 'bandwidth', bytesPerSecond: 50_000, direction: 'upstream' });
    const { socket, rec } = await client();
    const start = Date.now();
    socket.write(Buffer.alloc(10_000, 1));
    await rec.next(10_000);
    // 10 kB at 50 kB/s cannot arrive in less than 200 ms: a functional check of the fault, a lower bound that load cannot break.
    expect(Date.now() - start).toBeGreaterThanOrEqual(190);
  });

  it('should cut cleanly after exactly N bytes with how "close"', async () => {
    const { socket, rec } = await client();
    proxy.setFault({ type: 'cut-after', bytes: 5, direction: 'downstream', how: 'close' });
    socket.write('0123456789');
    const result = await rec.ended;
    expect(rec.data().toString()).toBe('01234');
    expect(result).toEqual({ end: true });
  });

  it('should cut with a TCP reset after N bytes by default', async () => {
    const { socket, rec } = await client();
    proxy.setFault({ type: 'cut-after', bytes: 3 });
    socket.write('abcdef');
    const result = await rec.ended;
    expect(result.error?.code).toBe('ECONNRESET');
    // Upstream received at most 3 bytes, so at most 3 came back.
    expect(rec.data().length).toBeLessThanOrEqual(3);
  });

  it('should reset current and new connections while the reset fault is set', async () => {
    const { socket, rec } = await client();
    socket.write('a');
    await rec.next(1);
    proxy.setFault({ type: 'reset' });
    expect((await rec.ended).error?.code).toBe('ECONNRESET');
    const second = net.connect({ host: '127.0.0.1', port: proxy.port });
    clients.push(second);
    expect((await record(second).ended).error?.code).toBe('ECONNRESET');
    proxy.clearFaults();
    const third = await client();
    third.socket.write('ok');
    expect((await third.rec.next(2)).toString()).toBe('ok');
  });

  it('should close current and new connections cleanly while the close fault is set', async () => {
    const { socket, rec } = await client();
    socket.write('a');
    await rec.next(1);
    proxy.setFault({ type: 'close' });
    expect(await rec.ended).toEqual({ end: true });
    const second = await client();
    expect(await second.rec.ended).toEqual({ end: true });
  });

  it('should silently discard traffic in a blackhole and keep the socket open', async () => {
    const { socket, rec } = await client();
    proxy.setFault({ type: 'blackhole', direction: 'downstream' });
    socket.write('lost');
    // The echo server sends "lost" back; wait until the proxy has discarded it.
    while (proxy.stats().discardedBytes < 4) await new Promise((r) => setImmediate(r));
    proxy.clearFaults();
    socket.write('kept');
    expect((await rec.next(4)).toString()).toBe('kept');
    expect(rec.data().toString()).toBe('kept');
    expect(socket.destroyed).toBe(false);
  });

  it('should drop all current connections but accept new ones', async () => {
    const a = await client();
    const b = await client();
    a.socket.write('1');
    b.socket.write('2');
    await Promise.all([a.rec.next(1), b.rec.next(1)]);
    proxy.dropConnections();
    expect((await a.rec.ended).error?.code).toBe('ECONNRESET');
    expect((await b.rec.ended).error?.code).toBe('ECONNRESET');
    const c = await client();
    c.socket.write('3');
    expect((await c.rec.next(1)).toString()).toBe('3');
  });

  it('should drop connections with a clean close when asked', async () => {
    const a = await client();
    a.socket.write('1');
    await a.rec.next(1);
    proxy.dropConnections('close');
    expect(await a.rec.ended).toEqual({ end: true });
  });

  it('should reset clients when the target is down', async () => {
    await echo.close();
    const s = net.connect({ host: '127.0.0.1', port: proxy.port });
    clients.push(s);
    const result = await record(s).ended;
    expect(result.error?.code).toBe('ECONNRESET');
  });

  it('should close every connection on stop and refuse new ones', async () => {
    const { rec } = await client();
    await proxy.stop();
    await rec.ended;
    const s = net.connect({ host: '127.0.0.1', port: proxy.port });
    const [err] = (await once(s, 'error')) as [NodeJS.ErrnoException];
    expect(err.code).toBe('ECONNREFUSED');
  });

  it('should send new connections to a new target after setTarget, keeping current ones', async () => {
    const other = net.createServer((s) => {
      s.on('error', () => {});
      s.end('other');
    });
    other.listen(0, '127.0.0.1');
    await once(other, 'listening');
    try {
      const before = await client();
      proxy.setTarget(`http://127.0.0.1:${(other.address() as net.AddressInfo).port}`);
      const after = await client();
      expect((await after.rec.next(5)).toString()).toBe('other');
      before.socket.write('still echo');
      expect((await before.rec.next(10)).toString()).toBe('still echo');
      expect(() => proxy.setTarget('nope')).toThrow(/FaultProxy.setTarget: target "nope" is not a valid URL/);
    } finally {
      await new Promise<void>((resolve) => other.close(() => resolve()));
    }
  });

  it('should reject invalid faults and targets with a clear error', async () => {
    expect(() => proxy.setFault({ type: 'latency', ms: -1 })).toThrow(/ms must be a finite number >= 0/);
    expect(() => proxy.setFault({ type: 'nope' } as never)).toThrow(/type must be one of/);
    expect(() => proxy.setFault({ type: 'blackhole', direction: 'sideways' } as never)).toThrow(/direction/);
    expect(() => proxy.dropConnections('gently' as never)).toThrow(/how must be/);
    await expect(FaultProxy.start({ target: 'not a url' })).rejects.toThrow(/not a valid URL/);
    await expect(FaultProxy.start({ target: { host: '127.0.0.1', port: 0 } })).rejects.toThrow(/port must be/);
    expect(proxy.faults).toEqual([]);
  });

  it('should support await using', async () => {
    let port: number;
    {
      await using p = await FaultProxy.start({ target: `http://127.0.0.1:${echo.port}/ignored` });
      port = p.port;
      expect(p.url).toBe(`http://127.0.0.1:${port}`);
    }
    const s = net.connect({ host: '127.0.0.1', port });
    const [err] = (await once(s, 'error')) as [NodeJS.ErrnoException];
    expect(err.code).toBe('ECONNREFUSED');
  });
});
