/**
 * Hand-written SVG chart of a run: a grid of panels (bar charts, histograms,
 * line charts) with log or linear axes. No chart library.
 */
import type { BenchResults, CaseResult } from './results.js';
import { toUs, isTimeUnit } from './results.js';

/** Escapes text for SVG content and attribute values. */
export function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A bar of a bar chart. */
export interface Bar {
  label: string;
  value: number;
  /** Optional whisker (p99). */
  high?: number;
  color: string;
}

/** A series of a line chart. */
export interface Series {
  name: string;
  color: string;
  points: { x: number; y: number; label?: string }[];
  dashed?: boolean;
}

/** A series of a histogram (bins share no edges across series). */
export interface HistSeries {
  name: string;
  color: string;
  bins: { lo: number; hi: number; count: number }[];
}

/** Panel geometry. */
interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

const FONT = 'font-family="Helvetica, Arial, sans-serif"';
const PAD = { left: 64, right: 16, top: 34, bottom: 70 };

/** A duration in microseconds as a short label (`850 µs`, `2.4 ms`, `1.2 s`). */
export function fmtDuration(us: number): string {
  if (!Number.isFinite(us)) return '';
  if (us >= 1e6) return `${+(us / 1e6).toPrecision(2)} s`;
  if (us >= 1e3) return `${+(us / 1e3).toPrecision(2)} ms`;
  return `${+us.toPrecision(2)} µs`;
}

/** Short number format for axis ticks and labels. */
export function fmtNum(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
  if (a >= 1) return `${+v.toPrecision(3)}`;
  return `${+v.toPrecision(2)}`;
}

interface Scale {
  map(v: number): number;
  ticks: number[];
}

function linearScale(min: number, max: number, from: number, to: number): Scale {
  const hi = max > min ? max : min + 1;
  const step = niceStep((hi - min) / 5);
  const top = Math.ceil(hi / step) * step;
  const bottom = Math.floor(min / step) * step;
  const ticks: number[] = [];
  for (let t = bottom; t <= top + step / 2; t += step) ticks.push(+t.toPrecision(12));
  return { map: (v) => from + ((v - bottom) / (top - bottom)) * (to - from), ticks };
}

function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

function logScale(min: number, max: number, from: number, to: number): Scale {
  const lo = Math.floor(Math.log10(Math.max(min, 1e-12)));
  const hiRaw = Math.ceil(Math.log10(Math.max(max, min * 10, 1e-12)));
  const hi = hiRaw > lo ? hiRaw : lo + 1;
  const ticks: number[] = [];
  for (let e = lo; e <= hi; e++) ticks.push(10 ** e);
  return {
    map: (v) => from + ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * (to - from),
    ticks,
  };
}

function frame(box: Box, title: string, yLabel: string): string {
  return [
    `<rect x="${box.x}" y="${box.y}" width="${box.w}" height="${box.h}" fill="#ffffff" stroke="#d0d7de"/>`,
    `<text x="${box.x + box.w / 2}" y="${box.y + 20}" text-anchor="middle" font-size="14" font-weight="bold" ${FONT}>${esc(title)}</text>`,
    `<text transform="translate(${box.x + 14},${box.y + box.h / 2}) rotate(-90)" text-anchor="middle" font-size="11" fill="#444" ${FONT}>${esc(yLabel)}</text>`,
  ].join('\n');
}

function yAxis(box: Box, scale: Scale): string {
  const x0 = box.x + PAD.left;
  const x1 = box.x + box.w - PAD.right;
  return scale.ticks
    .map((t) => {
      const y = scale.map(t).toFixed(1);
      return `<line x1="${x0}" y1="${y}" x2="${x1}" y2="${y}" stroke="#eee"/><text x="${x0 - 4}" y="${y}" dy="3" text-anchor="end" font-size="10" fill="#555" ${FONT}>${esc(fmtNum(t))}</text>`;
    })
    .join('\n');
}

function empty(box: Box, title: string): string {
  return `${frame(box, title, '')}\n<text x="${box.x + box.w / 2}" y="${box.y + box.h / 2}" text-anchor="middle" font-size="12" fill="#888" ${FONT}>no data in this run</text>`;
}

/** A bar chart panel; `log` uses a log10 value axis. */
export function barPanel(box: Box, title: string, yLabel: string, bars: Bar[], { log }: { log: boolean }): string {
  const shown = bars.filter((b) => Number.isFinite(b.value) && (!log || b.value > 0));
  if (shown.length === 0) return empty(box, title);
  const top = box.y + PAD.top;
  const bottom = box.y + box.h - PAD.bottom;
  const values = shown.flatMap((b) => (b.high !== undefined ? [b.value, b.high] : [b.value]));
  const scale = log
    ? logScale(Math.min(...values), Math.max(...values), bottom, top)
    : linearScale(0, Math.max(...values), bottom, top);
  const x0 = box.x + PAD.left;
  const slot = (box.w - PAD.left - PAD.right) / shown.length;
  const bw = Math.min(48, slot * 0.6);
  const parts = [frame(box, title, yLabel), yAxis(box, scale)];
  const base = log ? bottom : scale.map(0);
  shown.forEach((b, i) => {
    const cx = x0 + slot * (i + 0.5);
    const y = scale.map(b.value);
    parts.push(
      `<rect x="${(cx - bw / 2).toFixed(1)}" y="${Math.min(y, base).toFixed(1)}" width="${bw.toFixed(1)}" height="${Math.abs(base - y).toFixed(1)}" fill="${b.color}"><title>${esc(`${b.label}: ${fmtNum(b.value)}`)}</title></rect>`,
    );
    if (b.high !== undefined && b.high > 0) {
      const yh = scale.map(b.high).toFixed(1);
      parts.push(
        `<line x1="${cx}" y1="${y.toFixed(1)}" x2="${cx}" y2="${yh}" stroke="#333"/><line x1="${cx - 5}" y1="${yh}" x2="${cx + 5}" y2="${yh}" stroke="#333"/>`,
      );
    }
    parts.push(
      `<text x="${cx}" y="${(Math.min(y, base) - 3).toFixed(1)}" text-anchor="middle" font-size="10" ${FONT}>${esc(fmtNum(b.value))}</text>`,
      `<text transform="translate(${cx + 4},${bottom + 12}) rotate(-30)" text-anchor="end" font-size="10" fill="#333" ${FONT}>${esc(b.label)}</text>`,
    );
  });
  return parts.join('\n');
}

function legend(
  box: Box,
  items: { name: string; color: string; dashed?: boolean }[],
  side: 'left' | 'right' = 'right',
): string {
  return items
    .map((it, i) => {
      const y = box.y + PAD.top + 6 + i * 14;
      const x = side === 'right' ? box.x + box.w - PAD.right - 150 : box.x + PAD.left + 10;
      return `<line x1="${x}" y1="${y}" x2="${x + 18}" y2="${y}" stroke="${it.color}" stroke-width="3"${it.dashed ? ' stroke-dasharray="4 3"' : ''}/><text x="${x + 22}" y="${y + 4}" font-size="10" ${FONT}>${esc(it.name)}</text>`;
    })
    .join('\n');
}

/** A line chart panel with optional log axes. */
export function linePanel(
  box: Box,
  title: string,
  xLabel: string,
  yLabel: string,
  series: Series[],
  opts: { xLog?: boolean; yLog?: boolean; legend?: 'left' | 'right' } = {},
): string {
  const pts = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  if (pts.length === 0) return empty(box, title);
  const top = box.y + PAD.top;
  const bottom = box.y + box.h - PAD.bottom + 20;
  const left = box.x + PAD.left;
  const right = box.x + box.w - PAD.right;
  const xs = pts.map((p) => p.x);
  const ys = pts.map((p) => p.y);
  const sx = opts.xLog
    ? logScale(Math.min(...xs), Math.max(...xs), left, right)
    : linearScale(0, Math.max(...xs), left, right);
  const sy = opts.yLog
    ? logScale(Math.min(...ys), Math.max(...ys), bottom, top)
    : linearScale(0, Math.max(...ys), bottom, top);
  const parts = [frame(box, title, yLabel), yAxis({ ...box, h: box.h + 20 }, sy)];
  for (const t of sx.ticks) {
    const x = sx.map(t).toFixed(1);
    parts.push(
      `<line x1="${x}" y1="${bottom}" x2="${x}" y2="${bottom + 4}" stroke="#555"/><text x="${x}" y="${bottom + 15}" text-anchor="middle" font-size="10" fill="#555" ${FONT}>${esc(fmtNum(t))}</text>`,
    );
  }
  parts.push(
    `<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="#555"/>`,
    `<text x="${(left + right) / 2}" y="${bottom + 32}" text-anchor="middle" font-size="11" fill="#444" ${FONT}>${esc(xLabel)}</text>`,
  );
  for (const s of series) {
    const p = s.points.filter((q) => Number.isFinite(q.x) && Number.isFinite(q.y));
    if (p.length === 0) continue;
    const d = p.map((q, i) => `${i === 0 ? 'M' : 'L'}${sx.map(q.x).toFixed(1)},${sy.map(q.y).toFixed(1)}`).join(' ');
    parts.push(
      `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 4"' : ''}/>`,
    );
    for (const q of p) {
      parts.push(
        `<circle cx="${sx.map(q.x).toFixed(1)}" cy="${sy.map(q.y).toFixed(1)}" r="3" fill="${s.color}"><title>${esc(`${s.name} @ ${fmtNum(q.x)}: ${fmtNum(q.y)}`)}</title></circle>`,
      );
      if (q.label) {
        parts.push(
          `<text x="${sx.map(q.x).toFixed(1)}" y="${(sy.map(q.y) - 6).toFixed(1)}" text-anchor="middle" font-size="9" fill="${s.color}" ${FONT}>${esc(q.label)}</text>`,
        );
      }
    }
  }
  parts.push(legend(box, series, opts.legend));
  return parts.join('\n');
}

/** A histogram panel with a log10 time axis; series are drawn as outlined steps. */
export function histogramPanel(box: Box, title: string, xLabel: string, series: HistSeries[]): string {
  const all = series.flatMap((s) => s.bins);
  if (all.length === 0) return empty(box, title);
  const top = box.y + PAD.top;
  const bottom = box.y + box.h - PAD.bottom + 20;
  const left = box.x + PAD.left;
  const right = box.x + box.w - PAD.right;
  const sx = logScale(Math.min(...all.map((b) => b.lo)), Math.max(...all.map((b) => b.hi)), left, right);
  const sy = linearScale(0, Math.max(...all.map((b) => b.count)), bottom, top);
  const parts = [frame(box, title, 'count'), yAxis({ ...box, h: box.h + 20 }, sy)];
  for (const t of sx.ticks) {
    const x = sx.map(t).toFixed(1);
    parts.push(
      `<line x1="${x}" y1="${bottom}" x2="${x}" y2="${bottom + 4}" stroke="#555"/><text x="${x}" y="${bottom + 15}" text-anchor="middle" font-size="10" fill="#555" ${FONT}>${esc(fmtNum(t))}</text>`,
    );
  }
  parts.push(
    `<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="#555"/>`,
    `<text x="${(left + right) / 2}" y="${bottom + 32}" text-anchor="middle" font-size="11" fill="#444" ${FONT}>${esc(xLabel)}</text>`,
  );
  for (const s of series) {
    for (const b of s.bins) {
      if (b.count === 0) continue;
      const x = sx.map(b.lo);
      const w = Math.max(1, sx.map(b.hi) - x);
      const y = sy.map(b.count);
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${w.toFixed(1)}" height="${(bottom - y).toFixed(1)}" fill="${s.color}" fill-opacity="0.45" stroke="${s.color}"><title>${esc(`${s.name}: ${fmtNum(b.lo)}–${fmtNum(b.hi)} µs: ${b.count}`)}</title></rect>`,
      );
    }
  }
  parts.push(legend(box, series));
  return parts.join('\n');
}

const COLORS = {
  floor: '#6e7781',
  baseline: '#9a6700',
  grpcjs: '#bf8700',
  connect: '#cf222e',
  bridge: '#0969da',
  bridge2: '#8250df',
  redis: '#1a7f37',
  tool: '#bc4c00',
  target: '#d0d7de',
};

const us = (c: CaseResult | undefined): number => (c && isTimeUnit(c.unit) ? toUs(c.median, c.unit) : NaN);
const usP99 = (c: CaseResult | undefined): number | undefined =>
  c && c.p99 !== null && isTimeUnit(c.unit) ? toUs(c.p99, c.unit) : undefined;

/** Builds the whole chart (eight panels, 4 rows of 2) of a run. */
export function renderReportSvg(results: BenchResults): string {
  const W = 600;
  const H = 380;
  const cols = 2;
  const header = 50;
  const byName = new Map(results.cases.map((c) => [c.name, c]));
  const get = (n: string): CaseResult | undefined => byName.get(n);
  const box = (i: number): Box => ({
    x: (i % cols) * W + 10,
    y: header + Math.floor(i / cols) * H + 10,
    w: W - 20,
    h: H - 20,
  });
  const bar = (label: string, name: string, color: string): Bar => {
    const c = get(name);
    const b: Bar = { label, value: us(c), color };
    const h = usP99(c);
    if (h !== undefined) b.high = h;
    return b;
  };

  const panels: string[] = [];
  // 1. Single operations (median, p99 whiskers), log scale.
  panels.push(
    barPanel(
      box(0),
      'Single operations, 1 in flight (median, p99 whisker)',
      'µs per operation (log)',
      [
        bar('raw HTTP/2 (floor)', 'floor.http2.unary', COLORS.floor),
        bar('grpc-js echo', 'baseline.grpcjs.unary', COLORS.grpcjs),
        bar('connect-node echo', 'baseline.connect.grpc.unary', COLORS.connect),
        bar('redis GET', 'baseline.redis.get', COLORS.redis),
        bar('register', 'bridge.grpc.register', COLORS.bridge),
        bar('get uncached', 'bridge.grpc.get.uncached', COLORS.bridge),
        bar('get cached', 'bridge.grpc.get.cached', COLORS.bridge),
        bar('update', 'bridge.grpc.update', COLORS.bridge),
      ],
      { log: true },
    ),
  );
  // 2. Access-time distribution of the 80/20 pattern.
  const dist = (name: string): HistSeries['bins'] => results.distributions.find((d) => d.name === name)?.bins ?? [];
  panels.push(
    histogramPanel(box(1), 'Access-time distribution, 80/20 pattern', 'µs per access (log)', [
      { name: 'TTL cache', color: COLORS.bridge, bins: dist('bridge.grpc.access8020.ttl') },
      { name: 'watch cache', color: COLORS.connect, bins: dist('bridge.grpc.access8020.watch') },
    ]),
  );
  // 3. Batch vs individual.
  const ms = (name: string): number => us(get(name)) / 1e3;
  panels.push(
    barPanel(
      box(2),
      'Batch vs individual (time per call)',
      'ms (log)',
      [
        { label: '100 single updates', value: ms('bridge.grpc.batch.individual_100'), color: COLORS.bridge2 },
        { label: '1 batch of 100', value: ms('bridge.grpc.batch.update_100'), color: COLORS.bridge },
        ...results.cases
          .filter((c) => /^bridge\.grpc\.batch\.get_\d+$/.test(c.name))
          .map((c) => ({ label: `batch get ${c.name.split('_')[1]}`, value: us(c) / 1e3, color: COLORS.bridge })),
      ],
      { log: true },
    ),
  );
  // 4. Concurrent scalability.
  const conc = (prefix: string): Series['points'] =>
    results.cases
      .filter((c) => c.name.startsWith(prefix))
      .map((c) => ({ x: Number(c.extra?.['workers'] ?? NaN), y: c.opsPerSec ?? NaN, label: fmtDuration(us(c)) }))
      .sort((a, b) => a.x - b.x);
  panels.push(
    linePanel(
      box(3),
      'Concurrent scalability (get+set per op; label = median latency)',
      'concurrent workers',
      'operations per second',
      [
        { name: 'bridge (grpc)', color: COLORS.bridge, points: conc('bridge.grpc.concurrent.w') },
        { name: 'raw HTTP/2 floor', color: COLORS.floor, points: conc('floor.http2.concurrent.w'), dashed: true },
        { name: 'host tool (1 call per op)', color: COLORS.tool, points: conc('tools.grpc.host.concurrent.w') },
      ],
      { xLog: true, yLog: true, legend: 'left' },
    ),
  );
  // 5. Server CPU per unary call: makes the framework's cost visible.
  const cpu = (label: string, name: string, color: string): Bar => ({
    label,
    value: get(name)?.cpuUsPerOpServer ?? NaN,
    color,
  });
  panels.push(
    barPanel(
      box(4),
      'Server CPU per unary call (user + system)',
      'µs CPU per call',
      [
        cpu('raw HTTP/2 (floor)', 'floor.http2.unary', COLORS.floor),
        cpu('grpc-js', 'baseline.grpcjs.unary', COLORS.grpcjs),
        cpu('connect-node (grpc)', 'baseline.connect.grpc.unary', COLORS.connect),
        cpu('connect-node (connect)', 'baseline.connect.connect.unary', COLORS.connect),
        cpu('bridge get (grpc)', 'bridge.grpc.get.uncached', COLORS.bridge),
        cpu('bridge get (connect)', 'bridge.connect.get.uncached', COLORS.bridge),
        cpu('redis GET', 'baseline.redis.get', COLORS.redis),
      ],
      { log: false },
    ),
  );
  // 6. Store scale: get/update per op vs session size (should stay flat).
  const scale = (op: string): Series['points'] =>
    results.cases
      .filter((c) => new RegExp(`^store\\.${op}\\.n\\d+$`).test(c.name))
      .map((c) => ({ x: Number(c.name.split('.n')[1]), y: us(c) * 1e3 }))
      .sort((a, b) => a.x - b.x);
  panels.push(
    linePanel(
      box(5),
      'In-process store: time per op vs variables in session',
      'variables in the session',
      'ns per operation (log)',
      [
        { name: 'store get, random keys', color: COLORS.bridge, points: scale('get') },
        { name: 'store get, same 10 hot keys', color: COLORS.tool, points: scale('get_hot') },
        { name: 'store update', color: COLORS.bridge2, points: scale('update') },
        { name: 'plain Map get (reference)', color: COLORS.floor, points: scale('map_reference'), dashed: true },
      ],
      { xLog: true, yLog: true, legend: 'left' },
    ),
  );

  // 7. Tool calls, 1 in flight: echo of a host tool and of a worker tool, and the batch per call.
  const perCall = (name: string): number => {
    const c = get(name);
    const calls = Number(c?.extra?.['calls'] ?? NaN);
    return us(c) / calls;
  };
  const batchName = (kind: string): string =>
    results.cases.find((c) => new RegExp(`^tools\\.grpc\\.host\\.batch\\.${kind}_\\d+$`).test(c.name))?.name ?? '';
  panels.push(
    barPanel(
      box(6),
      'Tool calls, 1 in flight (median, p99 whisker)',
      'µs per call (log)',
      [
        bar('raw HTTP/2 (floor)', 'floor.http2.unary', COLORS.floor),
        bar('host tool echo', 'tools.grpc.host.echo', COLORS.bridge),
        bar('worker tool echo', 'tools.grpc.worker.echo', COLORS.bridge2),
        { label: 'sequential, per call', value: perCall(batchName('sequential')), color: COLORS.tool },
        { label: 'callMany, per call', value: perCall(batchName('call_many')), color: COLORS.tool },
      ],
      { log: true },
    ),
  );
  // 8. Streaming throughput of 10 MiB in 64 KiB binary chunks, against the bare framework and the seed's target.
  const mbps = (name: string): number => {
    const c = get(name);
    return c && c.unit === 'MB/s' ? c.median : NaN;
  };
  const streamed = get('tools.grpc.host.stream_10mib.throughput');
  panels.push(
    barPanel(
      box(7),
      'Tool streaming, 10 MiB in 64 KiB uint8 chunks',
      'MB/s (10^6 bytes/s; higher is better)',
      [
        { label: 'bridge stream tool', value: mbps('tools.grpc.host.stream_10mib.throughput'), color: COLORS.bridge },
        {
          label: 'bare connect-node',
          value: mbps('baseline.connect.grpc.stream_10mib.throughput'),
          color: COLORS.connect,
        },
        ...(streamed
          ? [{ label: 'seed target', value: Number(streamed.extra?.['targetMBps'] ?? 50), color: COLORS.target }]
          : []),
      ],
      { log: false },
    ),
  );

  const rows = Math.ceil(panels.length / cols);
  const width = cols * W;
  const height = header + rows * H + 10;
  const m = results.machine;
  const subtitle = `${m.cpuModel} · ${m.cores} cores · node ${m.node} · ${m.startedAt}${m.quick ? ' · QUICK RUN (not comparable)' : ''}`;
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="${width}" height="${height}" fill="#f6f8fa"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="18" font-weight="bold" ${FONT}>unified-bridge benchmarks</text>`,
    `<text x="${width / 2}" y="42" text-anchor="middle" font-size="11" fill="#555" ${FONT}>${esc(subtitle)}</text>`,
    ...panels,
    `</svg>`,
    '',
  ].join('\n');
}
