/**
 * `@unified-bridge/types/internal`: what the server and the client both
 * need, written once: the tool-handler runner, AbortSignal helpers, the
 * tool's own failure, canonical JSON, the plain-object check, the text
 * form of violation values and the list of built-in type names.
 *
 * @private Internal code of unified-bridge, does not follow semantic
 * versioning: it may change in any release. Tool authors use what
 * `@unified-bridge/server` and `@unified-bridge/client` export instead.
 *
 * @packageDocumentation
 */
export { isAsyncGeneratorFunction, isAsyncIterable, runToolHandler } from './tool-runner.js';
export type { ToolEmit, ToolHandlerRun } from './tool-runner.js';
export { abortable, createDeadlineSignal, createLinkedAbortController } from './signals.js';
export type { DeadlineSignal, LinkedAbortController } from './signals.js';
export { isToolFailure, ToolFailure, toolError } from './tool-failure.js';
export type { ToolFailureOptions } from './tool-failure.js';
export { valueText } from './value-text.js';
export { canonicalJson } from '../canonical.js';
export { isPlainObject } from '../json-value.js';
export { TYPE_NAMES } from '../types.js';
