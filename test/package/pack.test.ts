/**
 * The package as a user receives it. `npm pack` (which runs `prepare`, so this builds once), the tarball
 * installed into a scratch project, and every entry of the exports map — read from package.json, so new
 * entries are covered without touching this file — imported as ESM, loaded with require() (require(esm),
 * Node ≥ 20.19) and type-checked in strict TypeScript under node16, nodenext and bundler resolution.
 * Then the same from `npm install git+file://<clone of HEAD>`, which only works through `prepare`.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface PackageJson {
  name: string;
  files: string[];
  main?: string;
  types?: string;
  exports: Record<string, ExportTarget>;
  peerDependencies?: Record<string, string>;
}
type ExportTarget = string | null | { [condition: string]: ExportTarget };

interface Entry {
  /** The exports key, e.g. `./express`. */
  key: string;
  /** What a user writes, e.g. `oidc-session/express`. */
  specifier: string;
  /** A JSON entry (`./package.json`) is data: imported with `{ type: 'json' }`, not type-checked. */
  json: boolean;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as PackageJson;
const entries: Entry[] = Object.keys(pkg.exports).map((key) => ({
  key,
  specifier: key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`,
  json: targetsOf(pkg.exports[key]).every((target) => target.endsWith('.json')),
}));
const codeEntries = entries.filter((entry) => !entry.json);
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

let work = '';
let tarballFiles: string[] = [];
/** The scratch project that installed the tarball. */
let scratch = '';
/** The git install runs beside the other tests (it installs the project's dev dependencies: the slow part). */
let gitInstall: Promise<{ dir: string; install: Run }>;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'oidc-session-pack-'));
  const clone = join(work, 'clone');
  const cloned = run('git', ['clone', '--quiet', '--no-hardlinks', root, clone], work);
  gitInstall = cloned.then(async (result) => {
    expectSuccess(result, 'git clone');
    const dir = await scratchProject('git-scratch');
    const install = await npmInstall(dir, [`git+file://${clone}`, ...(await peerSpecs(['express']))]);
    return { dir, install };
  });
  // Reported by the git test itself; this only keeps an early failure from being an unhandled rejection.
  gitInstall.catch(() => {});

  const pack = await run('npm', ['pack', '--pack-destination', work], root);
  expectSuccess(pack, 'npm pack');
  const tarball = join(work, (await readdir(work)).find((name) => name.endsWith('.tgz')) ?? 'missing.tgz');
  await mkdir(join(work, 'unpacked'));
  expectSuccess(await run('tar', ['-xzf', tarball, '-C', join(work, 'unpacked')], work), 'tar');
  tarballFiles = await listFiles(join(work, 'unpacked', 'package'));

  // Every peer, so that every entry can load; the exact versions the project installed, so npm finds them
  // in its cache.
  scratch = await scratchProject('scratch');
  const peers = Object.keys(pkg.peerDependencies ?? {});
  expectSuccess(await npmInstall(scratch, [tarball, ...(await peerSpecs(peers))]), 'npm install <tarball>');
}, 120_000);

afterAll(async () => {
  await gitInstall?.catch(() => {});
  if (work) await rm(work, { recursive: true, force: true });
});

describe('npm pack', () => {
  test('when packed then the tarball holds only the files whitelist, with LICENSE and README', () => {
    const allowed = [...pkg.files, 'package.json'];
    const stray = tarballFiles.filter((file) => !allowed.some((item) => file === item || file.startsWith(`${item}/`)));
    expect(stray).toEqual([]);
    expect(tarballFiles).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json']));
    expect(tarballFiles.some((file) => file.startsWith('src/') || file.startsWith('test/'))).toBe(false);
  });

  test('when packed then every exports target, main and types is in the tarball, with types first', () => {
    const targets = [pkg.main, pkg.types, ...entries.flatMap((entry) => targetsOf(pkg.exports[entry.key]))];
    const missing = targets.filter((target) => target && !tarballFiles.includes(posix.normalize(target)));
    expect(missing).toEqual([]);
    // TypeScript takes the first condition that matches: `types` after `default` would never be read.
    for (const entry of entries) {
      const target = pkg.exports[entry.key];
      if (target && typeof target === 'object') expect(Object.keys(target)[0], entry.key).toBe('types');
    }
  });

  test('when packed then every source map carries its sources or names files that are shipped', async () => {
    const maps = tarballFiles.filter((file) => file.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(0);
    const broken: string[] = [];
    for (const file of maps) {
      const map = JSON.parse(await readFile(join(work, 'unpacked', 'package', file), 'utf8')) as SourceMap;
      const embedded = map.sourcesContent?.length === map.sources.length && map.sourcesContent.every(isString);
      const base = posix.join(posix.dirname(file), map.sourceRoot ?? '');
      const shipped = map.sources.every((source) => tarballFiles.includes(posix.join(base, source)));
      if (!embedded && !shipped) broken.push(file);
    }
    expect(broken).toEqual([]);
    // And every `sourceMappingURL` comment points at a map in the tarball.
    for (const file of tarballFiles.filter((name) => name.endsWith('.js'))) {
      const source = await readFile(join(work, 'unpacked', 'package', file), 'utf8');
      const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(source)?.[1];
      if (url) expect(tarballFiles, file).toContain(posix.join(posix.dirname(file), url));
    }
  });
});

describe('installed from the tarball', () => {
  test('when every entry is imported as ESM then each loads with exports and no import-time side effect', async () => {
    const probe = await esmProbe();
    for (const entry of entries) {
      const result = probe.entries[entry.specifier];
      expect(result?.exports.length, entry.specifier).toBeGreaterThan(0);
      // sideEffects: false promises bundlers that dropping an unused import changes nothing.
      expect(result?.newGlobals, entry.specifier).toEqual([]);
    }
    expect(probe.activeResources, 'timers, sockets or handles left by importing').toEqual([]);
  });

  test('when every entry is loaded with require() then it has the same exports as with import', async () => {
    const probe = await esmProbe();
    const script = [
      'const out = {};',
      `for (const id of ${JSON.stringify(entries.map((entry) => entry.specifier))}) {`,
      '  const loaded = require(id);',
      '  out[id] = id.endsWith(".json") ? loaded : Object.keys(loaded).sort();',
      '}',
      'console.log(JSON.stringify(out));',
    ].join('\n');
    await writeFile(join(scratch, 'require-all.cjs'), script);
    const result = await run(process.execPath, ['require-all.cjs'], scratch);
    expectSuccess(result, 'require() of every entry');
    const loaded = JSON.parse(result.stdout) as Record<string, unknown>;
    for (const entry of codeEntries) {
      expect(loaded[entry.specifier], entry.specifier).toEqual(probe.entries[entry.specifier]?.exports);
    }
    for (const entry of entries.filter((item) => item.json)) {
      expect(loaded[entry.specifier], entry.specifier).toMatchObject({ name: pkg.name });
    }
  });

  test.each([
    { resolution: 'node16', module: 'node16' },
    { resolution: 'nodenext', module: 'nodenext' },
    { resolution: 'bundler', module: 'preserve' },
  ])('when a strict TypeScript file uses every entry with $resolution resolution then it type-checks', async ({ resolution, module }) => {
    await writeUsageFiles();
    // require() of an ES module is typed only under nodenext (TypeScript models Node's require(esm) there).
    const include = ['use-every-entry.ts', 'quickstart.ts', ...(module === 'nodenext' ? ['require-every-entry.cts'] : [])];
    const config = {
      compilerOptions: {
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        target: 'ES2022',
        lib: ['ES2023'],
        types: ['node'],
        module,
        moduleResolution: resolution,
      },
      include,
    };
    await writeFile(join(scratch, `tsconfig.${resolution}.json`), JSON.stringify(config, null, 2));
    const result = await run(process.execPath, [tsc, '-p', `tsconfig.${resolution}.json`], scratch);
    expect(result.stdout + result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  test('when the Express quickstart runs from the tarball then it answers signed-out requests', async () => {
    await writeUsageFiles();
    const answers = await runQuickstart(scratch);
    expect(answers.home).toEqual({ status: 200, body: '<a href="/auth/login">Sign in</a>' });
    expect(answers.account).toMatchObject({ status: 401, body: { error: 'unauthorized' } });
  });
});

describe('installed from git', () => {
  test('when installed from a clone of HEAD then prepare has built dist and the Express quickstart runs', async () => {
    const { dir, install } = await gitInstall;
    expectSuccess(install, 'npm install git+file://…');
    const installed = join(dir, 'node_modules', pkg.name);
    // The exports map of the commit that was installed: the working tree may hold an entry not yet committed.
    const manifest = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8')) as PackageJson;
    const targets = Object.values(manifest.exports).flatMap(targetsOf);
    expect(targets.filter((target) => !existsSync(join(installed, target)))).toEqual([]);
    const imported = await run(
      process.execPath,
      ['--input-type=module', '-e', `import('${pkg.name}').then((m) => console.log(typeof m.createAuth))`],
      dir,
    );
    expect(imported).toMatchObject({ code: 0, stdout: 'function\n' });
    await writeUsageFiles();
    const answers = await runQuickstart(dir);
    expect(answers.home).toEqual({ status: 200, body: '<a href="/auth/login">Sign in</a>' });
  }, 120_000);
});

interface SourceMap {
  sources: string[];
  sourcesContent?: (string | null)[];
  sourceRoot?: string;
}

interface EsmProbe {
  entries: Record<string, { exports: string[]; newGlobals: string[] }>;
  activeResources: string[];
}

let esmProbeResult: Promise<EsmProbe> | undefined;

/** Imports every entry in one fresh process, noting the globals each import added and what is left running. */
function esmProbe(): Promise<EsmProbe> {
  esmProbeResult ??= (async () => {
    const script = [
      'const entries = {};',
      `for (const { specifier, json } of ${JSON.stringify(entries)}) {`,
      '  const before = new Set(Reflect.ownKeys(globalThis));',
      '  const loaded = json ? await import(specifier, { with: { type: "json" } }) : await import(specifier);',
      '  const newGlobals = Reflect.ownKeys(globalThis).filter((key) => !before.has(key)).map(String);',
      '  entries[specifier] = { exports: Object.keys(loaded).sort(), newGlobals };',
      '}',
      // The loader's own file reads may still be closing (CloseReq, FSReq*): those end by themselves.
      'const activeResources = process.getActiveResourcesInfo().filter((name) => !/^(CloseReq|FSReq)/.test(name));',
      'console.log(JSON.stringify({ entries, activeResources }));',
    ].join('\n');
    await writeFile(join(scratch, 'import-all.mjs'), script);
    const result = await run(process.execPath, ['import-all.mjs'], scratch);
    expectSuccess(result, 'import of every entry');
    // Importing prints nothing: no warnings, no logs.
    expect(result.stderr).toBe('');
    return JSON.parse(result.stdout) as EsmProbe;
  })();
  return esmProbeResult;
}

let usageFiles: Promise<void> | undefined;

/**
 * `use-every-entry.ts` pins each entry's runtime exports to its declarations both ways: a name the JavaScript
 * exports but the types lack is an excess property, a declared value the JavaScript lacks is a missing one.
 * `quickstart.ts` is the README's Express quickstart, compiled and run by `runQuickstart`.
 */
function writeUsageFiles(): Promise<void> {
  usageFiles ??= (async () => {
    const probe = await esmProbe();
    const lines = codeEntries.flatMap((entry, index) => [
      `import * as entry${index} from '${entry.specifier}';`,
      `export const entry${index}Names: Record<keyof typeof entry${index}, true> = ${namesObject(probe, entry)};`,
    ]);
    await writeFile(join(scratch, 'use-every-entry.ts'), `${lines.join('\n')}\n`);
    const requires = codeEntries.flatMap((entry, index) => [
      `import entry${index} = require('${entry.specifier}');`,
      `export const entry${index}Names: Record<keyof typeof entry${index}, true> = ${namesObject(probe, entry)};`,
    ]);
    await writeFile(join(scratch, 'require-every-entry.cts'), `${requires.join('\n')}\n`);
    await writeFile(join(scratch, 'quickstart.ts'), QUICKSTART);
  })();
  return usageFiles;
}

function namesObject(probe: EsmProbe, entry: Entry): string {
  const names = probe.entries[entry.specifier]?.exports ?? [];
  return `{ ${names.map((name) => `${JSON.stringify(name)}: true`).join(', ')} }`;
}

const QUICKSTART = `import type { AddressInfo } from 'node:net';
import express from 'express';
import { createAuth } from 'oidc-session';
import { oidcSession, requireAuth } from 'oidc-session/express';

export const auth = createAuth({
  baseUrl: 'http://127.0.0.1:3000',
  secret: 'a development secret of at least thirty-two bytes',
  providers: {
    default: { issuer: 'https://login.example.com', clientId: 'my-app', clientSecret: 'client-secret' },
  },
});

const app = express();
app.use(oidcSession(auth));
app.get('/', (req, res) => {
  res.send(req.auth ? \`Hello \${req.auth.user.name}\` : '<a href="/auth/login">Sign in</a>');
});
app.get('/account', requireAuth(), (req, res) => {
  res.json(req.auth!.user);
});

const server = app.listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const origin = \`http://127.0.0.1:\${(server.address() as AddressInfo).port}\`;
const home = await fetch(\`\${origin}/\`);
const account = await fetch(\`\${origin}/account\`, { headers: { accept: 'application/json' } });
console.log(JSON.stringify({
  home: { status: home.status, body: await home.text() },
  account: { status: account.status, body: await account.json() },
}));
server.close();
`;

let quickstartBuild: Promise<string> | undefined;

/** Compiles quickstart.ts once, then runs it from `dir` so that it loads that project's installed package. */
async function runQuickstart(dir: string): Promise<{ home: unknown; account: unknown }> {
  quickstartBuild ??= (async () => {
    const options = ['--strict', '--target', 'ES2022', '--lib', 'ES2023', '--types', 'node'];
    const emit = ['--module', 'nodenext', '--moduleResolution', 'nodenext', '--outDir', 'quickstart-out'];
    const result = await run(process.execPath, [tsc, ...options, ...emit, 'quickstart.ts'], scratch);
    expectSuccess(result, 'tsc quickstart.ts');
    return readFile(join(scratch, 'quickstart-out', 'quickstart.js'), 'utf8');
  })();
  await writeFile(join(dir, 'quickstart.mjs'), await quickstartBuild);
  const result = await run(process.execPath, ['quickstart.mjs'], dir);
  expectSuccess(result, 'the Express quickstart');
  return JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as { home: unknown; account: unknown };
}

async function scratchProject(name: string): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir);
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  return dir;
}

/** `name@version` for each package and its `@types/…` companion, at the versions the project has installed. */
async function peerSpecs(names: string[]): Promise<string[]> {
  const specs: string[] = [];
  const typesOf = (name: string) => `@types/${name.startsWith('@') ? name.slice(1).replace('/', '__') : name}`;
  for (const name of [...names, ...names.map(typesOf), '@types/node']) {
    const manifest = join(root, 'node_modules', name, 'package.json');
    if (existsSync(manifest)) {
      const { version } = JSON.parse(await readFile(manifest, 'utf8')) as { version: string };
      specs.push(`${name}@${version}`);
    } else if (!name.startsWith('@types/')) {
      specs.push(`${name}@${pkg.peerDependencies?.[name] ?? 'latest'}`);
    }
  }
  return [...new Set(specs)];
}

function npmInstall(dir: string, specs: string[]): Promise<Run> {
  return run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...specs], dir);
}

function targetsOf(target: ExportTarget | undefined): string[] {
  if (typeof target === 'string') return [target];
  if (!target) return [];
  return Object.values(target).flatMap(targetsOf);
}

function isString(value: unknown): value is string {
  return typeof value === 'string';
}

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const found: string[] = [];
  for (const item of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const path = prefix ? `${prefix}/${item.name}` : item.name;
    if (item.isDirectory()) found.push(...(await listFiles(dir, path)));
    else found.push(path);
  }
  return found.sort();
}

function expectSuccess(result: Run, what: string): void {
  if (result.code !== 0) {
    throw new Error(`${what} exited with ${result.code}\n${result.stdout.slice(-4000)}\n${result.stderr.slice(-4000)}`);
  }
}

function run(command: string, args: string[], cwd: string): Promise<Run> {
  // NODE_OPTIONS from the test runner must not reach the package manager or the scratch processes.
  const { NODE_OPTIONS: _, ...env } = process.env;
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
