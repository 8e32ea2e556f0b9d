import type { JsonObject } from '@bufbuild/protobuf';
import { isPlainObject } from '@unified-bridge/types/internal';
import { localValidationError } from './errors.js';

/** Where `v` is not JSON (a JSON pointer and what is wrong), or undefined. */
function notJson(v: unknown, path: string, depth: number): [string, string] | undefined {
  if (depth > 100) return [path, 'nests too deeply'];
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(v) ? undefined : [path, `is ${String(v)}, which JSON cannot hold`];
    case 'object':
      if (v === null) return undefined;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) {
          const bad = notJson(v[i], `${path}/${i}`, depth + 1);
          if (bad) return bad;
        }
        return undefined;
      }
      if (isPlainObject(v)) {
        for (const [k, x] of Object.entries(v)) {
          if (x === undefined) continue; // dropped, as JSON.stringify does
          const bad = notJson(x, `${path}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, depth + 1);
          if (bad) return bad;
        }
        return undefined;
      }
      return [path, `is a ${(v as object).constructor?.name ?? 'non-plain object'}, not a JSON value`];
    default:
      return [path, `is a ${typeof v}, not a JSON value`];
  }
}

/** Checks and converts tool arguments (a local ValidationError when they are not a JSON object). */
export function toArguments(name: string, args: unknown): JsonObject {
  if (args === undefined) return {};
  if (!isPlainObject(args)) {
    throw localValidationError(
      `the arguments of tool '${name}' must be a plain object`,
      [{ field: '', constraint: 'type', description: 'must be an object', expected: 'object', actual: typeof args }],
      { tool: name },
    );
  }
  const bad = notJson(args, '', 0);
  if (bad) {
    throw localValidationError(
      `the arguments of tool '${name}' are not JSON: ${bad[0] || '/'} ${bad[1]}`,
      [{ field: bad[0], constraint: 'type', description: bad[1], expected: 'JSON', actual: '' }],
      { tool: name },
    );
  }
  return JSON.parse(JSON.stringify(args)) as JsonObject;
}

/** Checks a tool name argument (TypeError unless a non-empty string). */
export function checkToolName(name: unknown): string {
  if (typeof name !== 'string' || name === '') throw new TypeError('tool name must be a non-empty string');
  return name;
}
