import { MAX_REQUEST_ID_LENGTH, requestIdFor } from './request-id.js';
import { childLogger } from './logger.js';
import type { BridgeLogger } from './logger.js';

describe('requestIdFor', () => {
  it("should honour a sane caller's id and replace any other by a new UUID", () => {
    expect(requestIdFor('abc-123_XYZ.:/=')).toBe('abc-123_XYZ.:/=');
    expect(requestIdFor('x'.repeat(MAX_REQUEST_ID_LENGTH))).toHaveLength(MAX_REQUEST_ID_LENGTH);
    const generated = [null, '', 'x'.repeat(MAX_REQUEST_ID_LENGTH + 1), 'a b', 'line\nbreak', 'é'].map(requestIdFor);
    for (const id of generated) expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(generated).size).toBe(generated.length);
  });
});

describe('childLogger', () => {
  it("should use the logger's own child, else merge the bindings into each line", () => {
    const lines: unknown[] = [];
    const plain: BridgeLogger = {
      error: (o, m) => lines.push(['error', o, m]),
      warn: (o, m) => lines.push(['warn', o, m]),
      info: (o, m) => lines.push(['info', o, m]),
      debug: (o, m) => lines.push(['debug', o, m]),
    };
    const child = childLogger(plain, { requestId: 'r1' });
    child.warn({ a: 1 }, 'hello');
    childLogger(child, { tool: 't' }).debug({}, 'deeper');
    expect(lines).toEqual([
      ['warn', { requestId: 'r1', a: 1 }, 'hello'],
      ['debug', { requestId: 'r1', tool: 't' }, 'deeper'],
    ]);
    const own = { ...plain, child: jest.fn(() => plain) };
    expect(childLogger(own, { requestId: 'r2' })).toBe(plain);
    expect(own.child).toHaveBeenCalledWith({ requestId: 'r2' });
  });
});
