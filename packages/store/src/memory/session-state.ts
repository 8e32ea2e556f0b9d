import type { CheckedSessionOptions } from '../internal/checks.js';
import { variableNameOfId } from '../internal/ids.js';
import { isExpired } from '../internal/records.js';
import { variableNotFound } from '../internal/store-errors.js';
import type { Metadata, ToolRecord } from '../session-store.js';
import { SortedNameIndex } from './name-index.js';
import type { VariableSlot } from './variable-slot.js';
import { WatchHub } from './watch-hub.js';

/**
 * Everything one session holds in a `MemoryStore` (the public view of it is a
 * `SessionRecord`). A session is live from `createSession` until it is closed
 * or expires; then the store drops this object, and with it every variable,
 * history, tool and watcher of the session.
 */
export class SessionState {
  /** The session id. */
  readonly id: string;
  /** Who created the session (`""` when not given). */
  readonly owner: string;
  /** The metadata given at creation (frozen). */
  readonly metadata: Metadata;
  /** When the session was created (ms epoch). */
  readonly createdAt: number;
  /** The sliding idle TTL in ms. */
  readonly ttlMs: number;
  /** When a call last named the session (ms epoch); the session expires at `lastUsedAt + ttlMs`. */
  lastUsedAt: number;
  /** The revision of the latest variable change (0 when none); each change adds exactly one. */
  revision = 0;
  /** The variables by name. */
  readonly variables = new Map<string, VariableSlot>();
  /** The variable names in order. */
  readonly names = new SortedNameIndex(this.variables);
  /** The change window and the open watchers. */
  readonly watch: WatchHub;
  /** The session's own tools by name (global tools live in the store's `ToolTable`). */
  readonly tools = new Map<string, ToolRecord>();

  constructor(options: CheckedSessionOptions & { readonly id: string }, now: number, watchWindow: number) {
    this.id = options.id;
    this.owner = options.owner;
    this.metadata = options.metadata;
    this.createdAt = now;
    this.lastUsedAt = now;
    this.ttlMs = options.ttlMs;
    this.watch = new WatchHub(watchWindow);
  }

  /** Whether the idle TTL has passed at `now`. */
  expiredAt(now: number): boolean {
    return isExpired(this.lastUsedAt, this.ttlMs, now);
  }

  /** The revision of the next change, and the session's revision from now on. */
  nextRevision(): number {
    return ++this.revision;
  }

  /** The variable an identifier names: a name first, else an id (`undefined` when none). */
  findVariable(identifier: string): VariableSlot | undefined {
    if (typeof identifier !== 'string') return undefined;
    const byName = this.variables.get(identifier);
    if (byName !== undefined) return byName;
    const name = variableNameOfId(identifier);
    if (name === undefined) return undefined;
    const slot = this.variables.get(name);
    return slot !== undefined && slot.current.id === identifier ? slot : undefined;
  }

  /**
   * The variable an identifier names, like {@link findVariable}.
   * @throws `VariableNotFound`.
   */
  resolveVariable(identifier: string): VariableSlot {
    const slot = this.findVariable(identifier);
    if (slot === undefined) throw variableNotFound(this.id, identifier);
    return slot;
  }

  /** Adds a registered variable. */
  addVariable(slot: VariableSlot): void {
    this.variables.set(slot.current.name, slot);
    this.names.add(slot.current.name);
  }

  /** Removes a deleted variable. */
  removeVariable(slot: VariableSlot): void {
    this.variables.delete(slot.current.name);
    this.names.remove();
  }
}
