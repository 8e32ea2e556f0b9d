// Runs the README's quick start against a real server, through the package's
// built entry point (as a user would import it).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { startBridgeServer, type StartedBridgeServer } from '@unified-bridge/server';

function codeBlock(heading: string): string {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  const at = readme.indexOf(`\n${heading}\n`);
  if (at < 0) throw new Error(`README has no '${heading}' section`);
  const match = /```ts\n([\s\S]*?)```/.exec(readme.slice(at));
  if (!match?.[1]) throw new Error(`README has no code block under '${heading}'`);
  return match[1];
}

const quickStart = (): string => codeBlock('## Quick start');

/** Transpiles a README block into a function taking the named imports, `process` and `console`. */
function compile(code: string, names: readonly string[]): (...args: unknown[]) => () => Promise<void> {
  const body = code.replace(/^import .*$/gm, '');
  const js = ts.transpileModule(`(async () => {${body}})`, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.None },
  }).outputText;
  return new Function(...names, 'process', 'console', `return ${js}`) as (...args: unknown[]) => () => Promise<void>;
}

describe('README quick start', () => {
  let server: StartedBridgeServer;

  beforeAll(async () => {
    const silent = { error() {}, warn() {}, info() {}, debug() {} };
    server = await startBridgeServer({ port: 0, logger: silent });
  });

  afterAll(() => server.stop());

  it('should run the quick start as written', async () => {
    const code = quickStart();
    const imports = code.match(/^import .*$/gm) ?? [];
    expect(imports).toEqual(["import { createBridgeClient, isBridgeError } from '@unified-bridge/client';"]);
    const logs: unknown[][] = [];
    const console = { log: (...args: unknown[]) => logs.push(args) };
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { createBridgeClient, isBridgeError } = require('@unified-bridge/client') as Record<string, unknown>;
    const run = compile(code, ['createBridgeClient', 'isBridgeError']);
    await run(createBridgeClient, isBridgeError, { env: { BRIDGE_URL: server.url } }, console)();
    expect(logs).toEqual([[0.7], ['value 5 is above maximum 2'], ['counter', 1, 1], ['temperature', 0.9, 1]]);
  });

  it('should run the tools example as written', async () => {
    const code = codeBlock('## Tools');
    const imports = code.match(/^import .*$/gm) ?? [];
    expect(imports).toEqual(["import { createBridgeClient, isBridgeError, toolError } from '@unified-bridge/client';"]);
    const logs: unknown[][] = [];
    const console = { log: (...args: unknown[]) => logs.push(args) };
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pkg = require('@unified-bridge/client') as Record<string, unknown>;
    const run = compile(code, ['createBridgeClient', 'isBridgeError', 'toolError']);
    await run(pkg.createBridgeClient, pkg.isBridgeError, pkg.toolError, { env: { BRIDGE_URL: server.url } }, console)();
    expect(logs).toEqual([[['add', 'count']], [3], [0], [1], [2], [42], ['add', 'ValidationError', 'a']]);
  });

  it('should run the browser example as written, through the /web entry point', async () => {
    const code = codeBlock('## Browsers: `@unified-bridge/client/web` (experimental)');
    const imports = code.match(/^import .*$/gm) ?? [];
    expect(imports).toEqual(["import { createBridgeClient } from '@unified-bridge/client/web';"]);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const web = require('@unified-bridge/client/web') as Record<string, unknown>;
    const body = code.replace(/^import .*$/gm, '') + '\nreturn client;';
    const js = ts.transpileModule(body, { compilerOptions: { target: ts.ScriptTarget.ES2022 } }).outputText;
    const created: unknown = new Function('createBridgeClient', js)(web.createBridgeClient);
    // A client of the Connect protocol over fetch: the same API as the Node.js entry point.
    const client = created as { createSession?: unknown; close(): Promise<void> };
    expect(typeof client.createSession).toBe('function');
    await client.close();
  });
});
