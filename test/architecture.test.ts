/**
 * The shape docs/architecture.md promises: no import cycle in src/, and the event path in
 * src/chat/ imports nothing of the app built on it (plugins, routes, backends).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from '../src/paths.js';

const SRC = join(PROJECT_ROOT, 'src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** file → the files of src/ it imports (type-only imports included: they are structure too). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sources(SRC)) {
    const text = readFileSync(file, 'utf8');
    const targets = [...text.matchAll(/^(?:import|export)[^'"]*?from\s+'(\.[^']+)'/gm)].map((m) =>
      relative(SRC, resolve(dirname(file), (m[1] as string).replace(/\.js$/, '.ts'))),
    );
    graph.set(relative(SRC, file), targets);
  }
  return graph;
}

test('src/ has no import cycle', () => {
  const graph = importGraph();
  const state = new Map<string, 'visiting' | 'done'>();
  const cycles: string[] = [];
  const visit = (file: string, path: string[]) => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'visiting') {
      cycles.push([...path.slice(path.indexOf(file)), file].join(' → '));
      return;
    }
    state.set(file, 'visiting');
    for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
    state.set(file, 'done');
  };
  for (const file of graph.keys()) visit(file, []);
  assert.deepEqual(cycles, []);
  assert.ok(graph.size > 20, 'the graph was read');
});

test('the event path imports nothing of the app above it', () => {
  const above = ['app.ts', 'server.ts', 'backends.ts', 'metrics.ts', 'plugins/', 'routes/'];
  const offending = [...importGraph()]
    .filter(([file]) => file.startsWith('chat/'))
    .flatMap(([file, targets]) =>
      targets.filter((t) => above.some((a) => t.startsWith(a))).map((t) => `${file} → ${t}`),
    );
  assert.deepEqual(offending, []);
});
