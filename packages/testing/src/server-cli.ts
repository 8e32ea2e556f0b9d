import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { ownDirectory } from './own-location.js';

/** A `require` that resolves from this package's own folder, in both module formats. */
function localRequire(): NodeJS.Require {
  return createRequire(join(ownDirectory, 'server-cli.js'));
}

/**
 * Absolute path of the `unified-bridge` CLI of the installed `@unified-bridge/server`
 * (its package.json `bin`), resolved from this package as npm installed it.
 */
export function resolveServerCli(): string {
  let pkgJsonPath: string;
  try {
    pkgJsonPath = localRequire().resolve('@unified-bridge/server/package.json');
  } catch (err) {
    throw new Error(
      'startServer(): cannot find @unified-bridge/server; install it next to @unified-bridge/testing ' +
        'or pass options.cliPath',
      { cause: err },
    );
  }
  const pkg = JSON.parse(readFileSync(pkgJsonPath, 'utf8')) as { bin?: string | Record<string, string> };
  const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin?.['unified-bridge'];
  if (!bin) throw new Error(`startServer(): ${pkgJsonPath} has no "bin" entry for unified-bridge`);
  const cli = resolve(dirname(pkgJsonPath), bin);
  if (!existsSync(cli)) {
    throw new Error(`startServer(): the unified-bridge CLI ${cli} does not exist (is @unified-bridge/server built?)`);
  }
  return cli;
}
