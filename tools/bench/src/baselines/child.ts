/**
 * Child side of a server process: starts a server, reports its port, answers
 * `cpu` (own process.cpuUsage(), user + system microseconds), `heap`
 * (heapUsed after a full GC), `stop`, and any extra commands the script
 * registers. Exits when the parent goes away.
 */
import type { ChildReply, ChildRequest } from './protocol.js';

/** A started server inside the child. */
export interface ChildServerHandle {
  port: number;
  stop(): Promise<void>;
  /** Extra IPC commands. */
  commands?: Record<string, (args: unknown) => unknown>;
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
