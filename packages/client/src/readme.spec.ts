// Runs the README's quick start against a real server, through the package's
// built entry point (as a user would import it).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { startBridgeServer, type StartedBridgeServer } from '@unified-bridge/server';

function quickStart(): string {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Quick start'));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  if (!match?.[1]) throw new Error('README has no quick start code block');
  return match[1];
}

describe('README quick start', () => {
  let server: StartedBridgeServer;

  beforeAll(async () => {
    const silent = { error() {}, warn() {}, info() {}, debug() {} };
    server = await startBridgeServer({ port: 0, logger: silent });
  });

  afterAll(() => server.stop());

  it('should run as written', async () => {
    const code = quickStart();
    const imports = code.match(/^import .*$/gm) ?? [];
    expect(imports).toEqual(["import { createBridgeClient, isBridgeError } from '@unified-bridge/client';"]);
    const body = code.replace(/^import .*$/gm, '');
    const js = ts.transpileModule(`(async () => {${body}})`, {
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.None },
    }).outputText;
    const logs: unknown[][] = [];
    const console = { log: (...args: unknown[]) => logs.push(args) };
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pkg = require('@unified-bridge/client') as object;
    const run = new Function('createBridgeClient', 'isBridgeError', 'process', 'console', `return ${js}`) as (
      ...args: unknown[]
    ) => () => Promise<void>;
    const env = { env: { BRIDGE_URL: server.url } };
    const { createBridgeClient, isBridgeError } = pkg as Record<string, unknown>;
    await run(createBridgeClient, isBridgeError, env, console)();
    expect(logs).toEqual([[0.7], ['value 5 is above maximum 2'], ['counter', 1, 1], ['temperature', 0.9, 1]]);
  });
});
