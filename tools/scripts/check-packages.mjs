#!/usr/bin/env node
// Checks the publishing shape of every public package with @arethetypeswrong/cli:
// packs it as npm would and verifies that `import` and `require` both resolve with types.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

let failed = false;
for (const name of readdirSync('packages')) {
  const dir = join('packages', name);
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  if (pkg.private) continue;
  console.log(`\n${pkg.name}`);
  try {
    execFileSync('npx', ['--no-install', 'attw', '--pack', dir, '--profile', 'node16', '--format', 'table-flipped'], {
      stdio: 'inherit',
    });
  } catch {
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
