/**
 * Puts this repository's oidc-session into the app's node_modules as npm would (package.json
 * and a fresh dist), so that the example imports 'oidc-session/next' exactly as users do.
 * Next's bundlers do not map the sources' `.js` specifiers to `.ts` files outside the app, hence
 * a build: the library's own compiler, a few seconds.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');

export function installLibrary(appDir = join(root, 'examples/next')): string {
  const target = join(appDir, 'node_modules/oidc-session');
  rmSync(target, { recursive: true, force: true });
  // Turbopack's build cache takes node_modules as immutable and would keep the previous copy.
  rmSync(join(appDir, '.next'), { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  execFileSync(
    process.execPath,
    [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', join(target, 'dist')],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
  copyFileSync(join(root, 'src/stores/postgres.sql'), join(target, 'dist/stores/postgres.sql'));
  copyFileSync(join(root, 'package.json'), join(target, 'package.json'));
  return target;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) installLibrary();
