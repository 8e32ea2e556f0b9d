// Tool registrations. A session's tools live in its own tools hash (one of its
// seven keys, so they go with the session); global tools in one hash of their own
// slot (`{#tools}`). The two scopes stay disjoint across replicas: each side
// writes first and then checks the other (a session tool checks the global hash,
// a global tool scans the session tool hashes), undoing its write on a clash.
import type { StoreLimits, ToolInput, ToolRecord } from '@unified-bridge/store';
import {
  checkMetadata,
  checkToolInput,
  compareStrings,
  describeToolScope,
  frozenJsonCopy,
  limitReached,
  pageOf,
  toolNameTaken,
  toolNotFound,
  toolNotOwned,
  toolRecord,
  type PageWindow,
} from '@unified-bridge/store/internal';
import { Cluster, type Redis } from 'ioredis';
import type { Connection } from './connection.js';
import type { KeyLayout } from './keys.js';
import type { ScriptName } from './lua.js';

/** A script reply: an array whose first element is the status word. */
type Reply = readonly unknown[];

/** Runs a session script with the store's common arguments and throws the session's errors. */
export type SessionScript = (name: ScriptName, sessionId: string, args: readonly (string | number)[]) => Promise<Reply>;

/** SCAN batch size while looking for session tool hashes. */
const SCAN_COUNT = 1000;

/** A tool's stored JSON: description, parameters, streaming, metadata, registration time. */
interface ToolJson {
  readonly d: string;
  readonly p?: Record<string, unknown>;
  readonly s: boolean;
  readonly m: Record<string, string>;
  readonly r: number;
}

const text = (v: unknown): string => (v === null || v === undefined ? '' : String(v));

/** A name to look up: anything but a non-empty string names no tool. */
const lookupName = (name: unknown): string => (typeof name === 'string' && name !== '' ? name : '\n');

function encodeTool(rec: ToolRecord): string {
  const json: ToolJson = { d: rec.description, s: rec.streaming, m: rec.metadata, r: rec.registeredAt };
  return JSON.stringify(rec.parameters === undefined ? json : { ...json, p: rec.parameters });
}

function decodeTool(name: string, owner: string, json: string, sessionId: string | null): ToolRecord {
  const j = JSON.parse(json) as ToolJson;
  return toolRecord(
    {
      name,
      owner,
      description: j.d,
      streaming: j.s,
      parameters: j.p === undefined ? undefined : frozenJsonCopy(j.p, 'parameters'),
      metadata: checkMetadata(j.m),
    },
    sessionId,
    j.r,
  );
}

/** The tools of one store: session and global scopes. */
export class ToolRegistry {
  constructor(
    private readonly connection: Connection,
    private readonly keys: KeyLayout,
    private readonly limits: Readonly<StoreLimits>,
    private readonly script: SessionScript,
  ) {}

  /** How many global tools there are. */
  async globalCount(): Promise<number> {
    return (await this.connection.call(() => this.connection.commands.hlen(this.keys.globalTools))) / 2;
  }

  /** `SessionStore.registerTool`. */
  async register(sessionId: string | null, input: ToolInput, now: number): Promise<ToolRecord> {
    const tool = checkToolInput(input);
    const rec = toolRecord(tool, sessionId, now);
    const json = encodeTool(rec);
    const { name, owner } = tool;
    const max = this.limits.maxToolsPerSession;
    const full = () =>
      limitReached(this.limits, 'maxToolsPerSession', `${describeToolScope(sessionId)} already holds ${max} tools`);
    if (sessionId === null) {
      const reply = await this.global('set', name, owner, json, max);
      if (text(reply[0]) === 'TAKEN') throw toolNameTaken(name, { kind: 'owner', owner: text(reply[1]) });
      if (text(reply[0]) === 'FULL') throw full();
      const clash = await this.findInSessions(name);
      if (clash !== undefined) {
        await this.global('restore', name, json, text(reply[1]), text(reply[2]));
        throw toolNameTaken(name, { kind: 'session', owner: clash.owner, sessionId: clash.sessionId });
      }
      return rec;
    }
    const reply = await this.script('ubToolSet', sessionId, [name, owner, json, max]);
    if (text(reply[0]) === 'TAKEN') throw toolNameTaken(name, { kind: 'owner', owner: text(reply[1]) });
    if (text(reply[0]) === 'FULL') throw full();
    const globalOwner = await this.connection.call(() =>
      this.connection.commands.hget(this.keys.globalTools, `${name}|o`),
    );
    if (globalOwner !== null) {
      await this.script('ubToolDelete', sessionId, [name, owner, json]).catch(() => {});
      throw toolNameTaken(name, { kind: 'global', owner: globalOwner });
    }
    return rec;
  }

  /** `SessionStore.unregisterTool`. */
  async unregister(sessionId: string | null, name: string, owner: string): Promise<void> {
    const reply =
      sessionId === null
        ? await this.global('delete', lookupName(name), String(owner))
        : await this.script('ubToolDelete', sessionId, [lookupName(name), String(owner), '']);
    if (text(reply[0]) === 'NOTOWNED') throw toolNotOwned(sessionId, name, owner);
  }

  /** `SessionStore.removeToolsOf`: the global scope, then every session that has tools. */
  async removeToolsOf(owner: string): Promise<number> {
    if (typeof owner !== 'string' || owner === '') return 0;
    let removed = Number(text((await this.global('purge', owner))[1]));
    for (const sessionId of await this.sessionsWithTools()) {
      const reply = await this.script('ubToolScan', sessionId, ['', owner]);
      removed += Number(text(reply[1])) || 0;
    }
    return removed;
  }

  /** `SessionStore.getTool`: the session's own tool, else a global one. */
  async get(sessionId: string, name: string): Promise<ToolRecord> {
    const reply = await this.script('ubToolGet', sessionId, [lookupName(name)]);
    if (reply.length > 1) return decodeTool(text(reply[1]), text(reply[2]), text(reply[3]), sessionId);
    const [owner, json] = await this.connection.call(() =>
      this.connection.commands.hmget(this.keys.globalTools, `${lookupName(name)}|o`, `${lookupName(name)}|j`),
    );
    if (owner === null || owner === undefined || json === null || json === undefined) {
      throw toolNotFound(sessionId, name);
    }
    return decodeTool(name, owner, json, null);
  }

  /** `SessionStore.listTools`: the session's own tools and the global ones, ordered by name. */
  async list(
    sessionId: string,
    page: PageWindow,
  ): Promise<{ readonly items: ToolRecord[]; readonly nextPageToken: string }> {
    const reply = await this.script('ubToolGet', sessionId, ['']);
    const all: ToolRecord[] = [];
    for (let i = 1; i + 2 < reply.length; i += 3) {
      all.push(decodeTool(text(reply[i]), text(reply[i + 1]), text(reply[i + 2]), sessionId));
    }
    const global = await this.connection.call(() => this.connection.commands.hgetall(this.keys.globalTools));
    for (const [field, owner] of Object.entries(global)) {
      if (!field.endsWith('|o')) continue;
      const name = field.slice(0, -2);
      const json = global[`${name}|j`];
      if (json !== undefined) all.push(decodeTool(name, owner, json, null));
    }
    const after = page.after;
    const items = all
      .filter((t) => after === undefined || t.name > after)
      .sort((a, b) => compareStrings(a.name, b.name));
    return pageOf(items, page.pageSize, (t) => t.name);
  }

  /** Runs the global tools script. */
  private global(op: string, name: string, ...args: (string | number)[]): Promise<Reply> {
    return this.connection.script('ubGlobalTools', [this.keys.globalTools], [op, name, ...args]) as Promise<Reply>;
  }

  /** The live session (lowest id) that has a tool of this name, if any. */
  private async findInSessions(name: string): Promise<{ sessionId: string; owner: string } | undefined> {
    let found: { sessionId: string; owner: string } | undefined;
    for (const sessionId of await this.sessionsWithTools()) {
      const reply = await this.script('ubToolScan', sessionId, [name, '']);
      const owner = text(reply[1]);
      if (owner !== '' && (found === undefined || compareStrings(sessionId, found.sessionId) < 0)) {
        found = { sessionId, owner };
      }
    }
    return found;
  }

  /** Every session that has a tools hash, on every master node (SCAN). */
  private async sessionsWithTools(): Promise<string[]> {
    const { commands } = this.connection;
    const nodes: Redis[] = commands instanceof Cluster ? commands.nodes('master') : [commands];
    const ids = new Set<string>();
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await this.connection.call(() =>
          node.scan(cursor, 'MATCH', this.keys.toolsPattern, 'COUNT', SCAN_COUNT),
        );
        cursor = next;
        for (const key of keys) {
          const id = this.keys.sessionIdOf(key);
          if (id !== undefined) ids.add(id);
        }
      } while (cursor !== '0');
    }
    return [...ids];
  }
}
