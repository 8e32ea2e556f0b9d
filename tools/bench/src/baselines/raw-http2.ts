/**
 * Floor baseline server: bare node:http2, no framework. Each POST stream is
 * read to its end and answered with the canned GetVariable response bytes.
 */
import http2 from 'node:http2';
import { serveChild } from './child.js';
import { RESPONSE_BYTES } from './payload.js';

serveChild(async () => {
  const server = http2.createServer();
  const body = Buffer.from(RESPONSE_BYTES);
  server.on('stream', (stream) => {
    stream.on('data', () => undefined);
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'content-type': 'application/octet-stream' });
      stream.end(body);
    });
    stream.on('error', () => undefined);
  });
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
