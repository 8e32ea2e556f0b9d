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
    ]) {
      expect(svg).toContain(title);
    }
    expect(svg).toContain('Test &lt;CPU&gt; &amp; &quot;Co&quot;');
    expect(svg).not.toMatch(/NaN|Infinity|undefined/);
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
