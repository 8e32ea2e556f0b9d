// Paging of every list call: page sizes and opaque page tokens. A token holds
// the last key of the previous page, so a page starts after that key and
// stays correct under concurrent inserts and deletes.
// @private Internal code, does not follow semantic versioning.
import { STORE_RULES } from '../limits.js';
import type { PageOptions } from '../session-store.js';
import { invalidArgument } from './store-errors.js';

/**
 * Resolves a page size: absent/0 is `STORE_RULES.defaultPageSize`, above
 * `STORE_RULES.maxPageSize` is clamped, negative or fractional is an error.
 * @private Internal code, does not follow semantic versioning.
 */
export function resolvePageSize(pageSize: number | undefined): number {
  if (pageSize === undefined || pageSize === 0) return STORE_RULES.defaultPageSize;
  if (typeof pageSize !== 'number' || !Number.isInteger(pageSize) || pageSize < 0) {
    throw invalidArgument(`pageSize must be a non-negative integer, got ${String(pageSize)}`, 'pageSize');
  }
  return Math.min(pageSize, STORE_RULES.maxPageSize);
}

/**
 * Encodes the last key of a page as an opaque token (base64url).
 * @private Internal code, does not follow semantic versioning.
 */
export function encodePageToken(lastKey: string): string {
  return Buffer.from(`k:${lastKey}`, 'utf8').toString('base64url');
}

/**
 * Decodes a page token to the last key of the previous page (`undefined` for the first page).
 * @throws `InvalidArgument` for anything {@link encodePageToken} did not produce.
 * @private Internal code, does not follow semantic versioning.
 */
export function decodePageToken(token: string | undefined): string | undefined {
  if (token === undefined || token === '') return undefined;
  if (typeof token === 'string' && /^[A-Za-z0-9_-]+$/.test(token)) {
    const text = Buffer.from(token, 'base64url').toString('utf8');
    if (text.startsWith('k:') && encodePageToken(text.slice(2)) === token) return text.slice(2);
  }
  throw invalidArgument('pageToken is not a token returned by a previous page', 'pageToken');
}

/**
 * The checked paging options of a list call.
 * @private Internal code, does not follow semantic versioning.
 */
export interface PageWindow {
  /** Items per page (1 to `STORE_RULES.maxPageSize`). */
  readonly pageSize: number;
  /** The page starts after this key; `undefined` for the first page. */
  readonly after: string | undefined;
}

/**
 * Checks `pageSize` then `pageToken` of a list call.
 * @private Internal code, does not follow semantic versioning.
 */
export function readPageOptions(options: PageOptions): PageWindow {
  const pageSize = resolvePageSize(options.pageSize);
  return { pageSize, after: decodePageToken(options.pageToken) };
}

/**
 * The first page of `sorted` (items after the previous page, ordered by key)
 * and the token of the next page (`""` when `sorted` holds no more).
 * @private Internal code, does not follow semantic versioning.
 */
export function pageOf<T>(
  sorted: readonly T[],
  pageSize: number,
  keyOf: (item: T) => string,
): { readonly items: T[]; readonly nextPageToken: string } {
  const items = sorted.slice(0, pageSize);
  const last = items[items.length - 1];
  return { items, nextPageToken: sorted.length > pageSize && last !== undefined ? encodePageToken(keyOf(last)) : '' };
}

/**
 * Orders strings by UTF-16 code units (the order of every list call), without locale rules.
 * @private Internal code, does not follow semantic versioning.
 */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
