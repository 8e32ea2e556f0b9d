// User-supplied patterns (string `pattern` constraints and `pattern`/`patternProperties` inside JSON
// Schemas) follow ECMA-262 syntax and semantics, as JSON Schema says, but run on RE2 (re2js), whose
// matching time is linear in the input: no pattern can backtrack catastrophically. A pattern is first
// checked by V8 (`u` flag, compile only, never executed), then translated into RE2 syntax so that both
// engines agree (`.`, `\s`, `\v`, `[^]`, named groups, `\u` escapes ...), then compiled by RE2.
// Patterns RE2 cannot run (lookaround, backreferences) are rejected with a message that says so.
import { RE2JS } from 're2js';

/** Longest pattern accepted, in UTF-16 units: bounds the RE2 program and the cache keys. */
export const MAX_PATTERN_LENGTH = 4096;

/** A compiled, linear-time pattern with ECMA-262 (`u` flag) semantics; `test` searches unanchored. */
export interface SafePattern {
  readonly source: string;
  test(input: string): boolean;
  toString(): string;
}

export type PatternResult = { ok: true; pattern: SafePattern } | { ok: false; message: string };

// ECMA-262 WhiteSpace + LineTerminator: what `\s` matches in JavaScript (RE2's `\s` is ASCII only).
const JS_SPACE_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
];
const MAX_CODE_POINT = 0x10ffff;

function hex(cp: number): string {
  return `\\x{${cp.toString(16).toUpperCase()}}`;
}
function rangesText(ranges: ReadonlyArray<readonly [number, number]>): string {
  return ranges.map(([a, b]) => (a === b ? hex(a) : `${hex(a)}-${hex(b)}`)).join('');
}
function complement(ranges: ReadonlyArray<readonly [number, number]>): Array<readonly [number, number]> {
  const out: Array<readonly [number, number]> = [];
  let next = 0;
  for (const [a, b] of ranges) {
    if (a > next) out.push([next, a - 1]);
    next = b + 1;
  }
  if (next <= MAX_CODE_POINT) out.push([next, MAX_CODE_POINT]);
  return out;
}
const SPACE_IN_CLASS = rangesText(JS_SPACE_RANGES);
const NON_SPACE_IN_CLASS = rangesText(complement(JS_SPACE_RANGES));
// `.` without the `s` flag: anything but a line terminator.
const DOT = `[^${hex(0x0a)}${hex(0x0d)}${hex(0x2028)}${hex(0x2029)}]`;
const ANY_IN_CLASS = `${hex(0)}-${hex(MAX_CODE_POINT)}`;

// Long General_Category names that ECMA-262 allows and RE2 spells with the short alias.
const GC_ALIASES: Readonly<Record<string, string>> = {
  Letter: 'L',
  Cased_Letter: 'LC',
  Uppercase_Letter: 'Lu',
  Lowercase_Letter: 'Ll',
  Titlecase_Letter: 'Lt',
  Modifier_Letter: 'Lm',
  Other_Letter: 'Lo',
  Mark: 'M',
  Nonspacing_Mark: 'Mn',
  Spacing_Mark: 'Mc',
  Enclosing_Mark: 'Me',
  Number: 'N',
  Decimal_Number: 'Nd',
  digit: 'Nd',
  Letter_Number: 'Nl',
  Other_Number: 'No',
  Punctuation: 'P',
  punct: 'P',
  Connector_Punctuation: 'Pc',
  Dash_Punctuation: 'Pd',
  Open_Punctuation: 'Ps',
  Close_Punctuation: 'Pe',
  Initial_Punctuation: 'Pi',
  Final_Punctuation: 'Pf',
  Other_Punctuation: 'Po',
  Symbol: 'S',
  Math_Symbol: 'Sm',
  Currency_Symbol: 'Sc',
  Modifier_Symbol: 'Sk',
  Other_Symbol: 'So',
  Separator: 'Z',
  Space_Separator: 'Zs',
  Line_Separator: 'Zl',
  Paragraph_Separator: 'Zp',
  Other: 'C',
  Control: 'Cc',
  cntrl: 'Cc',
  Format: 'Cf',
  Surrogate: 'Cs',
  Private_Use: 'Co',
  Unassigned: 'Cn',
};

class Unsupported extends Error {}

/** A token of the source pattern and how RE2 writes it. */
interface Opener {
  readonly from: string;
  readonly to: string;
  /** True when the token opens a character class that goes on after it. */
  readonly opensClass?: boolean;
}

/** Group openers, longest first: a named group `(?<n>` is `(?P<n>` in RE2. */
const GROUP_OPENERS: readonly Opener[] = [
  { from: '(?<', to: '(?P<' },
  { from: '(?:', to: '(?:' },
  { from: '(', to: '(' },
];

/** Class openers, longest first: `[^]` (any character) and `[]` (nothing) are whole classes. */
const CLASS_OPENERS: readonly Opener[] = [
  { from: '[^]', to: `[${ANY_IN_CLASS}]` },
  { from: '[]', to: `[^${ANY_IN_CLASS}]` },
  { from: '[^', to: '[^', opensClass: true },
  { from: '[', to: '[', opensClass: true },
];

/** The first opener of `openers` that stands at `i` (the last one is the bare character, always there). */
function openerAt(p: string, i: number, openers: readonly Opener[]): Opener {
  return openers.find((o) => p.startsWith(o.from, i)) ?? openers[openers.length - 1]!;
}

const LOOKAROUND_HINT = 'rewrite it without (?=, (?!, (?<= or (?<!';

/**
 * Translates an ECMA-262 (`u` flag) pattern that V8 accepted into RE2 syntax with the same meaning.
 * Throws `Unsupported` for constructs RE2 cannot run.
 */
function translate(p: string): string {
  let out = '';
  let i = 0;
  let inClass = false;
  const n = p.length;
  while (i < n) {
    const c = p[i]!;
    if (c === '\\') {
      const [text, next] = translateEscape(p, i, inClass);
      out += text;
      i = next;
      continue;
    }
    if (inClass) {
      if (c === ']') {
        inClass = false;
        out += ']';
      } else if (c === '[') {
        out += '\\['; // RE2 would read `[:alpha:]` as a POSIX class
      } else {
        out += c;
      }
      i += 1;
      continue;
    }
    switch (c) {
      case '(': {
        if (p.startsWith('(?=', i) || p.startsWith('(?!', i)) {
          throw new Unsupported(`uses a lookahead, which the linear-time RE2 engine cannot run; ${LOOKAROUND_HINT}`);
        }
        if (p.startsWith('(?<=', i) || p.startsWith('(?<!', i)) {
          throw new Unsupported(`uses a lookbehind, which the linear-time RE2 engine cannot run; ${LOOKAROUND_HINT}`);
        }
        const t = openerAt(p, i, GROUP_OPENERS);
        out += t.to;
        i += t.from.length;
        continue;
      }
      case '.':
        out += DOT;
        i += 1;
        continue;
      case '[': {
        const t = openerAt(p, i, CLASS_OPENERS);
        out += t.to;
        i += t.from.length;
        inClass = t.opensClass === true;
        continue;
      }
      default:
        out += c;
        i += 1;
    }
  }
  return out;
}

const HEX = /^[0-9a-fA-F]+$/;

function translateEscape(p: string, i: number, inClass: boolean): [string, number] {
  const d = p[i + 1] ?? '';
  switch (d) {
    case 'd':
    case 'D':
    case 'w':
    case 'W':
    case 't':
    case 'n':
    case 'r':
    case 'f':
      return [`\\${d}`, i + 2];
    case 'B':
      return ['\\B', i + 2];
    case 'b':
      return [inClass ? hex(8) : '\\b', i + 2];
    case 'v':
      return [hex(0x0b), i + 2];
    case '0':
      return [hex(0), i + 2];
    case 's':
      return [inClass ? SPACE_IN_CLASS : `[${SPACE_IN_CLASS}]`, i + 2];
    case 'S':
      return [inClass ? NON_SPACE_IN_CLASS : `[^${SPACE_IN_CLASS}]`, i + 2];
    case 'k':
      throw new Unsupported(
        `uses a backreference (${p.slice(i, p.indexOf('>', i) + 1) || '\\k'}), which the linear-time RE2 engine cannot run; rewrite it without backreferences`,
      );
    case 'c':
      return [hex((p.charCodeAt(i + 2) | 0) % 32), i + 3];
    case 'x':
      return [hex(parseInt(p.slice(i + 2, i + 4), 16)), i + 4];
    case 'u': {
      if (p[i + 2] === '{') {
        const end = p.indexOf('}', i + 3);
        return [hex(parseInt(p.slice(i + 3, end), 16)), end + 1];
      }
      const code = parseInt(p.slice(i + 2, i + 6), 16);
      if (code >= 0xd800 && code <= 0xdbff && p.startsWith('\\u', i + 6)) {
        const lowText = p.slice(i + 8, i + 12);
        const low = HEX.test(lowText) ? parseInt(lowText, 16) : NaN;
        if (low >= 0xdc00 && low <= 0xdfff) {
          return [hex(0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00)), i + 12];
        }
      }
      if (code >= 0xd800 && code <= 0xdfff) {
        throw new Unsupported(
          `uses a lone surrogate (${p.slice(i, i + 6)}), which cannot occur in valid UTF-8 text; use a whole code point (\\u{...})`,
        );
      }
      return [hex(code), i + 6];
    }
    case 'p':
    case 'P': {
      const end = p.indexOf('}', i + 3);
      const body = p.slice(i + 3, end);
      const eq = body.indexOf('=');
      let name = body;
      if (eq >= 0) {
        const key = body.slice(0, eq);
        const val = body.slice(eq + 1);
        if (key === 'General_Category' || key === 'gc' || key === 'Script' || key === 'sc') {
          name = val;
        } else {
          throw new Unsupported(
            `uses the Unicode property \\${d}{${body}}, which RE2 does not support; use a General_Category (\\p{L}) or a Script (\\p{Greek})`,
          );
        }
      }
      name = GC_ALIASES[name] ?? name;
      return [`\\${d}{${name}}`, end + 1];
    }
    default: {
      if (d >= '1' && d <= '9') {
        let j = i + 1;
        while (j < p.length && p[j]! >= '0' && p[j]! <= '9') j += 1;
        throw new Unsupported(
          `uses a backreference (${p.slice(i, j)}), which the linear-time RE2 engine cannot run; rewrite it without backreferences`,
        );
      }
      if (d === '/') return ['/', i + 2];
      if (d === '-') return ['\\-', i + 2];
      // `u` mode allows only syntax characters here: ^ $ \ . * + ? ( ) [ ] { } |
      return [`\\${d}`, i + 2];
    }
  }
}

/**
 * Compiles a user-supplied ECMA-262 pattern to a linear-time matcher, or says why it cannot run.
 * The messages do not repeat the pattern; callers prefix their context.
 */
export function compilePattern(pattern: string): PatternResult {
  if (typeof pattern !== 'string') return { ok: false, message: 'must be a string' };
  if (pattern.length > MAX_PATTERN_LENGTH) {
    return {
      ok: false,
      message: `is ${pattern.length} characters long; the limit is ${MAX_PATTERN_LENGTH}`,
    };
  }
  try {
    // Syntax check only: constructing a RegExp compiles it lazily and never runs it.
    new RegExp(pattern, 'u');
  } catch (err) {
    const detail = err instanceof Error ? err.message.replace(/^Invalid regular expression: /, '') : '';
    return { ok: false, message: `is not a valid regular expression (${detail})` };
  }
  let re2: RE2JS;
  try {
    re2 = RE2JS.compile(translate(pattern));
  } catch (err) {
    if (err instanceof Unsupported) return { ok: false, message: err.message };
    const detail = err instanceof Error ? err.message.replace(/^error parsing regexp: /, '') : '';
    return {
      ok: false,
      message: `cannot run on the linear-time RE2 engine (${detail}); simplify the pattern`,
    };
  }
  const text = `/${pattern}/u`;
  return {
    ok: true,
    pattern: {
      source: pattern,
      test: (input: string) => re2.test(input),
      toString: () => text,
    },
  };
}

/** Translation only, for tests that compare engines. */
export function translatePatternForTest(pattern: string): string {
  return translate(pattern);
}
