// The standalone server's HTTP adapter: connect-node's request/response
// conversion, with failures after the client went away logged at debug
// level through the bridge logger (connect-node's own adapter prints them
// with console.error). Kept separate so a faster adapter can replace it
// without touching the services.
import { Code, ConnectError, createConnectRouter, createContextValues } from '@connectrpc/connect';
import type { ConnectRouter } from '@connectrpc/connect';
import type { UniversalHandler } from '@connectrpc/connect/protocol';
import { universalRequestFromNodeRequest, universalResponseToNodeResponse } from '@connectrpc/connect-node';
import type { NodeRequestHandler } from './listener.js';
import type { BridgeLogger } from './logger.js';
import { peerKey } from './observed-call.js';

/** Creates a node:http / node:http2 request handler for `routes`; unknown paths get 404. */
export function createNodeHandler(routes: (router: ConnectRouter) => void, logger: BridgeLogger): NodeRequestHandler {
  const router = createConnectRouter();
  routes(router);
  const paths = new Map<string, UniversalHandler>();
  for (const h of router.handlers) paths.set(h.requestPath, h);
  return (req, res) => {
    const handler = paths.get(req.url?.split('?', 2)[0] ?? '');
    if (handler === undefined) {
      res.writeHead(404);
      res.end();
      return;
    }
    const { remoteAddress, remotePort } = req.socket;
    const peer =
      remoteAddress === undefined ? undefined : createContextValues().set(peerKey, `${remoteAddress}:${remotePort}`);
    const uReq = universalRequestFromNodeRequest(req, res, undefined, peer);
    handler(uReq)
      .then((uRes) => {
        // An early answer (for example "message too large") leaves request
        // bytes unread: on HTTP/1.1 the connection cannot be reused safely.
        if (req.httpVersionMajor === 1 && !req.complete) {
          const header = new Headers(uRes.header);
          header.set('connection', 'close');
          return universalResponseToNodeResponse({ ...uRes, header }, res);
        }
        return universalResponseToNodeResponse(uRes, res);
      })
      .catch((reason: unknown) => {
        const gone = uReq.signal.aborted || res.destroyed;
        const err = ConnectError.from(reason);
        if (gone || err.code === Code.Aborted) {
          logger.debug({ procedure: handler.requestPath, err: err.message }, 'client went away during the response');
          return;
        }
        logger.error({ procedure: handler.requestPath, err: reason }, 'failed to write the response');
      });
  };
}
