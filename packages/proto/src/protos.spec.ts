// The .proto sources the package ships for other languages' code generators
// (after `npm run build`, which copies them from the repository's protos/).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const REPO_PROTOS = join(__dirname, '..', '..', '..', 'protos');

/** Every .proto file under the repository's protos/ folder, relative to it. */
function repoProtos(): string[] {
  return readdirSync(REPO_PROTOS, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.proto'))
    .sort();
}

describe('the shipped .proto files', () => {
  it('should be in the tarball under proto/, every one of protos/ and the same bytes', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: join(__dirname, '..'),
      encoding: 'utf8',
    });
    const packed = (JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    const shipped = packed.filter((p) => p.startsWith('proto/')).map((p) => p.slice('proto/'.length));
    expect(shipped.sort()).toEqual(repoProtos());
    expect(shipped).toEqual(
      expect.arrayContaining([
        'unified_bridge/v1/tool.proto',
        'google/rpc/status.proto',
        'grpc/health/v1/health.proto',
        'grpc/reflection/v1/reflection.proto',
        'grpc/reflection/v1alpha/reflection.proto',
      ]),
    );
    for (const f of shipped) {
      expect(readFileSync(join(__dirname, '..', 'proto', f), 'utf8')).toBe(readFileSync(join(REPO_PROTOS, f), 'utf8'));
    }
  });

  it('should resolve through the package subpath @unified-bridge/proto/proto/*', () => {
    const path = require.resolve('@unified-bridge/proto/proto/google/rpc/status.proto');
    expect(path.endsWith(join('proto', 'proto', 'google', 'rpc', 'status.proto'))).toBe(true);
    const status = readFileSync(path, 'utf8');
    // Vendored verbatim from googleapis, license header included.
    expect(status).toMatch(/^\/\/ Copyright \d{4} Google LLC\n/);
    expect(status).toContain('Licensed under the Apache License, Version 2.0');
    expect(status).toContain('package google.rpc;');
    expect(status).toContain('repeated google.protobuf.Any details = 3;');
  });
});
