// Command-line and environment options of `unified-bridge serve`, turned into
// BridgeServerOptions. Precedence: flag, then UNIFIED_BRIDGE_* variable, then
// (for the port) PORT, then the default.
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
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
  program
    .command('serve')
    .description('run the bridge server; prints one JSON line {"event":"listening",...} on stdout when ready')
    .addOption(new Option('--host <host>', 'address to bind (env UNIFIED_BRIDGE_HOST; default 127.0.0.1)'))
    .addOption(
      new Option(
        '--port <port>',
        `port, 0 = any free port (env UNIFIED_BRIDGE_PORT or PORT; default ${DEFAULT_CLI_PORT})`,
      ).argParser(PARSERS.port),
    )
    .addOption(
      new Option(
        '--session-ttl <seconds>',
        'idle TTL of sessions created without one (env UNIFIED_BRIDGE_SESSION_TTL; default 3600)',
      ).argParser(PARSERS.sessionTtl),
    )
    .addOption(
      new Option(
        '--max-message-bytes <bytes>',
        'largest message read or written (env UNIFIED_BRIDGE_MAX_MESSAGE_BYTES; default 10485760)',
      ).argParser(PARSERS.maxMessageBytes),
    )
    .addOption(
      new Option(
        '--auth-token <token>',
        'accept this bearer token; repeatable (env UNIFIED_BRIDGE_AUTH_TOKENS, comma-separated)',
      ).argParser(collect),
    )
    .addOption(
      new Option(
        '--log-level <level>',
        'level of the JSON logs on stderr (env UNIFIED_BRIDGE_LOG_LEVEL; default info)',
      ).choices(BRIDGE_LOG_LEVELS),
    )
    .addOption(new Option('--tls-cert <file>', 'TLS certificate, PEM; needs --tls-key (env UNIFIED_BRIDGE_TLS_CERT)'))
    .addOption(new Option('--tls-key <file>', 'TLS private key, PEM; needs --tls-cert (env UNIFIED_BRIDGE_TLS_KEY)'))
    .addOption(
      new Option(
        '--grace-ms <ms>',
        'time in-flight calls get to finish at shutdown (env UNIFIED_BRIDGE_GRACE_MS; default 10000)',
      ).argParser(PARSERS.graceMs),
    )
    .addOption(
      new Option(
        '--rate-limit <callsPerSecond>',
        'per-session limit of tool calls per second (env UNIFIED_BRIDGE_RATE_LIMIT; default off)',
      ).argParser(rateArg),
    )
    .addOption(
      new Option(
        '--rate-limit-burst <calls>',
        'tool calls a session may make at once (env UNIFIED_BRIDGE_RATE_LIMIT_BURST; default: the rate, rounded up)',
      ).argParser(PARSERS.burst),
    )
    .addOption(
      new Option(
        '--tool-timeout-ms <ms>',
        'deadline of tool calls that come without one (env UNIFIED_BRIDGE_TOOL_TIMEOUT_MS; default 30000)',
      ).argParser(PARSERS.toolTimeoutMs),
    )
    .addOption(
      new Option(
        '--worker-heartbeat-ms <ms>',
        'heartbeat interval of tool workers; 3 missed = dead (env UNIFIED_BRIDGE_WORKER_HEARTBEAT_MS; default 5000)',
      ).argParser(PARSERS.heartbeatMs),
    )
    .addOption(
      new Option(
        '--tools-module <path>',
        'ESM or CommonJS module whose `tools` (or default) export is an array of host tool definitions (env UNIFIED_BRIDGE_TOOLS_MODULE)',
      ),
    )
    .action(async (opts: Record<string, unknown>, cmd: Command) => {
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

const PARSERS = {
  port: intArg('port', 0, 65535),
  sessionTtl: intArg('session TTL (seconds)', 1, 365 * 24 * 3600),
  maxMessageBytes: intArg('max message bytes', 1, 0xffffffff),
  graceMs: intArg('grace period (ms)', 0, 3_600_000),
  burst: intArg('rate limit burst', 1, 1_000_000),
  toolTimeoutMs: intArg('tool timeout (ms)', 1, 86_400_000),
  heartbeatMs: intArg('worker heartbeat (ms)', 1, 3_600_000),
};

/** A flag's value, else the first set env variable (parsed), else undefined. */
function pick<T>(
  flag: T | undefined,
  env: Readonly<Record<string, string | undefined>>,
  names: readonly string[],
  parse: (v: string) => T,
): T | undefined {
  if (flag !== undefined) return flag;
  for (const name of names) {
    const v = env[name];
    if (v !== undefined && v !== '') {
      try {
        return parse(v);
      } catch (err) {
        throw new InvalidArgumentError(`${name}: ${(err as Error).message}`);
      }
    }
  }
  return undefined;
}

const asString = (v: string): string => v;

/** Resolves flags and environment into the serve command (throws InvalidArgumentError on bad input). */
export function resolveServe(
  opts: Record<string, unknown>,
  env: Readonly<Record<string, string | undefined>>,
): ServeCommand {
  const host = pick(opts['host'] as string | undefined, env, ['UNIFIED_BRIDGE_HOST'], asString) ?? '127.0.0.1';
  const port = pick(opts['port'] as number | undefined, env, ['UNIFIED_BRIDGE_PORT', 'PORT'], PARSERS.port);
  const sessionTtl = pick(
    opts['sessionTtl'] as number | undefined,
    env,
    ['UNIFIED_BRIDGE_SESSION_TTL'],
    PARSERS.sessionTtl,
  );
  const maxMessageBytes = pick(
    opts['maxMessageBytes'] as number | undefined,
    env,
    ['UNIFIED_BRIDGE_MAX_MESSAGE_BYTES'],
    PARSERS.maxMessageBytes,
  );
  const graceMs = pick(opts['graceMs'] as number | undefined, env, ['UNIFIED_BRIDGE_GRACE_MS'], PARSERS.graceMs);
  const logLevel = pick(opts['logLevel'] as BridgeLogLevel | undefined, env, ['UNIFIED_BRIDGE_LOG_LEVEL'], (v) => {
    if (!(BRIDGE_LOG_LEVELS as readonly string[]).includes(v))
      throw new InvalidArgumentError(`must be one of ${BRIDGE_LOG_LEVELS.join(', ')}`);
    return v as BridgeLogLevel;
  });
  const flagTokens = (opts['authToken'] as string[] | undefined) ?? [];
  const envTokens = (env['UNIFIED_BRIDGE_AUTH_TOKENS'] ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  const tokens = [...flagTokens, ...envTokens];
  const certFile = pick(opts['tlsCert'] as string | undefined, env, ['UNIFIED_BRIDGE_TLS_CERT'], asString);
  const keyFile = pick(opts['tlsKey'] as string | undefined, env, ['UNIFIED_BRIDGE_TLS_KEY'], asString);
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new InvalidArgumentError('--tls-cert and --tls-key go together');
  }
  const rate = pick(opts['rateLimit'] as number | undefined, env, ['UNIFIED_BRIDGE_RATE_LIMIT'], rateArg);
  const burst = pick(
    opts['rateLimitBurst'] as number | undefined,
    env,
    ['UNIFIED_BRIDGE_RATE_LIMIT_BURST'],
    PARSERS.burst,
  );
  if (burst !== undefined && rate === undefined) {
    throw new InvalidArgumentError('--rate-limit-burst needs --rate-limit');
  }
  const defaultToolTimeoutMs = pick(
    opts['toolTimeoutMs'] as number | undefined,
    env,
    ['UNIFIED_BRIDGE_TOOL_TIMEOUT_MS'],
    PARSERS.toolTimeoutMs,
  );
  const workerHeartbeatIntervalMs = pick(
    opts['workerHeartbeatMs'] as number | undefined,
    env,
    ['UNIFIED_BRIDGE_WORKER_HEARTBEAT_MS'],
    PARSERS.heartbeatMs,
  );
  const toolsModule = pick(opts['toolsModule'] as string | undefined, env, ['UNIFIED_BRIDGE_TOOLS_MODULE'], asString);
  return {
    logLevel: logLevel ?? 'info',
    ...(toolsModule !== undefined ? { toolsModule } : {}),
    options: {
      host,
      port: port ?? DEFAULT_CLI_PORT,
      ...(sessionTtl !== undefined ? { sessionTtlMs: sessionTtl * 1000 } : {}),
      ...(maxMessageBytes !== undefined ? { maxMessageBytes } : {}),
      ...(graceMs !== undefined ? { graceMs } : {}),
      ...(tokens.length > 0 ? { auth: { tokens } } : {}),
      ...(rate !== undefined ? { rateLimit: { callsPerSecond: rate, ...(burst !== undefined ? { burst } : {}) } } : {}),
      ...(defaultToolTimeoutMs !== undefined ? { defaultToolTimeoutMs } : {}),
      ...(workerHeartbeatIntervalMs !== undefined ? { workerHeartbeatIntervalMs } : {}),
      ...(certFile !== undefined && keyFile !== undefined
        ? { tls: { cert: readFileSync(certFile), key: readFileSync(keyFile) } }
        : {}),
    },
  };
}
