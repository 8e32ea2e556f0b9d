#!/usr/bin/env node
// Copies every .proto file of the repository's protos/ folder into this
// package's proto/ folder (same relative paths), so the published tarball
// carries the sources that code generators of other languages need:
// unified_bridge/v1, grpc/health/v1, grpc/reflection/v1 and v1alpha, and
// google/rpc/status.proto.
//
// Written to a fresh folder and swapped into place, so a test that reads
// proto/ while a build runs never sees it half-written.
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const from = resolve(pkg, '../../protos');
const out = join(pkg, `.proto-build-${process.pid}`);
const old = join(pkg, `.proto-old-${process.pid}`);
const target = join(pkg, 'proto');

rmSync(out, { recursive: true, force: true });
try {
  let copied = 0;
  for (const name of readdirSync(from, { recursive: true, encoding: 'utf8' })) {
    if (!name.endsWith('.proto')) continue;
    mkdirSync(join(out, dirname(name)), { recursive: true });
    cpSync(join(from, name), join(out, name));
    copied++;
  }
  if (copied === 0) throw new Error(`no .proto files found under ${from}`);
  if (existsSync(target)) renameSync(target, old);
  renameSync(out, target);
} finally {
  rmSync(out, { recursive: true, force: true });
  rmSync(old, { recursive: true, force: true });
}
