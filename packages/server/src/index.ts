// What end users need: embed the routes, or start the standalone server.
export { createBridgeRoutes, DEFAULT_GRACE_MS } from './routes.js';
export type { BridgeCompression, BridgeRoutes, BridgeRoutesOptions } from './routes.js';
export { startBridgeServer } from './server.js';
export type { BridgeProtocol, BridgeServerOptions, StartedBridgeServer } from './server.js';
export type { AuthOptions } from './auth.js';
export type { Http2Options, TlsOptions } from './listener.js';
export { DEFAULT_MAX_MESSAGE_BYTES } from './limits.js';
export { createBridgeLogger } from './logger.js';
export type { BridgeLogger, BridgeLogLevel } from './logger.js';
// Host tools: definitions, the registry on `routes.tools`, failures a handler chooses.
export type { HostToolContext, HostToolDefinition, HostToolHandler, ToolSession } from './tool-definition.js';
export type { HostToolRegistry, HostToolScope } from './host-tools.js';
export { isToolFailure, ToolFailure, toolError } from './tool-failure.js';
export type { ToolFailureOptions } from './tool-failure.js';
export type { RateLimitOptions } from './rate-limit.js';
// Operating it: metrics (prom-client), where the standalone server serves them, the access log.
export type { BridgeMetrics, MetricsOptions } from './metrics.js';
export type { ServerMetricsOptions } from './metrics-endpoint.js';
export type { AccessLogOptions } from './observability.js';
export { DEFAULT_TOOL_TIMEOUT_MS } from './tool-executor.js';

// What embedders and other libraries may need: the health registry type
// carried by the routes (`routes.health`; not constructed by users).
export type { BridgeHealth } from './health-service.js';
