/**
 * The layering of docs/architecture.md, checked: no import circle anywhere in src/ (type-only
 * imports count: a circle of types is still a circle to read), the core imports no adapter or
 * store, and only the session backends know which mode they are.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Relative imports of a file, as paths under src/ (`./x.js` → `x.ts`). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'(\.[^']+)'/gm)].map((m) => m[1]!);
  return specifiers.map((s) => relative(SRC, resolve(dirname(file), s.replace(/\.js$/, '.ts'))));
}

const graph = new Map(sourceFiles(SRC).map((file) => [relative(SRC, file), importsOf(file)]));

function findCycle(): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | null => {
    if (state.get(node) === 'done') return null;
    if (state.get(node) === 'open') return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(node, 'done');
    return null;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return null;
}

describe('architecture', () => {
  it('when the imports of src/ are followed then no file leads back to itself', () => {
    expect(findCycle()).toBeNull();
  });

  it('when the core imports something then it is core, the error classes, or a library — never an adapter or a store', () => {
    const outside = [...graph].flatMap(([file, imports]) =>
      file.startsWith('core/') ? imports.filter((i) => !i.startsWith('core/') && i !== 'errors.ts').map((i) => `${file} → ${i}`) : [],
    );
    expect(outside).toEqual([]);
  });

  it('when a flow needs to know the session mode then it asks the backend: only the backends and context read config.mode', () => {
    const readers = [...graph.keys()].filter(
      (file) => file.startsWith('core/') && /config\.mode\b/.test(readFileSync(join(SRC, file), 'utf8')),
    );
    expect(readers).toEqual(['core/context.ts']);
  });

  it('when the check runs on a graph with a circle then it finds it (the test can fail)', () => {
    graph.set('core/__a.ts', ['core/__b.ts']);
    graph.set('core/__b.ts', ['core/__a.ts']);
    try {
      expect(findCycle()).toEqual(expect.arrayContaining(['core/__a.ts', 'core/__b.ts']));
    } finally {
      graph.delete('core/__a.ts');
      graph.delete('core/__b.ts');
    }
  });
});
