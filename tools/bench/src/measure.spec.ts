import { measureBatched, measureConcurrent, measureSerial, toCase } from './measure.js';
import type { CpuSource } from './cpu.js';

const burn = (ms: number): void => {
  const end = process.cpuUsage().user + ms * 1000;
  while (process.cpuUsage().user < end) {
    /* spin */
  }
};

describe('measure', () => {
  it('should time every serial iteration and read the server source before and after', async () => {
    let reads = 0;
    const server: CpuSource = { method: 'ipc', cpuUs: () => Promise.resolve(++reads * 100) };
    let calls = 0;
    const m = await measureSerial(() => calls++, { iterations: 7, warmup: 3, server });
    expect(calls).toBe(10);
    expect(m.samplesUs).toHaveLength(7);
    expect(m.ops).toBe(7);
    expect(m.cpuServerUs).toBe(100);
  });

  it('should leave the prepare step out of the client CPU figure', async () => {
    const m = await measureSerial(() => undefined, { iterations: 4, prepare: () => burn(5) });
    // 4 x 5 ms of CPU were burnt in prepare; the operations themselves cost next to nothing.
    expect(m.cpuClientUs).toBeLessThan(10_000);
    expect(m.cpuServerUs).toBeNull();
  });

  it('should report per-call samples of batched loops', async () => {
    let calls = 0;
    const m = await measureBatched(() => calls++, { batches: 5, perBatch: 10, warmupBatches: 2 });
    expect(calls).toBe(70);
    expect(m.samplesUs).toHaveLength(5);
    expect(m.ops).toBe(50);
  });

  it('should run workers concurrently and keep one sample per call', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const m = await measureConcurrent(
      async () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight--;
      },
      { workers: 4, perWorker: 5 },
    );
    expect(maxInFlight).toBe(4);
    expect(m.samplesUs).toHaveLength(20);
    expect(m.ops).toBe(20);
  });

  it('should read a worker CPU source around the measured part and report it per operation', async () => {
    let serverReads = 0;
    let workerReads = 0;
    const server: CpuSource = { method: 'ipc', cpuUs: () => Promise.resolve(++serverReads * 100) };
    const worker: CpuSource = { method: 'ipc', cpuUs: () => Promise.resolve(++workerReads * 1000) };
    const m = await measureSerial(() => undefined, { iterations: 10, warmup: 2, server, worker });
    expect(workerReads).toBe(2);
    expect(m.cpuWorkerUs).toBe(1000);
    const c = toCase(m, { name: 'tools.grpc.worker.echo', group: 'tools', extra: { a: 1 } });
    expect(c.extra).toEqual({ a: 1, cpuUsPerOpWorker: 100 });
    const conc = await measureConcurrent(() => Promise.resolve(), { workers: 2, perWorker: 5, worker });
    expect(conc.cpuWorkerUs).toBe(1000);
    const none = await measureSerial(() => undefined, { iterations: 2 });
    expect(none.cpuWorkerUs).toBeUndefined();
    expect(toCase(none, { name: 'x', group: 'g' }).extra).toBeUndefined();
  });

  it('should report the largest sample as max, in the case unit', () => {
    const c = toCase(
      { samplesUs: [1, 5, 2, 3], ops: 4, wallUs: 11, cpuClientUs: 4, cpuServerUs: null },
      { name: 'x', group: 'g', unit: 'ms' },
    );
    expect(c.max).toBe(0.005);
    expect(c.median).toBe(0.0025);
  });
});
