// @unified-bridge/client: the caching TypeScript client of unified-bridge.

// -- For end users ------------------------------------------------------------------------------
export { createBridgeClient } from './node.js';
export { BridgeClient } from './client.js';
export type {
  BridgeClientOptions,
  BridgeProtocol,
  CreateSessionOptions,
  ListSessionsOptions,
  TokenSource,
} from './client.js';
export { Session } from './session.js';
export type {
  GetOptions,
  HistoryOptions,
  ListOptions,
  RegisterOptions,
  RollbackOptions,
  SessionHandleOptions,
  SessionInfo,
  SetManyOptions,
  SetManyResult,
  SetOptions,
  UpdateOptions,
} from './session.js';
export { BatchBuilder, VariableHandle, VariableList } from './variables.js';
export type { SetManyEntry } from './variables.js';
export type { HistoryEntry, VariableRecord } from './codec.js';
export type { VariableEvent, VariableEventKind, WatchOptions } from './watch.js';
export type { BridgeCache, CacheOptions, CacheStats } from './cache.js';
export type { RetryOptions } from './retry.js';
export type { CallOptions } from './rpc.js';
export { SessionTools, ToolStream } from './tools.js';
export type {
  CallManyOptions,
  CallManyResult,
  CallWithRetryOptions,
  ListToolsOptions,
  ToolArguments,
  ToolCallRequest,
  ToolCallResult,
  ToolInfo,
  ToolMetrics,
  ToolProxy,
} from './tools.js';
export { ToolWorker } from './worker.js';
export type { ServeToolsOptions, ToolContext, ToolDefinition, ToolDefinitions, ToolHandler } from './worker.js';
export { BRIDGE_ERROR_TYPES, BridgeError, isBridgeError, toolError } from './errors.js';
export type { BridgeErrorInit, BridgeErrorType, BridgeFieldViolation } from './errors.js';

// -- For libraries building on the client -------------------------------------------------------
export { toBridgeError } from './errors.js';
