/** Command-line options of the bench runner and the check script. */

/** Options of `npm run bench`. */
export interface RunArgs {
  /** Small sizes, under a minute (development only). */
  quick: boolean;
  /** Output folder; default `<repo>/bench-results`. */
  out: string | undefined;
  /** Suites to run (default all). */
  only: string[] | undefined;
  help: boolean;
}

/** Options of `npm run bench:check`. */
export interface CheckArgs {
  /** Results to check; default `<repo>/bench-results/results.json`. */
  results: string | undefined;
  /** Committed baseline; default `tools/bench/baseline.json`. */
  baseline: string | undefined;
  /** Allowed relative regression, a fraction (0.1 = 10%). Default 0.1. */
  tolerance: number;
  /** Write the results as the new baseline instead of checking. */
  update: boolean;
  help: boolean;
}

function takeValue(argv: string[], i: number, flag: string): string {
  const v = argv[i + 1];
  if (v === undefined || v.startsWith('--')) throw new RangeError(`${flag} needs a value`);
  return v;
}

/** Splits `--flag=value` into `--flag value`. */
function normalise(argv: readonly string[]): string[] {
  return argv.flatMap((a) => {
    const eq = a.indexOf('=');
    return a.startsWith('--') && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a];
  });
}

/**
 * Parses the runner's arguments.
 * @throws RangeError naming the bad option.
 */
export function parseRunArgs(raw: readonly string[]): RunArgs {
  const argv = normalise(raw);
  const out: RunArgs = { quick: false, out: undefined, only: undefined, help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') out.quick = true;
    else if (a === '--help' || a === '-h') out.help = true;
    else if (a === '--out') out.out = takeValue(argv, i++, a);
    else if (a === '--only')
      out.only = takeValue(argv, i++, a)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    else throw new RangeError(`unknown option ${a} (known: --quick, --out DIR, --only SUITE[,SUITE], --help)`);
  }
  return out;
}

/**
 * Parses a tolerance: a fraction (`0.1`) or a percentage (`10%`).
 * @throws RangeError for anything else or a negative value.
 */
export function parseTolerance(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(text.trim());
  if (!m) throw new RangeError(`--tolerance must be a fraction (0.1) or a percentage (10%), got ${text}`);
  const v = m[2] === '%' ? Number(m[1]) / 100 : Number(m[1]);
  if (m[2] !== '%' && v > 5) {
    throw new RangeError(`--tolerance ${text} looks like a percentage: write ${text}% or ${v / 100}`);
  }
  return v;
}

/**
 * Parses the check script's arguments.
 * @throws RangeError naming the bad option.
 */
export function parseCheckArgs(raw: readonly string[]): CheckArgs {
  const argv = normalise(raw);
  const out: CheckArgs = { results: undefined, baseline: undefined, tolerance: 0.1, update: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') out.help = true;
    else if (a === '--update') out.update = true;
    else if (a === '--results') out.results = takeValue(argv, i++, a);
    else if (a === '--baseline') out.baseline = takeValue(argv, i++, a);
    else if (a === '--tolerance') out.tolerance = parseTolerance(takeValue(argv, i++, a));
    else
      throw new RangeError(
        `unknown option ${a} (known: --results FILE, --baseline FILE, --tolerance 0.1|10%, --update, --help)`,
      );
  }
  return out;
}
