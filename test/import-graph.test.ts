/**
 * The engine's imports point one way: a walk of the import graph from every module in engine/
 * finds no cycle, and names each one it finds as a path (`a.ts -> b.ts -> a.ts`).
 *
 * Edges are what TypeScript's own scanner (`ts.preProcessFile`) reads: import and export ...
 * from, `import()`, `require()`, type-only imports included (a cycle of types still ties two
 * modules together). Relative specifiers are resolved the way the bundler settings of
 * tsconfig.node.json do for this repository (`x`, `x.ts`, `x/index.ts`); the walk follows them
 * into shared/, test/ and scripts/, so a cycle that leaves engine/ and comes back is found too.
 * Package imports are leaves.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function tsFilesUnder(root: string, dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = posix.join(dir, e.name);
    if (e.isDirectory()) return tsFilesUnder(root, rel);
    return e.name.endsWith('.ts') ? [rel] : [];
  });
}

interface Graph {
  /** module -> the modules it imports, repository-relative */
  edges: Map<string, string[]>;
  /** `file: specifier` of relative imports that name no file */
  unresolved: string[];
}

/** The import graph reachable from the .ts files under `root/folder`. */
function importGraph(root: string, folder: string): Graph {
  const edges = new Map<string, string[]>();
  const unresolved: string[] = [];
  const todo = tsFilesUnder(root, folder);
  for (let file = todo.pop(); file !== undefined; file = todo.pop()) {
    if (edges.has(file)) continue;
    const deps: string[] = [];
    for (const { fileName } of ts.preProcessFile(readFileSync(join(root, file), 'utf8'), true, true).importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const base = posix.join(posix.dirname(file), fileName);
      const target = [base, `${base}.ts`, `${base}/index.ts`, base.replace(/\.js$/, '.ts')].find((p) => p.endsWith('.ts') && isFile(join(root, p)));
      if (target === undefined) unresolved.push(`${file}: ${fileName}`);
      else if (!deps.includes(target)) deps.push(target);
    }
    edges.set(file, deps);
    todo.push(...deps);
  }
  return { edges, unresolved };
}

/** Each strongly connected component of more than one module (or a module importing itself), as one cycle through it. */
function findCycles(edges: Map<string, string[]>): string[][] {
  // Tarjan's algorithm, then a breadth-first search inside each component for a shortest way
  // from its first module back to it
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (edges.get(v) ?? []).includes(v)) components.push(component.sort());
  };
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) visit(v);

  return components.map((component) => {
    const start = component[0];
    const inside = new Set(component);
    const from = new Map<string, string>();
    const queue = [start];
    for (let i = 0; i < queue.length; i++) {
      for (const w of edges.get(queue[i]) ?? []) {
        if (!inside.has(w) || from.has(w)) continue;
        from.set(w, queue[i]);
        if (w === start) {
          const path = [start];
          for (let x = queue[i]; x !== start; x = from.get(x)!) path.unshift(x);
          return [start, ...path];
        }
        queue.push(w);
      }
    }
    throw new Error(`no way back to ${start} inside its component`);
  });
}

describe('import graph of engine/', () => {
  it('has no cycle, type-only imports included', () => {
    const { edges, unresolved } = importGraph(ROOT, 'engine');
    // the walk saw every engine module and resolved every relative import
    const engineFiles = tsFilesUnder(ROOT, 'engine');
    expect(engineFiles.length).toBeGreaterThan(50);
    expect(engineFiles.filter((f) => !edges.has(f))).toEqual([]);
    expect(unresolved).toEqual([]);
    expect(findCycles(edges).map((c) => c.join(' -> '))).toEqual([]);
    // the two modules that used to import each other both import what they share
    expect(edges.get('engine/capture/interfaces.ts')).toEqual(expect.arrayContaining(['shared/api.ts', 'engine/capture/live-cap.ts', 'engine/capture/sys-net.ts']));
    expect(edges.get('engine/capture/live-cap.ts')).toEqual(expect.arrayContaining(['engine/capture/sys-net.ts']));
    expect(edges.get('engine/capture/live-cap.ts')).not.toContain('engine/capture/interfaces.ts');
  });

  describe('the cycle check itself, on a small tree of real files', () => {
    let dir: string;
    beforeAll(() => void (dir = mkdtempSync(join(tmpdir(), 'wsscope-import-graph-'))));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    /** a new folder of `dir` holding `files` */
    const tree = (name: string, files: Record<string, string>): string => {
      mkdirSync(join(dir, name));
      for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, name, file), text);
      return name;
    };

    it('names a three-module cycle (through a type import and an import()) and a self-import, and nothing acyclic', () => {
      const cyclic = tree('cyclic', {
        'a.ts': "import { b } from './b';\nexport const a = b;\n",
        'b.ts': "import type { C } from './c.ts';\nexport const b = 1 as unknown as C;\n",
        'c.ts': "export type C = number;\nexport const load = () => import('./a');\n",
        'd.ts': "import { a } from './a';\nexport * from './e';\nexport const d = a;\n",
        'e.ts': "export { e } from './e';\n",
        'f.ts': "import { x } from 'some-package';\nexport const f = x;\n",
      });
      const { edges, unresolved } = importGraph(dir, cyclic);
      expect(unresolved).toEqual([]);
      expect(edges.get('cyclic/d.ts')).toEqual(['cyclic/a.ts', 'cyclic/e.ts']);
      expect(edges.get('cyclic/f.ts')).toEqual([]);
      expect(findCycles(edges).map((c) => c.join(' -> '))).toEqual(['cyclic/a.ts -> cyclic/b.ts -> cyclic/c.ts -> cyclic/a.ts', 'cyclic/e.ts -> cyclic/e.ts']);
    });

    it('reports a relative import that names no file', () => {
      const broken = tree('broken', { 'g.ts': "import { gone } from './gone';\nexport const g = gone;\n" });
      expect(importGraph(dir, broken).unresolved).toEqual(['broken/g.ts: ./gone']);
    });
  });
});
