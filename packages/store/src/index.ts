// What end users need: the interface, its records and errors, the default store.
export type { SessionStore, StoreStats, Clock, Metadata, Page, PageOptions } from './session-store.js';
// Sessions.
export type { SessionRecord, StoreCreateSessionOptions, StoreListSessionsOptions } from './session-store.js';
// Variables.
export type {
  StoredVariable,
  StoredHistoryEntry,
  RegisterVariableInput,
  UpdateVariableOptions,
  VariableUpdate,
  UpdateVariablesOptions,
  VariableUpdateResult,
  ListVariablesOptions,
  GetHistoryOptions,
  RollbackVariableOptions,
  ModifyVariableOptions,
} from './session-store.js';
// Watch.
export type { WatchEvent, WatchEventKind, StoreWatchOptions } from './session-store.js';
// Tools.
export type { ToolInput, ToolRecord } from './session-store.js';
// Deprecated names (see "Deprecated names" in the README).
export type {
  CreateSessionOptions,
  HistoryEntry,
  ListSessionsOptions,
  VariableRecord,
  WatchOptions,
} from './session-store.js';
export { MemoryStore } from './memory/memory-store.js';
export type { MemoryStoreOptions, StoreTypeEngine } from './memory/memory-store.js';
export { StoreError, STORE_ERROR_TYPES, isStoreError } from './store-error.js';
export type { StoreErrorOptions, StoreErrorType, StoreViolation } from './store-error.js';
// What other libraries (servers, backends) need: limits and fixed rules. Backends also
// use the private subpath `@unified-bridge/store/internal`.
export { DEFAULT_STORE_LIMITS, STORE_RULES } from './limits.js';
export type { StoreLimits } from './limits.js';
