import fc from 'fast-check';
import { compilePattern, MAX_PATTERN_LENGTH } from './regex.js';

function re2(pattern: string): (s: string) => boolean {
  const r = compilePattern(pattern);
  if (!r.ok) throw new Error(`${pattern}: ${r.message}`);
  return (s) => r.pattern.test(s);
}

describe('compilePattern', () => {
  it.each([
    ['\\s', '\u00a0', true],
    ['\\s', '\u2028', true],
    ['\\s', '\v', true],
    ['^\\S$', '\u00a0', false],
    ['[\\S]', ' ', false],
    ['[^\\s]', 'x', true],
    ['^.$', '\n', false],
    ['^.$', '\r', false],
    ['^.$', '\u2028', false],
    ['^.$', '😀', true],
    ['^[^]$', '\n', true],
    ['[]', 'a', false],
    ['^\\u{1F600}$', '😀', true],
    ['^\\uD83D\\uDE00$', '😀', true],
    ['^\\x41\\u0042$', 'AB', true],
    ['^\\cJ$', '\n', true],
    ['^[\\b]$', '\b', true],
    ['\\bword\\b', 'a word here', true],
    ['^(?<year>[0-9]{4})-(?:[0-9]{2})$', '2024-05', true],
    ['^\\p{Lu}+$', 'ÀB', true],
    ['^\\p{Letter}+$', 'ab', true],
    ['^\\p{Script=Greek}+$', 'αβ', true],
    ['^[[:alpha:]+$', '[:', true],
    ['^[[:alpha:]+$', 'b', false],
    ['^a\\/b$', 'a/b', true],
    ['^[a\\-z]$', '-', true],
    ['a$', 'a\n', false],
    ['^\\0$', '\0', true],
  ])('should give %s the JavaScript meaning on %j', (pattern, input, expected) => {
    expect(new RegExp(pattern, 'u').test(input)).toBe(expected); // the oracle agrees with the table
    expect(re2(pattern)(input)).toBe(expected);
  });

  it.each([
    [
      '(?=a)',
      'uses a lookahead, which the linear-time RE2 engine cannot run; rewrite it without (?=, (?!, (?<= or (?<!',
    ],
    [
      'a(?!b)',
      'uses a lookahead, which the linear-time RE2 engine cannot run; rewrite it without (?=, (?!, (?<= or (?<!',
    ],
    [
      '(?<=a)b',
      'uses a lookbehind, which the linear-time RE2 engine cannot run; rewrite it without (?=, (?!, (?<= or (?<!',
    ],
    [
      '(a)\\1',
      'uses a backreference (\\1), which the linear-time RE2 engine cannot run; rewrite it without backreferences',
    ],
    [
      '\\ud800',
      'uses a lone surrogate (\\ud800), which cannot occur in valid UTF-8 text; use a whole code point (\\u{...})',
    ],
    ['a{1001}', 'cannot run on the linear-time RE2 engine (invalid repeat count: `{1001}`); simplify the pattern'],
    [
      '\\p{Script_Extensions=Latin}',
      'uses the Unicode property \\p{Script_Extensions=Latin}, which RE2 does not support; use a General_Category (\\p{L}) or a Script (\\p{Greek})',
    ],
    ['(', 'is not a valid regular expression (/(/u: Unterminated group)'],
    ['\\-', 'is not a valid regular expression (/\\-/u: Invalid escape)'],
  ])('should reject %s', (pattern, message) => {
    expect(compilePattern(pattern)).toEqual({ ok: false, message });
  });

  it('should reject over-long patterns', () => {
    expect(compilePattern('a'.repeat(MAX_PATTERN_LENGTH + 1))).toEqual({
      ok: false,
      message: `is ${MAX_PATTERN_LENGTH + 1} characters long; the limit is ${MAX_PATTERN_LENGTH}`,
    });
  });

  it('should stay linear on patterns that make backtracking engines explode', () => {
    const input = `${'a'.repeat(100_000)}!`;
    for (const p of ['(a+)+$', '^(a|a)*$', '(a*)*b', '^(a|aa)+$', '(.*a){12}$']) {
      expect(re2(p)(input)).toBe(false);
    }
  });
});

// A family of patterns with no lookaround or backreferences, over an alphabet chosen to hit the
// places where RE2 and ECMA-262 differ by default (\s, ., line terminators, non-BMP code points).
const CHARS = ['a', 'b', '1', '_', ' ', '\t', '\n', '\r', '\u00a0', '\u2028', '\u000b', 'é', '😀', '-', '.'];

const literal = fc.constantFrom(
  'a',
  'b',
  '1',
  '_',
  ' ',
  'é',
  '😀',
  '\\.',
  '\\-'.slice(1),
  '\\t',
  '\\n',
  '\\u00a0',
  '\\u{1F600}',
);
const escape = fc.constantFrom('\\d', '\\D', '\\w', '\\W', '\\s', '\\S', '.');
const classItem = fc.constantFrom(
  'a',
  'b-d',
  '0-9',
  '\\s',
  '\\S',
  '\\d',
  '\\w',
  '\\n',
  '_',
  '\\u00a0',
  '😀',
  '\\-',
  '\\.',
  'é',
);
const charClass = fc
  .tuple(fc.boolean(), fc.array(classItem, { minLength: 1, maxLength: 3 }))
  .map(([neg, items]) => `[${neg ? '^' : ''}${items.join('')}]`);
const quantifier = fc.constantFrom('', '', '*', '+', '?', '{0,2}', '{1}', '*?', '+?');

const { pattern } = fc.letrec((tie) => ({
  atom: fc.oneof(
    { weight: 4, arbitrary: literal },
    { weight: 3, arbitrary: escape },
    { weight: 2, arbitrary: charClass },
    { weight: 1, arbitrary: tie('pattern').map((p) => `(${p as string})`) },
    { weight: 1, arbitrary: tie('pattern').map((p) => `(?:${p as string})`) },
  ),
  piece: fc.tuple(tie('atom'), quantifier).map(([a, q]) => `${a as string}${q}`),
  branch: fc.array(tie('piece'), { minLength: 1, maxLength: 3 }).map((ps) => ps.join('')),
  pattern: fc
    .tuple(
      fc.constantFrom('', '^'),
      fc.array(tie('branch'), { minLength: 1, maxLength: 2 }).map((bs) => bs.join('|')),
      fc.constantFrom('', '$'),
      fc.constantFrom('', '', '\\b'),
    )
    .map(([start, body, end, boundary]) => `${start}${boundary}${body as string}${end}`),
}));

describe('RE2 and V8 agreement', () => {
  it('should match exactly like JavaScript on a generated family of safe patterns', () => {
    fc.assert(
      fc.property(
        pattern as fc.Arbitrary<string>,
        fc.array(
          fc.array(fc.constantFrom(...CHARS), { maxLength: 8 }).map((cs) => cs.join('')),
          {
            minLength: 1,
            maxLength: 8,
          },
        ),
        (p, inputs) => {
          const r = compilePattern(p);
          if (!r.ok) throw new Error(`${p} was rejected: ${r.message}`);
          const v8 = new RegExp(p, 'u');
          for (const s of inputs) {
            if (r.pattern.test(s) !== v8.test(s)) {
              throw new Error(`${JSON.stringify(p)} on ${JSON.stringify(s)}: RE2 ${!v8.test(s)}, V8 ${v8.test(s)}`);
            }
          }
        },
      ),
      { numRuns: 1500 },
    );
  });
});
