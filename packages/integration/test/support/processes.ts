// Child processes of the tool specs (a Node tool worker, Python workers and clients): spawn,
// read their JSON lines from stdout, and make sure none outlives its test.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** A spawned helper process that speaks JSON lines on stdout and stops when its stdin closes. */
export interface HelperProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves with the first stdout JSON line whose `event` is `event` (rejects if the process exits first). */
  next<T = Record<string, unknown>>(event: string): Promise<T>;
  /** Every stdout JSON line so far. */
  readonly lines: ReadonlyArray<Record<string, unknown>>;
  /** What the process wrote to stderr so far (for failure messages). */
  stderr(): string;
  /** Resolves with the exit code (or signal) once the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Closes stdin (the helper exits by itself), SIGKILLs after `graceMs` (default 5000), waits for the exit. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<HelperProcess>();

/**
 * Spawns `command args` with stdin/stdout/stderr piped and tracks it; every helper still running
 * after a test is stopped in `afterEach` (register with {@link stopHelpersAfterEach}).
 */
export function spawnHelper(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): HelperProcess {
  const child = spawn(command, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: options.env ?? process.env,
    cwd: options.cwd,
  });
  const lines: Record<string, unknown>[] = [];
  const waiters: { event: string; resolve: (v: never) => void; reject: (e: Error) => void }[] = [];
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err = (err + d).slice(-20_000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (e) => {
      err += `\nspawn error: ${e.message}`;
      resolve({ code: -1, signal: null });
    });
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line) as Record<string, unknown>;
    } catch {
      msg = { event: 'text', text: line };
    }
    lines.push(msg);
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i]!;
      if (msg.event === w.event) {
        waiters.splice(i, 1);
        w.resolve(msg as never);
      }
    }
  });
  void exited.then(({ code, signal }) => {
    for (const w of waiters.splice(0)) {
      w.reject(new Error(`${command} exited (code ${code}, signal ${signal}) before '${w.event}'; stderr:\n${err}`));
    }
  });
  // Never let a broken pipe to a dead helper crash the test process.
  child.stdin!.on('error', () => undefined);
  const helper: HelperProcess = {
    child,
    pid: child.pid ?? -1,
    lines,
    exited,
    stderr: () => err,
    next<T>(event: string): Promise<T> {
      const seen = lines.find((l) => l.event === event);
      if (seen) return Promise.resolve(seen as T);
      if (child.exitCode !== null || child.signalCode !== null) {
        return Promise.reject(new Error(`${command} has exited before '${event}'; stderr:\n${err}`));
      }
      return new Promise<T>((resolve, reject) =>
        waiters.push({ event, resolve: resolve as (v: never) => void, reject }),
      );
    },
    async stop(graceMs = 5000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.stdin!.end();
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        try {
          await exited;
        } finally {
          clearTimeout(timer);
        }
      }
      running.delete(helper);
      return exited;
    },
  };
  running.add(helper);
  void exited.then(() => running.delete(helper));
  return helper;
}

/** Stops every helper process still running after each test of the file. */
export function stopHelpersAfterEach(): void {
  afterEach(async () => {
    await Promise.all([...running].map((h) => h.stop()));
  });
}
