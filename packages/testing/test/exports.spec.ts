import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

// Imports the built entry points by package name and checks their export lists exactly, so
// internals never become API by accident; ESM is checked in a child process.
const ROOT = [
  'FaultProxy',
  'InProcessServer',
  'StartedRedis',
  'StartedRedisCluster',
  'StartedServer',
  'Timings',
  'orderStatistics',
  'startInProcessServer',
  'startRedis',
  'startRedisCluster',
  'startServer',
];
const JEST = ['BRIDGE_URL_ENV', 'createGlobalSetup', 'createGlobalTeardown', 'useBridgeServer', 'withSession'];

describe('package exports', () => {
  it('should export exactly the public API from the CommonJS build', () => {
    /* eslint-disable @typescript-eslint/no-require-imports */
    expect(Object.keys(require('@unified-bridge/testing') as object).sort()).toEqual(ROOT);
    expect(Object.keys(require('@unified-bridge/testing/jest') as object).sort()).toEqual(JEST);
    const setup = require('@unified-bridge/testing/jest/global-setup') as { default: unknown };
    const teardown = require('@unified-bridge/testing/jest/global-teardown') as { default: unknown };
    /* eslint-enable @typescript-eslint/no-require-imports */
    expect(Object.keys(setup)).toEqual(['default']);
    expect(typeof setup.default).toBe('function');
    expect(Object.keys(teardown)).toEqual(['default']);
    expect(typeof teardown.default).toBe('function');
  });

  it('should export the same API from the ESM build', () => {
    const script = `
      const names = async (s) => Object.keys(await import(s)).sort();
      console.log(JSON.stringify([
        await names('@unified-bridge/testing'),
        await names('@unified-bridge/testing/jest'),
        await names('@unified-bridge/testing/jest/global-setup'),
        await names('@unified-bridge/testing/jest/global-teardown'),
      ]));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: join(__dirname, '..'),
      encoding: 'utf8',
    });
    expect(JSON.parse(out)).toEqual([ROOT, JEST, ['default'], ['default']]);
  });
});
