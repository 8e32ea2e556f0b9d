import { checkToolInput } from '../internal/checks.js';
import { compareStrings, pageOf, type PageWindow } from '../internal/paging.js';
import { toolRecord } from '../internal/records.js';
import {
  describeToolScope,
  limitReached,
  toolNameTaken,
  toolNotFound,
  toolNotOwned,
} from '../internal/store-errors.js';
import type { StoreLimits } from '../limits.js';
import type { Clock, ToolInput, ToolRecord } from '../session-store.js';
import type { SessionState } from './session-state.js';

/**
 * The tools of a `MemoryStore` and their scope rules. A tool lives in one
 * session (`SessionState.tools`) or in the global scope that every session
 * sees. The two scopes are kept disjoint: a name a session can see names
 * exactly one tool, so a session sees its own tools plus the global ones
 * without shadowing, and counts them by adding the two sizes.
 */
export class ToolTable {
  /** The global tools by name (registered with a `null` session). */
  private readonly global = new Map<string, ToolRecord>();

  constructor(
    private readonly sessions: { values(): Iterable<SessionState> },
    private readonly limits: Readonly<StoreLimits>,
    private readonly clock: Clock,
  ) {}

  /** How many tools a session sees: its own plus the global ones. */
  visibleCount(s: SessionState): number {
    return s.tools.size + this.global.size;
  }

  /**
   * Registers a tool in a session, or globally with `null`. The same owner's
   * tool of that name in the same scope is replaced.
   * @throws `InvalidArgument`, `AlreadyExists` (another owner, or the other scope has the name),
   * `ResourceExhausted` (`maxToolsPerSession`).
   */
  register(s: SessionState | null, input: ToolInput): ToolRecord {
    const tool = checkToolInput(input);
    const { name, owner } = tool;
    const scope = this.scopeOf(s);
    const existing = scope.get(name);
    if (existing !== undefined && existing.owner !== owner) {
      throw toolNameTaken(name, { kind: 'owner', owner: existing.owner });
    }
    const globalTool = s === null ? undefined : this.global.get(name);
    if (globalTool !== undefined) throw toolNameTaken(name, { kind: 'global', owner: globalTool.owner });
    if (s === null) {
      for (const other of this.sessions.values()) {
        const clash = other.tools.get(name);
        if (clash !== undefined) {
          throw toolNameTaken(name, { kind: 'session', owner: clash.owner, sessionId: other.id });
        }
      }
    }
    if (existing === undefined && scope.size >= this.limits.maxToolsPerSession) {
      throw limitReached(
        this.limits,
        'maxToolsPerSession',
        `${describeToolScope(s?.id ?? null)} already holds ${this.limits.maxToolsPerSession} tools`,
      );
    }
    const rec = toolRecord(tool, s?.id ?? null, this.clock.now());
    scope.set(name, rec);
    return rec;
  }

  /**
   * Removes an owner's tool from a session, or from the global scope with `null`.
   * @throws `ToolNotFound` (absent, or owned by someone else).
   */
  unregister(s: SessionState | null, name: string, owner: string): void {
    const scope = this.scopeOf(s);
    const existing = scope.get(name);
    if (existing === undefined || existing.owner !== owner) throw toolNotOwned(s?.id ?? null, name, owner);
    scope.delete(name);
  }

  /** Removes every tool of an owner in every scope; returns how many. */
  removeToolsOf(owner: string): number {
    let n = removeOwned(this.global, owner);
    for (const s of this.sessions.values()) n += removeOwned(s.tools, owner);
    return n;
  }

  /**
   * The tool a session sees under a name: its own, else a global one.
   * @throws `ToolNotFound`.
   */
  get(s: SessionState, name: string): ToolRecord {
    const tool = s.tools.get(name) ?? this.global.get(name);
    if (tool === undefined) throw toolNotFound(s.id, name);
    return tool;
  }

  /** One page of the tools a session sees, ordered by name. */
  list(s: SessionState, page: PageWindow): { readonly items: readonly ToolRecord[]; readonly nextPageToken: string } {
    const { after } = page;
    const all: ToolRecord[] = [];
    for (const t of s.tools.values()) if (after === undefined || t.name > after) all.push(t);
    for (const t of this.global.values()) if (after === undefined || t.name > after) all.push(t);
    all.sort((a, b) => compareStrings(a.name, b.name));
    return pageOf(all, page.pageSize, (t) => t.name);
  }

  /** Drops the global tools (the store closed; session tools go with their sessions). */
  clear(): void {
    this.global.clear();
  }

  private scopeOf(s: SessionState | null): Map<string, ToolRecord> {
    return s === null ? this.global : s.tools;
  }
}

/** Deletes the tools of `owner` from one scope; returns how many. */
function removeOwned(scope: Map<string, ToolRecord>, owner: string): number {
  let n = 0;
  for (const [name, t] of scope) {
    if (t.owner === owner) {
      scope.delete(name);
      n++;
    }
  }
  return n;
}
