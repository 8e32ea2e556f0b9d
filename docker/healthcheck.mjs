// Docker HEALTHCHECK: calls grpc.health.v1.Health/Check through Connect JSON over HTTP/1.1;
// exit 0 only when the server answers SERVING. Reads the server's own settings, so it works
// with TLS on: when UNIFIED_BRIDGE_TLS_CERT is set (the server serves TLS) it speaks HTTPS.
// It talks to its own container over loopback and sends nothing secret, so it does not verify
// the certificate (a certificate issued for a public name never matches 127.0.0.1).
// UNIFIED_BRIDGE_HEALTH_URL overrides the URL (for example behind a path prefix).
import http from 'node:http';
import https from 'node:https';

const port = process.env.UNIFIED_BRIDGE_PORT || process.env.PORT || '50051';
const scheme = process.env.UNIFIED_BRIDGE_TLS_CERT ? 'https' : 'http';
const url = new URL(
  process.env.UNIFIED_BRIDGE_HEALTH_URL || `${scheme}://127.0.0.1:${port}/grpc.health.v1.Health/Check`,
);

const answer = await new Promise((resolve) => {
  const body = '{}';
  const request = (url.protocol === 'https:' ? https : http).request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    rejectUnauthorized: false,
    timeout: 2000,
  });
  request.on('timeout', () => request.destroy(new Error('no answer within 2 s')));
  request.on('error', (err) => resolve({ error: err.message }));
  request.on('response', (res) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (chunk) => (text += chunk));
    res.on('end', () => resolve({ status: res.statusCode, text }));
    res.on('error', (err) => resolve({ error: err.message }));
  });
  request.end(body);
});

if (answer.status === 200) {
  try {
    if (JSON.parse(answer.text).status === 'SERVING') process.exit(0);
  } catch {
    // not JSON: reported below
  }
}
console.error(`unhealthy: ${answer.error ?? `HTTP ${answer.status} ${answer.text}`} (${url})`);
process.exit(1);
