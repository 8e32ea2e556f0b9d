// Imports the package by its own name (the built entry points, ESM and CJS)
// and checks the export lists exactly, so internals never become API by accident.
import { execFileSync } from 'node:child_process';

// The classes users only receive from the client (BridgeClient, Session, SessionTools, ToolStream,
// ToolWorker, VariableHandle, VariableList, BatchBuilder) are exported as types, not values.
const EXPECTED = [
  'BRIDGE_ERROR_TYPES',
  'BridgeError',
  'ToolFailure',
  'createBridgeClient',
  'isBridgeError',
  'isToolFailure',
  'toBridgeError',
  'toolError',
];

describe('@unified-bridge/client entry points', () => {
  it('should export exactly the public API (CommonJS)', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pkg = require('@unified-bridge/client') as Record<string, unknown>;
    expect(Object.keys(pkg).sort()).toEqual(EXPECTED);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const web = require('@unified-bridge/client/web') as Record<string, unknown>;
    expect(Object.keys(web).sort()).toEqual(['createBridgeClient']);
  });

  it('should export exactly the public API (ESM)', () => {
    const out = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import('@unified-bridge/client'); const w = await import('@unified-bridge/client/web');
         console.log(JSON.stringify([Object.keys(m).sort(), Object.keys(w).sort()]));`,
      ],
      { cwd: __dirname, encoding: 'utf8' },
    );
    expect(JSON.parse(out)).toEqual([EXPECTED, ['createBridgeClient']]);
  });
});
