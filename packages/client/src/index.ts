// @unified-bridge/client: the caching TypeScript client of unified-bridge.

// -- For end users ------------------------------------------------------------------------------
export { createBridgeClient } from './node.js';
export { BridgeClient } from './client.js';
export type {
  BridgeClientOptions,
  BridgeProtocol,
  CreateSessionOptions,
  HttpVersion,
  ListSessionsOptions,
  TokenSource,
} from './client-options.js';
export { Session } from './session.js';
export type { SessionInfo } from './session-info.js';
export type {
  SessionHandleOptions,
  GetOptions,
  ListOptions,
  HistoryOptions,
  RegisterOptions,
  SetOptions,
  SetManyOptions,
  SetManyEntry,
  SetManyResult,
  UpdateOptions,
  RollbackOptions,
} from './session-options.js';
export { BatchBuilder } from './batch.js';
export { VariableHandle } from './variable-handle.js';
export type { VariableAccess } from './variable-handle.js';
export { VariableList } from './variable-list.js';
export type { HistoryEntry, VariableRecord } from './codec.js';
export type { VariableEvent, VariableEventKind, WatchOptions } from './watch.js';
export type { BridgeCache, CacheMode, CacheOptions, CacheStats } from './cache.js';
export type { RetryOptions } from './retry.js';
export type { CallOptions } from './rpc.js';
export { SessionTools } from './session-tools.js';
export type { ToolProxy } from './session-tools.js';
export { ToolStream } from './tool-stream.js';
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
} from './tool-types.js';
export { ToolWorker } from './worker.js';
export type { ServeToolsOptions } from './worker-options.js';
export type { ToolContext, ToolDefinition, ToolDefinitions, ToolHandler } from './tool-definitions.js';
export { BRIDGE_ERROR_TYPES, BridgeError, isBridgeError, toolError } from './errors.js';
export type { BridgeErrorInit, BridgeErrorType, BridgeFieldViolation } from './errors.js';

// -- For libraries building on the client -------------------------------------------------------
export { toBridgeError } from './errors.js';
