// Makes ./node_modules (after `npm prune --omit=dev --omit=optional`) a self-contained
// production tree for the server image: each workspace link that @unified-bridge/server needs
// becomes a real copy of what `npm pack` publishes (package.json, dist, src, LICENSE) plus the
// dependencies npm nested under that workspace, every
// other workspace link is removed, and no symlink is left dangling. Run from the repository
// root after the server is built (docker/Dockerfile does; so does tools/scripts/docker-check.mjs).
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const modules = join(process.cwd(), 'node_modules');
const rootPkg = JSON.parse(readFileSync('package.json', 'utf8'));
const entry = '@unified-bridge/server';

/** Every workspace package: name -> folder. */
const workspaces = new Map();
for (const pattern of rootPkg.workspaces ?? []) {
  const base = pattern.replace(/\/\*$/, '');
  for (const name of existsSync(base) ? readdirSync(base) : []) {
    const file = join(base, name, 'package.json');
    if (existsSync(file)) workspaces.set(JSON.parse(readFileSync(file, 'utf8')).name, join(base, name));
  }
}

/** The workspace packages the server needs at run time (dependencies and peers, transitively). */
const needed = new Set();
const visit = (name) => {
  if (needed.has(name) || !workspaces.has(name)) return;
  needed.add(name);
  const pkg = JSON.parse(readFileSync(join(workspaces.get(name), 'package.json'), 'utf8'));
  for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies })) visit(dep);
};
visit(entry);

const tmp = mkdtempSync(join(tmpdir(), 'runtime-tree-'));
try {
  for (const [name, dir] of workspaces) {
    const at = join(modules, name);
    if (!existsSync(at) && !isLink(at)) continue;
    rmSync(at, { recursive: true, force: true });
    if (!needed.has(name)) continue;
    const [{ filename }] = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: dir, encoding: 'utf8' }),
    );
    mkdirSync(at, { recursive: true });
    execFileSync('tar', ['-xzf', join(tmp, filename), '-C', at, '--strip-components=1']);
    // Dependencies npm could not hoist (another version already at the top) sit in the
    // workspace's own node_modules: they come along.
    const nested = join(dir, 'node_modules');
    if (existsSync(nested)) cpSync(nested, join(at, 'node_modules'), { recursive: true, verbatimSymlinks: true });
    console.log(`${name}: packed copy of ${dir}${existsSync(nested) ? ' with its nested node_modules' : ''}`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
for (const name of needed) if (!existsSync(join(modules, name, 'package.json'))) fail(`${name} is not installed`);

// Links left pointing at removed packages (node_modules/.bin entries) go too; then none may dangle.
const dangling = () => execFileSync('find', [modules, '-xtype', 'l'], { encoding: 'utf8' }).split('\n').filter(Boolean);
for (const link of dangling()) rmSync(link);
const left = execFileSync('find', [modules, '-type', 'l', '-lname', '*packages/*'], { encoding: 'utf8' }).trim();
if (left) fail(`workspace links left in node_modules:\n${left}`);
if (dangling().length > 0) fail(`dangling links in node_modules:\n${dangling().join('\n')}`);
console.log(`node_modules: ${needed.size} workspace packages copied, no links into the workspace, none dangling`);

function isLink(path) {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

function fail(message) {
  console.error(message);
  process.exit(1);
}
