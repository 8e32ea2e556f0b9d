import { Code, ConnectError } from '@connectrpc/connect';
import { ErrorDetailSchema, ErrorType } from '@unified-bridge/proto';
import { StoreError, STORE_ERROR_TYPES } from '@unified-bridge/store';
import type { StoreErrorType } from '@unified-bridge/store';
import { recordingLogger } from '../test/helpers.js';
import { INTERNAL_MESSAGE, storeErrorDetail, toConnectError } from './errors.js';

const EXPECTED: Record<StoreErrorType, [Code, ErrorType]> = {
  SessionNotFound: [Code.NotFound, ErrorType.SESSION_NOT_FOUND],
  SessionExpired: [Code.NotFound, ErrorType.SESSION_EXPIRED],
  AlreadyExists: [Code.AlreadyExists, ErrorType.ALREADY_EXISTS],
  VariableNotFound: [Code.NotFound, ErrorType.VARIABLE_NOT_FOUND],
  ValidationError: [Code.InvalidArgument, ErrorType.VALIDATION_ERROR],
  VersionConflict: [Code.Aborted, ErrorType.VERSION_CONFLICT],
  Compacted: [Code.OutOfRange, ErrorType.COMPACTED],
  WatcherOverflow: [Code.ResourceExhausted, ErrorType.WATCHER_OVERFLOW],
  ResourceExhausted: [Code.ResourceExhausted, ErrorType.RESOURCE_EXHAUSTED],
  InvalidArgument: [Code.InvalidArgument, ErrorType.INVALID_ARGUMENT],
  ToolNotFound: [Code.NotFound, ErrorType.TOOL_NOT_FOUND],
  StoreClosed: [Code.Unavailable, ErrorType.UNAVAILABLE],
  StoreUnavailable: [Code.Unavailable, ErrorType.UNAVAILABLE],
};

describe('toConnectError', () => {
  it.each([...STORE_ERROR_TYPES])('should map StoreError %s to its code with one ErrorDetail and the cause', (type) => {
    const cause = new StoreError(type, `it failed: ${type}`, { details: { session: 's' } });
    const err = toConnectError(cause, recordingLogger());
    expect(err.constructor).toBe(ConnectError);
    expect(err.code).toBe(EXPECTED[type][0]);
    expect(err.rawMessage).toBe(`it failed: ${type}`);
    expect(err.cause).toBe(cause);
    const details = err.findDetails(ErrorDetailSchema);
    expect(details).toHaveLength(1);
    expect(details[0]).toMatchObject({
      type: EXPECTED[type][1],
      message: `it failed: ${type}`,
      details: { session: 's' },
    });
  });

  it('should carry field violations, current version, oldest revision, limit and last revision', () => {
    const d = storeErrorDetail(
      new StoreError('ValidationError', 'bad', {
        violations: [
          { field: 'value', constraint: 'max', message: 'value 2 is above maximum 1', expected: '1', actual: '2' },
        ],
      }),
    );
    expect(d.fieldViolations).toEqual([
      expect.objectContaining({
        field: 'value',
        constraint: 'max',
        description: 'value 2 is above maximum 1',
        expected: '1',
        actual: '2',
      }),
    ]);
    expect(storeErrorDetail(new StoreError('VersionConflict', 'v', { currentVersion: 7 })).currentVersion).toBe(7n);
    expect(storeErrorDetail(new StoreError('Compacted', 'c', { oldestRevision: 40 })).oldestRevision).toBe(40n);
    expect(storeErrorDetail(new StoreError('StoreUnavailable', 'u', { retryAfterMs: 1500 })).retryDelay).toMatchObject({
      seconds: 1n,
      nanos: 500_000_000,
    });
    expect(storeErrorDetail(new StoreError('ResourceExhausted', 'r', { limit: 'maxSessions' })).details['limit']).toBe(
      'maxSessions',
    );
    expect(
      storeErrorDetail(new StoreError('WatcherOverflow', 'w', { lastRevision: 12 })).details['last_revision'],
    ).toBe('12');
  });

  it('should turn an unexpected error into INTERNAL with a generic message and a logged request id', () => {
    const logger = recordingLogger();
    const raw = new Error('secret database password in this message');
    const err = toConnectError(raw, logger);
    expect(err.code).toBe(Code.Internal);
    expect(err.rawMessage).toBe(INTERNAL_MESSAGE);
    expect(err.message).not.toContain('secret');
    expect(err.cause).toBe(raw);
    const detail = err.findDetails(ErrorDetailSchema)[0]!;
    expect(detail.type).toBe(ErrorType.INTERNAL);
    expect(detail.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(logger.lines).toEqual([
      expect.objectContaining({
        level: 'error',
        obj: expect.objectContaining({ requestId: detail.requestId, err: raw }),
      }),
    ]);
  });

  it('should hide the message of a ConnectError INTERNAL from elsewhere, and keep other codes with a detail added', () => {
    const internal = toConnectError(new ConnectError('stack trace here', Code.Internal), recordingLogger());
    expect(internal.rawMessage).toBe(INTERNAL_MESSAGE);
    const deadline = toConnectError(
      new ConnectError('the operation timed out', Code.DeadlineExceeded),
      recordingLogger(),
    );
    expect(deadline.code).toBe(Code.DeadlineExceeded);
    expect(deadline.findDetails(ErrorDetailSchema)[0]?.type).toBe(ErrorType.DEADLINE_EXCEEDED);
  });

  it('should pass a deliberate ConnectError whose code no ErrorType names unchanged, without a detail', () => {
    const notFound = new ConnectError('unknown service "x.Y"', Code.NotFound);
    const out = toConnectError(notFound, recordingLogger());
    expect(out).toBe(notFound);
    expect(out.findDetails(ErrorDetailSchema)).toEqual([]);
  });
});
