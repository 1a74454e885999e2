import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NextConfig } from 'next';

/** The repository root: the example imports the library's sources (tsconfig.json `paths`). */
const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

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
