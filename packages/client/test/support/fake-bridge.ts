// An in-memory fake of the SessionService and VariableService for unit tests
// of the client through createRouterTransport (no socket). It follows the
// proto comments closely enough for the client's logic; it does not validate
// values (the real server does; integration tests cover that).
import { create } from '@bufbuild/protobuf';
import { timestampNow, type Duration } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, createRouterTransport, type ConnectRouter, type Transport } from '@connectrpc/connect';
import {
  ErrorDetailSchema,
  ErrorType,
  SessionSchema,
  SessionService,
  VariableEventKind,
  VariableSchema,
  VariableService,
  VariableUpdateResultSchema,
  WatchVariablesResponseSchema,
  type Session,
  type Variable,
  type WatchVariablesRequest,
  type WatchVariablesResponse,
} from '@unified-bridge/proto';

export function wireError(
  code: Code,
  type: ErrorType,
  message: string,
  extra: { currentVersion?: bigint; oldestRevision?: bigint; retryDelay?: Duration } = {},
): ConnectError {
  return new ConnectError(message, code, undefined, [
    { desc: ErrorDetailSchema, value: create(ErrorDetailSchema, { type, message, ...extra }) },
  ]);
}

interface FakeSession {
  info: Session;
  vars: Map<string, Variable>;
  history: Map<string, Variable[]>;
  revision: bigint;
  log: WatchVariablesResponse[];
  listeners: Set<() => void>;
}

/** The fake server: state, call counters and fault injection. */
export class FakeBridge {
  readonly sessions = new Map<string, FakeSession>();
  readonly calls = new Map<string, number>();
  /** Errors thrown by the next calls of a method (FIFO). */
  readonly faults = new Map<string, Error[]>();
  /** Delays (ms) of getVariable, to make concurrent cold reads overlap. */
  getDelayMs = 0;
  /** Oldest revision a watch may resume from (older: Compacted). */
  oldestRevision = 0n;
  #nextId = 1;

  count(method: string): number {
    return this.calls.get(method) ?? 0;
  }

  failNext(method: string, ...errors: Error[]): void {
    this.faults.set(method, [...(this.faults.get(method) ?? []), ...errors]);
  }

  #enter(method: string): void {
    this.calls.set(method, this.count(method) + 1);
    const f = this.faults.get(method)?.shift();
    if (f) throw f;
  }

  #session(id: string): FakeSession {
    const s = this.sessions.get(id);
    if (!s) throw wireError(Code.NotFound, ErrorType.SESSION_NOT_FOUND, `session '${id}' not found`);
    return s;
  }

  #var(s: FakeSession, identifier: string): Variable {
    const v = s.vars.get(identifier) ?? [...s.vars.values()].find((x) => x.id === identifier);
    if (!v) throw wireError(Code.NotFound, ErrorType.VARIABLE_NOT_FOUND, `variable '${identifier}' not found`);
    return v;
  }

  #emit(s: FakeSession, kind: VariableEventKind, v: Variable): void {
    s.log.push(create(WatchVariablesResponseSchema, { kind, revision: s.revision, variable: v }));
    for (const l of s.listeners) l();
  }

  #write(s: FakeSession, v: Variable, value: Variable['value'], kind = VariableEventKind.UPDATED): Variable {
    s.revision++;
    const next = create(VariableSchema, {
      ...v,
      value,
      version: v.version + 1n,
      revision: s.revision,
      updatedAt: timestampNow(),
    });
    s.vars.set(v.name, next);
    s.history.get(v.name)?.unshift(next);
    this.#emit(s, kind, next);
    return next;
  }

  /** Changes a variable as another client would. */
  externalSet(sessionId: string, name: string, value: Variable['value']): Variable {
    const s = this.#session(sessionId);
    return this.#write(s, this.#var(s, name), value);
  }

  /** Ends every open watch stream with this error. */
  cutWatches(error: Error): void {
    this.#cut = error;
    this.#cutGen++;
    for (const s of this.sessions.values()) for (const l of s.listeners) l();
  }
  #cut: Error | undefined;
  #cutGen = 0;

  routes = (router: ConnectRouter): void => {
    router.service(SessionService, {
      createSession: (req) => {
        this.#enter('createSession');
        const id = req.sessionId || `s${this.#nextId++}`;
        if (this.sessions.has(id))
          throw wireError(Code.AlreadyExists, ErrorType.ALREADY_EXISTS, `session '${id}' exists`);
        const info = create(SessionSchema, {
          id,
          metadata: req.metadata,
          ttlSeconds: req.ttlSeconds || 3600,
          createdAt: timestampNow(),
          lastUsedAt: timestampNow(),
          expiresAt: timestampNow(),
        });
        this.sessions.set(id, {
          info,
          vars: new Map(),
          history: new Map(),
          revision: 0n,
          log: [],
          listeners: new Set(),
        });
        return { session: info };
      },
      getSession: (req) => {
        this.#enter('getSession');
        const s = this.#session(req.sessionId);
        return { session: { ...s.info, variableCount: s.vars.size } };
      },
      heartbeat: (req) => {
        this.#enter('heartbeat');
        return { session: this.#session(req.sessionId).info };
      },
      closeSession: (req) => {
        this.#enter('closeSession');
        const s = this.#session(req.sessionId);
        this.sessions.delete(req.sessionId);
        for (const l of s.listeners) l();
        return {};
      },
      listSessions: (req) => {
        this.#enter('listSessions');
        const all = [...this.sessions.values()].map((s) => s.info).sort((a, b) => a.id.localeCompare(b.id));
        const start = req.pageToken ? Number(req.pageToken) : 0;
        const size = req.pageSize || 100;
        const page = all.slice(start, start + size);
        return { sessions: page, nextPageToken: start + size < all.length ? String(start + size) : '' };
      },
    });
    router.service(VariableService, {
      registerVariable: (req) => {
        this.#enter('registerVariable');
        const s = this.#session(req.sessionId);
        if (s.vars.has(req.name))
          throw wireError(Code.AlreadyExists, ErrorType.ALREADY_EXISTS, `variable '${req.name}' exists`);
        s.revision++;
        const v = create(VariableSchema, {
          id: `var_${req.name}_${this.#nextId++}`,
          name: req.name,
          type: req.type,
          value: req.initialValue,
          constraints: req.constraints,
          metadata: req.metadata,
          version: 0n,
          revision: s.revision,
          createdAt: timestampNow(),
          updatedAt: timestampNow(),
        });
        s.vars.set(req.name, v);
        s.history.set(req.name, [v]);
        this.#emit(s, VariableEventKind.CREATED, v);
        return { variable: v };
      },
      getVariable: async (req, ctx) => {
        this.#enter('getVariable');
        const s = this.#session(req.sessionId);
        const v = this.#var(s, req.identifier);
        if (this.getDelayMs > 0) {
          await new Promise<void>((resolve, reject) => {
            const t = setTimeout(resolve, this.getDelayMs);
            ctx.signal.addEventListener('abort', () => {
              clearTimeout(t);
              reject(new ConnectError('cancelled', Code.Canceled));
            });
          });
        }
        return { variable: v };
      },
      getVariables: (req) => {
        this.#enter('getVariables');
        const s = this.#session(req.sessionId);
        const variables: Record<string, Variable> = {};
        const missing: string[] = [];
        for (const id of req.identifiers) {
          try {
            variables[id] = this.#var(s, id);
          } catch {
            missing.push(id);
          }
        }
        return { variables, missing };
      },
      updateVariable: (req) => {
        this.#enter('updateVariable');
        const s = this.#session(req.sessionId);
        const v = this.#var(s, req.identifier);
        if (req.expectedVersion !== undefined && req.expectedVersion !== v.version) {
          throw wireError(Code.Aborted, ErrorType.VERSION_CONFLICT, 'version conflict', { currentVersion: v.version });
        }
        return { variable: this.#write(s, v, req.value) };
      },
      updateVariables: (req) => {
        this.#enter('updateVariables');
        const s = this.#session(req.sessionId);
        if (req.atomic) {
          for (const u of req.updates) {
            const v = this.#var(s, u.identifier);
            if (u.expectedVersion !== undefined && u.expectedVersion !== v.version) {
              throw wireError(Code.Aborted, ErrorType.VERSION_CONFLICT, 'version conflict', {
                currentVersion: v.version,
              });
            }
          }
        }
        const results = req.updates.map((u) => {
          try {
            const v = this.#var(s, u.identifier);
            if (u.expectedVersion !== undefined && u.expectedVersion !== v.version) {
              throw wireError(Code.Aborted, ErrorType.VERSION_CONFLICT, 'version conflict', {
                currentVersion: v.version,
              });
            }
            return create(VariableUpdateResultSchema, {
              identifier: u.identifier,
              outcome: { case: 'variable', value: this.#write(s, v, u.value) },
            });
          } catch (e) {
            const detail = (e as ConnectError).findDetails(ErrorDetailSchema)[0];
            return create(VariableUpdateResultSchema, {
              identifier: u.identifier,
              outcome: { case: 'error', value: detail! },
            });
          }
        });
        return { results };
      },
      deleteVariable: (req) => {
        this.#enter('deleteVariable');
        const s = this.#session(req.sessionId);
        const v = this.#var(s, req.identifier);
        s.vars.delete(v.name);
        s.history.delete(v.name);
        s.revision++;
        this.#emit(s, VariableEventKind.DELETED, v);
        return {};
      },
      listVariables: (req) => {
        this.#enter('listVariables');
        const s = this.#session(req.sessionId);
        const re = new RegExp(`^${req.pattern.replace(/[.]/g, '\\.').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
        const all = [...s.vars.values()]
          .filter((v) => !req.pattern || re.test(v.name))
          .sort((a, b) => a.name.localeCompare(b.name));
        const start = req.pageToken ? Number(req.pageToken) : 0;
        const size = req.pageSize || 100;
        return {
          variables: all.slice(start, start + size),
          nextPageToken: start + size < all.length ? String(start + size) : '',
        };
      },
      getVariableHistory: (req) => {
        this.#enter('getVariableHistory');
        const s = this.#session(req.sessionId);
        const v = this.#var(s, req.identifier);
        const h = s.history.get(v.name) ?? [];
        return {
          entries: (req.limit ? h.slice(0, req.limit) : h).map((x) => ({
            version: x.version,
            value: x.value,
            updatedAt: x.updatedAt,
            metadata: {},
          })),
        };
      },
      rollbackVariable: (req) => {
        this.#enter('rollbackVariable');
        const s = this.#session(req.sessionId);
        const v = this.#var(s, req.identifier);
        if (req.expectedVersion !== undefined && req.expectedVersion !== v.version) {
          throw wireError(Code.Aborted, ErrorType.VERSION_CONFLICT, 'version conflict', { currentVersion: v.version });
        }
        const old = s.history.get(v.name)?.find((x) => x.version === req.version);
        if (!old) throw wireError(Code.NotFound, ErrorType.VARIABLE_NOT_FOUND, `version ${req.version} not retained`);
        return { variable: this.#write(s, v, old.value, VariableEventKind.ROLLED_BACK) };
      },
      watchVariables: (req, ctx) => this.#watch(req, ctx.signal),
    });
  };

  async *#watch(req: WatchVariablesRequest, signal: AbortSignal): AsyncGenerator<WatchVariablesResponse> {
    this.#enter('watchVariables');
    const gen = this.#cutGen;
    const s = this.#session(req.sessionId);
    const want = (v: Variable | undefined): boolean => !req.names.length || (!!v && req.names.includes(v.name));
    let pos: number;
    if (req.sinceRevision !== undefined) {
      if (req.sinceRevision < this.oldestRevision) {
        throw wireError(Code.OutOfRange, ErrorType.COMPACTED, 'compacted', { oldestRevision: this.oldestRevision });
      }
      pos = s.log.findIndex((e) => e.revision > req.sinceRevision!);
      if (pos < 0) pos = s.log.length;
    } else {
      pos = s.log.length;
    }
    if (req.includeInitial) {
      for (const v of s.vars.values()) {
        if (want(v))
          yield create(WatchVariablesResponseSchema, {
            kind: VariableEventKind.INITIAL,
            revision: s.revision,
            variable: v,
          });
      }
    }
    // Changes after since_revision first, then SYNCED at the current revision.
    while (pos < s.log.length) {
      const ev = s.log[pos++]!;
      if (want(ev.variable)) yield ev;
    }
    yield create(WatchVariablesResponseSchema, { kind: VariableEventKind.SYNCED, revision: s.revision });
    for (;;) {
      while (pos < s.log.length) {
        if (this.#cutGen !== gen) throw this.#cut!;
        const ev = s.log[pos++]!;
        if (want(ev.variable)) yield ev;
      }
      await new Promise<void>((resolve) => {
        const l = (): void => {
          s.listeners.delete(l);
          resolve();
        };
        s.listeners.add(l);
        signal.addEventListener('abort', l, { once: true });
      });
      if (signal.aborted) return;
      if (this.#cutGen !== gen) throw this.#cut!;
      if (!this.sessions.has(req.sessionId)) {
        throw wireError(Code.NotFound, ErrorType.SESSION_NOT_FOUND, 'session closed');
      }
    }
  }

  transport(): Transport {
    return createRouterTransport(this.routes);
  }
}
