import { isToolFailure, ToolFailure, toolError } from './tool-failure.js';

describe('ToolFailure', () => {
  it('should carry the type, message, details and code (default 2, Code.Unknown)', () => {
    const cause = new Error('inner');
    const f = new ToolFailure('Quota', 'used up', { details: { left: '0' }, cause });
    expect([f.name, f.toolErrorType, f.message, f.details, f.code, f.cause]).toEqual([
      'ToolFailure',
      'Quota',
      'used up',
      { left: '0' },
      2,
      cause,
    ]);
    expect(Object.isFrozen(f.details)).toBe(true);
    expect(f).toBeInstanceOf(Error);
  });

  it('should name a bad argument', () => {
    expect(() => new ToolFailure('', 'm')).toThrow(new TypeError('ToolFailure: type must be a non-empty string'));
    expect(() => new ToolFailure('T', 1 as unknown as string)).toThrow('ToolFailure: message must be a string');
    expect(() => new ToolFailure('T', 'm', { details: { n: 1 as unknown as string } })).toThrow(
      'ToolFailure: details.n must be a string',
    );
    for (const code of [0, 17, 1.5]) {
      expect(() => new ToolFailure('T', 'm', { code })).toThrow(RangeError);
    }
  });
});

describe('toolError', () => {
  it('should build a ToolFailure from positional arguments', () => {
    const f = toolError('NotFound', 'no city', { city: 'x' }, 5);
    expect(f).toBeInstanceOf(ToolFailure);
    expect([f.toolErrorType, f.message, f.details, f.code]).toEqual(['NotFound', 'no city', { city: 'x' }, 5]);
    expect(toolError('T', 'm').details).toEqual({});
  });
});

describe('isToolFailure', () => {
  it('should recognise a ToolFailure, also one of another copy by its shape', () => {
    expect(isToolFailure(toolError('T', 'm'))).toBe(true);
    expect(isToolFailure({ name: 'ToolFailure', toolErrorType: 'T', message: 'm', code: 2, details: {} })).toBe(true);
    expect(isToolFailure({ name: 'ToolFailure', toolErrorType: 'T', message: 'm', code: 2, details: null })).toBe(
      false,
    );
    expect(isToolFailure(new Error('m'))).toBe(false);
    expect(isToolFailure('ToolFailure')).toBe(false);
  });
});
