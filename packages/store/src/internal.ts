/**
 * `@unified-bridge/store/internal`: what every `SessionStore` backend shares,
 * written once: the argument checks (names, owners, session ids, metadata,
 * tool fields, values and their size), the limits option, paging tokens, glob
 * matching, the records and watch events a store hands out, the watcher that
 * delivers them, and the StoreErrors of common failures. `MemoryStore` is
 * built on it, and so is `@unified-bridge/store-redis`.
 *
 * @private Internal code, does not follow semantic versioning. It is exported
 * for the backends of unified-bridge; anything here may change in a minor or
 * patch release. Applications use `@unified-bridge/store`.
 *
 * @packageDocumentation
 */
export { WATCH_EVENT_KINDS } from './session-store.js';
// Argument checks.
export {
  EMPTY_METADATA,
  checkCreateSessionOptions,
  checkHistoryLimit,
  checkMetadata,
  checkName,
  checkRollbackVersion,
  checkSessionId,
  checkSessionOwner,
  checkToolInput,
  checkToolOwner,
  checkVariableInput,
  checkVersion,
  mergeMetadata,
} from './internal/checks.js';
export type { CheckedSessionOptions, CheckedToolInput, CheckedVariableInput, NamedThing } from './internal/checks.js';
export { resolveStoreLimits } from './internal/store-limits.js';
// Values: the types engine, copies for storage.
export { DEFAULT_TYPE_ENGINE, checkValue, compileVariableType, toStoreViolation } from './internal/engine.js';
export type { StoreTypeEngine } from './internal/engine.js';
export { copyValue, frozenJsonCopy, isThenable, snapshotValue } from './internal/values.js';
export type { ValueSnapshot } from './internal/values.js';
// Ids, records, paging, glob.
export { newSessionId, newVariableId, variableNameOfId } from './internal/ids.js';
export {
  isExpired,
  nextVariableRecord,
  registeredVariableRecord,
  sessionRecord,
  toolRecord,
  variableRecord,
} from './internal/records.js';
export type { SessionFields } from './internal/records.js';
export {
  compareStrings,
  decodePageToken,
  encodePageToken,
  pageOf,
  readPageOptions,
  resolvePageSize,
} from './internal/paging.js';
export type { PageWindow } from './internal/paging.js';
export { compileGlob } from './internal/glob.js';
// Batches and read-modify-write.
export { atomicBatchError, checkBatch, prepareEach } from './internal/batch.js';
export { checkModifyArgs, modifyWithRetries } from './internal/modify.js';
// Watch: events, subscription checks, the watcher.
export { changeEvent, checkResumable, checkWatchOptions, initialEvent, syncedEvent } from './internal/watch-events.js';
export type { ChangeKind, CheckedWatchOptions } from './internal/watch-events.js';
export { Watcher, doneIterator, endWatchers, failedIterator, fanOut } from './internal/watcher.js';
export type { WatcherOptions } from './internal/watcher.js';
// StoreErrors of common failures.
export {
  checkExpectedVersion,
  describeToolScope,
  invalidArgument,
  limitReached,
  sessionAlreadyExists,
  sessionClosed,
  sessionExpired,
  sessionNotFound,
  storeClosed,
  toolNameTaken,
  toolNotFound,
  toolNotOwned,
  variableAlreadyExists,
  variableNotFound,
  versionNotRetained,
} from './internal/store-errors.js';
export type { ToolNameClash } from './internal/store-errors.js';
