// @unified-bridge/types: the type and constraint engine of unified-bridge.

// --- For end users: compile types, validate values, format messages ---
export { compileType, registerType } from './registry.js';
export { compileSchema } from './compile-schema.js';
export { formatValue } from './format.js';
export { inferType } from './codec.js';
export type {
  CompiledSchemaResult,
  CompiledType,
  CompileResult,
  ConstraintDefinition,
  Constraints,
  Dtype,
  TensorValue,
  TypeDefinition,
  TypeName,
  ValidationResult,
  Violation,
} from './types.js';

// --- For other libraries (store, server, client): the wire codec and size estimates ---
export { encodedSize, fromWire, toWire } from './codec.js';
