// `session.setMany()` in two pure halves: `encodeBatch` checks and encodes the updates (no I/O),
// `batchOutcomes` turns the server's reply into one result per update. The session does the
// round trip and the cache bookkeeping between them.
import { create } from '@bufbuild/protobuf';
import { VariableUpdateSchema, type VariableUpdate, type VariableUpdateResult } from '@unified-bridge/proto';
import type { CompiledType } from '@unified-bridge/types';
import { encodeValue, recordFromWire, versionToWire, type VariableRecord } from './codec.js';
import {
  BridgeError,
  bridgeErrorFromDetail,
  isBridgeError,
  localValidationError,
  type BridgeFieldViolation,
} from './errors.js';
import type { SetManyEntry, SetManyResult } from './session-options.js';

/**
 * Collects the updates of an atomic `session.batch()`; every method returns
 * the builder so calls chain.
 */
export class BatchBuilder {
  readonly #entries: SetManyEntry[] = [];

  /** Adds an update of `name` to the batch. */
  set(name: string, value: unknown, opts: { expectedVersion?: number; metadata?: Record<string, string> } = {}): this {
    this.#entries.push({ name, value, expectedVersion: opts.expectedVersion, metadata: opts.metadata });
    return this;
  }

  /** The updates collected so far, in order. */
  entries(): SetManyEntry[] {
    return [...this.#entries];
  }
}

/**
 * The updates of `setMany()` as a list (a record becomes `{ name, value }`
 * entries); a missing name is a TypeError, a name given twice an InvalidArgument BridgeError.
 */
export function batchEntries(updates: Readonly<Record<string, unknown>> | readonly SetManyEntry[]): SetManyEntry[] {
  const list: SetManyEntry[] = Array.isArray(updates)
    ? (updates as SetManyEntry[])
    : Object.entries(updates).map(([name, value]) => ({ name, value }));
  const seen = new Set<string>();
  for (const u of list) {
    if (typeof u?.name !== 'string') throw new TypeError('each update needs a string name');
    if (seen.has(u.name)) {
      throw new BridgeError('InvalidArgument', `variable '${u.name}' appears more than once in the batch`);
    }
    seen.add(u.name);
  }
  return list;
}

/** One update that passed the local checks, ready to send. */
export interface EncodedUpdate {
  /** Its position among the entries of the batch. */
  readonly index: number;
  /** The variable's name or id, as given. */
  readonly name: string;
  /** The wire message. */
  readonly update: VariableUpdate;
}

/** The outcome of {@link encodeBatch}. */
export interface EncodedBatch {
  /** The entries, in order. */
  readonly entries: readonly SetManyEntry[];
  /** The updates to send, in entry order. */
  readonly updates: readonly EncodedUpdate[];
  /** A result per entry: set for the entries that failed locally, undefined for the ones to send. */
  readonly results: readonly (SetManyResult | undefined)[];
  /** The field violations of every local failure. */
  readonly violations: readonly BridgeFieldViolation[];
  /** True when every update to send is guarded by an expected version (so it may be retried). */
  readonly guarded: boolean;
}

/**
 * Validates and encodes each entry against its compiled type (when known).
 * A local failure becomes that entry's result and adds its field violations;
 * anything but a BridgeError is thrown.
 */
export function encodeBatch(
  entries: readonly SetManyEntry[],
  compiled: ReadonlyMap<string, CompiledType | undefined>,
): EncodedBatch {
  const results: (SetManyResult | undefined)[] = new Array(entries.length);
  const updates: EncodedUpdate[] = [];
  const violations: BridgeFieldViolation[] = [];
  entries.forEach((u, index) => {
    try {
      const expectedVersion = versionToWire('expectedVersion', u.expectedVersion);
      const value = encodeValue(u.name, compiled.get(u.name), u.value);
      const update = create(VariableUpdateSchema, {
        identifier: u.name,
        value,
        metadata: u.metadata ?? {},
        expectedVersion,
      });
      updates.push({ index, name: u.name, update });
    } catch (e) {
      if (!isBridgeError(e)) throw e;
      violations.push(...(e.fieldViolations.length ? e.fieldViolations : [violationOf(u.name, e)]));
      results[index] = { name: u.name, ok: false, error: e };
    }
  });
  const guarded = updates.every((u) => u.update.expectedVersion !== undefined);
  return { entries, updates, results, violations, guarded };
}

/** The one error of an atomic batch that failed locally: every violation, nothing sent. */
export function batchRejected(violations: readonly BridgeFieldViolation[]): BridgeError {
  return localValidationError(
    `batch rejected: ${violations.map((v) => `${v.field}: ${v.description}`).join('; ')}`,
    violations,
  );
}

/** One update the server answered, in reply order: the record it wrote, or why it refused it. */
export type BatchChange =
  | { readonly name: string; readonly ok: true; readonly variable: VariableRecord }
  | { readonly name: string; readonly ok: false; readonly error: BridgeError };

/** What the server's reply to a batch says. */
export interface BatchOutcomes {
  /** A result per entry, in order. */
  readonly results: SetManyResult[];
  /** What the server did, in reply order (records to cache, refusals that outdate cached entries). */
  readonly changes: readonly BatchChange[];
}

/** Combines the local results of `batch` with the server's per-update `reply`. */
export function batchOutcomes(batch: EncodedBatch, reply: readonly VariableUpdateResult[]): BatchOutcomes {
  const results = [...batch.results];
  const changes: BatchChange[] = [];
  reply.forEach((res, i) => {
    const u = batch.updates[i];
    if (u === undefined) return;
    let change: BatchChange;
    if (res.outcome.case === 'variable') {
      change = { name: u.name, ok: true, variable: recordFromWire(res.outcome.value) };
    } else {
      const error =
        res.outcome.case === 'error'
          ? bridgeErrorFromDetail(res.outcome.value)
          : new BridgeError('Internal', `the server sent no outcome for '${u.name}'`);
      change = { name: u.name, ok: false, error };
    }
    changes.push(change);
    results[u.index] = change;
  });
  return {
    results: results.map(
      (r, i) =>
        r ?? {
          name: batch.entries[i]?.name ?? '',
          ok: false,
          error: new BridgeError('Internal', 'the server sent too few results'),
        },
    ),
    changes,
  };
}

function violationOf(field: string, e: BridgeError): BridgeFieldViolation {
  return { field, constraint: e.type, description: e.message, expected: '', actual: '' };
}
