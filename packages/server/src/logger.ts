// Structured logging: pino JSON lines on stderr (never stdout, which carries
// the CLI's ready line).
import pino from 'pino';

/** The log levels understood by {@link createBridgeLogger}, most severe first (`"silent"` logs nothing). */
export const BRIDGE_LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** A log level understood by {@link createBridgeLogger}: one of {@link BRIDGE_LOG_LEVELS}. */
export type BridgeLogLevel = (typeof BRIDGE_LOG_LEVELS)[number];

/**
 * The logger interface the server uses: a subset of pino's, so a pino logger
 * (or any compatible one) can be passed in. When the logger also has pino's
 * `child(bindings)` the server uses it for the per-call logger (every line of
 * a call carries its `requestId`), and `isLevelEnabled(level)` to skip lines
 * that would not be written; without them it merges the bindings itself.
 */
export interface BridgeLogger {
  /** Logs an error with an object of fields and a message. */
  error(obj: object, msg?: string): void;
  /** Logs a warning. */
  warn(obj: object, msg?: string): void;
  /** Logs an informational line. */
  info(obj: object, msg?: string): void;
  /** Logs a debug line. */
  debug(obj: object, msg?: string): void;
}

/**
 * What the server also uses when a logger has it (pino does): `child` for the
 * per-call logger (else the bindings are merged into each line), and
 * `isLevelEnabled` to skip building lines nobody writes (else every level
 * counts as enabled).
 */
interface LoggerExtras {
  child?(bindings: Record<string, unknown>): BridgeLogger;
  isLevelEnabled?(level: string): boolean;
}

/**
 * The logger of one call or task: `logger.child(bindings)` when the logger
 * has one, else a wrapper that merges `bindings` into each line's fields.
 */
export function childLogger(base: BridgeLogger, bindings: Record<string, unknown>): BridgeLogger {
  const logger = base as BridgeLogger & LoggerExtras;
  if (typeof logger.child === 'function') return logger.child(bindings);
  const merged =
    (write: (obj: object, msg?: string) => void) =>
    (obj: object, msg?: string): void =>
      write.call(logger, { ...bindings, ...obj }, msg);
  const child: BridgeLogger & LoggerExtras = {
    error: merged(logger.error),
    warn: merged(logger.warn),
    info: merged(logger.info),
    debug: merged(logger.debug),
    child: (more) => childLogger(logger, { ...bindings, ...more }),
    ...(typeof logger.isLevelEnabled === 'function'
      ? { isLevelEnabled: (level: string) => logger.isLevelEnabled!(level) }
      : {}),
  };
  return child;
}

/** Whether `logger` writes lines of `level` (true when it cannot tell). */
export function levelEnabled(base: BridgeLogger, level: string): boolean {
  const logger = base as BridgeLogger & LoggerExtras;
  return typeof logger.isLevelEnabled === 'function' ? logger.isLevelEnabled(level) : true;
}

/**
 * Creates the default logger: pino, JSON lines on stderr (fd 2, synchronous so
 * nothing is lost at exit), at `level` (default `"info"`).
 *
 * @example
 * const logger = createBridgeLogger('debug');
 */
export function createBridgeLogger(level: BridgeLogLevel = 'info'): BridgeLogger {
  return pino({ level, base: { name: 'unified-bridge', pid: process.pid } }, pino.destination({ dest: 2, sync: true }));
}

/** A logger that drops everything (for tests and embedders who log elsewhere). */
export const silentLogger: BridgeLogger & LoggerExtras = {
  error() {},
  warn() {},
  info() {},
  debug() {},
  child: () => silentLogger,
  isLevelEnabled: () => false,
};
