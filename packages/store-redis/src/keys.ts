// The key layout. Every key of a session carries the session id as its hash tag
// (`{id}`), so all of them live in one slot and one script can change them
// atomically, also on Redis Cluster. A session has exactly seven keys whatever it
// holds: their number never grows with its variables, and every one of them gets
// the same sliding TTL.

/** The seven keys of one session, in the order the scripts take them, and its pub/sub channel. */
export interface SessionKeys {
  /** `s`, `v`, `n`, `h`, `e`, `t`, `x`: see the README's key layout. */
  readonly keys: readonly [string, string, string, string, string, string, string];
  /** The channel that carries the session's change notifications to every replica. */
  readonly channel: string;
}

/** Key names of one store: a prefix, then the session or global keys. */
export class KeyLayout {
  /** The global tools hash (slot of the `{#tools}` tag; `#` is never part of a session id). */
  readonly globalTools: string;
  /** The session index: ids in lexical order, and ids scored by a lower bound of their expiry. */
  readonly sessionIndex: readonly [string, string];
  /** The SCAN pattern that finds every session's tools hash. */
  readonly toolsPattern: string;

  constructor(readonly prefix: string) {
    this.globalTools = `${prefix}{#tools}:g`;
    this.sessionIndex = [`${prefix}{#sessions}:l`, `${prefix}{#sessions}:d`];
    this.toolsPattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}{*}:t`;
  }

  /** The keys of session `id`. */
  session(id: string): SessionKeys {
    const base = `${this.prefix}{${id}}:`;
    return {
      keys: [`${base}s`, `${base}v`, `${base}n`, `${base}h`, `${base}e`, `${base}t`, `${base}x`],
      channel: `${base}c`,
    };
  }

  /** The session id of a key of this layout (`undefined` for any other key). */
  sessionIdOf(key: string): string | undefined {
    if (!key.startsWith(`${this.prefix}{`)) return undefined;
    const end = key.indexOf('}', this.prefix.length + 1);
    const id = end < 0 ? undefined : key.slice(this.prefix.length + 1, end);
    return id === undefined || id.startsWith('#') ? undefined : id;
  }
}
