import { compareStrings } from '../internal/paging.js';

/**
 * A session's variable names in code-unit order, for listing and for the
 * `initial` events of a watch. Kept lazily: registrations and deletions only
 * note the change, and the next read merges the new names in and drops the
 * deleted ones, so a write costs O(1) and a read after k changes O(n + k log k).
 */
export class SortedNameIndex {
  /** The names in order as of the last rebuild; may still hold names deleted since. */
  private sorted: string[] = [];
  /** Names registered since the last rebuild, in registration order. */
  private added: string[] = [];
  /** How many names were deleted since the last rebuild. */
  private deletedSinceSort = 0;

  /** `live` is the session's variables by name: the names that still exist. */
  constructor(private readonly live: ReadonlyMap<string, unknown>) {}

  /** Notes a registered name. */
  add(name: string): void {
    this.added.push(name);
    this.compactIfLarge();
  }

  /** Notes a deleted name. */
  remove(): void {
    this.deletedSinceSort++;
    this.compactIfLarge();
  }

  /** The live names in order, rebuilding the index if names were added or deleted. */
  names(): readonly string[] {
    if (this.added.length === 0 && this.deletedSinceSort === 0) return this.sorted;
    const base = this.deletedSinceSort === 0 ? this.sorted : this.sorted.filter((n) => this.live.has(n));
    const added = this.added.filter((n) => this.live.has(n)).sort(compareStrings);
    const merged: string[] = new Array<string>();
    let i = 0;
    let j = 0;
    while (i < base.length || j < added.length) {
      let next: string;
      if (j >= added.length || (i < base.length && (base[i] as string) <= (added[j] as string)))
        next = base[i++] as string;
      else next = added[j++] as string;
      if (merged.length === 0 || merged[merged.length - 1] !== next) merged.push(next);
    }
    this.sorted = merged;
    this.added = [];
    this.deletedSinceSort = 0;
    return merged;
  }

  /** Bounds the pending changes when nobody lists for a long time. */
  private compactIfLarge(): void {
    if (this.added.length + this.deletedSinceSort > this.live.size + 4096 && this.deletedSinceSort > 0) this.names();
  }
}

/** The index of the first element of sorted `items` greater than `key`. */
export function upperBound(items: readonly string[], key: string): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((items[mid] as string) <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
