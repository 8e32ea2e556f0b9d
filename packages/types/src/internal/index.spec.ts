import { execFileSync } from 'node:child_process';
import { TYPE_NAMES } from '../types.js';

const EXPORTS = [
  'TYPE_NAMES',
  'ToolFailure',
  'abortable',
  'canonicalJson',
  'createDeadlineSignal',
  'createLinkedAbortController',
  'isAsyncGeneratorFunction',
  'isAsyncIterable',
  'isPlainObject',
  'isToolFailure',
  'runToolHandler',
  'toolError',
  'valueText',
];

describe('@unified-bridge/types/internal entry point', () => {
  it('should export exactly the shared internals (CommonJS build)', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const api = require('@unified-bridge/types/internal') as Record<string, unknown>;
    expect(Object.keys(api).sort()).toEqual(EXPORTS);
    for (const name of EXPORTS) expect(typeof api[name]).toBe(name.toUpperCase() === name ? 'object' : 'function');
    expect(api['TYPE_NAMES']).toEqual(TYPE_NAMES);
  });

  it('should export exactly the shared internals (ESM build)', () => {
    const out = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "import * as api from '@unified-bridge/types/internal'; console.log(JSON.stringify([Object.keys(api).sort(), api.canonicalJson({ b: 1, a: [true] })]))",
      ],
      { cwd: __dirname, encoding: 'utf8' },
    );
    expect(JSON.parse(out)).toEqual([EXPORTS, '{"a":[true],"b":1}']);
  });
});
