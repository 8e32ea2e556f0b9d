// What a host tool is (its definition, handler and call context) and the
// spec rules every tool follows, host or worker: the name, the metadata
// bounds and a parameters schema the type engine can compile.
import { STORE_RULES } from '@unified-bridge/store';
import { compileSchema } from '@unified-bridge/types';

/**
 * The variables of the session a tool is called in, read and written
 * through the store (so every rule of the variable's type applies, and
 * watchers see the writes).
 *
 * @example
 * const t = await ctx.session.get<number>('temperature');
 * await ctx.session.set('temperature', Math.min(2, t + 0.1));
 */
export interface ToolSession {
  /** The session id. */
  readonly id: string;
  /** The current value of a variable (by name or id); rejects with the store's VariableNotFound. */
  get<T = unknown>(name: string): Promise<T>;
  /**
   * Writes a variable (by name or id), validated by its type and constraints;
   * `expectedVersion` makes it a compare-and-set. Resolves to the new version.
   */
  set(name: string, value: unknown, options?: { readonly expectedVersion?: number }): Promise<number>;
}

/**
 * What a host tool's handler gets besides its arguments.
 *
 * @example
 * const handler: HostToolHandler = async (args, ctx) => {
 *   ctx.signal.throwIfAborted();
 *   return { session: ctx.session.id, deadline: ctx.deadline.toISOString() };
 * };
 */
export interface HostToolContext {
  /** The tool's name. */
  readonly toolName: string;
  /** The call's id (for logs). */
  readonly callId: string;
  /** The session the call was made in, with its variables. */
  readonly session: ToolSession;
  /**
   * Aborted when the caller cancels or disconnects, the deadline passes or the
   * server shuts down. Pass it on to your I/O; the call fails at once either way.
   */
  readonly signal: AbortSignal;
  /** When the call times out: the caller's deadline, else now + `defaultToolTimeoutMs`. */
  readonly deadline: Date;
  /** The tool's metadata (from its definition). */
  readonly metadata: Readonly<Record<string, string>>;
  /** The request headers of the call (for example a trace id). */
  readonly requestHeader: Headers;
  /** Whether the caller streams the output (ExecuteToolStream) rather than waiting for one result. */
  readonly streaming: boolean;
  /**
   * Sends one chunk of a streaming tool's output; resolves once the chunk was
   * handed to the caller's stream (backpressure). When the call is not
   * streamed, chunks are collected and returned as an array result. Rejects
   * with a TypeError in a tool not declared `streaming`, and once the call
   * is over.
   */
  emit(chunk: unknown): Promise<void>;
}

/**
 * A host tool's implementation. It gets the arguments already validated
 * against `parameters`. Return the result (any value with a wire form:
 * JSON, bigint, typed arrays...; `undefined` is sent as `null`); a streaming
 * tool may instead be an `async function*` (each yield is a chunk) or call
 * `ctx.emit(chunk)`. Throw {@link toolError} to fail with your own error type.
 */
export type HostToolHandler = (args: Record<string, unknown>, ctx: HostToolContext) => unknown;

/**
 * A tool served by the process that embeds the server.
 *
 * @example
 * const add: HostToolDefinition = {
 *   name: 'add',
 *   description: 'Adds two integers',
 *   parameters: { type: 'object', properties: { a: { type: 'integer' }, b: { type: 'integer' } }, required: ['a', 'b'] },
 *   handler: ({ a, b }) => (a as number) + (b as number),
 * };
 */
export interface HostToolDefinition {
  /** The name: 1-128 characters of [A-Za-z0-9_.-], starting with a letter or underscore. */
  readonly name: string;
  /** What the tool does, for humans and language models. Default `""`. */
  readonly description?: string;
  /** A JSON Schema (draft 2020-12 by default) for the arguments object. Default: any object. */
  readonly parameters?: Readonly<Record<string, unknown>>;
  /** Whether the tool streams its output. Default: true for an `async function*` handler, else false. */
  readonly streaming?: boolean;
  /** Free-form metadata: at most 64 entries, keys up to 128 and values up to 1024 characters. Default `{}`. */
  readonly metadata?: Readonly<Record<string, string>>;
  /** The implementation. */
  readonly handler: HostToolHandler;
}

/** One problem of a tool spec: the field (relative to the spec) and what is wrong. */
export interface SpecProblem {
  readonly field: string;
  readonly constraint: string;
  readonly message: string;
}

/** The parts of a spec every tool must get right. */
export interface SpecShape {
  readonly name: unknown;
  readonly description?: unknown;
  readonly parameters?: unknown;
  readonly streaming?: unknown;
  readonly metadata?: unknown;
}

/**
 * Checks a tool spec against the documented rules (name, metadata bounds, a
 * parameters schema that compiles) and returns every problem found.
 */
export function checkToolSpec(spec: SpecShape): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const { name } = spec;
  if (typeof name !== 'string' || !STORE_RULES.namePattern.test(name)) {
    problems.push({
      field: 'name',
      constraint: 'pattern',
      message: `tool name must be 1-128 characters of [A-Za-z0-9_.-] starting with a letter or underscore, got ${JSON.stringify(name)}`,
    });
  }
  if (spec.description !== undefined && typeof spec.description !== 'string') {
    problems.push({ field: 'description', constraint: 'type', message: 'description must be a string' });
  }
  if (spec.streaming !== undefined && typeof spec.streaming !== 'boolean') {
    problems.push({ field: 'streaming', constraint: 'type', message: 'streaming must be a boolean' });
  }
  const metadata = spec.metadata ?? {};
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    problems.push({ field: 'metadata', constraint: 'type', message: 'metadata must be an object of strings' });
  } else {
    const entries = Object.entries(metadata as Record<string, unknown>);
    if (entries.length > STORE_RULES.maxMetadataEntries) {
      problems.push({
        field: 'metadata',
        constraint: 'max_entries',
        message: `metadata has ${entries.length} entries, at most ${STORE_RULES.maxMetadataEntries} are allowed`,
      });
    }
    for (const [k, v] of entries) {
      if (k.length === 0 || k.length > STORE_RULES.maxMetadataKeyLength) {
        problems.push({
          field: `metadata.${k}`,
          constraint: 'max_key_length',
          message: `metadata keys must be 1-${STORE_RULES.maxMetadataKeyLength} characters`,
        });
      }
      if (typeof v !== 'string') {
        problems.push({ field: `metadata.${k}`, constraint: 'type', message: `metadata.${k} must be a string` });
      } else if (v.length > STORE_RULES.maxMetadataValueLength) {
        problems.push({
          field: `metadata.${k}`,
          constraint: 'max_length',
          message: `metadata.${k} is ${v.length} characters, at most ${STORE_RULES.maxMetadataValueLength} are allowed`,
        });
      }
    }
  }
  if (spec.parameters !== undefined) {
    const p = spec.parameters;
    if (typeof p !== 'object' || p === null || Array.isArray(p)) {
      problems.push({ field: 'parameters', constraint: 'type', message: 'parameters must be a JSON Schema object' });
    } else {
      const compiled = compileSchema(p);
      if (!compiled.ok) {
        for (const v of compiled.violations) {
          problems.push({
            field:
              v.path !== undefined && v.path !== ''
                ? `parameters${v.path.startsWith('/') ? '' : '/'}${v.path}`
                : 'parameters',
            constraint: v.constraint,
            message: `invalid parameters schema: ${v.message}`,
          });
        }
      }
    }
  }
  return problems;
}

/**
 * Validates a host tool definition, throwing a TypeError that names the
 * tool, the field and the fix.
 */
export function validateHostTool(tool: HostToolDefinition): void {
  if (typeof tool !== 'object' || tool === null) {
    throw new TypeError(
      'a host tool must be an object { name, handler, description?, parameters?, streaming?, metadata? }',
    );
  }
  const label = typeof tool.name === 'string' ? `tool ${JSON.stringify(tool.name)}` : 'tool';
  const problems = checkToolSpec(tool);
  if (problems.length > 0) throw new TypeError(`${label}: ${problems.map((p) => p.message).join('; ')}`);
  if (typeof tool.handler !== 'function') {
    throw new TypeError(`${label}: handler must be a function (args, ctx) => result`);
  }
}
