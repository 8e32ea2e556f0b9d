// How a store uses the types engine: compiling a variable's type once, and
// validating, normalising and sizing every value written to it.
// @private Internal code, does not follow semantic versioning.
import { compileType as defaultCompileType, encodedSize as defaultEncodedSize } from '@unified-bridge/types';
import type { CompiledType, Constraints, Violation } from '@unified-bridge/types';
import { valueText } from '@unified-bridge/types/internal';
import type { StoreLimits } from '../limits.js';
import { StoreError, type StoreViolation } from '../store-error.js';
import { limitReached } from './store-errors.js';

/**
 * The part of the types engine a store uses. Default: `compileType` and
 * `encodedSize` of `@unified-bridge/types`; inject another to add custom types
 * or to test.
 */
export interface StoreTypeEngine {
  /** Compiles (and caches) a type with its constraints. */
  compileType(
    type: string,
    constraints: Constraints,
  ): { ok: true; compiled: CompiledType } | { ok: false; violations: Violation[] };
  /** The size of a normalised value as encoded on the wire, in bytes. */
  encodedSize(value: unknown): number;
}

/**
 * The engine of `@unified-bridge/types`, the default of every backend.
 * @private Internal code, does not follow semantic versioning.
 */
export const DEFAULT_TYPE_ENGINE: StoreTypeEngine = Object.freeze({
  compileType: defaultCompileType,
  encodedSize: defaultEncodedSize,
});

/**
 * Compiles a variable's type with its constraints.
 * @throws `InvalidArgument` with the engine's violations (`field` `"constraints"`), or when the engine throws.
 * @private Internal code, does not follow semantic versioning.
 */
export function compileVariableType(engine: StoreTypeEngine, type: string, constraints: Constraints): CompiledType {
  let result: ReturnType<StoreTypeEngine['compileType']>;
  try {
    result = engine.compileType(type, constraints);
  } catch (err) {
    throw new StoreError('InvalidArgument', `type ${type} with these constraints could not be compiled`, {
      cause: err,
      details: { field: 'constraints' },
    });
  }
  if (!result.ok) {
    throw new StoreError(
      'InvalidArgument',
      `invalid type or constraints: ${result.violations.map((v) => v.message).join('; ')}`,
      {
        violations: result.violations.map((v) => toStoreViolation(v, 'constraints')),
        details: { field: 'constraints', type },
      },
    );
  }
  return result.compiled;
}

/**
 * Validates and normalises a value of variable `name` with its compiled type
 * and checks its encoded size against `limits.maxValueBytes`; returns the
 * normalised value (not yet copied for storage).
 * @throws `ValidationError` with the violations (`field` `"value"`), `ResourceExhausted` (`maxValueBytes`).
 * @private Internal code, does not follow semantic versioning.
 */
export function checkValue(
  engine: StoreTypeEngine,
  limits: Readonly<StoreLimits>,
  compiled: CompiledType,
  raw: unknown,
  name: string,
): unknown {
  const result = compiled.validate(raw);
  if (!result.ok) {
    throw new StoreError(
      'ValidationError',
      `invalid value for ${name}: ${result.violations.map((v) => v.message).join('; ')}`,
      {
        violations: result.violations.map((v) => toStoreViolation(v, 'value')),
        details: { variable: name },
      },
    );
  }
  const size = engine.encodedSize(result.value);
  if (size > limits.maxValueBytes) {
    throw limitReached(
      limits,
      'maxValueBytes',
      `value of ${name} encodes to ${size} bytes, more than ${limits.maxValueBytes}`,
    );
  }
  return result.value;
}

/**
 * Converts an engine violation into a {@link StoreViolation} of `field`, with bounds and values as text.
 * @private Internal code, does not follow semantic versioning.
 */
export function toStoreViolation(v: Violation, field: string): StoreViolation {
  const violation: { -readonly [K in keyof StoreViolation]: StoreViolation[K] } = {
    field,
    constraint: v.constraint,
    message: v.message,
  };
  if (v.expected !== undefined) violation.expected = valueText(v.expected);
  if (v.actual !== undefined) violation.actual = valueText(v.actual);
  if (v.path !== undefined) violation.path = v.path;
  return violation;
}
