// `--tools-module <path>`: host tools for the standalone server, from a
// module the user writes (ESM or CommonJS).
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { HostToolDefinition } from './tool-definition.js';

/**
 * Imports a module and returns its host tool definitions: the `tools` export,
 * else the default export (for CommonJS: `module.exports = [...]` or
 * `exports.tools = [...]`), which must be an array (or a function returning
 * one, possibly async). The definitions are validated by the server.
 */
export async function loadToolsModule(path: string): Promise<HostToolDefinition[]> {
  const url = pathToFileURL(resolve(path)).href;
  const mod = (await import(url)) as { tools?: unknown; default?: unknown };
  const fromDefault = mod.default as { tools?: unknown } | undefined;
  let tools: unknown =
    mod.tools ??
    (fromDefault !== null && typeof fromDefault === 'object' && 'tools' in fromDefault && !Array.isArray(fromDefault)
      ? fromDefault.tools
      : fromDefault);
  if (typeof tools === 'function') tools = await (tools as () => unknown)();
  if (!Array.isArray(tools)) {
    throw new TypeError(
      `--tools-module ${path}: export an array of host tool definitions as \`tools\` or as the default export`,
    );
  }
  return tools as HostToolDefinition[];
}
