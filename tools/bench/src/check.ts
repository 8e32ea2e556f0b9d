/**
 * `npm run bench:check [-- --tolerance 10%] [--results FILE] [--baseline FILE] [--update]`:
 * compares a run's ratios to the floor with tools/bench/baseline.json and
 * exits 1 on a regression beyond the tolerance (default 10%) or a missing case.
 * `--update` writes the results as the new baseline instead.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCheckArgs } from './args.js';
import { compareResults, formatOutcome, type ComparableResults } from './compare.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PACKAGE = path.resolve(HERE, '..');
const ROOT = path.resolve(PACKAGE, '..', '..');

const HELP = `usage: npm run bench:check -- [--tolerance 0.1|10%] [--results FILE] [--baseline FILE] [--update]
  --results    results of a run (default: <repo>/bench-results/results.json)
  --baseline   committed baseline (default: tools/bench/baseline.json)
  --tolerance  allowed relative worsening of each ratio (default 10%)
  --update     write the results as the new baseline (keeps machine, cases; drops distributions)`;

function load(file: string, what: string): ComparableResults & Record<string, unknown> {
  if (!existsSync(file))
    throw new Error(`${what} ${file} does not exist${what === 'results' ? ' (run npm run bench first)' : ''}`);
  const data = JSON.parse(readFileSync(file, 'utf8')) as ComparableResults & Record<string, unknown>;
  if (!Array.isArray(data.cases)) throw new Error(`${what} ${file} has no cases array`);
  return data;
}

function main(): number {
  let args;
  try {
    args = parseCheckArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${HELP}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const resultsFile = path.resolve(args.results ?? path.join(ROOT, 'bench-results', 'results.json'));
  const baselineFile = path.resolve(args.baseline ?? path.join(PACKAGE, 'baseline.json'));
  const results = load(resultsFile, 'results');
  if (args.update) {
    const { machine, cases } = results;
    // Arrays of numbers on one line, as Prettier writes them, so the file stays format-clean.
    const json = JSON.stringify({ machine, cases }, null, 2).replace(
      /\[\s+(-?[\d.e+-]+(?:,\s+-?[\d.e+-]+)*)\s+\]/g,
      (_m, inner: string) => `[${inner.split(/,\s+/).join(', ')}]`,
    );
    writeFileSync(baselineFile, `${json}\n`);
    process.stdout.write(`wrote ${baselineFile} (${cases.length} cases)\n`);
    return 0;
  }
  const baseline = load(baselineFile, 'baseline');
  const outcome = compareResults(baseline, results, args.tolerance);
  process.stdout.write(`${formatOutcome(outcome, args.tolerance)}\n`);
  return outcome.ok ? 0 : 1;
}

try {
  process.exitCode = main();
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 2;
}
