import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import * as api from '@unified-bridge/store-redis';

const EXPORTS = ['REDIS_STORE_HEALTH', 'RedisStore', 'createRedisStore'];

describe('@unified-bridge/store-redis (built entry points)', () => {
  it('should export exactly the public API from the CommonJS build', () => {
    expect(Object.keys(api).sort()).toEqual(EXPORTS);
  });

  it('should export the same API from the ESM build', () => {
    const script = `console.log(JSON.stringify(Object.keys(await import('@unified-bridge/store-redis')).sort()))`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: join(__dirname, '..'),
      encoding: 'utf8',
    });
    expect(JSON.parse(out)).toEqual(EXPORTS);
  });
});
