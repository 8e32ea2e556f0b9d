import { create, type JsonObject } from '@bufbuild/protobuf';
import { ToolSpecSchema, type ToolSpec } from '@unified-bridge/proto';
import { isAsyncGeneratorFunction } from '@unified-bridge/types/internal';
import type { Session } from './session.js';

/**
 * What a worker tool's handler gets besides its arguments.
 *
 * @example
 * ```ts
 * async function* count(args: { n: number }, ctx: ToolContext) {
 *   for (let i = 0; i < args.n && !ctx.signal.aborted; i++) yield i;
 * }
 * ```
 */
export interface ToolContext {
  /** Aborted when the caller cancels, the call's deadline passes, the worker stops or its stream breaks. */
  readonly signal: AbortSignal;
  /** The session the call was made in. */
  readonly sessionId: string;
  /** The call's id (for logs). */
  readonly callId: string;
  /** The tool's name. */
  readonly toolName: string;
  /** When the caller stops waiting; undefined when it set no deadline. */
  readonly deadline: Date | undefined;
  /** A Session of this client for `sessionId`, to read and write the caller's variables. */
  readonly session: Session;
  /**
   * Sends one chunk of a streaming tool's output (in call order); resolves
   * once the server has it. Rejects when the call was cancelled, and with a
   * TypeError for a tool that is not streaming.
   */
  emit(chunk: unknown): Promise<void>;
}

/**
 * A tool's implementation. Unary: return the result (or a promise of it;
 * `undefined` is sent as `null`). Streaming: an `async function*` whose
 * yields are the chunks (its return value, if any, is the final result), or
 * any function that calls `ctx.emit(chunk)`. Throw {@link toolError} to fail
 * with your own error type.
 */
export type ToolHandler = (args: Record<string, unknown>, ctx: ToolContext) => unknown;

/**
 * One tool served by a worker.
 *
 * @example
 * ```ts
 * const add: ToolDefinition = {
 *   name: 'add',
 *   description: 'Adds two integers',
 *   parameters: { type: 'object', properties: { a: { type: 'integer' }, b: { type: 'integer' } }, required: ['a', 'b'] },
 *   handler: ({ a, b }) => (a as number) + (b as number),
 * };
 * ```
 */
export interface ToolDefinition {
  /** The name: 1..128 characters of `[A-Za-z0-9_.-]`, starting with a letter or `_`. */
  name: string;
  /** What the tool does, for humans and language models. Default empty. */
  description?: string;
  /** A JSON Schema (draft 2020-12) of the arguments object, checked by the server. Default: any object. */
  parameters?: Readonly<Record<string, unknown>>;
  /** Whether the tool streams its output. Default: true for an `async function*` handler, else false. */
  streaming?: boolean;
  /** Free-form metadata. Default none. */
  metadata?: Readonly<Record<string, string>>;
  /** The implementation. */
  handler: ToolHandler;
}

/**
 * The tools of `client.serveTools()`: an array of definitions, or a record
 * keyed by name whose values are definitions (name optional) or bare handlers.
 */
export type ToolDefinitions =
  | readonly ToolDefinition[]
  | Readonly<Record<string, ToolHandler | (Omit<ToolDefinition, 'name'> & { name?: string })>>;

/** A tool as a worker serves it: its wire spec and its handler. */
export interface ServedTool {
  readonly spec: ToolSpec;
  readonly handler: ToolHandler;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;

/** Validates tool definitions (TypeError naming the tool and the fix) and builds their wire specs. */
export function resolveTools(tools: ToolDefinitions): Map<string, ServedTool> {
  if (typeof tools !== 'object' || tools === null) {
    throw new TypeError('tools must be an array of { name, handler } or a record of name -> handler or definition');
  }
  const list: ToolDefinition[] = Array.isArray(tools)
    ? [...(tools as readonly ToolDefinition[])]
    : Object.entries(tools as Record<string, unknown>).map(([key, v]) =>
        typeof v === 'function'
          ? { name: key, handler: v as ToolHandler }
          : { ...(v as Omit<ToolDefinition, 'name'>), name: (v as { name?: string })?.name ?? key },
      );
  if (list.length === 0) throw new TypeError('serveTools needs at least one tool');
  const out = new Map<string, ServedTool>();
  for (const t of list) {
    const name = t?.name;
    if (typeof name !== 'string' || !NAME.test(name)) {
      throw new TypeError(
        `tool name must be 1..128 characters of [A-Za-z0-9_.-] starting with a letter or '_', got ${JSON.stringify(name)}`,
      );
    }
    if (out.has(name)) throw new TypeError(`tool '${name}' is defined twice`);
    if (typeof t.handler !== 'function') throw new TypeError(`tool '${name}' needs a handler function`);
    if (t.parameters !== undefined && (typeof t.parameters !== 'object' || t.parameters === null)) {
      throw new TypeError(`tool '${name}': parameters must be a JSON Schema object`);
    }
    for (const [k, v] of Object.entries(t.metadata ?? {})) {
      if (typeof v !== 'string') throw new TypeError(`tool '${name}': metadata '${k}' must be a string`);
    }
    const spec = create(ToolSpecSchema, {
      name,
      description: t.description ?? '',
      parameters: t.parameters === undefined ? undefined : (JSON.parse(JSON.stringify(t.parameters)) as JsonObject),
      streaming: t.streaming ?? isAsyncGeneratorFunction(t.handler),
      metadata: { ...(t.metadata ?? {}) },
    });
    out.set(name, { spec, handler: t.handler });
  }
  return out;
}
