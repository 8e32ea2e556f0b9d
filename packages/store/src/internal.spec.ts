import fc from 'fast-check';
import {
  Watcher,
  atomicBatchError,
  changeEvent,
  checkBatch,
  compileGlob,
  decodePageToken,
  encodePageToken,
  fanOut,
  modifyWithRetries,
  pageOf,
  resolveStoreLimits,
} from './internal.js';
import { upperBound } from './memory/name-index.js';
import { Ring } from './memory/ring.js';
import { StoreError } from './store-error.js';

describe('internal helpers', () => {
  it('should match globs like an anchored regular expression', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[ab*?]{0,8}$/), fc.stringMatching(/^[ab]{0,10}$/), (pattern, name) => {
        const re = new RegExp(`^${pattern.replaceAll('*', '.*').replaceAll('?', '.')}$`);
        expect(compileGlob(pattern)(name)).toBe(pattern === '' ? true : re.test(name));
      }),
      { numRuns: 500 },
    );
  });

  it('should match a pathological glob quickly (no backtracking blow-up)', () => {
    const match = compileGlob('*a*a*a*a*a*a*a*a*a*b');
    expect(match('a'.repeat(128))).toBe(false);
  });

  it('should round-trip page tokens and reject forged ones', () => {
    fc.assert(fc.property(fc.string(), (key) => expect(decodePageToken(encodePageToken(key))).toBe(key)));
    expect(decodePageToken('')).toBeUndefined();
    expect(() => decodePageToken('!!')).toThrow(/pageToken/);
    expect(() => decodePageToken('YWJj')).toThrow(/pageToken/);
  });

  it('should find the upper bound in a sorted array', () => {
    expect(upperBound(['a', 'c', 'e'], 'c')).toBe(2);
    expect(upperBound(['a', 'c', 'e'], 'b')).toBe(1);
    expect(upperBound([], 'b')).toBe(0);
  });

  it('should keep the newest items of a ring', () => {
    const r = new Ring<number>(3);
    for (let i = 1; i <= 5; i++) r.push(i);
    expect([r.at(0), r.at(1), r.at(2), r.size]).toEqual([3, 4, 5, 3]);
    const none = new Ring<number>(0);
    none.push(1);
    expect(none.size).toBe(0);
  });
});

describe('shared backend helpers (@unified-bridge/store/internal)', () => {
  const conflict = (current: number) => new StoreError('VersionConflict', 'conflict', { currentVersion: current });

  it('should retry an asynchronous read-modify-write on VersionConflict, at most maxRetries times', async () => {
    let version = 0;
    const writes: number[] = [];
    const result = await modifyWithRetries(
      3,
      async () => ({ version }),
      (current) => current.version + 100,
      async (current, next) => {
        writes.push(next as number);
        if (version < 2) {
          version++;
          throw conflict(version);
        }
        return { version: current.version + 1 };
      },
    );
    expect(result).toEqual({ version: 3 });
    expect(writes).toEqual([100, 101, 102]);
    let attempts = 0;
    const failing = modifyWithRetries(
      2,
      () => ({ version: 0 }),
      () => 1,
      () => {
        attempts++;
        throw conflict(attempts);
      },
    );
    await expect(failing).rejects.toMatchObject({ type: 'VersionConflict', currentVersion: 3 });
    expect(attempts).toBe(3);
  });

  it('should not retry a VersionConflict thrown by the modify function itself', async () => {
    let reads = 0;
    const run = modifyWithRetries(
      5,
      () => ({ version: reads++ }),
      () => {
        throw conflict(9);
      },
      (current) => current,
    );
    await expect(run).rejects.toMatchObject({ type: 'VersionConflict', currentVersion: 9 });
    expect(reads).toBe(1);
  });

  it('should refuse a batch that names one variable twice, by name and id', () => {
    const names = new Map([
      ['x', 'x'],
      ['var_x_0123456789ab', 'x'],
    ]);
    const nameOf = (identifier: string) => names.get(identifier);
    expect(() => checkBatch([{ identifier: 'x', value: 1 }], { atomic: true }, nameOf)).not.toThrow();
    expect(() =>
      checkBatch(
        [
          { identifier: 'x', value: 1 },
          { identifier: 'var_x_0123456789ab', value: 2 },
        ],
        { atomic: false },
        nameOf,
      ),
    ).toThrow(/name the same variable/);
    expect(() => checkBatch([{ value: 1 } as never], { atomic: true }, nameOf)).toThrow(/string identifier/);
    expect(() => checkBatch([], {} as never, nameOf)).toThrow(/options\.atomic/);
  });

  it('should build the one error of a rejected atomic batch', () => {
    const updates = [
      { identifier: 'a', value: 1 },
      { identifier: 'b', value: 2 },
    ];
    expect(atomicBatchError(updates, [{}, {}])).toBeUndefined();
    const err = atomicBatchError(updates, [{}, conflict(4)]);
    expect(err?.type).toBe('VersionConflict');
    expect(err?.currentVersion).toBe(4);
    expect(err?.violations).toEqual([{ field: 'b', constraint: 'VersionConflict', message: 'conflict' }]);
    expect(err?.details['failed']).toBe('1');
  });

  it('should merge limits over the defaults and name the backend in a RangeError', () => {
    expect(resolveStoreLimits({ historyDepth: 3 }, 'RedisStore').historyDepth).toBe(3);
    expect(() => resolveStoreLimits({ nope: 1 } as never, 'RedisStore')).toThrow(/^RedisStore: unknown limit "nope"/);
    expect(() => resolveStoreLimits({ watcherBufferSize: 0 }, 'RedisStore')).toThrow(/watcherBufferSize must be/);
  });

  it('should page a sorted list with a token only when more items follow', () => {
    const page = pageOf(['a', 'b', 'c'], 2, (s) => s);
    expect(page.items).toEqual(['a', 'b']);
    expect(decodePageToken(page.nextPageToken)).toBe('b');
    expect(pageOf(['a', 'b'], 2, (s) => s).nextPageToken).toBe('');
  });

  it('should fan events out to the watchers that want them and end an overflowing one resumably', async () => {
    const watchers = new Set<Watcher>();
    const open = (names: ReadonlySet<string> | null, bufferSize: number) => {
      const w = new Watcher({ names, prefix: [], startRevision: 0, bufferSize, detach: (x) => watchers.delete(x) });
      watchers.add(w);
      return w;
    };
    const all = open(null, 10);
    const onlyB = open(new Set(['b']), 1);
    const event = (revision: number, name: string) =>
      changeEvent('updated', revision, { name } as Parameters<typeof changeEvent>[2]);
    fanOut(watchers, [event(1, 'a'), event(2, 'b')]);
    expect([(await all.next()).value?.revision, (await all.next()).value?.revision]).toEqual([1, 2]);
    expect((await onlyB.next()).value?.revision).toBe(2);
    fanOut(watchers, [event(3, 'b'), event(4, 'b')]);
    await expect(onlyB.next()).rejects.toMatchObject({ type: 'WatcherOverflow', lastRevision: 2 });
    expect(watchers.has(onlyB)).toBe(false);
    await all.return();
    expect(watchers.size).toBe(0);
  });
});
