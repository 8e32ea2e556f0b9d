/**
 * Parent side of a server child process: forks one of the scripts in
 * baselines/, waits for its `ready` message (the port it listens on, port 0
 * chosen by the OS), and talks to it over the IPC channel (CPU usage, heap,
 * custom commands, stop).
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { CpuSource } from './cpu.js';
import type { ChildReply, ChildRequest } from './baselines/protocol.js';

/** A running server child. */
export interface ChildServer extends CpuSource {
  /** Port the child listens on (127.0.0.1). */
  readonly port: number;
  /** Process id, for /proc accounting. */
  readonly pid: number;
  /** Sends a command and resolves with the child's answer. */
  request(command: string, args?: unknown): Promise<unknown>;
  /** Heap used by the child after a full GC, bytes. */
  heapUsed(): Promise<number>;
  /** Stops the server and waits for the process to exit. */
  stop(): Promise<void>;
}

/** Options of {@link startChild}. */
export interface StartChildOptions {
  /** Arguments passed to the script (available as process.argv.slice(2)). */
  args?: string[];
  /** Old-space limit of the child, MiB. Default 4096. */
  maxOldSpaceMiB?: number;
  /** Time allowed until `ready`, ms. Default 30 000. */
  readyTimeoutMs?: number;
}

/**
 * Forks a server script (an absolute path or file URL of a built baselines/*.js)
 * and resolves once it reports it is listening.
 */
export async function startChild(script: string | URL, options: StartChildOptions = {}): Promise<ChildServer> {
  const child: ChildProcess = fork(script, options.args ?? [], {
    execArgv: ['--expose-gc', `--max-old-space-size=${options.maxOldSpaceMiB ?? 4096}`],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      for (const p of pending.values()) p.reject(new Error(`server child exited (code ${code}, signal ${signal})`));
      pending.clear();
      resolve();
    });
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server child ${String(script)} did not report ready in time`));
    }, options.readyTimeoutMs ?? 30_000);
    const onMessage = (msg: ChildReply): void => {
      if (msg.type === 'ready') {
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve(msg.port);
      } else if (msg.type === 'fatal') {
        clearTimeout(timer);
        reject(new Error(`server child failed to start: ${msg.error}`));
      }
    };
    child.on('message', onMessage);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server child ${String(script)} exited before ready (code ${code})`));
    });
  });
  child.on('message', (msg: ChildReply) => {
    if (msg.type !== 'reply') return;
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.error !== undefined) p.reject(new Error(msg.error));
    else p.resolve(msg.value);
  });
  const request = (command: string, args?: unknown): Promise<unknown> => {
    if (exited) return Promise.reject(new Error('server child has exited'));
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      const msg: ChildRequest = { type: 'request', id, command, args };
      child.send(msg);
    });
  };
  return {
    port,
    pid: child.pid!,
    method: 'ipc',
    request,
    cpuUs: async () => (await request('cpu')) as number,
    heapUsed: async () => (await request('heap')) as number,
    stop: async () => {
      if (exited) return;
      const killTimer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      try {
        await request('stop').catch(() => undefined);
      } finally {
        await exitPromise;
        clearTimeout(killTimer);
      }
    },
  };
}
