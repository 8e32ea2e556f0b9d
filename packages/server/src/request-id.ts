// Request ids: every call has one, the caller's own `x-request-id` when it is
// sane, else a new UUID. It goes back in the `x-request-id` response header,
// in every ErrorDetail's `request_id`, and in every log line about the call.
import { randomUUID } from 'node:crypto';

/** The header that carries a request id, both ways. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** The longest caller-chosen request id that is honoured. */
export const MAX_REQUEST_ID_LENGTH = 128;

/** 1 to {@link MAX_REQUEST_ID_LENGTH} visible ASCII characters (no space, no control character). */
const SANE = /^[\x21-\x7e]{1,128}$/;

/**
 * The request id of a call: `header` (the caller's `x-request-id`) when it
 * is 1-128 visible ASCII characters, else a new random UUID. An id that
 * fails the check is not echoed anywhere (it could be huge or forge log lines).
 */
export function requestIdFor(header: string | null): string {
  return header !== null && SANE.test(header) ? header : randomUUID();
}
