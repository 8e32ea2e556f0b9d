import { ErrorType, ErrorTypeSchema, VariableEventKind, VariableEventKindSchema } from '@unified-bridge/proto';
import { BRIDGE_ERROR_TYPES } from './errors.js';
import { VARIABLE_EVENT_KINDS } from './watch.js';
import { namesByWireNumber } from './wire-enum.js';

describe('namesByWireNumber', () => {
  it('should map every wire event kind to one name of VARIABLE_EVENT_KINDS', () => {
    const map = namesByWireNumber(VariableEventKind, VARIABLE_EVENT_KINDS);
    const wire = VariableEventKindSchema.values.filter((v) => v.number !== 0).map((v) => v.number);
    expect([...map.keys()].sort()).toEqual(wire.sort());
    expect([...map.values()].sort()).toEqual([...VARIABLE_EVENT_KINDS].sort());
    expect(map.get(VariableEventKind.ROLLED_BACK)).toBe('rolledBack');
  });

  it('should map every wire error type to one name of BRIDGE_ERROR_TYPES', () => {
    const map = namesByWireNumber(ErrorType, BRIDGE_ERROR_TYPES);
    expect(map.size).toBe(ErrorTypeSchema.values.length - 1);
    expect(map.get(ErrorType.PAYLOAD_TOO_LARGE)).toBe('PayloadTooLarge');
    expect(map.get(ErrorType.UNSPECIFIED)).toBeUndefined();
  });

  it('should leave out a name that has no enum member', () => {
    expect([...namesByWireNumber(ErrorType, ['ValidationError', 'NoSuchType']).values()]).toEqual(['ValidationError']);
  });
});
