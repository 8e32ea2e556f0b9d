import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CATALOG, SUITE_NAMES, isKnownCase } from './catalog.js';

const readme = readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');

describe('README', () => {
  it('should list exactly the case catalogue, in order', () => {
    const block = readme.split('<!-- cases:start -->')[1]!.split('<!-- cases:end -->')[0]!;
    const rows = block
      .split('\n')
      .filter((l) => l.startsWith('| `'))
      .map((l) => l.split('|').map((c) => c.trim()));
    expect(rows.map((r) => r[1]!.replace(/`/g, ''))).toEqual(CATALOG.map((e) => e.pattern));
    expect(rows.map((r) => r[2])).toEqual(CATALOG.map((e) => e.unit));
  });

  it('should name every suite', () => {
    for (const s of SUITE_NAMES) expect(readme).toContain(`\`${s}\``);
  });

  it('should match numbered case names and refuse unknown ones', () => {
    expect(isKnownCase('bridge.grpc.concurrent.w64')).toBe(true);
    expect(isKnownCase('store.get.n1000000')).toBe(true);
    expect(isKnownCase('floor.http2.unary')).toBe(true);
    expect(isKnownCase('tools.grpc.host.concurrent.w100')).toBe(true);
    expect(isKnownCase('tools.grpc.host.batch.call_many_50')).toBe(true);
    expect(isKnownCase('tools.grpc.host.stream_10mib.throughput')).toBe(true);
    expect(isKnownCase('store.get_hot.n1000000')).toBe(true);
    expect(isKnownCase('store.get.nX')).toBe(false);
    expect(isKnownCase('floorXhttp2.unary')).toBe(false);
  });
});
