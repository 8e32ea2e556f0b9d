import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRedis } from '@unified-bridge/testing';
import ts from 'typescript';

/** Extracts the first ```ts block after a heading. */
function codeAfter(markdown: string, heading: string): string {
  const start = markdown.indexOf(`## ${heading}`);
  const match = /```ts\n([\s\S]*?)```/.exec(markdown.slice(start));
  if (start < 0 || match === null) throw new Error(`no ts block under "## ${heading}"`);
  return match[1] as string;
}

describe('README', () => {
  it('should run the quick start as written against a real redis-server and print what its comments say', async () => {
    await using redis = await startRedis();
    const source = codeAfter(readFileSync(join(__dirname, '..', 'README.md'), 'utf8'), 'Quick start');
    const js = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    }).outputText;
    const printed: string[] = [];
    const fakeConsole = { log: (...args: unknown[]) => printed.push(args.map(String).join(' ')) };
    // The quick start uses top-level await; run it as the body of an async function.
    const run = new Function('require', 'console', 'exports', 'process', `return (async () => {\n${js}\n})();`) as (
      r: NodeJS.Require,
      c: typeof fakeConsole,
      e: object,
      p: { env: Record<string, string> },
    ) => Promise<void>;
    await run(require, fakeConsole, {}, { env: { REDIS_URL: redis.url } });
    const expected = [...source.matchAll(/console\.log\(.*\); \/\/ (.*)$/gm)].map((m) => m[1]);
    expect(expected).toHaveLength(4);
    expect(printed).toEqual(expected);
  });
});
