// The pending-call table and its report rules alone: no store, no stream.
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { ErrorDetailSchema, ErrorType } from '@unified-bridge/proto';
import type { Value } from '@unified-bridge/proto';
import { PendingCalls } from './pending-calls.js';
import type { CallOwner, PendingCall, WorkerCallResult } from './pending-calls.js';

type Owner = CallOwner;

const owner = (id: string): Owner => ({ id, calls: new Map() });
const value = (n: bigint) => ({ kind: { case: 'intValue', value: n } }) as Value;

/** A call of `worker` with a recording emit; its promise settles with resolve/reject. */
function pendingCall(worker: Owner, id: string, options: { streaming?: boolean } = {}) {
  const chunks: Value[] = [];
  let cleaned = 0;
  let settle!: { resolve: (v: WorkerCallResult) => void; reject: (e: unknown) => void };
  const outcome = new Promise<WorkerCallResult>((resolve, reject) => (settle = { resolve, reject }));
  outcome.catch(() => {});
  const call: PendingCall<Owner> = {
    id,
    worker,
    streaming: options.streaming ?? false,
    toolName: 'echo',
    nextSequence: 0n,
    done: false,
    emit: (chunk) => {
      chunks.push(chunk);
      return Promise.resolve();
    },
    resolve: (v) => settle.resolve(v),
    reject: (e) => settle.reject(e),
    cleanup: () => cleaned++,
  };
  return { call, chunks, outcome, cleaned: () => cleaned };
}

describe('PendingCalls', () => {
  it('should index a call by id and in its worker, and take it out once finished (once)', () => {
    const finished: string[] = [];
    const table = new PendingCalls<Owner>((c) => finished.push(c.id));
    const w = owner('w1');
    const c = pendingCall(w, 'call_1');
    table.add(c.call);
    expect([table.size, [...w.calls.keys()]]).toEqual([1, ['call_1']]);
    table.finish(c.call);
    table.finish(c.call);
    expect([table.size, w.calls.size, c.call.done, c.cleaned(), finished]).toEqual([0, 0, true, 1, ['call_1']]);
  });

  it('should deliver chunks in sequence, ignore a repeat and reject a gap', async () => {
    const table = new PendingCalls<Owner>(() => {});
    const w = owner('w1');
    const c = pendingCall(w, 'call_1', { streaming: true });
    table.add(c.call);
    expect(await table.reportChunk(w, 'call_1', 0n, value(10n))).toBe(true);
    expect(await table.reportChunk(w, 'call_1', 0n, value(99n))).toBe(true); // a repeat: not delivered again
    const gap: unknown = await table.reportChunk(w, 'call_1', 2n, value(12n)).catch((e: unknown) => e);
    expect(gap).toBeInstanceOf(ConnectError);
    expect([(gap as ConnectError).code, (gap as ConnectError).rawMessage]).toEqual([
      Code.InvalidArgument,
      'expected chunk sequence 1, got 2',
    ]);
    expect(await table.reportChunk(w, 'call_1', 1n, value(11n))).toBe(true);
    expect(c.chunks).toEqual([value(10n), value(11n)]);
  });

  it('should require a chunk', async () => {
    const table = new PendingCalls<Owner>(() => {});
    const w = owner('w1');
    table.add(pendingCall(w, 'call_1', { streaming: true }).call);
    await expect(table.reportChunk(w, 'call_1', 0n, undefined)).rejects.toMatchObject({
      code: Code.InvalidArgument,
      rawMessage: 'chunk is required',
    });
    await expect(table.reportChunk(w, 'call_1', 0n, { kind: { case: undefined } } as Value)).rejects.toMatchObject({
      rawMessage: 'chunk is required',
    });
  });

  it('should not accept chunks for unknown, finished, unary or other workers’ calls', async () => {
    const table = new PendingCalls<Owner>(() => {});
    const [w, other] = [owner('w1'), owner('w2')];
    const streaming = pendingCall(w, 'call_s', { streaming: true });
    const unary = pendingCall(w, 'call_u');
    table.add(streaming.call);
    table.add(unary.call);
    expect(await table.reportChunk(w, 'nope', 0n, value(1n))).toBe(false);
    expect(await table.reportChunk(other, 'call_s', 0n, value(1n))).toBe(false);
    expect(await table.reportChunk(undefined, 'call_s', 0n, value(1n))).toBe(false);
    expect(await table.reportChunk(w, 'call_u', 0n, value(1n))).toBe(false);
    table.finish(streaming.call);
    expect(await table.reportChunk(w, 'call_s', 0n, value(1n))).toBe(false);
    expect(streaming.chunks).toEqual([]);
  });

  it('should answer false for a chunk the call stopped waiting for while it was delivered', async () => {
    const table = new PendingCalls<Owner>(() => {});
    const w = owner('w1');
    const c = pendingCall(w, 'call_1', { streaming: true });
    const call: PendingCall<Owner> = {
      ...c.call,
      emit: () => {
        table.finish(call);
        return Promise.resolve();
      },
    };
    table.add(call);
    expect(await table.reportChunk(w, 'call_1', 0n, value(1n))).toBe(false);
  });

  it('should resolve with the first result, as the worker reported it, and refuse later ones', async () => {
    const finished: string[] = [];
    const table = new PendingCalls<Owner>((c) => finished.push(c.id));
    const w = owner('w1');
    const c = pendingCall(w, 'call_1');
    table.add(c.call);
    expect(table.reportResult(owner('w2'), 'call_1', { case: 'result', value: value(1n) })).toBe(false);
    expect(table.reportResult(w, 'call_1', { case: 'result', value: value(7n) })).toBe(true);
    expect(table.reportResult(w, 'call_1', { case: 'result', value: value(8n) })).toBe(false);
    expect(await c.outcome).toEqual({ result: value(7n), workerId: 'w1' });
    expect(finished).toEqual(['call_1']);
  });

  it('should resolve without a result for an empty outcome or an unset value', async () => {
    const table = new PendingCalls<Owner>(() => {});
    const w = owner('w1');
    const [a, b] = [pendingCall(w, 'a', { streaming: true }), pendingCall(w, 'b')];
    table.add(a.call);
    table.add(b.call);
    expect(table.reportResult(w, 'a', { case: undefined })).toBe(true);
    expect(table.reportResult(w, 'b', { case: 'result', value: { kind: { case: undefined } } as Value })).toBe(true);
    expect([await a.outcome, await b.outcome]).toEqual([
      { result: undefined, workerId: 'w1' },
      { result: undefined, workerId: 'w1' },
    ]);
  });

  it("should reject with the worker's error detail", async () => {
    const table = new PendingCalls<Owner>(() => {});
    const w = owner('w1');
    const c = pendingCall(w, 'call_1');
    table.add(c.call);
    const detail = create(ErrorDetailSchema, { type: ErrorType.TOOL_ERROR, message: 'no', toolErrorType: 'Nope' });
    expect(table.reportResult(w, 'call_1', { case: 'error', value: detail })).toBe(true);
    const err: unknown = await c.outcome.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect([(err as ConnectError).code, (err as ConnectError).rawMessage]).toEqual([Code.Unknown, 'no']);
  });
});
