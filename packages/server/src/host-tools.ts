// Host tools: TypeScript functions registered by the service that embeds the
// server, stored in the store's tool registry under owner "host", run in
// this process when a session calls them.
import type { SessionStore } from '@unified-bridge/store';
import type { Value } from '@unified-bridge/proto';
import { abortable, isAsyncGeneratorFunction, runToolHandler } from '@unified-bridge/types/internal';
import { hostToolError, toolNotFound } from './errors.js';
import type { BridgeLogger } from './logger.js';
import type { SessionEndWatch } from './session-watch.js';
import { validateHostTool } from './tool-definition.js';
import type { HostToolContext, HostToolDefinition, ToolSession } from './tool-definition.js';
import type { Invocation } from './tool-invocation.js';

/** The owner of host tools in the store. */
export const HOST_OWNER = 'host';

/** Where a host tool is registered. */
export interface HostToolScope {
  /** The session the tool belongs to; absent (or `null`) registers it globally, for every session. */
  readonly sessionId?: string | null;
}

/**
 * The host tools of a routes object (`routes.tools`): register and remove
 * TypeScript tools at any time, globally or for one session. Session tools
 * disappear with their session.
 *
 * @example
 * await routes.tools.register({ name: 'echo', handler: (args) => args });
 * await routes.tools.register({ name: 'mine', handler: () => 1 }, { sessionId: 'sess_1' });
 */
export interface HostToolRegistry {
  /**
   * Registers (or replaces) a host tool; rejects with a TypeError for a bad
   * definition, and with the store's error (AlreadyExists when a worker or
   * another scope already has the name, SessionNotFound, ResourceExhausted).
   */
  register(tool: HostToolDefinition, scope?: HostToolScope): Promise<void>;
  /** Removes a host tool; rejects with the store's ToolNotFound when there is none of that name. */
  unregister(name: string, scope?: HostToolScope): Promise<void>;
  /** Names of the registered host tools of a scope (global by default), sorted. */
  names(scope?: HostToolScope): string[];
  /**
   * Settles once the tools of the `tools` option are registered (rejects if
   * one could not be: for example a name clash in a store you passed in).
   * `startBridgeServer` awaits it; calls wait for it too.
   */
  readonly ready: Promise<void>;
}

interface Entry {
  readonly tool: HostToolDefinition;
  readonly streaming: boolean;
}

const key = (sessionId: string | null, name: string): string => `${sessionId ?? ''}\u0000${name}`;

/** The registry behind `routes.tools`, and the runner of host tool calls. */
export class HostTools implements HostToolRegistry {
  readonly #store: SessionStore;
  readonly #logger: BridgeLogger;
  readonly #sessions: SessionEndWatch;
  readonly #entries = new Map<string, Entry>();
  /** Per session with host tools: the function that stops watching for its end. */
  readonly #watching = new Map<string, () => void>();
  ready: Promise<void> = Promise.resolve();

  constructor(store: SessionStore, logger: BridgeLogger, sessions: SessionEndWatch) {
    this.#store = store;
    this.#logger = logger;
    this.#sessions = sessions;
  }

  async register(tool: HostToolDefinition, scope: HostToolScope = {}): Promise<void> {
    validateHostTool(tool);
    const sessionId = scope.sessionId ?? null;
    const streaming = tool.streaming ?? isAsyncGeneratorFunction(tool.handler);
    await this.#store.registerTool(sessionId, {
      name: tool.name,
      description: tool.description ?? '',
      ...(tool.parameters !== undefined ? { parameters: { ...tool.parameters } } : {}),
      streaming,
      metadata: { ...tool.metadata },
      owner: HOST_OWNER,
    });
    this.#entries.set(key(sessionId, tool.name), { tool, streaming });
    if (sessionId !== null && !this.#watching.has(sessionId)) {
      this.#watching.set(
        sessionId,
        this.#sessions.onEnd(sessionId, () => this.#forgetSession(sessionId)),
      );
    }
  }

  async unregister(name: string, scope: HostToolScope = {}): Promise<void> {
    const sessionId = scope.sessionId ?? null;
    await this.#store.unregisterTool(sessionId, name, HOST_OWNER);
    this.#entries.delete(key(sessionId, name));
    if (sessionId !== null && this.names({ sessionId }).length === 0) {
      this.#watching.get(sessionId)?.();
      this.#watching.delete(sessionId);
    }
  }

  names(scope: HostToolScope = {}): string[] {
    const prefix = `${scope.sessionId ?? ''}\u0000`;
    return [...this.#entries.keys()]
      .filter((k) => k.startsWith(prefix))
      .map((k) => k.slice(prefix.length))
      .sort();
  }

  #forgetSession(sessionId: string): void {
    this.#watching.get(sessionId)?.();
    this.#watching.delete(sessionId);
    for (const k of [...this.#entries.keys()]) if (k.startsWith(`${sessionId}\u0000`)) this.#entries.delete(k);
  }

  /** Stops watching sessions (at shutdown). */
  close(): void {
    for (const stop of this.#watching.values()) stop();
    this.#watching.clear();
  }

  /**
   * Runs a host tool for one call. Resolves to the result Value (undefined for
   * a streaming call that ended without a final value); chunks go through
   * `inv.emit`. Rejects with the caller's error (ToolError and friends).
   */
  async run(inv: Invocation): Promise<Value | undefined> {
    const { tool: record } = inv;
    const entry = this.#entries.get(key(record.sessionId, record.name));
    if (entry === undefined) throw toolNotFound(record.name, inv.sessionId);
    const { tool, streaming } = entry;
    try {
      return await runToolHandler({
        toolName: tool.name,
        handler: tool.handler,
        args: inv.args,
        streaming,
        callerStreams: inv.streaming,
        signal: inv.signal,
        send: (chunk) => inv.emit(chunk),
        context: (emit): HostToolContext => ({
          toolName: tool.name,
          callId: inv.callId,
          session: this.#sessionFacade(inv.sessionId, inv.signal),
          signal: inv.signal,
          deadline: new Date(inv.deadline),
          metadata: record.metadata,
          requestHeader: inv.requestHeader,
          streaming: inv.streaming,
          emit,
        }),
      });
    } catch (err) {
      if (inv.signal.aborted) throw inv.signal.reason;
      throw hostToolError(tool.name, err, inv.call?.logger ?? this.#logger, inv.call?.requestId);
    }
  }

  #sessionFacade(sessionId: string, signal: AbortSignal): ToolSession {
    const store = this.#store;
    return {
      id: sessionId,
      async get<T>(name: string): Promise<T> {
        const v = await abortable(store.getVariable(sessionId, name), signal);
        return v.value as T;
      },
      async set(name, value, options = {}) {
        const v = await abortable(
          store.updateVariable(sessionId, name, value, {
            ...(options.expectedVersion !== undefined ? { expectedVersion: options.expectedVersion } : {}),
          }),
          signal,
        );
        return v.version;
      },
    };
  }
}
