// TLS on one port: ALPN offers h2 (gRPC) and http/1.1 (Connect) together.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport, Http2SessionManager } from '@connectrpc/connect-node';
import { Health, HealthCheckResponse_ServingStatus, SessionService } from '@unified-bridge/proto';
import { startBridgeServer } from '../src/index.js';
import { silentLogger } from '../src/logger.js';

/** A throwaway self-signed certificate for 127.0.0.1, made with the openssl CLI. */
function selfSigned(): { cert: Buffer; key: Buffer } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'ub-tls-'));
  try {
    const r = spawnSync('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ]);
    if (r.status !== 0) return undefined;
    return { cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const tls = selfSigned();
// Skipped only where no openssl CLI exists to make a certificate (Node cannot create one by itself).
const describeTls = tls === undefined ? describe.skip : describe;

describeTls('TLS', () => {
  it('should serve gRPC over h2 and Connect over HTTP/1.1 on one TLS port', async () => {
    await using server = await startBridgeServer({ logger: silentLogger, tls: tls! });
    expect(server.url).toBe(`https://127.0.0.1:${server.port}`);
    const sessionManager = new Http2SessionManager(server.url, undefined, { ca: tls!.cert });
    try {
      const grpc = createGrpcTransport({ baseUrl: server.url, sessionManager });
      const created = await createClient(SessionService, grpc).createSession({ sessionId: 'tls' });
      expect(created.session?.id).toBe('tls');
      const connect = createConnectTransport({
        baseUrl: server.url,
        httpVersion: '1.1',
        nodeOptions: { ca: tls!.cert },
      });
      expect((await createClient(SessionService, connect).getSession({ sessionId: 'tls' })).session?.id).toBe('tls');
      expect((await createClient(Health, connect).check({})).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    } finally {
      sessionManager.abort();
    }
  });
});
