// Runs the README's code blocks exactly as written (imports resolve to the
// built packages by name; top-level await wrapped in an async function).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

/** The ```ts blocks of one `## ` section of the README, in order. */
function blocksUnder(heading: string): string[] {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  const at = readme.indexOf(`\n${heading}\n`);
  if (at < 0) throw new Error(`README has no "${heading}" section`);
  const end = readme.indexOf('\n## ', at + heading.length + 1);
  const section = readme.slice(at, end < 0 ? undefined : end);
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/** The first ```ts block under a heading of the README. */
function blockUnder(heading: string): string {
  const [first] = blocksUnder(heading);
  if (first === undefined) throw new Error(`README has no \`\`\`ts block under "${heading}"`);
  return first;
}

/** Runs a block (with `env` added to `process.env`) and returns what it logged. */
async function run(code: string, env: Record<string, string> = {}): Promise<unknown[]> {
  const lines = code.split('\n');
  const imports = lines.filter((l) => l.startsWith('import '));
  const body = lines.filter((l) => !l.startsWith('import '));
  const source = `${imports.join('\n')}\nexport const run = async () => {\n${body.join('\n')}\n};\n`;
  const js = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  }).outputText;
  const logged: unknown[] = [];
  const mod = { exports: {} as { run?: () => Promise<void> } };
  const fakeConsole = { log: (...args: unknown[]) => logged.push(...args) };
  const fakeProcess = Object.create(process, { env: { value: { ...process.env, ...env } } }) as NodeJS.Process;
  new Function('require', 'module', 'exports', 'console', 'process', js)(
    require,
    mod,
    mod.exports,
    fakeConsole,
    fakeProcess,
  );
  await mod.exports.run!();
  return logged;
}

describe('README', () => {
  it('should run the quick start and print the variable value', async () => {
    expect(await run(blockUnder('## Quick start'))).toEqual([0.7]);
  });

  it('should run the metrics example and print the count of the one RPC it made', async () => {
    expect(await run(blockUnder('### Metrics'))).toEqual([
      'unified_bridge_rpc_server_handled_total{service="unified_bridge.v1.SessionService",method="CreateSession",protocol="connect",code="OK"} 1',
    ]);
  });

  it('should run the tools example: a result with metrics, streamed chunks, a ToolError', async () => {
    expect(await run(blockUnder('## Tools'))).toEqual([2n, 'host', 3n, 2n, 1n, 'cannot divide by zero']);
  });

  // node:http, node:http2, Fastify and Express: each host on a free port, one call with the
  // protocol the host speaks, then shutdown in the documented order.
  it.each([
    ['node:http', 'on-node-http'],
    ['node:http2', 'on-node-http2'],
    ['Fastify', 'on-fastify'],
    ['Express', 'on-express'],
  ])('should run the %s embedding example as written', async (_host, sessionId) => {
    const blocks = blocksUnder('## Embedding');
    expect(blocks).toHaveLength(4);
    const block = blocks.find((b) => b.includes(`'${sessionId}'`));
    expect(block).toBeDefined();
    expect(await run(block!, { PORT: '0' })).toEqual([sessionId]);
  });
});
