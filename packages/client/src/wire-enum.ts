// Closed string lists of the client (`BRIDGE_ERROR_TYPES`, `VARIABLE_EVENT_KINDS`) against the
// generated enums of the wire: matched by name, so the list stays the one source of its type.

/** `ValidationError` / `rolledBack` -> `VALIDATION_ERROR` / `ROLLED_BACK`: the generated enum member's name. */
function memberName(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/**
 * Maps the numbers of a generated (protoc-gen-es) enum to the names of a
 * closed list: `ErrorType.VALIDATION_ERROR` -> `"ValidationError"`. A name with
 * no enum member is left out (a spec checks that every wire value is mapped).
 */
export function namesByWireNumber<N extends string>(
  wireEnum: Readonly<Record<string, string | number>>,
  names: readonly N[],
): ReadonlyMap<number, N> {
  const out = new Map<number, N>();
  for (const name of names) {
    const n = wireEnum[memberName(name)];
    if (typeof n === 'number') out.set(n, name);
  }
  return out;
}
