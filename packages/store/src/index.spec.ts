import * as store from '@unified-bridge/store';
import * as conformance from '@unified-bridge/store/conformance';

describe('@unified-bridge/store (built entry points)', () => {
  it('should export exactly the public API', () => {
    expect(Object.keys(store).sort()).toEqual(
      ['DEFAULT_STORE_LIMITS', 'MemoryStore', 'STORE_ERROR_TYPES', 'STORE_RULES', 'StoreError', 'isStoreError'].sort(),
    );
  });

  it('should export exactly the conformance API from the subpath', () => {
    expect(Object.keys(conformance).sort()).toEqual(['ManualClock', 'describeSessionStore']);
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
