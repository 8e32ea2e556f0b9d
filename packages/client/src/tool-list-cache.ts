import type { ToolSpec } from '@unified-bridge/proto';
import type { ToolInfo } from './tool-types.js';

/** Default TTL of the tool-list cache, in ms. */
export const DEFAULT_TOOL_LIST_TTL_MS = 5000;

interface ListEntry {
  readonly at: number;
  readonly generation: number;
  readonly tools: Promise<ToolInfo[]>;
}

/**
 * The client's tool-list cache: one list per session, served for `ttlMs`,
 * dropped on ToolNotFound in that session and (all of them) when a worker
 * of this client registers or stops. Concurrent misses share one fetch.
 */
export class ToolListCache {
  readonly #entries = new Map<string, ListEntry>();
  #generation = 0;

  constructor(readonly ttlMs: number) {}

  /** The list of a session, from the cache (unless `fresh`) or fetched with `load`. */
  get(sessionId: string, load: () => Promise<ToolInfo[]>, { fresh }: { fresh: boolean }): Promise<ToolInfo[]> {
    const hit = this.#entries.get(sessionId);
    if (!fresh && hit !== undefined && hit.generation === this.#generation && Date.now() - hit.at < this.ttlMs) {
      return hit.tools;
    }
    const tools = load();
    const entry: ListEntry = { at: Date.now(), generation: this.#generation, tools };
    if (this.ttlMs > 0) this.#entries.set(sessionId, entry);
    tools.catch(() => {
      if (this.#entries.get(sessionId) === entry) this.#entries.delete(sessionId);
    });
    return tools;
  }

  /** Drops one session's list, or every list (the tool set changed). */
  invalidate(sessionId?: string): void {
    if (sessionId === undefined) {
      this.#generation++;
      this.#entries.clear();
    } else {
      this.#entries.delete(sessionId);
    }
  }
}

/** Converts a wire ToolSpec. */
export function toolInfoFromWire(t: ToolSpec): ToolInfo {
  return {
    name: t.name,
    description: t.description,
    parameters: t.parameters as Readonly<Record<string, unknown>> | undefined,
    streaming: t.streaming,
    metadata: t.metadata,
    owner: t.owner,
    global: t.global,
  };
}
