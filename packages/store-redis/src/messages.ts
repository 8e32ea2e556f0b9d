// The change notifications a session's scripts publish, and the entries of its
// change stream, decoded into watch events.
import type { WatchEvent } from '@unified-bridge/store';
import { changeEvent, type ChangeKind } from '@unified-bridge/store/internal';
import type { Codec, RecordFields } from './codec.js';

/** One notification on a session's channel. */
export type Notification =
  | { readonly kind: 'events'; readonly events: readonly WatchEvent[] }
  | { readonly kind: 'revision'; readonly revision: number }
  | { readonly kind: 'closed'; readonly revision: number }
  | { readonly kind: 'expired'; readonly owner: string };

/** Splits a payload of length-prefixed fields (`<length>:<bytes>` each). */
function fieldsOf(payload: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at < payload.length) {
    const colon = payload.indexOf(0x3a, at);
    if (colon < 0) throw new Error('malformed notification');
    const length = Number(payload.toString('latin1', at, colon));
    out.push(payload.subarray(colon + 1, colon + 1 + length));
    at = colon + 1 + length;
  }
  return out;
}

/** A change event from its kind, revision and record fields (name first). */
function event(codec: Codec, kind: Buffer, revision: number, record: RecordFields): WatchEvent {
  return changeEvent(kind.toString() as ChangeKind, revision, codec.record(record));
}

/** Decodes one message of a session channel. */
export function parseNotification(codec: Codec, payload: Buffer): Notification {
  const [kind, ...rest] = fieldsOf(payload);
  switch (kind?.toString()) {
    case 'E': {
      const events: WatchEvent[] = [];
      for (let i = 0; i + 8 <= rest.length; i += 8) {
        const [k, rev, name, id, staticText, numbers, metadata, value] = rest.slice(i, i + 8) as Buffer[];
        events.push(
          event(codec, k as Buffer, Number(String(rev)), [
            name,
            id,
            staticText,
            numbers,
            metadata,
            value,
          ] as RecordFields),
        );
      }
      return { kind: 'events', events };
    }
    case 'R':
      return { kind: 'revision', revision: Number(String(rest[0])) };
    case 'C':
      return { kind: 'closed', revision: Number(String(rest[0])) };
    case 'X':
      return { kind: 'expired', owner: String(rest[0] ?? '') };
    default:
      throw new Error(`unknown notification ${String(kind)}`);
  }
}

/** Decodes one stream entry (`[id, [field, value, ...]]`, id `<revision>-0`). */
export function streamEvent(codec: Codec, entry: readonly [Buffer, readonly Buffer[]]): WatchEvent {
  const [id, list] = entry;
  const f = new Map<string, Buffer>();
  for (let i = 0; i + 1 < list.length; i += 2) f.set(String(list[i]), list[i + 1] as Buffer);
  const revision = Number(String(id).split('-')[0]);
  const record = [f.get('v'), f.get('i'), f.get('t'), f.get('n'), f.get('m'), f.get('x')] as unknown as RecordFields;
  return event(codec, f.get('k') as Buffer, revision, record);
}
