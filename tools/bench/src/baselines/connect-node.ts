/**
 * Bare connect-node baseline server: the bridge's GetVariable method on
 * connectNodeAdapter over HTTP/2 cleartext (gRPC, gRPC-Web and Connect
 * protocols), answering with a canned variable (the identifier echoed into
 * its name). The framework with no logic of ours.
 */
import http2 from 'node:http2';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { VariableService } from '@unified-bridge/proto';
import { serveChild } from './child.js';
import { makeResponse } from './payload.js';

serveChild(async () => {
  const handler = connectNodeAdapter({
    routes: (router) => {
      router.rpc(VariableService.method.getVariable, (req) => makeResponse(req.identifier));
    },
  });
  const server = http2.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
  });
  return {
    port: address.port,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.close();
        server.close(() => resolve());
      }),
  };
});
