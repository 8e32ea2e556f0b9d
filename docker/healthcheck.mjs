/* global fetch */
// Docker HEALTHCHECK: calls grpc.health.v1.Health/Check through Connect JSON
// over HTTP/1.1 with fetch; exit 0 only when the server answers SERVING.
const port = process.env.UNIFIED_BRIDGE_PORT || process.env.PORT || '50051';
const url = process.env.UNIFIED_BRIDGE_HEALTH_URL || `http://127.0.0.1:${port}/grpc.health.v1.Health/Check`;
try {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
    signal: AbortSignal.timeout(2000),
  });
  const body = await res.json();
  if (res.ok && body.status === 'SERVING') process.exit(0);
  console.error(`unhealthy: HTTP ${res.status} ${JSON.stringify(body)}`);
} catch (err) {
  console.error(`unhealthy: ${err instanceof Error ? err.message : String(err)}`);
}
process.exit(1);
