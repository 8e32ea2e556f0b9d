/**
 * Floor baseline server: bare node:http2, no framework. Each POST stream is
 * read to its end and answered with the canned GetVariable response bytes.
 */
import http2 from 'node:http2';
import { listenHttp2, serveChild } from './child.js';
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
  return listenHttp2(server);
});
