// @unified-bridge/store-redis: the SessionStore of unified-bridge on Redis.

// --- For end users: the store and its options ---
export { RedisStore, createRedisStore } from './redis-store.js';
export type { RedisClusterNode, RedisStoreOptions } from './options.js';
export { REDIS_STORE_HEALTH } from './connection.js';
export type { RedisStoreHealth } from './connection.js';
