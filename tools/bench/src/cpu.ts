/**
 * CPU time sources: the bench process itself, a child that reports its own
 * `process.cpuUsage()` over IPC, or any pid through /proc/<pid>/stat.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Something whose cumulative CPU time (user + system, microseconds) can be read. */
export interface CpuSource {
  /** Cumulative CPU time in microseconds. */
  cpuUs(): Promise<number>;
  /** How the figure is obtained, for the report. */
  readonly method: 'self' | 'ipc' | 'procfs' | 'redis-info';
}

/** CPU time of the bench process itself. */
export const selfCpu: CpuSource = {
  method: 'self',
  cpuUs: () => {
    const u = process.cpuUsage();
    return Promise.resolve(u.user + u.system);
  },
};

let clockTicks: number | undefined;

/** Clock ticks per second of /proc/<pid>/stat (getconf CLK_TCK, 100 when unknown). */
export function clockTicksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/**
 * Parses utime + stime (fields 14 and 15) of a /proc/<pid>/stat line into
 * microseconds. The command name (field 2) may contain spaces and
 * parentheses, so fields are counted after its closing parenthesis.
 */
export function parseProcStat(line: string, ticksPerSecond: number): number {
  const close = line.lastIndexOf(')');
  if (close < 0) throw new Error(`unexpected /proc stat line: ${line.slice(0, 80)}`);
  const fields = line
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // fields[0] is field 3 (state); utime is field 14 -> index 11, stime index 12.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error('unexpected /proc stat fields');
  return ((utime + stime) * 1e6) / ticksPerSecond;
}

/** CPU time of any process by pid, from /proc (resolution 1/CLK_TCK, usually 10 ms). */
export function procStatCpu(pid: number): CpuSource {
  return {
    method: 'procfs',
    cpuUs: () => Promise.resolve(parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'), clockTicksPerSecond())),
  };
}

/**
 * Parses `used_cpu_user` + `used_cpu_sys` of a Redis `INFO cpu` reply into
 * microseconds (Redis reports seconds with microsecond precision, better
 * than /proc's clock ticks).
 */
export function parseRedisCpuInfo(info: string): number {
  const user = /used_cpu_user:([\d.]+)/.exec(info);
  const sys = /used_cpu_sys:([\d.]+)/.exec(info);
  if (!user || !sys) throw new Error('INFO cpu reply without used_cpu_user/used_cpu_sys');
  return Math.round((Number(user[1]) + Number(sys[1])) * 1e6);
}
