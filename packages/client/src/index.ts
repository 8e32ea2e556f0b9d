// @unified-bridge/client: the caching TypeScript client of unified-bridge.

// -- For end users ------------------------------------------------------------------------------
// Classes that users only receive from the client (BridgeClient, Session, ToolWorker, ...) are
// exported as types: create them through createBridgeClient() and its methods.
export { createBridgeClient } from './node.js';
export type { BridgeClient } from './client.js';
export type { BridgeClientOptions, CreateSessionOptions, ListSessionsOptions } from './client-options.js';
export type { BridgeProtocol, HttpVersion, TokenSource } from './client-options.js';
export type { Session } from './session.js';
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
export type { BatchBuilder } from './batch.js';
export type { VariableAccess, VariableHandle } from './variable-handle.js';
export type { VariableList } from './variable-list.js';
export type { HistoryEntry, VariableRecord } from './codec.js';
export type { VariableEvent, VariableEventKind, WatchOptions } from './watch.js';
export type { BridgeCache, CacheMode, CacheOptions, CacheStats } from './cache.js';
export type { RetryOptions } from './retry.js';
export type { CallOptions } from './rpc.js';
export type { SessionTools, ToolProxy } from './session-tools.js';
export type { ToolStream } from './tool-stream.js';
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
export type { ToolWorker } from './worker.js';
export type { ServeToolsOptions } from './worker-options.js';
export type { ToolContext, ToolDefinition, ToolDefinitions, ToolHandler } from './tool-definitions.js';
export { BRIDGE_ERROR_TYPES, BridgeError, isBridgeError } from './errors.js';
// A tool's own failure: the same class as @unified-bridge/server's, for worker and host tools alike.
export { isToolFailure, ToolFailure, toolError } from '@unified-bridge/types/internal';
export type { ToolFailureOptions } from '@unified-bridge/types/internal';
export type { BridgeErrorInit, BridgeErrorType, BridgeFieldViolation } from './errors.js';

// -- For libraries building on the client -------------------------------------------------------
export { toBridgeError } from './errors.js';
