// Command-line and environment options of `unified-bridge serve`, turned into
// BridgeServerOptions. Precedence: flag, then UNIFIED_BRIDGE_* variable, then
// (for the port) PORT, then the default.
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { BRIDGE_COMPRESSIONS } from './compression.js';
import { BRIDGE_LOG_LEVELS } from './logger.js';
import type { BridgeLogLevel } from './logger.js';
import type { BridgeServerOptions } from './server.js';

/** The port `unified-bridge serve` uses when neither --port nor an env variable says otherwise. */
export const DEFAULT_CLI_PORT = 50051;

/** What the `serve` command resolved to. */
export interface ServeCommand {
  readonly options: Omit<BridgeServerOptions, 'logger'>;
  readonly logLevel: BridgeLogLevel;
  /** A module exporting host tool definitions (`--tools-module`), loaded by the CLI before it starts. */
  readonly toolsModule?: string;
}

function intArg(name: string, min: number, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError(`${name} must be an integer, got "${value}"`);
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`${name} must be from ${min} to ${max}, got ${n}`);
    return n;
  };
}

function rateArg(value: string): number {
  if (!/^\d+(\.\d+)?$/.test(value.trim())) {
    throw new InvalidArgumentError(`rate limit must be a number of calls per second > 0, got "${value}"`);
  }
  const n = Number(value);
  if (n <= 0) throw new InvalidArgumentError(`rate limit must be > 0 calls per second, got ${n}`);
  return n;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];
const asString = (v: string): string => v;

function choiceArg<T extends string>(choices: readonly T[]) {
  return (v: string): T => {
    if (!(choices as readonly string[]).includes(v)) {
      throw new InvalidArgumentError(`must be one of ${choices.join(', ')}`);
    }
    return v as T;
  };
}

const SWITCH_VALUES: Readonly<Record<string, boolean>> = {
  true: true,
  on: true,
  '1': true,
  false: false,
  off: false,
  '0': false,
};

function switchArg(v: string): boolean {
  const on = SWITCH_VALUES[v.trim().toLowerCase()];
  if (on === undefined) throw new InvalidArgumentError(`must be true or false, got "${v}"`);
  return on;
}

/** One option of `serve`: its flag, its help, the env variables it falls back to and how a value is read. */
interface CliOption<T> {
  readonly flags: string;
  readonly description: string;
  /** The variables read when the flag is absent, first set one wins (none: flag only). */
  readonly env: readonly string[];
  /** Parses a value from the environment (and from the flag, unless `flag` says otherwise). */
  readonly parse: (value: string) => T;
  /** How commander reads the flag: `parse` (default), `"raw"` (a string), `"collect"` (repeatable) or the choices. */
  readonly flag?: 'raw' | 'collect' | { readonly choices: readonly string[] };
}

const option = <T>(o: CliOption<T>): CliOption<T> => o;

/** The options of `serve`, in help order; the keys are commander's attribute names. */
const OPTIONS = {
  host: option({
    flags: '--host <host>',
    description: 'address to bind (env UNIFIED_BRIDGE_HOST; default 127.0.0.1)',
    env: ['UNIFIED_BRIDGE_HOST'],
    parse: asString,
    flag: 'raw',
  }),
  port: option({
    flags: '--port <port>',
    description: `port, 0 = any free port (env UNIFIED_BRIDGE_PORT or PORT; default ${DEFAULT_CLI_PORT})`,
    env: ['UNIFIED_BRIDGE_PORT', 'PORT'],
    parse: intArg('port', 0, 65535),
  }),
  sessionTtl: option({
    flags: '--session-ttl <seconds>',
    description: 'idle TTL of sessions created without one (env UNIFIED_BRIDGE_SESSION_TTL; default 3600)',
    env: ['UNIFIED_BRIDGE_SESSION_TTL'],
    parse: intArg('session TTL (seconds)', 1, 365 * 24 * 3600),
  }),
  maxMessageBytes: option({
    flags: '--max-message-bytes <bytes>',
    description: 'largest message read or written (env UNIFIED_BRIDGE_MAX_MESSAGE_BYTES; default 10485760)',
    env: ['UNIFIED_BRIDGE_MAX_MESSAGE_BYTES'],
    parse: intArg('max message bytes', 1, 0xffffffff),
  }),
  authToken: option({
    flags: '--auth-token <token>',
    description: 'accept this bearer token; repeatable (env UNIFIED_BRIDGE_AUTH_TOKENS, comma-separated)',
    env: [], // UNIFIED_BRIDGE_AUTH_TOKENS adds to the flags: read in resolveServe
    parse: asString,
    flag: 'collect',
  }),
  logLevel: option({
    flags: '--log-level <level>',
    description: 'level of the JSON logs on stderr (env UNIFIED_BRIDGE_LOG_LEVEL; default info)',
    env: ['UNIFIED_BRIDGE_LOG_LEVEL'],
    parse: choiceArg(BRIDGE_LOG_LEVELS),
    flag: { choices: BRIDGE_LOG_LEVELS },
  }),
  compression: option({
    flags: '--compression <mode>',
    description: 'response compression, none or gzip (env UNIFIED_BRIDGE_COMPRESSION; default none)',
    env: ['UNIFIED_BRIDGE_COMPRESSION'],
    parse: choiceArg(BRIDGE_COMPRESSIONS),
    flag: { choices: BRIDGE_COMPRESSIONS },
  }),
  compressMinBytes: option({
    flags: '--compress-min-bytes <bytes>',
    description:
      'with --compression gzip, smallest response message compressed (env UNIFIED_BRIDGE_COMPRESS_MIN_BYTES; default 1024)',
    env: ['UNIFIED_BRIDGE_COMPRESS_MIN_BYTES'],
    parse: intArg('compress min bytes', 0, 0xffffffff),
  }),
  reflection: option({
    flags: '--no-reflection',
    description: 'do not serve gRPC server reflection (env UNIFIED_BRIDGE_REFLECTION=false; default: served)',
    env: ['UNIFIED_BRIDGE_REFLECTION'],
    parse: switchArg,
    flag: 'raw',
  }),
  tlsCert: option({
    flags: '--tls-cert <file>',
    description: 'TLS certificate, PEM; needs --tls-key (env UNIFIED_BRIDGE_TLS_CERT)',
    env: ['UNIFIED_BRIDGE_TLS_CERT'],
    parse: asString,
    flag: 'raw',
  }),
  tlsKey: option({
    flags: '--tls-key <file>',
    description: 'TLS private key, PEM; needs --tls-cert (env UNIFIED_BRIDGE_TLS_KEY)',
    env: ['UNIFIED_BRIDGE_TLS_KEY'],
    parse: asString,
    flag: 'raw',
  }),
  graceMs: option({
    flags: '--grace-ms <ms>',
    description: 'time in-flight calls get to finish at shutdown (env UNIFIED_BRIDGE_GRACE_MS; default 10000)',
    env: ['UNIFIED_BRIDGE_GRACE_MS'],
    parse: intArg('grace period (ms)', 0, 3_600_000),
  }),
  rateLimit: option({
    flags: '--rate-limit <callsPerSecond>',
    description: 'per-session limit of tool calls per second (env UNIFIED_BRIDGE_RATE_LIMIT; default off)',
    env: ['UNIFIED_BRIDGE_RATE_LIMIT'],
    parse: rateArg,
  }),
  rateLimitBurst: option({
    flags: '--rate-limit-burst <calls>',
    description:
      'tool calls a session may make at once (env UNIFIED_BRIDGE_RATE_LIMIT_BURST; default: the rate, rounded up)',
    env: ['UNIFIED_BRIDGE_RATE_LIMIT_BURST'],
    parse: intArg('rate limit burst', 1, 1_000_000),
  }),
  toolTimeoutMs: option({
    flags: '--tool-timeout-ms <ms>',
    description: 'deadline of tool calls that come without one (env UNIFIED_BRIDGE_TOOL_TIMEOUT_MS; default 30000)',
    env: ['UNIFIED_BRIDGE_TOOL_TIMEOUT_MS'],
    parse: intArg('tool timeout (ms)', 1, 86_400_000),
  }),
  workerHeartbeatMs: option({
    flags: '--worker-heartbeat-ms <ms>',
    description:
      'heartbeat interval of tool workers; 3 missed = dead (env UNIFIED_BRIDGE_WORKER_HEARTBEAT_MS; default 5000)',
    env: ['UNIFIED_BRIDGE_WORKER_HEARTBEAT_MS'],
    parse: intArg('worker heartbeat (ms)', 1, 3_600_000),
  }),
  metricsPort: option({
    flags: '--metrics-port <port>',
    description:
      'serve Prometheus /metrics on a listener of its own, 0 = any free port (env UNIFIED_BRIDGE_METRICS_PORT; default: not served)',
    env: ['UNIFIED_BRIDGE_METRICS_PORT'],
    parse: intArg('metrics port', 0, 65535),
  }),
  metricsHost: option({
    flags: '--metrics-host <host>',
    description: 'address of the /metrics listener (env UNIFIED_BRIDGE_METRICS_HOST; default: --host)',
    env: ['UNIFIED_BRIDGE_METRICS_HOST'],
    parse: asString,
    flag: 'raw',
  }),
  metricsOnMainPort: option({
    flags: '--metrics-on-main-port',
    description: 'also serve /metrics on the main port, beside the RPCs (env UNIFIED_BRIDGE_METRICS_ON_MAIN_PORT=true)',
    env: ['UNIFIED_BRIDGE_METRICS_ON_MAIN_PORT'],
    parse: switchArg,
    flag: 'raw',
  }),
  toolsModule: option({
    flags: '--tools-module <path>',
    description:
      'ESM or CommonJS module whose `tools` (or default) export is an array of host tool definitions (env UNIFIED_BRIDGE_TOOLS_MODULE)',
    env: ['UNIFIED_BRIDGE_TOOLS_MODULE'],
    parse: asString,
    flag: 'raw',
  }),
};

type OptionKey = keyof typeof OPTIONS;
type OptionValue<K extends OptionKey> = ReturnType<(typeof OPTIONS)[K]['parse']>;

function commanderOption(o: CliOption<unknown>): Option {
  const opt = new Option(o.flags, o.description);
  if (o.flag === 'raw') return opt;
  if (o.flag === 'collect') return opt.argParser(collect);
  if (o.flag !== undefined) return opt.choices(o.flag.choices);
  return opt.argParser(o.parse);
}

/**
 * Builds the commander program. `onServe` receives the resolved options; the
 * program never touches process state itself, so it can be tested.
 */
export function createCliProgram(
  env: Readonly<Record<string, string | undefined>>,
  onServe: (command: ServeCommand) => Promise<void>,
): Command {
  const program = new Command('unified-bridge')
    .description('unified-bridge: typed, versioned session variables over gRPC, gRPC-Web and Connect')
    .showHelpAfterError('(run "unified-bridge serve --help" to see the options)');
  const serve = program
    .command('serve')
    .description('run the bridge server; prints one JSON line {"event":"listening",...} on stdout when ready');
  for (const o of Object.values(OPTIONS)) serve.addOption(commanderOption(o as CliOption<unknown>));
  serve.action(async (opts: Record<string, unknown>, cmd: Command) => {
    // A value commander filled in (`--no-x` defaults x to true) is no flag:
    // the environment and our own defaults decide.
    for (const key of Object.keys(opts)) if (cmd.getOptionValueSource(key) === 'default') delete opts[key];
    let resolved: ServeCommand;
    try {
      resolved = resolveServe(opts, env);
    } catch (err) {
      cmd.error(`error: ${(err as Error).message}`);
    }
    await onServe(resolved);
  });
  return program;
}

/** A flag's value, else the first set env variable of the option (parsed), else undefined. */
function pick<K extends OptionKey>(
  opts: Record<string, unknown>,
  env: Readonly<Record<string, string | undefined>>,
  key: K,
): OptionValue<K> | undefined {
  const flag = opts[key] as OptionValue<K> | undefined;
  if (flag !== undefined) return flag;
  const o = OPTIONS[key] as CliOption<OptionValue<K>>;
  for (const name of o.env) {
    const v = env[name];
    if (v !== undefined && v !== '') {
      try {
        return o.parse(v);
      } catch (err) {
        throw new InvalidArgumentError(`${name}: ${(err as Error).message}`);
      }
    }
  }
  return undefined;
}

/** Resolves flags and environment into the serve command (throws InvalidArgumentError on bad input). */
export function resolveServe(
  opts: Record<string, unknown>,
  env: Readonly<Record<string, string | undefined>>,
): ServeCommand {
  const get = <K extends OptionKey>(key: K): OptionValue<K> | undefined => pick(opts, env, key);
  const host = get('host') ?? '127.0.0.1';
  const port = get('port');
  const sessionTtl = get('sessionTtl');
  const maxMessageBytes = get('maxMessageBytes');
  const graceMs = get('graceMs');
  const logLevel = get('logLevel');
  const flagTokens = (opts['authToken'] as string[] | undefined) ?? [];
  const envTokens = (env['UNIFIED_BRIDGE_AUTH_TOKENS'] ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  const tokens = [...flagTokens, ...envTokens];
  const certFile = get('tlsCert');
  const keyFile = get('tlsKey');
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new InvalidArgumentError('--tls-cert and --tls-key go together');
  }
  const rate = get('rateLimit');
  const burst = get('rateLimitBurst');
  if (burst !== undefined && rate === undefined) {
    throw new InvalidArgumentError('--rate-limit-burst needs --rate-limit');
  }
  const defaultToolTimeoutMs = get('toolTimeoutMs');
  const workerHeartbeatIntervalMs = get('workerHeartbeatMs');
  const toolsModule = get('toolsModule');
  const metricsPort = get('metricsPort');
  const metricsHost = get('metricsHost');
  const metricsOnMainPort = get('metricsOnMainPort') ?? false;
  if (metricsHost !== undefined && metricsPort === undefined) {
    throw new InvalidArgumentError('--metrics-host needs --metrics-port');
  }
  const compression = get('compression');
  const compressMinBytes = get('compressMinBytes');
  if (compressMinBytes !== undefined && compression !== 'gzip') {
    throw new InvalidArgumentError('--compress-min-bytes needs --compression gzip');
  }
  const reflection = get('reflection');
  return {
    logLevel: logLevel ?? 'info',
    ...(toolsModule !== undefined ? { toolsModule } : {}),
    options: {
      host,
      port: port ?? DEFAULT_CLI_PORT,
      ...(sessionTtl !== undefined ? { sessionTtlMs: sessionTtl * 1000 } : {}),
      ...(maxMessageBytes !== undefined ? { maxMessageBytes } : {}),
      ...(compression !== undefined ? { compression } : {}),
      ...(compressMinBytes !== undefined ? { compressMinBytes } : {}),
      ...(reflection === false ? { reflection } : {}),
      ...(graceMs !== undefined ? { graceMs } : {}),
      ...(tokens.length > 0 ? { auth: { tokens } } : {}),
      ...(rate !== undefined ? { rateLimit: { callsPerSecond: rate, ...(burst !== undefined ? { burst } : {}) } } : {}),
      ...(defaultToolTimeoutMs !== undefined ? { defaultToolTimeoutMs } : {}),
      ...(workerHeartbeatIntervalMs !== undefined ? { workerHeartbeatIntervalMs } : {}),
      ...(metricsPort !== undefined || metricsOnMainPort
        ? {
            metrics: {
              ...(metricsPort !== undefined ? { port: metricsPort } : {}),
              ...(metricsHost !== undefined ? { host: metricsHost } : {}),
              ...(metricsOnMainPort ? { onMainPort: true } : {}),
            },
          }
        : {}),
      ...(certFile !== undefined && keyFile !== undefined
        ? { tls: { cert: readFileSync(certFile), key: readFileSync(keyFile) } }
        : {}),
    },
  };
}
