import { CHUNK, CHUNK_BYTES, STREAM_BYTES, STREAM_CHUNKS, chunkSizes } from './baselines/tool-payload.js';
import type { CaseResult } from './results.js';
import { mbPerSec, throughputCase } from './throughput.js';

const time = (median: number, max: number): CaseResult => ({
  name: 'tools.grpc.host.stream_10mib',
  unit: 'ms',
  median,
  p99: max,
  max,
  opsPerSec: 1000 / median,
  cpuUsPerOpClient: 1,
  cpuUsPerOpServer: 1,
  ratioToFloor: null,
  better: 'lower',
  group: 'tools',
  protocol: 'grpc',
});

describe('throughput', () => {
  it('should convert bytes per millisecond to MB/s (10^6 bytes per second)', () => {
    expect(mbPerSec(50_000_000, 1000)).toBe(50);
    expect(mbPerSec(STREAM_BYTES, 100)).toBeCloseTo(104.8576, 6);
  });

  it('should derive a higher-is-better MB/s case with the worst stream from the max time', () => {
    const t = throughputCase(time(100, 200), STREAM_BYTES, { targetMBps: 50 });
    expect(t.name).toBe('tools.grpc.host.stream_10mib.throughput');
    expect(t.unit).toBe('MB/s');
    expect(t.better).toBe('higher');
    expect(t.median).toBeCloseTo(104.8576, 6);
    expect(t.extra?.['worstMBps']).toBeCloseTo(52.4288, 6);
    expect(t.extra?.['MiBps']).toBeCloseTo(100, 6);
    expect(t.extra?.['targetMBps']).toBe(50);
    expect(t.ratioToFloor).toBeNull();
  });

  it('should refuse a time case that is not in ms', () => {
    expect(() => throughputCase({ ...time(1, 1), unit: 'us' }, 1)).toThrow(TypeError);
  });
});

describe('tool payload', () => {
  it('should split 10 MiB into 160 chunks of 64 KiB', () => {
    const sizes = chunkSizes(STREAM_BYTES, CHUNK_BYTES);
    expect(sizes).toHaveLength(STREAM_CHUNKS);
    expect(STREAM_CHUNKS).toBe(160);
    expect(new Set(sizes)).toEqual(new Set([65_536]));
    expect(CHUNK.byteLength).toBe(CHUNK_BYTES);
  });

  it('should end with a short chunk and refuse bad sizes', () => {
    expect(chunkSizes(10, 4)).toEqual([4, 4, 2]);
    expect(chunkSizes(0, 4)).toEqual([]);
    expect(() => chunkSizes(-1, 4)).toThrow(RangeError);
    expect(() => chunkSizes(10, 0)).toThrow(RangeError);
    expect(() => chunkSizes(10, CHUNK_BYTES + 1)).toThrow(RangeError);
    expect(() => chunkSizes(Number.NaN, 4)).toThrow(RangeError);
  });
});
