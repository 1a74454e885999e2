import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NextConfig } from 'next';

/** The repository root, where next and react are installed (the tests build a copy of the app elsewhere in it). */
function repositoryRoot(dir: string): string {
  while (!existsSync(join(dir, 'node_modules/next/package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}
const root = repositoryRoot(dirname(fileURLToPath(import.meta.url)));

const config: NextConfig = {
  turbopack: { root },
  outputFileTracingRoot: root,
  // The repository type-checks the example with its own compiler (npm run typecheck).
  typescript: { ignoreBuildErrors: true },
  // Store clients the options factory may load: Node packages, left to Node.
  serverExternalPackages: ['ioredis', 'pg'],
  poweredByHeader: false,
};

export default config;
