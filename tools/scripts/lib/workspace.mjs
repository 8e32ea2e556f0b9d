// Helpers shared by the scripts under tools/scripts: where the workspace is, which packages
// are published, and how to pack one as npm would.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Parses a JSON file. */
export const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

/**
 * Every published package: each folder of packages/ whose package.json is not private, so a
 * new package is included without editing any script. `only` restricts it to folder names.
 * @returns {{ name: string, dir: string, file: string, pkg: Record<string, any> }[]}
 */
export function publicPackages(only = []) {
  const found = [];
  for (const name of readdirSync(join(root, 'packages')).sort()) {
    const file = join(root, 'packages', name, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = readJson(file);
    if (pkg.private || (only.length > 0 && !only.includes(name))) continue;
    found.push({ name, dir: join(root, 'packages', name), file, pkg });
  }
  return found;
}

/** Packs the package in `dir` into `destination` (npm pack: what `npm publish` uploads); returns the tarball path. */
export function pack(dir, destination) {
  const [{ filename }] = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', destination], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  return join(destination, filename);
}
