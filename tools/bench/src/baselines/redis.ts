/**
 * Redis baseline (parent side): starts the system `redis-server` on a free
 * loopback port with persistence off, and kills it afterwards. Redis cannot
 * listen on port 0 and report it, so this is the one place where a port is
 * picked by binding port 0 in node, closing, and passing it on.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { procStatCpu, type CpuSource } from '../cpu.js';

/** A running redis-server. */
export interface RedisProcess extends CpuSource {
  readonly port: number;
  readonly pid: number;
  readonly version: string;
  stop(): Promise<void>;
}

/** Path of redis-server on PATH, or null when it is not installed. */
export function findRedisServer(): string | null {
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Starts redis-server (path from {@link findRedisServer}) and waits until it accepts connections. */
export async function startRedis(binary: string): Promise<RedisProcess> {
  const version = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
  const port = await freePort();
  const child: ChildProcess = spawn(
    binary,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server did not start: ${out.slice(-500)}`));
    }, 15_000);
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (code ${code}): ${out.slice(-500)}`));
    });
  });
  const cpu = procStatCpu(child.pid!);
  return {
    port,
    pid: child.pid!,
    version,
    method: cpu.method,
    cpuUs: cpu.cpuUs,
    stop: async () => {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
