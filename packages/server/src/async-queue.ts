// A small unbounded async queue: producers push (and may wait until their item
// was taken), one consumer iterates; it ends cleanly or with an error.

interface Entry<T> {
  readonly item: T;
  readonly taken: () => void;
}

/** A single-consumer async queue whose `push` resolves once the item was taken. */
export class AsyncQueue<T> implements AsyncIterable<T> {
  readonly #items: Entry<T>[] = [];
  #waiter: (() => void) | undefined;
  #ended = false;
  #error: { readonly reason: unknown } | undefined;

  /** Whether `end()` or `fail()` was called. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Adds an item; resolves when the consumer took it (or when the queue ended without taking it). */
  push(item: T): Promise<void> {
    if (this.#ended) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#items.push({ item, taken: resolve });
      this.#wake();
    });
  }

  /** Ends the queue after the items already pushed. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#wake();
  }

  /** Ends the queue at once with an error (items not yet taken are dropped). */
  fail(reason: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = { reason };
    for (const e of this.#items.splice(0)) e.taken();
    this.#wake();
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    try {
      for (;;) {
        if (this.#error !== undefined) throw this.#error.reason;
        const next = this.#items.shift();
        if (next !== undefined) {
          next.taken();
          yield next.item;
          continue;
        }
        if (this.#ended) return;
        await new Promise<void>((resolve) => (this.#waiter = resolve));
      }
    } finally {
      // The consumer stopped: release producers still waiting.
      this.#ended = true;
      for (const e of this.#items.splice(0)) e.taken();
    }
  }
}
