import { create } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { ErrorDetailSchema, ErrorType, ErrorTypeSchema } from '@unified-bridge/proto';
import { BRIDGE_ERROR_TYPES, BridgeError, isBridgeError, toBridgeError } from './errors.js';

describe('BridgeError', () => {
  it('should map every wire error type to its string type', () => {
    const wire = ErrorTypeSchema.values.filter((v) => v.number !== 0);
    expect(wire).toHaveLength(BRIDGE_ERROR_TYPES.length);
    for (const v of wire) {
      const ce = new ConnectError('boom', Code.Internal, undefined, [
        { desc: ErrorDetailSchema, value: create(ErrorDetailSchema, { type: v.number as ErrorType, message: 'm' }) },
      ]);
      const err = toBridgeError(ce);
      expect(err.type).toBe(BRIDGE_ERROR_TYPES[v.number - 1]);
      expect(err.name).toBe('BridgeError');
      expect(err.cause).toBe(ce);
    }
  });

  it('should carry every field of the ErrorDetail', () => {
    const ce = new ConnectError('conflict', Code.Aborted, undefined, [
      {
        desc: ErrorDetailSchema,
        value: create(ErrorDetailSchema, {
          type: ErrorType.VERSION_CONFLICT,
          message: 'expected version 1, current 3',
          details: { variable: 'x' },
          fieldViolations: [{ field: 'x', constraint: 'max', description: 'too big', expected: '1', actual: '2' }],
          retryDelay: { seconds: 1n, nanos: 500_000_000 },
          requestId: 'req-1',
          currentVersion: 3n,
          oldestRevision: 7n,
          toolErrorType: 'Oops',
        }),
      },
    ]);
    const err = toBridgeError(ce);
    expect(err).toMatchObject({
      type: 'VersionConflict',
      code: Code.Aborted,
      message: 'expected version 1, current 3',
      details: { variable: 'x' },
      fieldViolations: [{ field: 'x', constraint: 'max', description: 'too big', expected: '1', actual: '2' }],
      retryDelayMs: 1500,
      requestId: 'req-1',
      currentVersion: 3,
      oldestRevision: 7,
      toolErrorType: 'Oops',
    });
  });

  it('should map errors without a detail by code, transport failures to Unavailable', () => {
    expect(toBridgeError(new ConnectError('x', Code.DeadlineExceeded)).type).toBe('DeadlineExceeded');
    expect(toBridgeError(new ConnectError('x', Code.Canceled)).type).toBe('Cancelled');
    expect(toBridgeError(new ConnectError('x', Code.Unavailable)).type).toBe('Unavailable');
    expect(toBridgeError(new ConnectError('x', Code.Unauthenticated)).type).toBe('Unauthenticated');
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(toBridgeError(new ConnectError('x', Code.Aborted, undefined, undefined, reset)).type).toBe('Unavailable');
    expect(toBridgeError(new ConnectError('x', Code.Internal, undefined, undefined, reset)).type).toBe('Unavailable');
    expect(toBridgeError(new ConnectError('x', Code.Internal)).type).toBe('Internal');
    expect(toBridgeError(new TypeError('fetch failed')).type).toBe('Unavailable');
  });

  it('should recognise errors structurally, also from another copy of the package', () => {
    const err = new BridgeError('VariableNotFound', 'nope');
    expect(isBridgeError(err)).toBe(true);
    expect(isBridgeError(err, 'VariableNotFound')).toBe(true);
    expect(isBridgeError(err, 'VersionConflict')).toBe(false);
    const foreign = {
      name: 'BridgeError',
      type: 'VersionConflict',
      [Symbol.for('@unified-bridge/client.BridgeError')]: true,
    };
    expect(isBridgeError(foreign, 'VersionConflict')).toBe(true);
    expect(isBridgeError({ name: 'BridgeError', type: 'VersionConflict' })).toBe(false);
    expect(isBridgeError(new Error('x'))).toBe(false);
    expect(isBridgeError(null)).toBe(false);
    expect(toBridgeError(err)).toBe(err);
  });

  it('should default the code to the one of the type', () => {
    expect(new BridgeError('ValidationError', 'x').code).toBe(Code.InvalidArgument);
    expect(new BridgeError('Compacted', 'x').code).toBe(Code.OutOfRange);
  });
});
