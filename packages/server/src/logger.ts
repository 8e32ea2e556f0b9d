// Structured logging: pino JSON lines on stderr (never stdout, which carries
// the CLI's ready line).
import pino from 'pino';

/** The log levels understood by {@link createBridgeLogger}, most severe first (`"silent"` logs nothing). */
export const BRIDGE_LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** A log level understood by {@link createBridgeLogger}: one of {@link BRIDGE_LOG_LEVELS}. */
export type BridgeLogLevel = (typeof BRIDGE_LOG_LEVELS)[number];

/**
 * The logger interface the server uses: a subset of pino's, so a pino logger
 * (or any compatible one) can be passed in.
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
export const silentLogger: BridgeLogger = {
  error() {},
  warn() {},
  info() {},
  debug() {},
};
