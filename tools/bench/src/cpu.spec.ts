import { parseProcStat, parseRedisCpuInfo, procStatCpu, selfCpu } from './cpu.js';

describe('cpu', () => {
  it('should read utime + stime from a /proc stat line whose name has spaces and parentheses', () => {
    const line = '1234 (node (x) y) S 1 1234 1234 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 11 0 100 1000 200';
    expect(parseProcStat(line, 100)).toBe(3_000_000);
    expect(() => parseProcStat('garbage', 100)).toThrow();
  });

  it('should read this process through /proc like any child', async () => {
    // Jest has spent far more than one clock tick (10 ms) of CPU in this process by now.
    const v = await procStatCpu(process.pid).cpuUs();
    expect(v).toBeGreaterThan(0);
    expect(await selfCpu.cpuUs()).toBeGreaterThan(0);
  });

  it('should parse Redis INFO cpu in microseconds', () => {
    const info = '# CPU\r\nused_cpu_sys:1.250000\r\nused_cpu_user:0.500001\r\nused_cpu_sys_children:0.000000\r\n';
    expect(parseRedisCpuInfo(info)).toBe(1_750_001);
    expect(() => parseRedisCpuInfo('# CPU\r\n')).toThrow();
  });
});
