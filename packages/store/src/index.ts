// What end users need: the interface, its records and errors, the default store.
export type {
  Clock,
  GetHistoryOptions,
  ListVariablesOptions,
  Metadata,
  ModifyVariableOptions,
  Page,
  PageOptions,
  RegisterVariableInput,
  RollbackVariableOptions,
  SessionRecord,
  SessionStore,
  StoreCreateSessionOptions,
  StoredHistoryEntry,
  StoredVariable,
  StoreListSessionsOptions,
  StoreWatchOptions,
  ToolInput,
  ToolRecord,
  UpdateVariableOptions,
  UpdateVariablesOptions,
  VariableUpdate,
  VariableUpdateResult,
  WatchEvent,
  WatchEventKind,
} from './session-store.js';
// Deprecated names (see "Deprecated names" in the README).
export type {
  CreateSessionOptions,
  HistoryEntry,
  ListSessionsOptions,
  VariableRecord,
  WatchOptions,
} from './session-store.js';
export { MemoryStore } from './memory-store.js';
export type { MemoryStoreOptions, StoreTypeEngine } from './memory-store.js';
export { StoreError, STORE_ERROR_TYPES, isStoreError } from './store-error.js';
export type { StoreErrorOptions, StoreErrorType, StoreViolation } from './store-error.js';
// What other libraries (servers, backends) need: limits and fixed rules.
export { DEFAULT_STORE_LIMITS, STORE_RULES } from './limits.js';
export type { StoreLimits } from './limits.js';
