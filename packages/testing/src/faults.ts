// The faults of a FaultProxy: their shapes, their checks, and what is in force per direction.

/** Which way a fault acts: `upstream` is client→target, `downstream` is target→client. */
export type FaultDirection = (typeof FAULT_DIRECTIONS)[number];
/** Every {@link FaultDirection}: the one list the type is derived from. */
const FAULT_DIRECTIONS = Object.freeze(['upstream', 'downstream', 'both'] as const);

/**
 * A fault a {@link FaultProxy} applies to the traffic it forwards. Several faults combine
 * (for example latency plus a bandwidth cap); `direction` defaults to `"both"`.
 *
 * - `latency`: every chunk is delivered `ms` later (order is kept).
 * - `bandwidth`: delivery is capped at `bytesPerSecond` per connection and direction.
 * - `cut-after`: after `bytes` more bytes were forwarded on a connection (counted from when the
 *   fault was set, or from the connection's start; in the given direction), the connection is cut
 *   with a TCP reset (`how: "reset"`, default) or a clean close (`how: "close"`).
 * - `reset`: every current connection is reset now, and new ones are reset on accept.
 * - `close`: every current connection is closed cleanly (FIN) now, and new ones on accept.
 * - `blackhole`: sockets stay open but nothing is delivered (bytes are discarded, so a connection
 *   that lost bytes is usually unusable after the fault is cleared: drop it).
 */
export type Fault =
  | { type: 'latency'; ms: number; direction?: FaultDirection }
  | { type: 'bandwidth'; bytesPerSecond: number; direction?: FaultDirection }
  | { type: 'cut-after'; bytes: number; direction?: FaultDirection; how?: Cut }
  | { type: 'reset' }
  | { type: 'close' }
  | { type: 'blackhole'; direction?: FaultDirection };

/** One way of a connection: `upstream` is client→target, `downstream` is target→client. */
export type Direction = 'upstream' | 'downstream';

/** How a connection is cut: a TCP reset or a clean close (FIN). */
export type Cut = (typeof CUTS)[number];
/** Every {@link Cut}: the one list the type is derived from. */
export const CUTS = Object.freeze(['reset', 'close'] as const);

/** Every fault `type`, in the order the docs list them. */
const FAULT_TYPES = Object.freeze(['latency', 'bandwidth', 'cut-after', 'reset', 'close', 'blackhole'] as const);

/** Lists names as `"a", "b" or "c"` for error messages. */
export function quotedList(names: readonly string[]): string {
  const q = names.map((n) => JSON.stringify(n));
  return q.length < 2 ? q.join('') : `${q.slice(0, -1).join(', ')} or ${q[q.length - 1]}`;
}

function appliesTo(fault: { direction?: FaultDirection }, dir: Direction): boolean {
  const d = fault.direction ?? 'both';
  return d === 'both' || d === dir;
}

/** Checks a fault (RangeError naming the fault and what is wrong) and returns it. */
export function validateFault(fault: Fault): Fault {
  const bad = (msg: string): never => {
    throw new RangeError(`FaultProxy fault ${JSON.stringify(fault)}: ${msg}`);
  };
  if (fault === null || typeof fault !== 'object') bad('a fault is an object with a "type"');
  const direction = (fault as { direction?: unknown }).direction;
  if (direction !== undefined && !FAULT_DIRECTIONS.includes(direction as FaultDirection)) {
    bad(`direction must be ${quotedList(FAULT_DIRECTIONS)}`);
  }
  switch (fault.type) {
    case 'latency':
      if (!(Number.isFinite(fault.ms) && fault.ms >= 0)) bad('ms must be a finite number >= 0');
      break;
    case 'bandwidth':
      if (!(Number.isFinite(fault.bytesPerSecond) && fault.bytesPerSecond > 0)) {
        bad('bytesPerSecond must be a finite number > 0');
      }
      break;
    case 'cut-after':
      if (!(Number.isInteger(fault.bytes) && fault.bytes >= 0)) bad('bytes must be an integer >= 0');
      if (fault.how !== undefined && !CUTS.includes(fault.how)) bad(`how must be ${quotedList(CUTS)}`);
      break;
    case 'reset':
    case 'close':
    case 'blackhole':
      break;
    default:
      bad(`type must be one of ${FAULT_TYPES.join(', ')}`);
  }
  return fault;
}

/** The faults in force in one direction, combined. */
export interface ActiveFaults {
  latencyMs: number;
  bytesPerSecond: number | undefined;
  blackhole: boolean;
  cut: { bytes: number; how?: Cut } | undefined;
}

/** What `faults` amount to in direction `dir`: latencies add up, the lowest bandwidth wins. */
export function activeFaults(faults: readonly Fault[], dir: Direction): ActiveFaults {
  const active: ActiveFaults = { latencyMs: 0, bytesPerSecond: undefined, blackhole: false, cut: undefined };
  for (const f of faults) {
    if (f.type === 'latency' && appliesTo(f, dir)) active.latencyMs += f.ms;
    else if (f.type === 'bandwidth' && appliesTo(f, dir)) {
      active.bytesPerSecond = Math.min(active.bytesPerSecond ?? Infinity, f.bytesPerSecond);
    } else if (f.type === 'blackhole' && appliesTo(f, dir)) active.blackhole = true;
    else if (f.type === 'cut-after' && appliesTo(f, dir)) {
      active.cut = f.how ? { bytes: f.bytes, how: f.how } : { bytes: f.bytes };
    }
  }
  return active;
}
