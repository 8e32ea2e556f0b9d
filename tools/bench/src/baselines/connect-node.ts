/**
 * Bare connect-node baseline server: the bridge's GetVariable method on
 * connectNodeAdapter over HTTP/2 cleartext (gRPC, gRPC-Web and Connect
 * protocols), answering with a canned variable (the identifier echoed into
 * its name), and ExecuteToolStream answering with the same messages as the
 * bridge's streaming host tool (`bytes` bytes as uint8 tensors of
 * `chunkBytes`, then the end). The framework with no logic of ours.
 */
import http2 from 'node:http2';
import { create } from '@bufbuild/protobuf';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { Dtype, ExecuteToolStreamResponseSchema, ToolService, VariableService } from '@unified-bridge/proto';
import { listenHttp2, serveChild } from './child.js';
import { makeResponse } from './payload.js';
import { CHUNK, CHUNK_BYTES, chunkSizes } from './tool-payload.js';

serveChild(async () => {
  const handler = connectNodeAdapter({
    routes: (router) => {
      router.rpc(VariableService.method.getVariable, (req) => makeResponse(req.identifier));
      router.rpc(ToolService.method.executeToolStream, async function* (req, ctx) {
        const args = req.arguments ?? {};
        const sizes = chunkSizes(Number(args['bytes'] ?? 0), Number(args['chunkBytes'] ?? CHUNK_BYTES));
        let sequence = 0n;
        for (const size of sizes) {
          if (ctx.signal.aborted) return;
          yield create(ExecuteToolStreamResponseSchema, {
            sequence: sequence++,
            payload: {
              case: 'chunk',
              value: {
                kind: {
                  case: 'tensorValue',
                  value: { dtype: Dtype.UINT8, shape: [size], data: CHUNK.subarray(0, size) },
                },
              },
            },
          });
        }
        yield create(ExecuteToolStreamResponseSchema, {
          sequence,
          payload: {
            case: 'end',
            value: { totalChunks: BigInt(sizes.length), metrics: { durationMs: 0, executedBy: 'baseline' } },
          },
        });
      });
    },
  });
  const server = http2.createServer(handler);
  return listenHttp2(server);
});
