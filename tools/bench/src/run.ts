/**
 * `npm run bench [-- --quick] [--out DIR] [--only SUITE,...]`: runs the
 * suites, prints progress on stderr, writes results.json, REPORT.md and
 * report.svg into bench-results/ at the repository root.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseRunArgs } from './args.js';
import { FULL, QUICK, fmtFigure, fmtUs, type BenchContext } from './context.js';
import { renderReport } from './report.js';
import { FLOOR_CASE, computeRatios, type BenchResults, type CaseResult, type Distribution } from './results.js';
import { renderReportSvg } from './svg.js';
import { remeasureFloor, runBaselines, runRedis } from './suites/baselines.js';
import { SUITE_NAMES, isKnownCase } from './catalog.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** Repository root (dist/ -> tools/bench -> tools -> root). */
const ROOT = path.resolve(HERE, '..', '..', '..');

const HELP = `usage: npm run bench -- [--quick] [--out DIR] [--only SUITE[,SUITE]]
  --quick   small sizes, under a minute (development; not comparable with a full run)
  --out     output folder (default: <repo>/bench-results)
  --only    run only these suites: ${SUITE_NAMES.join(', ')}`;

type Suite = (ctx: BenchContext, info: { redis: string | null }) => Promise<string | void>;

async function loadSuites(): Promise<Record<(typeof SUITE_NAMES)[number], Suite>> {
  return {
    baselines: (ctx) => runBaselines(ctx),
    redis: async (ctx, info) => {
      info.redis = await runRedis(ctx);
      if (info.redis === null) return 'skipped: redis-server is not on PATH';
    },
    bridge: async (ctx) => (await import('./suites/bridge.js')).runBridge(ctx),
    tools: async (ctx) => (await import('./suites/tools.js')).runTools(ctx),
    types: async (ctx) => (await import('./suites/types.js')).runTypes(ctx),
    store: async (ctx) => (await import('./suites/store.js')).runStore(ctx),
  };
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseRunArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${HELP}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const unknown = (args.only ?? []).filter((s) => !(SUITE_NAMES as readonly string[]).includes(s));
  if (unknown.length > 0) {
    process.stderr.write(`unknown suite(s) ${unknown.join(', ')}; known: ${SUITE_NAMES.join(', ')}\n`);
    return 2;
  }
  if (typeof (globalThis as { gc?: unknown }).gc !== 'function') {
    process.stderr.write('warning: run with node --expose-gc (npm run bench does) for heap figures\n');
  }
  const config = args.quick ? QUICK : FULL;
  const outDir = path.resolve(args.out ?? path.join(ROOT, 'bench-results'));
  const started = Date.now();
  const startedAt = new Date(started).toISOString();
  const loadavgStart = os.loadavg();
  const cases: CaseResult[] = [];
  const distributions: Distribution[] = [];
  const notes: BenchResults['notes'] = [];
  const progress = (message: string): void => {
    process.stderr.write(`[bench +${((Date.now() - started) / 1000).toFixed(1)}s] ${message}\n`);
  };
  const ctx: BenchContext = {
    config,
    record: (c) => {
      if (!isKnownCase(c.name)) throw new Error(`case ${c.name} is not in the catalogue (src/catalog.ts, README.md)`);
      cases.push(c);
    },
    distribution: (d) => distributions.push(d),
    progress,
    script: (name) => new URL(`./baselines/${name}`, import.meta.url),
  };
  const suites = await loadSuites();
  const selected = SUITE_NAMES.filter((s) => !args.only || args.only.includes(s));
  const info = { redis: null as string | null };
  progress(`${config.quick ? 'quick' : 'full'} run: suites ${selected.join(', ')}; results in ${outDir}`);
  let failed = 0;
  for (const [i, name] of selected.entries()) {
    progress(`suite ${name} (${i + 1}/${selected.length})`);
    try {
      const skipped = await suites[name](ctx, info);
      if (typeof skipped === 'string') {
        notes.push({ suite: name, status: 'skipped', reason: skipped });
        progress(`suite ${name} ${skipped}`);
      }
    } catch (err) {
      failed++;
      const reason = err instanceof Error ? (err.stack ?? err.message) : String(err);
      notes.push({ suite: name, status: 'failed', reason });
      progress(`suite ${name} FAILED: ${reason}`);
    }
  }
  let floorEndUs: number | null = null;
  let floorDriftPct: number | null = null;
  const floorCase = cases.find((c) => c.name === FLOOR_CASE);
  if (floorCase) {
    progress('measuring the floor again (drift check)');
    try {
      floorEndUs = await remeasureFloor(ctx);
      floorDriftPct = (floorEndUs / floorCase.median - 1) * 100;
      progress(
        `floor at the end: ${fmtUs(floorEndUs)} (${floorDriftPct >= 0 ? '+' : ''}${floorDriftPct.toFixed(1)}% vs the start)`,
      );
    } catch (err) {
      progress(`floor re-measure failed: ${(err as Error).message}`);
    }
  }
  const results: BenchResults = {
    machine: {
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      cores: os.availableParallelism(),
      totalMemGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
      node: process.versions.node,
      v8: process.versions.v8,
      platform: os.platform(),
      release: os.release(),
      arch: os.arch(),
      loadavgStart,
      loadavgEnd: os.loadavg(),
      startedAt,
      durationS: (Date.now() - started) / 1000,
      quick: config.quick,
      redis: info.redis,
      floorEndUs,
      floorDriftPct,
    },
    cases: computeRatios(cases),
    distributions,
    notes,
  };
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(path.join(outDir, 'REPORT.md'), renderReport(results));
  writeFileSync(path.join(outDir, 'report.svg'), renderReportSvg(results));
  progress(
    `done in ${results.machine.durationS.toFixed(0)} s: ${results.cases.length} cases, ${failed} suite(s) failed`,
  );
  const width = Math.max(...results.cases.map((c) => c.name.length), 4);
  for (const c of results.cases) {
    const time = fmtFigure(c);
    process.stderr.write(
      `  ${c.name.padEnd(width)} ${time.padStart(11)}  ×floor ${c.ratioToFloor === null ? '–' : c.ratioToFloor.toFixed(3)}\n`,
    );
  }
  process.stdout.write(`${path.join(outDir, 'REPORT.md')}\n`);
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
