/**
 * Child side of a server process: starts a server, reports its port, answers
 * `cpu` (own process.cpuUsage(), user + system microseconds), `heap`
 * (heapUsed after a full GC), `stop`, and any extra commands the script
 * registers. Exits when the parent goes away.
 */
import type http2 from 'node:http2';
import type { ChildReply, ChildRequest } from './protocol.js';

/** A started server inside the child. */
export interface ChildServerHandle {
  port: number;
  stop(): Promise<void>;
  /** Extra IPC commands. */
  commands?: Record<string, (args: unknown) => unknown>;
}

/** Listens on a free port of 127.0.0.1; `stop()` closes every HTTP/2 session, then the server. */
export async function listenHttp2(server: http2.Http2Server): Promise<ChildServerHandle> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
  });
  return {
    port: address.port,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.close();
        server.close(() => resolve());
      }),
  };
}

function send(msg: ChildReply): void {
  process.send?.(msg);
}

/** Runs `start` and serves the IPC protocol until `stop` or parent exit. */
export function serveChild(start: () => Promise<ChildServerHandle>): void {
  if (!process.send) {
    process.stderr.write('this script is a bench server child; start it with child_process.fork\n');
    process.exit(2);
  }
  const gc = (globalThis as { gc?: () => void }).gc;
  start().then(
    (handle) => {
      let stopping = false;
      const stop = async (): Promise<void> => {
        if (stopping) return;
        stopping = true;
        // A server that does not drain in 5 s is left behind: the process exits anyway.
        await Promise.race([
          handle.stop().catch(() => undefined),
          new Promise((resolve) => setTimeout(resolve, 5_000).unref()),
        ]);
        process.disconnect?.();
        process.exit(0);
      };
      process.on('disconnect', () => void stop());
      process.on('message', (raw: ChildRequest) => {
        if (raw?.type !== 'request') return;
        const reply = (value?: unknown, error?: string): void => {
          const msg: ChildReply = { type: 'reply', id: raw.id };
          if (value !== undefined) msg.value = value;
          if (error !== undefined) msg.error = error;
          send(msg);
        };
        void (async () => {
          try {
            switch (raw.command) {
              case 'cpu': {
                const u = process.cpuUsage();
                reply(u.user + u.system);
                break;
              }
              case 'heap': {
                gc?.();
                gc?.();
                reply(process.memoryUsage().heapUsed);
                break;
              }
              case 'stop':
                reply(true);
                await stop();
                break;
              default: {
                const fn = handle.commands?.[raw.command];
                if (!fn) throw new Error(`unknown command ${raw.command}`);
                reply(await fn(raw.args));
              }
            }
          } catch (err) {
            reply(undefined, err instanceof Error ? (err.stack ?? err.message) : String(err));
          }
        })();
      });
      send({ type: 'ready', port: handle.port });
    },
    (err: unknown) => {
      send({ type: 'fatal', error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      process.exit(1);
    },
  );
}
