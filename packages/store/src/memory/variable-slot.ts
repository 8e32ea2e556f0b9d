import type { CompiledType } from '@unified-bridge/types';
import { nextVariableRecord } from '../internal/records.js';
import { copyValue } from '../internal/values.js';
import type { Metadata, StoredHistoryEntry, StoredVariable } from '../session-store.js';
import { Ring } from './ring.js';

/** A validated write, ready to apply to its slot: nothing in it can fail any more. */
export interface PreparedWrite {
  /** The variable written. */
  readonly slot: VariableSlot;
  /** The new value: a private, frozen copy. */
  readonly value: unknown;
  /** The new value holds unfreezable (binary) parts. */
  readonly mutable: boolean;
  /** The metadata given with this write (recorded with the version in history). */
  readonly writeMeta: Metadata;
  /** The variable's metadata after the write (its metadata merged with `writeMeta`). */
  readonly metadata: Metadata;
}

/**
 * One variable of a session: its current record (an immutable snapshot
 * replaced on each write) and its bounded history of past versions.
 */
export class VariableSlot {
  /**
   * Past versions, oldest first, at most `historyDepth - 1` (the current
   * version is the rest of the depth); null until the first write, since most
   * variables are written rarely.
   */
  private history: Ring<StoredHistoryEntry> | null = null;

  constructor(
    /** The current version, as stored (frozen); replaced by each write. */
    private record: StoredVariable,
    /** The variable's compiled type, shared through the engine's cache. */
    readonly compiled: CompiledType,
    /** Metadata given with the write of the current version. */
    private writeMeta: Metadata,
    /** The value holds unfreezable parts (binary): copy it on every read. */
    private mutable: boolean,
  ) {}

  /** The current version, as stored (frozen): never hand it out without {@link readRecord}. */
  get current(): StoredVariable {
    return this.record;
  }

  /** The current record to hand to a caller: the stored snapshot, or a copy when the value is binary. */
  readRecord(): StoredVariable {
    if (!this.mutable) return this.record;
    return Object.freeze({ ...this.record, value: copyValue(this.record.value) });
  }

  /** The value holds unfreezable parts (a rollback keeps this of the current value). */
  get holdsBinary(): boolean {
    return this.mutable;
  }

  /**
   * Writes a new version at `revision`: the current one moves into history
   * (which keeps `keepPast` past versions), the new record replaces it.
   */
  write(write: PreparedWrite, revision: number, now: number, keepPast: number): void {
    const prev = this.record;
    if (keepPast > 0) {
      this.history ??= new Ring(keepPast);
      this.history.push(
        Object.freeze({
          version: prev.version,
          value: prev.value,
          updatedAt: prev.updatedAt,
          metadata: this.writeMeta,
        }),
      );
    }
    this.record = nextVariableRecord(prev, write.value, write.metadata, revision, now);
    this.writeMeta = write.writeMeta;
    this.mutable = write.mutable;
  }

  /** Up to `max` retained versions, newest (the current one) first. */
  historyEntries(max: number): StoredHistoryEntry[] {
    const entries: StoredHistoryEntry[] = [];
    if (max === 0) return entries;
    const { record } = this;
    entries.push(
      Object.freeze({
        version: record.version,
        value: this.mutable ? copyValue(record.value) : record.value,
        updatedAt: record.updatedAt,
        metadata: this.writeMeta,
      }),
    );
    const h = this.history;
    if (h !== null) {
      for (let i = h.size - 1; i >= 0 && entries.length < max; i--) {
        const entry = h.at(i);
        entries.push(this.mutable ? Object.freeze({ ...entry, value: copyValue(entry.value) }) : entry);
      }
    }
    return entries;
  }

  /**
   * The value of a retained version (`found` false when it is not retained).
   * The current version counts only when history is on (`historyDepth` > 0).
   */
  retainedValue(version: number, historyOn: boolean): { readonly found: boolean; readonly value: unknown } {
    if (historyOn && version === this.record.version) return { found: true, value: this.record.value };
    const h = this.history;
    if (h !== null) {
      for (let i = 0; i < h.size; i++) {
        const entry = h.at(i);
        if (entry.version === version) return { found: true, value: entry.value };
      }
    }
    return { found: false, value: undefined };
  }
}
