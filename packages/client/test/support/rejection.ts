import { isBridgeError, type BridgeError } from '../../src/errors.js';

/** The BridgeError `p` rejects with; anything else it throws is rethrown, and fulfilment fails the test. */
export async function rejection(p: Promise<unknown>): Promise<BridgeError> {
  try {
    await p;
  } catch (e) {
    if (isBridgeError(e)) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}
