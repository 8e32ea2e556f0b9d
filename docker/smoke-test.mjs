/* global fetch */
// The compose test runner: checks a running server from the outside (health,
// Connect JSON, gRPC through connect-node). Exit code 0 = all good.
// Usage: UNIFIED_BRIDGE_URL=http://server:50051 node docker/smoke-test.mjs
import assert from 'node:assert/strict';
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { SessionService, VariableService } from '@unified-bridge/proto';

const base = process.env.UNIFIED_BRIDGE_URL || 'http://127.0.0.1:50051';
const post = async (path, body) => {
  const res = await fetch(`${base}/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
};

const health = await post('grpc.health.v1.Health/Check', {});
assert.deepEqual(health, { status: 200, body: { status: 'SERVING' } });

const created = await post('unified_bridge.v1.SessionService/CreateSession', {});
assert.equal(created.status, 200);
assert.match(created.body.session.id, /.+/);

const transport = createGrpcTransport({ baseUrl: base });
const sessionId = created.body.session.id;
await createClient(VariableService, transport).registerVariable({
  sessionId,
  name: 'x',
  type: 'integer',
  initialValue: { kind: { case: 'intValue', value: 42n } },
});
const { variable } = await createClient(VariableService, transport).getVariable({ sessionId, identifier: 'x' });
assert.equal(variable.value.kind.value, 42n);
await createClient(SessionService, transport).closeSession({ sessionId });
console.log(JSON.stringify({ event: 'smoke-test', ok: true, url: base }));
process.exit(0);
