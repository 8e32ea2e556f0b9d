import { compileType } from './registry.js';
import type { CompiledType, Constraints, Violation } from './types.js';

function compiled(type: string, constraints?: Constraints): CompiledType {
  const r = compileType(type, constraints);
  if (!r.ok) throw new Error(`compile failed: ${JSON.stringify(r.violations)}`);
  return r.compiled;
}

type Row = [label: string, constraints: Constraints | undefined, input: unknown, expected: unknown];
type BadRow = [
  label: string,
  constraints: Constraints | undefined,
  input: unknown,
  constraint: string,
  message: string,
];

function acceptTable(type: string, rows: Row[]): void {
  it.each(rows)(`should accept ${type}: %s`, (_label, constraints, input, expected) => {
    const r = compiled(type, constraints).validate(input);
    expect(r).toEqual({ ok: true, value: expected });
    if (r.ok && typeof expected === 'number') expect(Object.is(r.value, expected)).toBe(true);
  });
}

function rejectTable(type: string, rows: BadRow[]): void {
  it.each(rows)(`should reject ${type}: %s`, (_label, constraints, input, constraint, message) => {
    const r = compiled(type, constraints).validate(input);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.violations.map((v: Violation) => [v.constraint, v.message])).toContainEqual([constraint, message]);
    }
  });
}

const BIG = 9223372036854775807n;

describe('float', () => {
  acceptTable('float', [
    ['a number', undefined, 1.5, 1.5],
    ['an integer number', undefined, 3, 3],
    ['a bigint that fits a double', undefined, 3n, 3],
    ['a numeric string', undefined, '2.5', 2.5],
    ['an exponent string', undefined, '-1e3', -1000],
    ['NaN', undefined, NaN, NaN],
    ['the string NaN', undefined, 'NaN', NaN],
    ['the string Infinity', undefined, 'Infinity', Infinity],
    ['the string -Infinity', undefined, '-Infinity', -Infinity],
    ['-0 (kept)', undefined, -0, -0],
    ['the string -0', undefined, '-0', -0],
    ['the min bound', { min: 0, max: 1 }, 0, 0],
    ['the max bound', { min: 0, max: 1 }, 1, 1],
    ['NaN despite min/max', { min: 0, max: 1 }, NaN, NaN],
    ['Infinity despite max', { min: 0, max: 1 }, Infinity, Infinity],
    ['-Infinity despite min', { min: 0, max: 1 }, -Infinity, -Infinity],
  ]);
  rejectTable('float', [
    ['above max', { min: 0, max: 1 }, 1.5, 'max', 'value 1.5 is above maximum 1'],
    ['below min', { min: 0, max: 1 }, -1, 'min', 'value -1 is below minimum 0'],
    ['a non-numeric string', undefined, 'abc', 'type', "Cannot convert 'abc' to float"],
    ['a boolean', undefined, true, 'type', 'Cannot convert true to float'],
    ['null', undefined, null, 'type', 'Cannot convert null to float'],
    ['an overflowing string', undefined, '1e999', 'type', "Cannot convert '1e999' to float"],
    ['a string with spaces', undefined, ' 1', 'type', "Cannot convert ' 1' to float"],
    [
      'a bigint that loses precision',
      undefined,
      9007199254740993n,
      'type',
      'Cannot convert 9007199254740993 to float: not exactly representable as a double',
    ],
  ]);
});

describe('integer', () => {
  acceptTable('integer', [
    ['a number', undefined, 3, 3],
    ['a float with no fraction', undefined, 3.0, 3],
    ['a bigint', undefined, 3n, 3],
    ['a decimal string', undefined, '3', 3],
    ['a signed string', undefined, '-42', -42],
    ['-0 as 0', undefined, -0, 0],
    ['int64 max as bigint', undefined, '9223372036854775807', BIG],
    ['int64 min as bigint', undefined, -BIG - 1n, -BIG - 1n],
    ['2^53 as bigint', undefined, 2 ** 53, 9007199254740992n],
    ['max safe as number', undefined, 9007199254740991n, 9007199254740991],
    ['within bounds', { min: 0, max: 10 }, 10, 10],
    ['bigint bounds', { min: '-9223372036854775808', max: '9223372036854775807' }, BIG, BIG],
  ]);
  rejectTable('integer', [
    ['a fraction', undefined, 3.5, 'type', 'Cannot convert 3.5 to integer'],
    ['a word', undefined, 'abc', 'type', "Cannot convert 'abc' to integer"],
    ['a float string', undefined, '3.0', 'type', "Cannot convert '3.0' to integer"],
    ['a boolean', undefined, true, 'type', 'Cannot convert true to integer'],
    ['NaN', undefined, NaN, 'type', 'Cannot convert NaN to integer'],
    ['Infinity', undefined, Infinity, 'type', 'Cannot convert Infinity to integer'],
    [
      'int64 overflow',
      undefined,
      BIG + 1n,
      'type',
      'Cannot convert 9223372036854775808 to integer: outside the int64 range [-9223372036854775808, 9223372036854775807]',
    ],
    ['above max', { max: 10 }, 11, 'max', 'value 11 is above maximum 10'],
    ['below min', { min: 0 }, -1, 'min', 'value -1 is below minimum 0'],
    ['a bigint above max', { max: 10 }, BIG, 'max', 'value 9223372036854775807 is above maximum 10'],
    [
      'a string below a bigint min',
      { min: '9007199254740993' },
      '9007199254740992',
      'min',
      'value 9007199254740992 is below minimum 9007199254740993',
    ],
  ]);
});

describe('string', () => {
  const c = { min_length: 3, max_length: 10 };
  acceptTable('string', [
    ['plain text', undefined, 'hello', 'hello'],
    ['the empty string', undefined, '', ''],
    ['a non-BMP string counted in code points', { max_length: 3 }, '😀😀😀', '😀😀😀'],
    ['exactly min_length', c, 'abc', 'abc'],
    ['exactly max_length', c, 'a'.repeat(10), 'a'.repeat(10)],
    ['an anchored pattern match', { pattern: '^[A-Z]+[0-9]+$' }, 'XYZ789', 'XYZ789'],
    ['an unanchored pattern match anywhere', { pattern: '[0-9]' }, 'abc1def', 'abc1def'],
    ['an enum value', { enum: ['a', 'b'] }, 'b', 'b'],
    ['a Unicode space with \\s', { pattern: '^\\s$' }, '\u00a0', '\u00a0'],
  ]);
  rejectTable('string', [
    ['too short', c, 'a', 'min_length', 'must be at least 3 characters, got 1'],
    ['too long', c, 'a'.repeat(20), 'max_length', 'must be at most 10 characters, got 20'],
    ['too many code points', { max_length: 2 }, '😀😀😀', 'max_length', 'must be at most 2 characters, got 3'],
    ['a pattern mismatch', { pattern: '^[A-Z]+[0-9]+$' }, 'abc123', 'pattern', 'must match pattern ^[A-Z]+[0-9]+$'],
    ['not in enum', { enum: ['a', 'b'] }, 'c', 'enum', 'must be one of: a, b'],
    ['a number', undefined, 3, 'type', 'Cannot convert 3 to string'],
    ['null', undefined, null, 'type', 'Cannot convert null to string'],
    [
      'a lone surrogate',
      undefined,
      'a\ud800',
      'type',
      "Cannot convert 'a\ud800' to string: it contains a lone surrogate, which cannot be encoded as UTF-8",
    ],
  ]);

  it('should report every failing constraint at once', () => {
    const r = compiled('string', { min_length: 3, pattern: '^[0-9]+$', enum: ['123'] }).validate('a');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.violations.map((v) => v.constraint)).toEqual(['min_length', 'pattern', 'enum']);
  });

  it('should carry expected and actual in violations', () => {
    const r = compiled('string', { max_length: 10 }).validate('a'.repeat(20));
    expect(r).toEqual({
      ok: false,
      violations: [
        { constraint: 'max_length', message: 'must be at most 10 characters, got 20', expected: 10, actual: 20 },
      ],
    });
  });

  it('should match a catastrophic pattern against 100,000 characters without backtracking', () => {
    const t = compiled('string', { pattern: '(a+)+$' });
    const evil = `${'a'.repeat(100_000)}!`;
    // A backtracking engine would need ~2^100000 steps here; RE2 answers in linear time.
    expect(t.validate(evil).ok).toBe(false);
    expect(t.validate('a'.repeat(100_000)).ok).toBe(true);
  });
});

describe('boolean', () => {
  acceptTable('boolean', [
    ['true', undefined, true, true],
    ['false', undefined, false, false],
    ["'true'", undefined, 'true', true],
    ["'false'", undefined, 'false', false],
  ]);
  rejectTable('boolean', [
    ['1', undefined, 1, 'type', 'Cannot convert 1 to boolean'],
    ['0', undefined, 0, 'type', 'Cannot convert 0 to boolean'],
    ["'yes'", undefined, 'yes', 'type', "Cannot convert 'yes' to boolean"],
    ["'True'", undefined, 'True', 'type', "Cannot convert 'True' to boolean"],
    ['null', undefined, null, 'type', 'Cannot convert null to boolean'],
  ]);
});

describe('choice', () => {
  const c = { choices: ['a', 'b'] };
  acceptTable('choice', [
    ['a listed choice', c, 'a', 'a'],
    ['another listed choice', c, 'b', 'b'],
  ]);
  rejectTable('choice', [
    ['an unlisted string', c, 'c', 'choices', 'must be one of: a, b'],
    ['a number', c, 1, 'type', 'Cannot convert 1 to choice'],
  ]);
});

describe('module', () => {
  const c = { allowed_modules: ['Predict', 'ChainOfThought'] };
  acceptTable('module', [
    ['any name without constraints', undefined, 'ReAct', 'ReAct'],
    ['an allowed module', c, 'ChainOfThought', 'ChainOfThought'],
  ]);
  rejectTable('module', [
    ['a module not allowed', c, 'ReAct', 'allowed_modules', 'must be one of: Predict, ChainOfThought'],
    ['an empty name', undefined, '', 'type', 'module name must not be empty'],
    ['a number', undefined, 7, 'type', 'Cannot convert 7 to module'],
  ]);
});
