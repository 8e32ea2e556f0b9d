import { execFile } from 'node:child_process';
import { join } from 'node:path';

describe('BridgeClient.close()', () => {
  it('should not crash the process after a gRPC call to an HTTP/1.1-only host failed', async () => {
    const script = join(__dirname, 'fixtures/close-after-http1-host.mjs');
    const result = await new Promise<{ code: number; out: string }>((resolve) =>
      execFile(process.execPath, [script], { cwd: __dirname, timeout: 60_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
      ),
    );
    expect(result.out).toContain('call failed: Unavailable');
    expect(result.out).not.toContain('ERR_HTTP2_ERROR');
    expect(result.code).toBe(0);
  }, 70_000);
});
