import type { Value } from '@unified-bridge/proto';
import { fromWire } from '../codec.js';
import { isAsyncGeneratorFunction, isAsyncIterable, runToolHandler } from './tool-runner.js';
import type { ToolEmit, ToolHandlerRun } from './tool-runner.js';
import { isToolFailure } from './tool-failure.js';

interface Ctx {
  readonly emit: ToolEmit;
  readonly signal: AbortSignal;
}

/** Decodes a wire value back to plain JS (undefined stays undefined). */
function plain(v: Value | undefined): unknown {
  if (v === undefined) return undefined;
  const r = fromWire(v);
  if (!r.ok) throw new Error(JSON.stringify(r.violations));
  return r.value;
}

/** A run with a recording `send`; `overrides` replace the defaults (a unary tool, a unary caller). */
function setup(overrides: Partial<ToolHandlerRun<Ctx>> = {}) {
  const ctrl = new AbortController();
  const sent: [unknown, number][] = [];
  const run: ToolHandlerRun<Ctx> = {
    toolName: 't',
    handler: () => 1,
    args: {},
    streaming: false,
    callerStreams: false,
    signal: ctrl.signal,
    context: (emit) => ({ emit, signal: ctrl.signal }),
    send: (chunk, sequence) => {
      sent.push([plain(chunk), sequence]);
      return Promise.resolve();
    },
    ...overrides,
  };
  return { ctrl, sent, run };
}

describe('runToolHandler: unary tools', () => {
  it('should return the encoded result and hand the handler a copy of the arguments', async () => {
    const args = { a: 2, b: 3 };
    let seen: Record<string, unknown> | undefined;
    const { run } = setup({
      args,
      handler: (a) => {
        seen = a;
        a['a'] = 100;
        return (a['b'] as number) * 2;
      },
    });
    expect(plain(await runToolHandler(run))).toBe(6);
    expect(seen).not.toBe(args);
    expect(args).toEqual({ a: 2, b: 3 });
  });

  it('should send undefined as null, also to a streaming caller', async () => {
    expect(plain(await runToolHandler(setup({ handler: () => undefined }).run))).toBeNull();
    const streamed = await runToolHandler(setup({ handler: async () => undefined, callerStreams: true }).run);
    expect(streamed).toBeDefined();
    expect(plain(streamed)).toBeNull();
  });

  it('should reject emit() with a TypeError in a tool that is not streaming', async () => {
    let emitted: unknown;
    const { run } = setup({
      handler: async (_a, ctx: Ctx) => {
        emitted = await ctx.emit(1).catch((e: unknown) => e);
        return 'done';
      },
    });
    expect(plain(await runToolHandler(run))).toBe('done');
    expect(emitted).toBeInstanceOf(TypeError);
    expect((emitted as Error).message).toBe("tool 't' is not streaming: return the result instead of calling emit()");
  });

  it('should reject with what the handler threw', async () => {
    const boom = new Error('boom');
    await expect(
      runToolHandler(
        setup({
          handler: () => {
            throw boom;
          },
        }).run,
      ),
    ).rejects.toBe(boom);
  });

  it('should reject with an InvalidResult ToolFailure for a result with no wire form', async () => {
    const err: unknown = await runToolHandler(setup({ handler: () => () => 1 }).run).catch((e: unknown) => e);
    expect(isToolFailure(err)).toBe(true);
    expect(err).toMatchObject({ toolErrorType: 'InvalidResult', code: 2 });
    expect((err as Error).message).toMatch(/^tool 't' returned a value with no wire encoding: /);
  });

  it('should not call the handler when the signal has already aborted', async () => {
    const handler = jest.fn(() => 1);
    const { ctrl, run } = setup({ handler });
    const reason = new Error('gone');
    ctrl.abort(reason);
    await expect(runToolHandler(run)).rejects.toBe(reason);
    expect(handler).not.toHaveBeenCalled();
  });

  it('should reject with the reason when the signal aborts while the handler runs', async () => {
    const { ctrl, run } = setup({
      handler: () => {
        ctrl.abort(new Error('cancelled'));
        return 1;
      },
    });
    await expect(runToolHandler(run)).rejects.toThrow('cancelled');
  });
});

describe('runToolHandler: streaming tools', () => {
  it('should send the yields of an async generator in order, numbered from 0, to a streaming caller', async () => {
    const { run, sent } = setup({
      streaming: true,
      callerStreams: true,
      handler: async function* () {
        yield 'a';
        yield { b: 1 };
      },
    });
    expect(await runToolHandler(run)).toBeUndefined();
    expect(sent).toEqual([
      ['a', 0],
      [{ b: 1 }, 1],
    ]);
  });

  it("should return a generator's return value as the final result", async () => {
    const { run, sent } = setup({
      streaming: true,
      callerStreams: true,
      handler: async function* () {
        yield 1;
        return 'end';
      },
    });
    expect(plain(await runToolHandler(run))).toBe('end');
    expect(sent).toEqual([[1, 0]]);
  });

  it('should collect the chunks into an array result for a caller that does not stream', async () => {
    const { run, sent } = setup({
      streaming: true,
      handler: async (_a, ctx: Ctx) => {
        await ctx.emit(1);
        await ctx.emit('two');
      },
    });
    expect(plain(await runToolHandler(run))).toEqual([1, 'two']);
    expect(sent).toEqual([]);
  });

  it('should keep what a streaming tool returns over the chunks it emitted', async () => {
    const { run } = setup({
      streaming: true,
      handler: async (_a, ctx: Ctx) => {
        await ctx.emit(1);
        return 'own';
      },
    });
    expect(plain(await runToolHandler(run))).toBe('own');
  });

  it('should send null for a streaming tool that emitted nothing to a caller that does not stream', async () => {
    const { run } = setup({ streaming: true, handler: async function* () {} });
    expect(plain(await runToolHandler(run))).toBeNull();
  });

  it('should deliver emits one at a time, in order, and wait for them before it resolves', async () => {
    const log: string[] = [];
    const releases: (() => void)[] = [];
    const { run } = setup({
      streaming: true,
      callerStreams: true,
      handler: (_a, ctx: Ctx) => {
        // Emits not awaited: they still go out in order, one after the other.
        void ctx.emit('a');
        void ctx.emit('b');
        return undefined;
      },
      send: (chunk, sequence) => {
        log.push(`start ${String(plain(chunk))} ${sequence}`);
        return new Promise<void>((resolve) =>
          releases.push(() => {
            log.push(`done ${sequence}`);
            resolve();
          }),
        );
      },
    });
    let settled = false;
    const p = runToolHandler(run).then((v) => {
      settled = true;
      return v;
    });
    for (let i = 0; i < 10; i++) await Promise.resolve();
    expect(log).toEqual(['start a 0']);
    releases.shift()!();
    for (let i = 0; i < 10; i++) await Promise.resolve();
    expect(log).toEqual(['start a 0', 'done 0', 'start b 1']);
    expect(settled).toBe(false);
    releases.shift()!();
    expect(await p).toBeUndefined();
    expect(log).toEqual(['start a 0', 'done 0', 'start b 1', 'done 1']);
  });

  it('should fail the emit, every later one and the run when a delivery fails', async () => {
    const lost = new Error('lost');
    const results: unknown[] = [];
    const { run } = setup({
      streaming: true,
      callerStreams: true,
      handler: async (_a, ctx: Ctx) => {
        results.push(await ctx.emit(1).catch((e: unknown) => e));
        results.push(await ctx.emit(2).catch((e: unknown) => e));
        return 'ignored';
      },
      send: () => Promise.reject(lost),
    });
    await expect(runToolHandler(run)).rejects.toBe(lost);
    expect(results).toEqual([lost, lost]);
  });

  it('should reject an emit whose chunk has no wire form without failing the stream', async () => {
    const { run, sent } = setup({
      streaming: true,
      callerStreams: true,
      handler: async (_a, ctx: Ctx) => {
        const err = await ctx.emit(Symbol('x')).catch((e: unknown) => e);
        await ctx.emit('ok');
        return err instanceof TypeError ? 'saw TypeError' : 'no error';
      },
    });
    expect(plain(await runToolHandler(run))).toBe('saw TypeError');
    expect(sent).toEqual([['ok', 0]]);
  });

  it('should close a generator with return() when the signal aborts, and reject with the reason', async () => {
    let closed = false;
    const { ctrl, run, sent } = setup({
      streaming: true,
      callerStreams: true,
      handler: async function* () {
        try {
          yield 1;
          ctrl.abort(new Error('stop'));
          yield 2;
          yield 3;
        } finally {
          closed = true;
        }
      },
    });
    await expect(runToolHandler(run)).rejects.toThrow('stop');
    expect(closed).toBe(true);
    expect(sent).toEqual([[1, 0]]);
  });

  it('should close a generator with return() when a delivery fails', async () => {
    let closed = false;
    const { run } = setup({
      streaming: true,
      callerStreams: true,
      handler: async function* () {
        try {
          for (;;) yield 1;
        } finally {
          closed = true;
        }
      },
      send: () => Promise.reject(new Error('caller gone')),
    });
    await expect(runToolHandler(run)).rejects.toThrow('caller gone');
    expect(closed).toBe(true);
  });

  it('should reject emits once the signal aborted, and once the run is over', async () => {
    let late: ToolEmit | undefined;
    const { ctrl, run } = setup({
      streaming: true,
      callerStreams: true,
      handler: (_a, ctx: Ctx) => {
        late = ctx.emit;
        return 'r';
      },
    });
    await runToolHandler(run);
    await expect(late!('x')).rejects.toThrow("the call of tool 't' is over");
    const reason = new Error('aborted');
    ctrl.abort(reason);
    await expect(late!('x')).rejects.toBe(reason);
  });
});

describe('isAsyncGeneratorFunction and isAsyncIterable', () => {
  it('should tell an async generator function from other functions', () => {
    expect(isAsyncGeneratorFunction(async function* () {})).toBe(true);
    expect(isAsyncGeneratorFunction(function* () {})).toBe(false);
    expect(isAsyncGeneratorFunction(async () => 1)).toBe(false);
    expect(isAsyncGeneratorFunction({})).toBe(false);
  });

  it('should accept anything with Symbol.asyncIterator', () => {
    expect(isAsyncIterable((async function* () {})())).toBe(true);
    expect(isAsyncIterable({ [Symbol.asyncIterator]: () => ({}) })).toBe(true);
    expect(isAsyncIterable([1, 2])).toBe(false);
    expect(isAsyncIterable(null)).toBe(false);
  });
});
