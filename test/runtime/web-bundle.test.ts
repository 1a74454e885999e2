/**
 * Everything that is not Node-specific must bundle for any platform: the root entry, the Hono
 * adapter, the Web stores. Each is bundled by esbuild for the `neutral` platform (no Node
 * built-ins, no runtime conditions) and for the browser, and any `node:` (or bare built-in)
 * import fails the test — the check that keeps Cloudflare Workers without `nodejs_compat`,
 * Deno Deploy and Bun working.
 */
import { builtinModules } from 'node:module';
import { build, type Plugin } from 'esbuild';
import { describe, expect, it } from 'vitest';

const WEB_ENTRIES = {
  '.': 'src/index.ts',
  './errors': 'src/errors.ts',
  './hono': 'src/adapters/hono.ts',
  './next': 'src/adapters/next.ts',
  './stores/memory': 'src/stores/memory.ts',
  './stores/durable-object': 'src/stores/durable-object.ts',
};
const NODE_ENTRIES = ['src/adapters/node.ts', 'src/adapters/express.ts', 'src/adapters/fastify.ts'];
/** Frameworks the user brings: resolved at their build, not ours. */
const PEERS = ['hono', 'hono/*', 'next', 'next/*'];
const BUILTINS = new Set(builtinModules);

/** Records every import of a Node built-in, by whom, instead of resolving it. */
function nodeImports(found: string[]): Plugin {
  return {
    name: 'node-imports',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        const bare = args.path.replace(/^node:/, '').split('/')[0]!;
        if (args.path.startsWith('node:') || (BUILTINS.has(bare) && args.kind !== 'entry-point')) {
          found.push(`${args.path} (imported by ${args.importer.replace(`${process.cwd()}/`, '')})`);
          return { path: args.path, external: true };
        }
        return undefined;
      });
    },
  };
}

async function nodeImportsOf(entry: string, platform: 'neutral' | 'browser'): Promise<string[]> {
  const found: string[] = [];
  await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform,
    // neutral has no default main fields; these are what a Workers or Deno bundler reads.
    mainFields: ['module', 'main'],
    conditions: platform === 'neutral' ? ['worker', 'import', 'default'] : [],
    external: PEERS,
    logLevel: 'silent',
    plugins: [nodeImports(found)],
  });
  return found;
}

describe('the Web entries resolve no Node built-in', () => {
  for (const [name, entry] of Object.entries(WEB_ENTRIES)) {
    it.each(['neutral', 'browser'] as const)(
      `when ${name} is bundled for the %s platform then it imports no node: module`,
      async (platform) => {
        expect(await nodeImportsOf(entry, platform)).toEqual([]);
      },
    );
  }

  it('when a Node entry is bundled then the check does see its node: imports (the test can fail)', async () => {
    for (const entry of NODE_ENTRIES) expect((await nodeImportsOf(entry, 'neutral')).some((i) => i.startsWith('node:'))).toBe(true);
  });
});
