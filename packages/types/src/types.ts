import type { Value } from '@unified-bridge/proto';

/** The names of the built-in variable types, in the order the design lists them. */
export const TYPE_NAMES = [
  'float',
  'integer',
  'string',
  'boolean',
  'choice',
  'module',
  'embedding',
  'tensor',
  'json',
] as const;

/**
 * Names of the built-in variable types (one of {@link TYPE_NAMES}). Custom types registered with
 * `registerType` use other names.
 * @example const t: TypeName = 'integer';
 */
export type TypeName = (typeof TYPE_NAMES)[number];

/** Every tensor dtype, in wire enum order. */
export const DTYPES = ['float32', 'float64', 'int32', 'int64', 'uint8', 'bool'] as const;

/**
 * Element type of a tensor (one of {@link DTYPES}), as numpy names it (`float32` is numpy `<f4`,
 * `bool` one byte per element).
 * @example const d: Dtype = 'float32';
 */
export type Dtype = (typeof DTYPES)[number];

/**
 * A dense n-dimensional array in row-major order: the normalised form of a `tensor` value
 * (and what `fromWire` yields for a wire Tensor). `int64` data is a `BigInt64Array`, `bool` data a
 * `Uint8Array` of 0/1.
 * @example const t: TensorValue = { dtype: 'float32', shape: [2], data: new Float32Array([1, 2]) };
 */
export interface TensorValue {
  /** Element type. */
  dtype: Dtype;
  /** Size of each axis; their product is `data.length`. */
  shape: number[];
  /** The elements, row-major, in the typed array that matches `dtype`. */
  data: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;
}

/**
 * One reason a value (or a constraint definition) was rejected.
 * @example { constraint: 'max', message: 'value 1.5 is above maximum 1', expected: 1, actual: 1.5 }
 */
export interface Violation {
  /** The constraint key that failed (`min`, `pattern`, ...), or `type` when the value could not be converted. */
  constraint: string;
  /** Human-readable message, e.g. `value 1.5 is above maximum 1`. */
  message: string;
  /** What the constraint wanted (the bound, the pattern, the allowed values), when there is one. */
  expected?: unknown;
  /** What was found, when it is short enough to be useful. */
  actual?: unknown;
  /** JSON pointer into the value (json/tool-argument schemas) or constraint key path; absent for the value itself. */
  path?: string;
}

/**
 * Outcome of a validation: the normalised value, or every violation found. Never thrown.
 * @example const r: ValidationResult<number> = { ok: true, value: 3 };
 */
export type ValidationResult<T = unknown> = { ok: true; value: T } | { ok: false; violations: Violation[] };

/**
 * Constraint definitions of a variable, keyed by snake_case constraint name, as on the wire
 * (a JSON object). A `null` entry means "not set".
 * @example const c: Constraints = { min: 0, max: 1 };
 */
export type Constraints = Record<string, unknown>;

/**
 * A type with its constraints compiled once: validates and encodes values of that variable type.
 * Obtained from `compileType` (cached).
 */
export interface CompiledType {
  /** The type name, e.g. `float`. */
  readonly type: string;
  /** The constraints as compiled (null entries dropped), frozen. */
  readonly constraints: Readonly<Constraints>;
  /** Canonical `(type, constraints)` text; equal keys mean equal validators. It is the cache key. */
  readonly key: string;
  /** Normalises `value` and checks every constraint. Never throws. */
  validate(value: unknown): ValidationResult;
  /**
   * Encodes an already-normalised value (the `value` of a successful `validate`) as a wire Value.
   * Throws a TypeError for a value that is not in normalised form.
   */
  toWire(value: unknown): Value;
}

/**
 * Outcome of `compileType`: the compiled type, or what is wrong with the type name or the constraints.
 */
export type CompileResult = { ok: true; compiled: CompiledType } | { ok: false; violations: Violation[] };

/**
 * Outcome of `compileSchema`: a validator for the JSON Schema, or what is wrong with the schema.
 */
export type CompiledSchemaResult =
  | { ok: true; validate(value: unknown): ValidationResult }
  | { ok: false; violations: Violation[] };

/**
 * Declares one constraint a type accepts: the JSON Schema its value must satisfy, and how to
 * describe it in error messages and docs.
 * @example const min: ConstraintDefinition = { schema: { type: 'number' }, expects: 'a finite number', example: 0 };
 */
export interface ConstraintDefinition {
  /** JSON Schema (draft-07) that the constraint's value must satisfy at registration. */
  readonly schema: Readonly<Record<string, unknown>> | boolean;
  /** What a valid value is, in words, used in messages: `constraint 'min' ... must be <expects>`. */
  readonly expects: string;
  /** An example value, used in messages and docs (`e.g. min: 0`). */
  readonly example?: unknown;
  /** Whether the type cannot be compiled without it (default false). */
  readonly required?: boolean;
}

/**
 * A variable type definition: its name, the constraints it accepts, how to build a validator, and its
 * wire codec. Built-in types are defined through the same interface; register custom ones with
 * `registerType`.
 * @example
 * registerType({
 *   name: 'percent',
 *   constraints: {},
 *   compile: () => (v) => typeof v === 'number' && v >= 0 && v <= 100
 *     ? { ok: true, value: v }
 *     : { ok: false, violations: [{ constraint: 'type', message: `Cannot convert ${formatValue(v)} to percent` }] },
 *   toWire: (v) => toWire(v),
 * });
 */
export interface TypeDefinition<T = unknown> {
  /** Unique type name, `[a-z][a-z0-9_]*`. */
  readonly name: string;
  /** One line describing the type (docs). */
  readonly description?: string;
  /** The constraint keys this type accepts; any other key is rejected at compile time. */
  readonly constraints: Readonly<Record<string, ConstraintDefinition>>;
  /**
   * Cross-constraint checks run after each constraint value matched its schema (e.g. min <= max,
   * regex compiles). Return the violations (empty when fine). Optional.
   */
  readonly check?: (constraints: Readonly<Constraints>) => Violation[];
  /**
   * Builds the validator for constraints that passed the checks. The validator normalises an input
   * (lossless conversions only) and checks the constraints; it must not throw (a throw is reported
   * as a `type` violation).
   */
  readonly compile: (constraints: Readonly<Constraints>) => (value: unknown) => ValidationResult<T>;
  /** Encodes a normalised value as a wire Value. The validator must accept `fromWire` of the result. */
  readonly toWire: (value: T) => Value;
}
