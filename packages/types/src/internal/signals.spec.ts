import { getEventListeners } from 'node:events';
import { abortable, createDeadlineSignal, createLinkedAbortController } from './signals.js';

describe('createLinkedAbortController', () => {
  it('should abort when any source aborts, with the mapped reason', () => {
    const a = new AbortController();
    const b = new AbortController();
    const linked = createLinkedAbortController([a.signal, undefined, b.signal], (r) => `mapped ${String(r)}`);
    expect(linked.signal.aborted).toBe(false);
    b.abort('b');
    expect(linked.signal.aborted).toBe(true);
    expect(linked.signal.reason).toBe('mapped b');
    a.abort('a');
    expect(linked.signal.reason).toBe('mapped b');
  });

  it('should be aborted at once by a source that already is, with its reason by default', () => {
    const a = new AbortController();
    const reason = new Error('early');
    a.abort(reason);
    const linked = createLinkedAbortController([a.signal]);
    expect(linked.signal.aborted).toBe(true);
    expect(linked.signal.reason).toBe(reason);
  });

  it('should remove its listeners from the sources on cleanup and once it aborted', () => {
    const a = new AbortController();
    const first = createLinkedAbortController([a.signal]);
    const second = createLinkedAbortController([a.signal]);
    expect(getEventListeners(a.signal, 'abort')).toHaveLength(2);
    first.cleanup();
    first.cleanup();
    expect(getEventListeners(a.signal, 'abort')).toHaveLength(1);
    second.abort('own');
    expect(second.signal.reason).toBe('own');
    expect(getEventListeners(a.signal, 'abort')).toHaveLength(0);
    a.abort();
    expect(first.signal.aborted).toBe(false);
  });
});

describe('createDeadlineSignal', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('should abort with the reason once the time has passed', () => {
    const deadline = createDeadlineSignal(100, () => 'late');
    jest.advanceTimersByTime(99);
    expect(deadline.signal.aborted).toBe(false);
    jest.advanceTimersByTime(1);
    expect(deadline.signal.reason).toBe('late');
  });

  it('should abort with a TimeoutError by default, at the next tick for a past deadline', () => {
    const deadline = createDeadlineSignal(-5);
    expect(deadline.signal.aborted).toBe(false);
    jest.advanceTimersByTime(0);
    expect(deadline.signal.reason).toMatchObject({ name: 'TimeoutError' });
  });

  it('should never abort without a deadline, nor after cleanup', () => {
    const none = createDeadlineSignal(undefined);
    const cleared = createDeadlineSignal(10);
    cleared.cleanup();
    none.cleanup();
    jest.advanceTimersByTime(60_000);
    expect(none.signal.aborted).toBe(false);
    expect(cleared.signal.aborted).toBe(false);
  });

  it('should cap a deadline beyond the longest timer instead of firing at once', () => {
    const deadline = createDeadlineSignal(2 ** 32);
    jest.advanceTimersByTime(1000);
    expect(deadline.signal.aborted).toBe(false);
    jest.advanceTimersByTime(2 ** 31);
    expect(deadline.signal.aborted).toBe(true);
  });
});

describe('abortable', () => {
  it('should settle like the promise while the signal stays quiet, and remove its listener', async () => {
    const ctrl = new AbortController();
    await expect(abortable(Promise.resolve(1), ctrl.signal)).resolves.toBe(1);
    await expect(abortable(Promise.reject(new Error('no')), ctrl.signal)).rejects.toThrow('no');
    expect(getEventListeners(ctrl.signal, 'abort')).toHaveLength(0);
  });

  it('should reject with the reason as soon as the signal aborts', async () => {
    const ctrl = new AbortController();
    const p = abortable(new Promise<never>(() => {}), ctrl.signal);
    const reason = new Error('cancelled');
    ctrl.abort(reason);
    await expect(p).rejects.toBe(reason);
    expect(getEventListeners(ctrl.signal, 'abort')).toHaveLength(0);
  });

  it('should reject at once for an aborted signal, with a reason of the caller', async () => {
    const ctrl = new AbortController();
    ctrl.abort('why');
    const work = Promise.reject(new Error('ignored'));
    await expect(abortable(work, ctrl.signal, (s) => new Error(`mapped ${String(s.reason)}`))).rejects.toThrow(
      'mapped why',
    );
  });

  it('should return the promise itself without a signal', () => {
    const p = Promise.resolve(1);
    expect(abortable(p, undefined)).toBe(p);
  });
});
