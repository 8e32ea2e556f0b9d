/**
 * A ring buffer that allocates as it fills, up to `capacity` items (0 keeps
 * nothing): the history of a variable and the change window of a session.
 */
export class Ring<T> {
  /** The retained items; grows to `capacity`, then slots are overwritten in place. */
  private items: T[] = [];
  /** Index in `items` of the oldest item (moves once the ring is full). */
  private start = 0;
  /** Number of retained items (at most `capacity`). */
  private count = 0;

  /** Creates an empty ring that keeps at most `capacity` items. */
  constructor(readonly capacity: number) {}

  /** Number of retained items. */
  get size(): number {
    return this.count;
  }

  /** Appends, evicting the oldest item when full. */
  push(item: T): void {
    if (this.capacity === 0) return;
    if (this.count < this.capacity) {
      this.items.push(item);
      this.count++;
    } else {
      this.items[this.start] = item;
      this.start = (this.start + 1) % this.capacity;
    }
  }

  /** The i-th retained item, 0 being the oldest. */
  at(i: number): T {
    return this.items[(this.start + i) % this.capacity] as T;
  }
}
