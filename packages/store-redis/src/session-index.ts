// The index of sessions across every replica and cluster node: listing in id
// order and the `maxSessions` limit. It lives in its own slot (`{#sessions}`), so
// it is kept next to the sessions rather than with them: an entry is added before
// its session is created and removed after it is closed; entries whose session
// is gone (expired, or removed by Redis's key TTL) are dropped when they come up
// in a listing or when the index is full.
import type { StoreLimits } from '@unified-bridge/store';
import type { StoreError } from '@unified-bridge/store';
import { limitReached, type PageWindow, type SessionFields } from '@unified-bridge/store/internal';
import type { Connection } from './connection.js';
import type { KeyLayout } from './keys.js';

/** Reads a session without touching it: its fields while it lives, else why it is gone. */
export type PeekSession = (
  sessionId: string,
  expire: boolean,
) => Promise<{ kind: 'live'; fields: SessionFields } | { kind: 'gone'; error: StoreError }>;

/** Entries checked per round when the index is full. */
const PRUNE_BATCH = 1000;

/** The session index of one key layout. */
export class SessionIndex {
  constructor(
    private readonly connection: Connection,
    private readonly keys: KeyLayout,
    private readonly peek: PeekSession,
  ) {}

  /**
   * Makes room for session `id` (a no-op when it is indexed already): at `maxSessions` the
   * entries due by `now` are checked and the dead ones dropped first.
   * @throws `ResourceExhausted` (`maxSessions`) when every indexed session is live.
   */
  async reserve(id: string, now: number, expiresAt: number, limits: Readonly<StoreLimits>): Promise<void> {
    const max = limits.maxSessions;
    if ((await this.op('reserve', id, expiresAt, max)) !== 'FULL') return;
    await this.prune(now);
    if ((await this.op('reserve', id, expiresAt, max)) === 'FULL') {
      throw limitReached(limits, 'maxSessions', `the store already holds ${max} sessions`);
    }
  }

  /** Drops session `id` from the index. */
  async remove(id: string): Promise<void> {
    await this.op('remove', id);
  }

  /**
   * One page of live sessions in id order after `page.after`, optionally only `owner`'s, and
   * whether more follow. Touches no session; drops entries of sessions that are gone.
   */
  async list(
    page: PageWindow,
    owner: string | undefined,
    now: number,
  ): Promise<{ records: SessionFields[]; more: boolean }> {
    const records: SessionFields[] = [];
    const chunk = Math.min(Math.max(page.pageSize + 1, 100), 1000);
    let after = page.after;
    for (;;) {
      const [lex] = this.keys.sessionIndex;
      const ids = await this.connection.call(() =>
        this.connection.commands.zrangebylex(lex, after === undefined ? '-' : `(${after}`, '+', 'LIMIT', 0, chunk),
      );
      const peeked = await Promise.all(ids.map((id) => this.peek(id, false)));
      peeked.forEach((p, i) => {
        if (p.kind === 'live') {
          if (owner === undefined || p.fields.owner === owner) records.push(p.fields);
        } else {
          void this.op('removeif', ids[i] as string, now).catch(() => {});
        }
      });
      if (records.length > page.pageSize) return { records: records.slice(0, page.pageSize), more: true };
      if (ids.length < chunk) return { records, more: false };
      after = ids[ids.length - 1];
    }
  }

  /** Checks the entries due by `now`: live ones get their current expiry, gone ones are dropped. */
  private async prune(now: number): Promise<void> {
    const due = (await this.op('due', '', now, PRUNE_BATCH)) as string[];
    await Promise.all(
      due.map(async (id) => {
        const p = await this.peek(id, true);
        if (p.kind === 'live') await this.op('refresh', id, p.fields.lastUsedAt + p.fields.ttlMs);
        else await this.op('remove', id);
      }),
    );
  }

  private async op(op: string, id: string, ...args: (string | number)[]): Promise<unknown> {
    const reply = await this.connection.script('ubSessionIndex', this.keys.sessionIndex, [op, id, ...args]);
    return Array.isArray(reply) ? reply.map(String) : String(reply);
  }
}
