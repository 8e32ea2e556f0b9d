// How variables are stored: the value as the protobuf `Value` encoding of the
// types codec (so int64, NaN and tensors stay exact, and a float32 tensor costs
// 4 bytes per element), the rest as small text fields.
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { ValueSchema } from '@unified-bridge/proto';
import type { Metadata, StoredVariable, StoredHistoryEntry } from '@unified-bridge/store';
import {
  EMPTY_METADATA,
  checkMetadata,
  compileVariableType,
  snapshotValue,
  variableRecord,
  type StoreTypeEngine,
} from '@unified-bridge/store/internal';
import { fromWire, type CompiledType } from '@unified-bridge/types';
import { LRUCache } from 'lru-cache';

/** What never changes about a registered variable: its type, constraints and creation time. */
export interface VariableType {
  /** The compiled type (validates and encodes values). */
  readonly compiled: CompiledType;
  /** The constraints as compiled, frozen. */
  readonly constraints: Readonly<Record<string, unknown>>;
  /** When the variable was registered (ms epoch). */
  readonly createdAt: number;
}

/** The text of a variable's static field: type, constraints, creation time. */
export function staticField(compiled: CompiledType, createdAt: number): string {
  return JSON.stringify({ type: compiled.type, constraints: compiled.constraints, createdAt });
}

/** A stored value as a Buffer: the binary protobuf `Value` of the compiled type's wire form. */
export function encodeValue(compiled: CompiledType, value: unknown): Buffer {
  const bytes = toBinary(ValueSchema, compiled.toWire(value));
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** `version,revision,updatedAt,oldest history version` of a variable. */
export interface VariableNumbers {
  readonly version: number;
  readonly revision: number;
  readonly updatedAt: number;
}

/** Parses the numbers field. */
export function parseNumbers(text: string): VariableNumbers {
  const [version, revision, updatedAt] = text.split(',').map(Number);
  return { version: version as number, revision: revision as number, updatedAt: updatedAt as number };
}

/** Parses a metadata field (frozen; the shared empty map for `{}`). */
export function parseMetadata(text: string): Metadata {
  return text === '{}' ? EMPTY_METADATA : checkMetadata(JSON.parse(text) as unknown);
}

/** Text of a metadata map. */
export function metadataField(metadata: Metadata): string {
  return JSON.stringify(metadata);
}

/** Record fields as the scripts return them: name, id, static, numbers, metadata and (maybe) the value. */
export type RecordFields = readonly [Buffer, Buffer, Buffer, Buffer, Buffer, Buffer?];

/**
 * Decodes stored values and records, caching each variable's compiled type by id (a type and its
 * constraints never change after registration, and an id is never reused).
 */
export class Codec {
  private readonly types = new LRUCache<string, VariableType>({ max: 10_000 });

  constructor(private readonly engine: StoreTypeEngine) {}

  /** The type of variable `id` from its static field (cached). */
  typeOf(id: string, staticText: string): VariableType {
    const cached = this.types.get(id);
    if (cached !== undefined) return cached;
    const parsed = JSON.parse(staticText) as { type: string; constraints: Record<string, unknown>; createdAt: number };
    const compiled = compileVariableType(this.engine, parsed.type, parsed.constraints);
    const type: VariableType = { compiled, constraints: compiled.constraints, createdAt: parsed.createdAt };
    this.types.set(id, type);
    return type;
  }

  /** The cached type of variable `id`, if any. */
  cachedType(id: string): VariableType | undefined {
    return this.types.get(id);
  }

  /** Remembers the type of a variable this store just registered. */
  remember(id: string, type: VariableType): void {
    this.types.set(id, type);
  }

  /** A stored value, validated and normalised by the variable's type as it was when written. */
  decodeValue(type: VariableType, bytes: Buffer): unknown {
    const raw = fromWire(fromBinary(ValueSchema, bytes));
    const checked = raw.ok ? type.compiled.validate(raw.value) : raw;
    if (!checked.ok) {
      throw new Error(`stored value of type ${type.compiled.type} does not decode: ${checked.violations[0]?.message}`);
    }
    const value = checked.value;
    // Plain (JSON) values are frozen like MemoryStore's; binary ones are fresh copies already.
    if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value) || type.compiled.type === 'tensor') {
      return value;
    }
    return snapshotValue(value).value;
  }

  /** A variable record from its fields (`value` given when already known, else decoded from the fields). */
  record(fields: RecordFields, value?: { readonly value: unknown }): StoredVariable {
    const [name, id, staticText, numbers, metadata, bytes] = fields;
    const type = this.typeOf(id.toString(), staticText.toString());
    const n = parseNumbers(numbers.toString());
    return variableRecord({
      id: id.toString(),
      name: name.toString(),
      type: type.compiled.type,
      value: value !== undefined ? value.value : this.decodeValue(type, bytes as Buffer),
      constraints: type.constraints,
      metadata: parseMetadata(metadata.toString()),
      version: n.version,
      revision: n.revision,
      createdAt: type.createdAt,
      updatedAt: n.updatedAt,
    });
  }

  /** One history entry: `[version, updatedAt, write metadata, value]` as the history script returns it. */
  historyEntry(type: VariableType, entry: readonly [number, Buffer, Buffer, Buffer]): StoredHistoryEntry {
    const [version, updatedAt, metadata, bytes] = entry;
    return Object.freeze({
      version: Number(version),
      value: this.decodeValue(type, bytes),
      updatedAt: Number(updatedAt.toString()),
      metadata: parseMetadata(metadata.toString()),
    });
  }
}
