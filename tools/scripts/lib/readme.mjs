// Reads the code blocks of a README the way a reader copies them, and turns a TypeScript or
// JavaScript block into a runnable ES module or CommonJS script (top-level await included).
import { builtinModules, createRequire } from 'node:module';
import { root } from './workspace.mjs';

const ts = createRequire(`${root}/package.json`)('typescript');

/**
 * The fenced code blocks of a README, in order. A block whose first line is a comment naming a
 * file (`// jest.config.js`, `// my-tools.mjs — ...`) has that `file`.
 * @returns {{ lang: string, code: string, heading: string, file: string | undefined, index: number }[]}
 */
export function codeBlocks(markdown) {
  const blocks = [];
  let heading = '';
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (/^#{1,6} /.test(line)) heading = line.replace(/^#+ /, '');
    const open = /^```(\w*)\s*$/.exec(line);
    if (!open) continue;
    const body = [];
    for (i++; i < lines.length && !lines[i].startsWith('```'); i++) body.push(lines[i]);
    const code = body.join('\n') + '\n';
    const file = /^\/\/ ([\w./-]+\.(?:[cm]?[jt]s|json))\b/.exec(body[0] ?? '')?.[1];
    blocks.push({ lang: open[1], code, heading, file, index: blocks.length + 1 });
  }
  return blocks;
}

/** The package specs of every `npm install` line in the README's shell blocks (flags dropped). */
export function installLines(markdown) {
  return codeBlocks(markdown)
    .filter((b) => b.lang === 'sh' || b.lang === 'bash')
    .flatMap((b) => b.code.split('\n'))
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter((l) => /^npm (install|i)\b/.test(l))
    .map((l) =>
      l
        .split(/\s+/)
        .slice(2)
        .filter((t) => !t.startsWith('-')),
    );
}

/** The package name of a spec or import specifier (`@scope/name/sub` and `name@^1` → the name). */
export function packageName(specifier) {
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  return name.replace(/(?<=.)@.*$/, '');
}

/** The packages a block imports or requires (no relative paths, no Node.js builtins). */
export function importedPackages(code) {
  const found = new Set();
  for (const m of code.matchAll(/(?:\bfrom\s+|\bimport\s+|\brequire\()\s*['"]([^'"]+)['"]/g)) {
    const spec = m[1];
    if (spec.startsWith('.') || spec.startsWith('node:') || builtinModules.includes(spec)) continue;
    found.add(packageName(spec));
  }
  return [...found];
}

const compilerOptions = (module) => ({
  module,
  target: ts.ScriptTarget.ES2022,
  esModuleInterop: true,
  verbatimModuleSyntax: false,
});

/** A TypeScript/JavaScript module (a Jest file, a support file) as CommonJS, statement for statement. */
export function toCommonJsModule(code) {
  return ts.transpileModule(code, { compilerOptions: compilerOptions(ts.ModuleKind.CommonJS) }).outputText;
}

/** A TypeScript/JavaScript block as an ES module (`.mjs`); top-level await stays as it is. */
export function toEsm(code) {
  return ts.transpileModule(code, { compilerOptions: compilerOptions(ts.ModuleKind.ESNext) }).outputText;
}

/**
 * A block as a CommonJS script (`.cjs`): its imports become requires, the rest runs inside an
 * async function (CommonJS has no top-level await) whose failure exits with status 1. Like an
 * ES module with an unsettled top-level await, the script exits non-zero (1) when the event
 * loop empties before the block has run to its end.
 */
export function toCommonJs(code) {
  const source = ts.createSourceFile('block.ts', code, ts.ScriptTarget.ES2022, true);
  const imports = [];
  const body = [];
  for (const statement of source.statements) {
    (ts.isImportDeclaration(statement) ? imports : body).push(statement.getFullText(source));
  }
  const wrapped = `${imports.join('')}\nexport {};\nprocess.exitCode = 1;\n(async () => {${body.join('')}\n  process.exitCode = 0;\n})().catch((err) => {\n  console.error(err);\n  process.exit(1);\n});\n`;
  return ts.transpileModule(wrapped, { compilerOptions: compilerOptions(ts.ModuleKind.CommonJS) }).outputText;
}
