import * as store from '@unified-bridge/store';
import * as conformance from '@unified-bridge/store/conformance';
import * as internal from '@unified-bridge/store/internal';

describe('@unified-bridge/store (built entry points)', () => {
  it('should export exactly the public API', () => {
    expect(Object.keys(store).sort()).toEqual(
      ['DEFAULT_STORE_LIMITS', 'MemoryStore', 'STORE_ERROR_TYPES', 'STORE_RULES', 'StoreError', 'isStoreError'].sort(),
    );
  });

  it('should export exactly the conformance API from the subpath', () => {
    expect(Object.keys(conformance).sort()).toEqual(['ManualClock', 'describeSessionStore']);
  });

  it('should export exactly the shared backend API from the internal subpath', () => {
    expect(Object.keys(internal).sort()).toEqual(
      [
        'DEFAULT_TYPE_ENGINE',
        'EMPTY_METADATA',
        'WATCH_EVENT_KINDS',
        'Watcher',
        'atomicBatchError',
        'changeEvent',
        'checkBatch',
        'checkCreateSessionOptions',
        'checkExpectedVersion',
        'checkHistoryLimit',
        'checkMetadata',
        'checkModifyArgs',
        'checkName',
        'checkResumable',
        'checkRollbackVersion',
        'checkSessionId',
        'checkSessionOwner',
        'checkToolInput',
        'checkToolOwner',
        'checkValue',
        'checkVariableInput',
        'checkVersion',
        'checkWatchOptions',
        'compareStrings',
        'compileGlob',
        'compileVariableType',
        'copyValue',
        'decodePageToken',
        'describeToolScope',
        'doneIterator',
        'encodePageToken',
        'endWatchers',
        'failedIterator',
        'fanOut',
        'frozenJsonCopy',
        'initialEvent',
        'invalidArgument',
        'isExpired',
        'isThenable',
        'limitReached',
        'mergeMetadata',
        'modifyWithRetries',
        'newSessionId',
        'newVariableId',
        'nextVariableRecord',
        'pageOf',
        'prepareEach',
        'readPageOptions',
        'registeredVariableRecord',
        'resolvePageSize',
        'resolveStoreLimits',
        'sessionAlreadyExists',
        'sessionClosed',
        'sessionExpired',
        'sessionNotFound',
        'sessionRecord',
        'snapshotValue',
        'storeClosed',
        'syncedEvent',
        'toStoreViolation',
        'toolNameTaken',
        'toolNotFound',
        'toolNotOwned',
        'toolRecord',
        'variableAlreadyExists',
        'variableNameOfId',
        'variableNotFound',
        'variableRecord',
        'versionNotRetained',
      ].sort(),
    );
  });

  it('should keep ValidationFailed as a deprecated alias of ValidationError', () => {
    expect(store.STORE_ERROR_TYPES).toContain('ValidationError');
    expect(store.STORE_ERROR_TYPES).not.toContain('ValidationFailed');
    const err = new store.StoreError('ValidationError', 'bad value');
    expect(store.isStoreError(err, 'ValidationError')).toBe(true);
    expect(store.isStoreError(err, 'ValidationFailed')).toBe(true);
    expect(store.isStoreError(err, 'InvalidArgument')).toBe(false);
    const old = new store.StoreError('ValidationFailed', 'bad value');
    expect(old.type).toBe('ValidationError');
    const fromOlderCopy = { name: 'StoreError', type: 'ValidationFailed' };
    expect(store.isStoreError(fromOlderCopy)).toBe(true);
    expect(store.isStoreError(fromOlderCopy, 'ValidationError')).toBe(true);
    expect(store.isStoreError(fromOlderCopy, 'VersionConflict')).toBe(false);
  });

  it('should build errors that the structural check recognises', () => {
    const err = new store.StoreError('VersionConflict', 'nope', { currentVersion: 3 });
    expect(store.isStoreError(err, 'VersionConflict')).toBe(true);
    expect(store.isStoreError(err, 'Compacted')).toBe(false);
    expect(store.isStoreError({ name: 'StoreError', type: 'VersionConflict' })).toBe(true);
    expect(store.isStoreError({ name: 'StoreError', type: 'Other' })).toBe(false);
    expect(store.isStoreError(new Error('x'))).toBe(false);
    expect(err.currentVersion).toBe(3);
    expect(Object.isFrozen(err.details)).toBe(true);
  });
});
