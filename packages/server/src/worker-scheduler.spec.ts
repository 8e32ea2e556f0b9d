// Scheduling alone: fake workers with a load, no store, no stream.
import { CallScheduler, pickLeastBusy } from './worker-scheduler.js';
import type { SchedulableWorker } from './worker-scheduler.js';

class FakeWorker implements SchedulableWorker {
  ended = false;
  constructor(
    readonly name: string,
    public load = 0,
    readonly maxConcurrency = 2,
  ) {}
  reserve(): void {
    this.load++;
  }
}

const names = (ws: readonly (FakeWorker | undefined)[]) => ws.map((w) => w?.name);

describe('pickLeastBusy', () => {
  it('should pick the least busy worker with a free slot', () => {
    const ws = [new FakeWorker('a', 1), new FakeWorker('b', 0), new FakeWorker('c', 1)];
    expect(pickLeastBusy(ws, 0)).toBe(1);
  });

  it('should break ties by the first worker from the start index, wrapping round', () => {
    const ws = [new FakeWorker('a'), new FakeWorker('b'), new FakeWorker('c')];
    expect([0, 1, 2, 3].map((start) => pickLeastBusy(ws, start))).toEqual([0, 1, 2, 0]);
  });

  it('should skip full and ended workers, and answer -1 when none is left', () => {
    const full = new FakeWorker('full', 2);
    const ended = new FakeWorker('ended');
    ended.ended = true;
    expect(pickLeastBusy([full, ended], 0)).toBe(-1);
    expect(pickLeastBusy([full, ended, new FakeWorker('ok', 1)], 0)).toBe(2);
    expect(pickLeastBusy([], 0)).toBe(-1);
  });
});

describe('CallScheduler', () => {
  it('should go round-robin among equally busy workers and reserve the slot it gives', () => {
    const s = new CallScheduler<FakeWorker>();
    const [a, b] = [new FakeWorker('a', 0, 10), new FakeWorker('b', 0, 10)];
    s.add(a);
    s.add(b);
    expect(names([s.pick(), s.pick(), s.pick(), s.pick()])).toEqual(['a', 'b', 'a', 'b']);
    expect([a.load, b.load]).toEqual([2, 2]);
  });

  it('should prefer a less busy worker over the round-robin turn', () => {
    const s = new CallScheduler<FakeWorker>();
    const [a, b] = [new FakeWorker('a', 0, 10), new FakeWorker('b', 3, 10)];
    s.add(a);
    s.add(b);
    expect(names([s.pick(), s.pick(), s.pick(), s.pick()])).toEqual(['a', 'a', 'a', 'b']);
  });

  it('should make calls wait while every worker is full and hand freed slots on in order', async () => {
    const s = new CallScheduler<FakeWorker>();
    const w = new FakeWorker('w', 1, 1);
    s.add(w);
    const order: string[] = [];
    const never = new AbortController().signal;
    const first = s.acquire(never).then(() => order.push('first'));
    const second = s.acquire(never).then(() => order.push('second'));
    s.pump();
    await Promise.resolve();
    expect(order).toEqual([]); // still full
    w.load = 0;
    s.pump(); // one slot: the first waiter
    await first;
    expect(order).toEqual(['first']);
    expect(w.load).toBe(1);
    w.load = 0;
    s.pump();
    await second;
    expect(order).toEqual(['first', 'second']);
  });

  it('should drop a waiting call whose signal aborts, rejecting with the reason', async () => {
    const s = new CallScheduler<FakeWorker>();
    const w = new FakeWorker('w', 1, 1);
    s.add(w);
    const ctrl = new AbortController();
    const gone = s.acquire(ctrl.signal);
    const next = s.acquire(new AbortController().signal);
    const reason = new Error('caller gave up');
    ctrl.abort(reason);
    await expect(gone).rejects.toBe(reason);
    w.load = 0;
    s.pump();
    await expect(next).resolves.toBe(w);
  });

  it('should reject at once for a signal that has already aborted when no slot is free', async () => {
    const s = new CallScheduler<FakeWorker>();
    s.add(new FakeWorker('w', 1, 1));
    const ctrl = new AbortController();
    ctrl.abort(new Error('late'));
    await expect(s.acquire(ctrl.signal)).rejects.toThrow('late');
  });

  it('should count the workers left on remove, and give waiting calls back to fail them', async () => {
    const s = new CallScheduler<FakeWorker>();
    const [a, b] = [new FakeWorker('a', 2), new FakeWorker('b', 2)];
    s.add(a);
    s.add(b);
    const waiting = s.acquire(new AbortController().signal);
    expect(s.remove(a)).toBe(1);
    expect(s.remove(a)).toBe(1);
    expect(s.remove(b)).toBe(0);
    const fails = s.takeWaiters();
    expect(fails).toHaveLength(1);
    fails[0]!(new Error('worker went away'));
    await expect(waiting).rejects.toThrow('worker went away');
    expect(s.takeWaiters()).toEqual([]);
  });
});
