#!/usr/bin/env node
// Checks that the Nx project graph has exactly the dependency direction of the package
// table in DESIGN.md (a dependency may only point "down" the table) and no cycles.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Which projects each project may depend on (directly). */
const allowed = {
  proto: [],
  types: ['proto'],
  store: ['types', 'proto'],
  // testing: devDependency only, for the integration specs against a real redis-server.
  'store-redis': ['store', 'types', 'proto', 'testing'],
  server: ['store', 'types', 'proto'],
  // server: devDependency only, for the client's own integration tests (checked below).
  client: ['types', 'proto', 'server'],
  testing: ['server', 'client', 'proto', 'types', 'store'],
  integration: ['testing', 'server', 'client', 'store', 'types', 'proto'],
  bench: ['testing', 'server', 'client', 'store', 'types', 'proto'],
};

const dir = mkdtempSync(join(tmpdir(), 'nx-graph-'));
const file = join(dir, 'graph.json');
try {
  execFileSync('npx', ['--no-install', 'nx', 'graph', `--file=${file}`], { stdio: ['ignore', 'ignore', 'inherit'] });
  const { graph } = JSON.parse(readFileSync(file, 'utf8'));
  const problems = [];
  for (const [project, deps] of Object.entries(graph.dependencies)) {
    if (!(project in allowed)) {
      if (!project.startsWith('npm:'))
        problems.push(`unknown project ${project}: add it to tools/scripts/check-graph.mjs`);
      continue;
    }
    for (const { target } of deps) {
      if (target.startsWith('npm:')) continue;
      if (!allowed[project].includes(target))
        problems.push(`${project} -> ${target} is not allowed by the package table`);
    }
  }
  const visiting = new Set();
  const done = new Set();
  const visit = (p, path) => {
    if (done.has(p)) return;
    if (visiting.has(p)) return problems.push(`cycle: ${[...path, p].join(' -> ')}`);
    visiting.add(p);
    for (const { target } of graph.dependencies[p] ?? []) if (!target.startsWith('npm:')) visit(target, [...path, p]);
    visiting.delete(p);
    done.add(p);
  };
  for (const p of Object.keys(graph.nodes)) visit(p, []);
  const client = JSON.parse(readFileSync('packages/client/package.json', 'utf8'));
  if (client.dependencies?.['@unified-bridge/server'] || client.peerDependencies?.['@unified-bridge/server']) {
    problems.push('client may depend on server only as a devDependency');
  }
  if (problems.length > 0) {
    console.error(problems.join('\n'));
    process.exit(1);
  }
  for (const p of Object.keys(allowed)) {
    const deps = (graph.dependencies[p] ?? []).map((d) => d.target).filter((t) => !t.startsWith('npm:'));
    console.log(`${p} -> ${deps.sort().join(', ') || '(none)'}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
