// @unified-bridge/testing: start real servers on free ports, a fault-injecting TCP proxy and a
// timing collector. Jest helpers live under the `@unified-bridge/testing/jest` subpath.

export { startServer, StartedServer } from './start-server.js';
export type { StartServerOptions, ServerExit, ServerLogLevel } from './start-server.js';
export { startInProcessServer, InProcessServer } from './in-process-server.js';
export type { InProcessServerOptions } from './in-process-server.js';
export { FaultProxy } from './fault-proxy.js';
export type { Fault, FaultDirection, FaultProxyOptions, FaultProxyStats } from './fault-proxy.js';
export { Timings } from './timings.js';
export { startRedis, startRedisCluster, StartedRedis, StartedRedisCluster } from './redis.js';
export type { RedisAppendFsync, StartRedisClusterOptions, StartRedisOptions } from './redis.js';
