import { execFileSync } from 'node:child_process';

const EXPORTS = [
  'compileSchema',
  'compileType',
  'encodedSize',
  'formatValue',
  'fromWire',
  'inferType',
  'registerType',
  'toWire',
];

describe('@unified-bridge/types entry point', () => {
  it('should export exactly the public API (CommonJS build)', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const api = require('@unified-bridge/types') as Record<string, unknown>;
    expect(Object.keys(api).sort()).toEqual(EXPORTS);
    for (const name of EXPORTS) expect(typeof api[name]).toBe('function');
  });

  it('should export exactly the public API (ESM build)', () => {
    const out = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "import * as api from '@unified-bridge/types'; const r = api.compileType('integer'); console.log(JSON.stringify([Object.keys(api).sort(), r.ok && r.compiled.validate('3')]))",
      ],
      { cwd: __dirname, encoding: 'utf8' },
    );
    expect(JSON.parse(out)).toEqual([EXPORTS, { ok: true, value: 3 }]);
  });
});
