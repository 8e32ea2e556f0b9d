// The failure a tool's handler chooses (ToolFailure, toolError, isToolFailure):
// one shape for host tools and worker tools, defined once in
// @unified-bridge/types/internal and re-exported here and by the client.
export { isToolFailure, ToolFailure, toolError } from '@unified-bridge/types/internal';
export type { ToolFailureOptions } from '@unified-bridge/types/internal';
