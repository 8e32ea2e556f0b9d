// Rewriting requests in front of Connect's universal handlers: each handler is
// replaced by a wrapper with the same properties (path, method, protocols),
// so routers and adapters see no difference.
import type { UniversalHandler, UniversalServerRequest } from '@connectrpc/connect/protocol';

/** Replaces `handlers[from..]` by wrappers that pass every request through `rewrite` first. */
export function rewriteRequests(
  handlers: UniversalHandler[],
  from: number,
  rewrite: (req: UniversalServerRequest) => UniversalServerRequest,
): void {
  for (let i = from; i < handlers.length; i++) {
    const h = handlers[i]!;
    const wrapped = (req: UniversalServerRequest) => h(rewrite(req));
    handlers[i] = Object.assign(wrapped, {
      protocolNames: h.protocolNames,
      service: h.service,
      method: h.method,
      requestPath: h.requestPath,
      allowedMethods: h.allowedMethods,
      supportedContentType: h.supportedContentType,
    });
  }
}
