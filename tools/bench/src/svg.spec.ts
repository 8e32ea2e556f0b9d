import { esc, renderReportSvg } from './svg.js';
import { renderReport } from './report.js';
import { computeRatios, type BenchResults, type CaseResult } from './results.js';

/** Minimal XML well-formedness check: balanced tags, quoted attributes, escaped text. */
function assertWellFormed(xml: string): { root: string; elements: number } {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  let root = '';
  let elements = 0;
  const token = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  let m: RegExpExecArray | null;
  let pos = 0;
  while (pos < body.length) {
    token.lastIndex = pos;
    m = token.exec(body);
    if (!m) throw new Error(`not well-formed at ${pos}: ${body.slice(pos, pos + 60)}`);
    pos = token.lastIndex;
    const [, close, name, , selfClose, text] = m;
    if (text !== undefined) {
      if (/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(text)) throw new Error(`unescaped & in text: ${text}`);
      if (stack.length === 0 && text.trim() !== '') throw new Error('text outside the root element');
      continue;
    }
    if (close) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
    } else {
      elements++;
      if (stack.length === 0) {
        if (root) throw new Error('two root elements');
        root = name!;
      }
      if (!selfClose) stack.push(name!);
    }
  }
  if (stack.length > 0) throw new Error(`unclosed: ${stack.join(' ')}`);
  return { root, elements };
}

const c = (name: string, median: number, over: Partial<CaseResult> = {}): CaseResult => ({
  name,
  unit: 'us',
  median,
  p99: median * 2,
  opsPerSec: 1e6 / median,
  cpuUsPerOpClient: median / 2,
  cpuUsPerOpServer: median / 3,
  ratioToFloor: null,
  better: 'lower',
  group: 'baselines',
  ...over,
});

const results = (cases: CaseResult[]): BenchResults => ({
  machine: {
    cpuModel: 'Test <CPU> & "Co"',
    cores: 2,
    totalMemGiB: 24,
    node: '20.20.2',
    v8: '11',
    platform: 'linux',
    release: '6',
    arch: 'x64',
    loadavgStart: [0, 0, 0],
    loadavgEnd: [0, 0, 0],
    startedAt: '2025-01-01T00:00:00.000Z',
    durationS: 1,
    quick: false,
    redis: null,
    floorEndUs: null,
    floorDriftPct: null,
  },
  cases: computeRatios(cases),
  distributions: [
    {
      name: 'bridge.grpc.access8020.ttl',
      bins: [
        { lo: 1, hi: 2, count: 900 },
        { lo: 200, hi: 300, count: 20 },
      ],
    },
  ],
  notes: [],
});

describe('renderReportSvg', () => {
  it('should escape markup characters', () => {
    expect(esc('a<b & "c">')).toBe('a&lt;b &amp; &quot;c&quot;&gt;');
  });

  it('should produce a well-formed SVG document with the six panels', () => {
    const svg = renderReportSvg(
      results([
        c('floor.http2.unary', 100),
        c('baseline.grpcjs.unary', 200),
        c('baseline.connect.grpc.unary', 300),
        c('bridge.grpc.get.uncached', 350, { group: 'single' }),
        c('bridge.grpc.get.cached', 0.2, { group: 'single' }),
        c('bridge.grpc.batch.individual_100', 30, { unit: 'ms', group: 'batch' }),
        c('bridge.grpc.batch.update_100', 2, { unit: 'ms', group: 'batch' }),
        c('bridge.grpc.batch.get_10', 0.5, { unit: 'ms', group: 'batch' }),
        c('floor.http2.concurrent.w1', 200, { extra: { workers: 1 } }),
        c('floor.http2.concurrent.w10', 900, { extra: { workers: 10 } }),
        c('bridge.grpc.concurrent.w1', 700, { extra: { workers: 1 } }),
        c('bridge.grpc.concurrent.w10', 3000, { extra: { workers: 10 } }),
        c('store.get.n10', 200, { unit: 'ns', group: 'store' }),
        c('store.get.n1000000', 900, { unit: 'ns', group: 'store' }),
        c('store.get_hot.n10', 150, { unit: 'ns', group: 'store' }),
        c('store.get_hot.n1000000', 160, { unit: 'ns', group: 'store' }),
        c('tools.grpc.host.echo', 400, { group: 'tools' }),
        c('tools.grpc.worker.echo', 900, { group: 'tools', extra: { cpuUsPerOpWorker: 120 } }),
        c('tools.grpc.host.concurrent.w10', 2000, { group: 'tools', extra: { workers: 10 } }),
        c('tools.grpc.host.batch.sequential_50', 20, { unit: 'ms', group: 'tools', extra: { calls: 50 } }),
        c('tools.grpc.host.batch.call_many_50', 4, { unit: 'ms', group: 'tools', extra: { calls: 50 } }),
        c('tools.grpc.host.stream_10mib.throughput', 80, {
          unit: 'MB/s',
          better: 'higher',
          group: 'tools',
          p99: null,
          extra: { targetMBps: 50 },
        }),
        c('baseline.connect.grpc.stream_10mib.throughput', 120, { unit: 'MB/s', better: 'higher', group: 'tools' }),
      ]),
    );
    expect(svg.startsWith('<?xml')).toBe(true);
    const { root, elements } = assertWellFormed(svg);
    expect(root).toBe('svg');
    expect(elements).toBeGreaterThan(50);
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    for (const title of [
      'Single operations',
      'Access-time distribution',
      'Batch vs individual',
      'Concurrent scalability',
      'Server CPU per unary call',
      'Tool calls, 1 in flight',
      'Tool streaming, 10 MiB',
    ]) {
      expect(svg).toContain(title);
    }
    expect(svg).toContain('Test &lt;CPU&gt; &amp; &quot;Co&quot;');
    expect(svg).not.toMatch(/NaN|Infinity|undefined/);
    expect(svg).toContain('host tool (1 call per op)');
    expect(svg).toContain('store get, same 10 hot keys');
    expect(svg).toContain('seed target: 50');
    // 50 sequential calls in 20 ms: 400 µs per call.
    expect(svg).toContain('sequential, per call: 400');
  });

  it('should still be well-formed when a run has no cases', () => {
    const svg = renderReportSvg(results([]));
    assertWellFormed(svg);
    expect(svg).toContain('no data in this run');
  });

  it('should catch a broken document in its own checker', () => {
    expect(() => assertWellFormed('<svg><g></svg>')).toThrow();
    expect(() => assertWellFormed('<svg>a & b</svg>')).toThrow();
  });
});

describe('renderReport', () => {
  it('should state how connect-node server CPU compares with grpc-js', () => {
    const md = renderReport(
      results([
        c('floor.http2.unary', 100),
        c('baseline.grpcjs.unary', 200, { cpuUsPerOpServer: 50 }),
        c('baseline.connect.grpc.unary', 300, { cpuUsPerOpServer: 200 }),
        c('bridge.grpc.get.uncached', 400, { cpuUsPerOpServer: 260, group: 'single' }),
      ]),
    );
    expect(md).toContain("connect-node's server costs 4× grpc-js's CPU per unary call");
    expect(md).toContain('| `bridge.grpc.get.uncached` | us | 400 |');
    expect(md).toContain('![benchmark chart](report.svg)');
  });
});

describe('renderReport derived figures', () => {
  it('should give both store flatness ratios, labelled, against issue 4', () => {
    const md = renderReport(
      results([
        c('store.get.n10', 100, { unit: 'ns', group: 'store' }),
        c('store.get.n10000', 150, { unit: 'ns', group: 'store' }),
        c('store.get.n1000000', 300, { unit: 'ns', group: 'store' }),
        c('store.get_hot.n10', 100, { unit: 'ns', group: 'store' }),
        c('store.get_hot.n1000000', 110, { unit: 'ns', group: 'store' }),
        c('store.map_reference.n1000000', 250, { unit: 'ns', group: 'store' }),
      ]),
    );
    expect(md).toContain('random keys across the whole session');
    expect(md).toContain('**1,000,000/10 = ×3** (issue 4 asks ≤ ×1.2: not met)');
    expect(md).toContain('the same 10 hot keys');
    expect(md).toContain('**1,000,000/10 = ×1.1** (issue 4 asks ≤ ×1.2: met)');
    expect(md).toContain('plain Map with the same random keys and access order costs 250 ns');
  });

  it('should state the tool figures and whether the streaming target is met', () => {
    const rows = (mbps: number): CaseResult[] => [
      c('floor.http2.unary', 100),
      c('tools.grpc.worker.echo', 500, { group: 'tools', max: 2000, extra: { cpuUsPerOpWorker: 77 } }),
      c('tools.grpc.host.stream_10mib.throughput', mbps, {
        unit: 'MB/s',
        better: 'higher',
        group: 'tools',
        extra: { targetMBps: 50 },
      }),
      c('baseline.connect.grpc.stream_10mib.throughput', 100, { unit: 'MB/s', better: 'higher', group: 'tools' }),
      c('tools.grpc.host.batch.sequential_50', 20, { unit: 'ms', group: 'tools', extra: { calls: 50 } }),
      c('tools.grpc.host.batch.call_many_50', 4, { unit: 'ms', group: 'tools', extra: { calls: 50 } }),
    ];
    const met = renderReport(results(rows(80)));
    expect(met).toContain('max 2,000 µs, ×5 the floor');
    expect(met).toContain('worker 77 µs');
    expect(met).toContain('**80 MB/s** through the bridge vs 100 MB/s');
    expect(met).toContain('> 50 MB/s is **met**');
    expect(met).toContain('sequential 20 ms, one callMany 4 ms (speed-up ×5)');
    expect(met).toContain('| `tools.grpc.host.stream_10mib.throughput` | MB/s | 80 |');
    expect(renderReport(results(rows(40)))).toContain('> 50 MB/s is **NOT met**');
  });
});
