import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

// Children started by this process, with their temp dirs. While any is alive, hooks on
// `exit`, SIGINT, SIGTERM and SIGHUP kill them (SIGKILL) and remove the temp dirs, so no
// child outlives the test process. The signal hooks re-raise the signal when no other
// listener handles it, so the default behaviour (the process ends) is kept.

const live = new Map<ChildProcess, string | undefined>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let installed = false;

function killAll(): void {
  for (const [child, tempDir] of live) {
    try {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    } catch {
      // Already gone.
    }
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  }
  live.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  killAll();
  uninstall();
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAll);
  for (const s of SIGNALS) process.on(s, onSignal);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  process.off('exit', killAll);
  for (const s of SIGNALS) process.off(s, onSignal);
}

/** Kills `child` (and removes `tempDir`) if this process exits while the child is still alive. */
export function trackChild(child: ChildProcess, tempDir?: string): void {
  live.set(child, tempDir);
  install();
}

/** Stops tracking `child` (it exited and its temp dir is handled by the caller). */
export function untrackChild(child: ChildProcess): void {
  live.delete(child);
  if (live.size === 0) uninstall();
}
