// @unified-bridge/testing: start real servers on free ports, a fault-injecting TCP proxy, a
// timing collector and the order statistics (median, percentiles) behind it. Jest helpers live
// under the `@unified-bridge/testing/jest` subpath.

export { startServer, StartedServer } from './start-server.js';
export type { StartServerOptions, ServerExit, ServerLogLevel } from './start-server.js';
export { startInProcessServer, InProcessServer } from './in-process-server.js';
export type { InProcessServerOptions } from './in-process-server.js';
export { FaultProxy } from './fault-proxy.js';
export type { FaultProxyOptions, FaultProxyStats } from './fault-proxy.js';
export type { Fault, FaultDirection } from './faults.js';
export { Timings } from './timings.js';
export { orderStatistics } from './order-statistics.js';
export type { OrderStatistics } from './order-statistics.js';
export { startRedis, startRedisCluster, StartedRedis, StartedRedisCluster } from './redis.js';
export type { RedisAppendFsync, StartRedisClusterOptions, StartRedisOptions } from './redis.js';
