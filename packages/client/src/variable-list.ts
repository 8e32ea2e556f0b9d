import type { VariableRecord } from './codec.js';

/** One page fetch of {@link VariableList}. */
export type PageFetcher = (pageToken: string) => Promise<{ records: VariableRecord[]; next: string }>;

/**
 * The result of `session.list()`: iterate it for every variable (pages are
 * fetched as you go), or call `pages()` to iterate page by page.
 */
export class VariableList implements AsyncIterable<VariableRecord> {
  readonly #fetch: PageFetcher;

  /** Use `session.list()`. */
  constructor(fetch: PageFetcher) {
    this.#fetch = fetch;
  }

  /** The variables page by page, as the server returns them. */
  async *pages(): AsyncGenerator<VariableRecord[], void, undefined> {
    let token = '';
    do {
      const { records, next } = await this.#fetch(token);
      yield records;
      token = next;
    } while (token !== '');
  }

  /** Every variable, in name order. */
  async *[Symbol.asyncIterator](): AsyncGenerator<VariableRecord, void, undefined> {
    for await (const page of this.pages()) yield* page;
  }

  /** Collects every variable into an array. */
  async toArray(): Promise<VariableRecord[]> {
    const out: VariableRecord[] = [];
    for await (const page of this.pages()) out.push(...page);
    return out;
  }
}
