/**
 * No import cycle between src/ directories: each directory is a layer, and a layer may use the
 * ones below it only. Files directly in src/ (the command's edge) are outside the check. The
 * edges are the imports that load code; an `import type` is erased by the compiler and orders
 * nothing (K3s' renderers take the Config type, which is inferred from a spec that validates
 * with K3s' facts: a type-level edge back to config that loads nothing).
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';

const SRC = path.resolve(import.meta.dirname, '../../src');

function sourceFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

/** The directory of src/ a file belongs to, or null for a file directly in src/. */
function layer(file: string): string | null {
  const parts = path.relative(SRC, file).split(path.sep);
  return parts.length > 1 ? parts[0]! : null;
}

/** Every relative module a file imports or re-exports for its code, statically or with import(); not `import type`. */
function importsOf(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(
    /(?:^|\n)\s*(import|export)\b(\s+type\b)?([^;'"]*?)from\s*['"](\.[^'"]+)['"]|\bimport\(\s*['"](\.[^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"](\.[^'"]+)['"]/g,
  )) {
    if (m[4] !== undefined) {
      // import type { A }, and import { type A, type B } with nothing else, load nothing.
      const names = /\{([^}]*)\}/.exec(m[3] ?? '')?.[1];
      const onlyTypes =
        m[2] !== undefined ||
        (names !== undefined &&
          !/^\s*[^{,]*\S/.test(m[3]!.replace(/\{[^}]*\}/, '')) &&
          names.split(',').every((n) => n.trim() === '' || /^type\s/.test(n.trim())));
      if (!onlyTypes) out.push(m[4]);
    } else out.push((m[5] ?? m[6])!);
  }
  return out;
}

/** Edges between directories, each with one file import that makes it. */
function layerGraph(): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  for (const file of sourceFiles(SRC)) {
    const from = layer(file);
    if (from === null) continue;
    for (const spec of importsOf(fs.readFileSync(file, 'utf8'))) {
      const target = path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts'));
      const to = layer(target);
      if (to === null || to === from) continue;
      const edges = graph.get(from) ?? new Map<string, string>();
      if (!edges.has(to)) edges.set(to, `${path.relative(SRC, file)} imports ${spec}`);
      graph.set(from, edges);
    }
  }
  return graph;
}

/** Every elementary cycle's first occurrence, as a path of directories with the imports that close it. */
function cycles(graph: Map<string, Map<string, string>>): string[] {
  const found: string[] = [];
  const seen = new Set<string>();
  const walk = (start: string, node: string, trail: string[]) => {
    for (const [next, why] of graph.get(node) ?? []) {
      if (next === start) {
        const ring = [...trail, `${node} -> ${next} (${why})`];
        const key = [...trail.map((s) => s.split(' ')[0]), node].sort().join(',');
        if (!seen.has(key)) {
          seen.add(key);
          found.push(ring.join('; '));
        }
      } else if (next > start && !trail.some((s) => s.startsWith(`${next} `)) && next !== node) {
        walk(start, next, [...trail, `${node} -> ${next} (${why})`]);
      }
    }
  };
  for (const start of [...graph.keys()].sort()) walk(start, start, []);
  return found;
}

test('the cycle finder finds a cycle of three and of two, and none in a chain', (t) => {
  const g = (edges: Array<[string, string]>) => {
    const m = new Map<string, Map<string, string>>();
    for (const [a, b] of edges) m.set(a, (m.get(a) ?? new Map()).set(b, `${a}/x.ts imports ../${b}/y.js`));
    return m;
  };
  t.is(
    cycles(
      g([
        ['a', 'b'],
        ['b', 'c'],
        ['c', 'a'],
      ]),
    ).length,
    1,
  );
  t.is(
    cycles(
      g([
        ['a', 'b'],
        ['b', 'a'],
        ['b', 'c'],
      ]),
    ).length,
    1,
  );
  t.deepEqual(
    cycles(
      g([
        ['a', 'b'],
        ['b', 'c'],
        ['a', 'c'],
      ]),
    ),
    [],
  );
});

test('imports are found in every form the sources use', (t) => {
  t.deepEqual(
    importsOf(
      "import type { A } from '../a.js';\nimport { b,\n  c } from './b.js';\nexport { d } from '../d.js';\nconst e = await import('../e.js');\nimport './f.js';\nimport x from 'yaml';\nimport { type G, type H } from '../g.js';\nimport { type I, i } from '../i.js';\nimport J, { type K } from '../j.js';",
    ),
    ['./b.js', '../d.js', '../e.js', './f.js', '../i.js', '../j.js'],
  );
});

test('no import cycle between src/ directories', (t) => {
  const graph = layerGraph();
  t.true(graph.size > 5, 'the graph was read');
  t.deepEqual(cycles(graph), []);
});
