/**
 * `returnTo` and `post_logout_redirect_uri` never lead off the app's origin, whatever their
 * spelling: percent-encoding and double encoding, slashes and backslashes, `/\`, `//`, `/%2F`,
 * tabs, newlines and other control characters, look-alike unicode slashes, `javascript:`,
 * absolute URLs, `@`, `..`. "Where a browser goes" is decided by the WHATWG URL parser
 * (`new URL(location, current)`), which is the browsers' own parser: it turns `\` into `/`
 * and drops tabs and newlines exactly as they do.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { safeReturnTo } from '../../src/core/return-to.js';
import { ConfigError } from '../../src/errors.js';
import { createAuth } from '../../src/index.js';
import { Agent } from '../support/agent.js';
import { mintSession } from '../support/sessions.js';
import { SECRET, type Stack, startStack } from '../support/stack.js';
import { ALICE, fuzzOptions } from './support.js';

const ORIGINS = ['https://app.example.com', 'http://127.0.0.1:3000', 'http://localhost:8080'];
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Pieces an attacker strings together to make a path that a browser reads as another host. */
const PIECES = [
  '/',
  '//',
  '///',
  '\\',
  '/\\',
  '\\/',
  '/%2F',
  '%2f',
  '%5C',
  '%5c',
  '%252F',
  '%255C',
  '%2e%2e',
  '%09',
  '%0a',
  '%0d',
  '%00',
  '\t',
  '\n',
  '\r',
  '\u0000',
  '\u000b',
  '\u000c',
  '\u001f',
  '\u007f',
  ' ',
  '\u00a0',
  '\uff0f', // fullwidth solidus
  '\uff3c', // fullwidth reverse solidus
  '\u2215', // division slash
  '\u2044', // fraction slash
  '\ufe68', // small reverse solidus
  '\u3002', // ideographic full stop
  '\u2028',
  '\u202e',
  '@',
  ':',
  '..',
  '.',
  '/..',
  '/./',
  '?',
  '#',
  '&',
  '=',
  'javascript:',
  'JaVaScRiPt:',
  'data:',
  'http:',
  'https:',
  'evil.example',
  'ｅｖｉｌ.example',
  'app.example.com',
  '127.0.0.1',
  '[::1]',
  'alert(1)',
  'https://evil.example',
  '//evil.example',
  '/\\evil.example',
  'https://app.example.com@evil.example',
  'x',
  'path',
];

const piece = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...PIECES) },
  { weight: 1, arbitrary: fc.string({ maxLength: 6, unit: 'grapheme' }) },
);

/** A candidate returnTo: pieces joined, sometimes forced to start with one slash, sometimes encoded once or twice. */
const returnTo = fc
  .tuple(fc.array(piece, { minLength: 1, maxLength: 8 }), fc.constantFrom('raw', 'slash', 'encoded', 'double'), fc.constantFrom(...ORIGINS))
  .map(([pieces, form, origin]) => {
    let value = pieces.join('').replaceAll('app.example.com', new URL(origin).host);
    if (form === 'slash') value = `/${value}`;
    if (form === 'encoded') value = `/${encodeURIComponent(value)}`;
    if (form === 'double') value = `/${encodeURIComponent(encodeURIComponent(value))}`;
    return { value, origin };
  });

/**
 * What a safe returnTo is: a path on `origin` that every browser resolves to `origin`, spelled
 * so that no browser can read it otherwise (no backslash, no control or non-ASCII character,
 * not `//`), and that the check itself accepts unchanged (normalising twice changes nothing).
 */
function expectSafePath(path: string, origin: string, input: string): void {
  const where = `${JSON.stringify(input)} → ${JSON.stringify(path)} on ${origin}`;
  expect(path.startsWith('/') && !path.startsWith('//'), `starts with exactly one slash: ${where}`).toBe(true);
  expect(/^[\x21-\x7e]*$/.test(path), `printable ASCII only (no backslash, control or unicode character): ${where}`).toBe(true);
  expect(path.includes('\\'), `no backslash: ${where}`).toBe(false);
  expect(new URL(path, origin).origin, `resolves on the origin: ${where}`).toBe(origin);
  // From a page deeper in the app, as a browser resolves a Location header.
  expect(new URL(path, `${origin}/a/b/c?q#h`).origin, `resolves on the origin from a deep page: ${where}`).toBe(origin);
  expect(safeReturnTo(path, origin), `normalising again changes nothing: ${where}`).toBe(path);
}

/** Runs a redirect chain; a Location no URL parser accepts is a failure too, named with the returnTo that caused it. */
async function followOrExplain<T>(value: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw new Error(`returnTo ${JSON.stringify(value)}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

describe('safeReturnTo and loginUrl (pure)', () => {
  // Catches: a check that looks at the raw string only (`/\evil`, `/\t/evil`), one that forgets to
  // re-check after normalisation (`/.//evil`), one that returns the input instead of the
  // normalised URL (raw unicode or control characters reach the Location header).
  it('when any spelling is given then safeReturnTo returns null or a path that stays on the origin', () => {
    fc.assert(
      fc.property(returnTo, ({ value, origin }) => {
        const safe = safeReturnTo(value, origin);
        if (safe !== null) expectSafePath(safe, origin, value);
      }),
      fuzzOptions(3000),
    );
  });

  // Catches: the property above passing vacuously (a safeReturnTo that refuses everything).
  it('when an ordinary same-origin path is given then safeReturnTo keeps it', () => {
    const segment = fc.stringMatching(/^[A-Za-z0-9._~-]{1,12}$/).filter((s) => s !== '.' && s !== '..');
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 5 }), fc.constantFrom(...ORIGINS), (segments, origin) => {
        const path = `/${segments.join('/')}?tab=1#top`;
        expect(safeReturnTo(path, origin)).toBe(path);
      }),
      fuzzOptions(200),
    );
  });

  // Catches: a login URL that puts returnTo in unescaped (`&provider=…` injection) or skips the check.
  it('when any spelling is given then auth.loginUrl points at our login route with a safe returnTo or none', () => {
    const auths = new Map(
      ORIGINS.map((origin) => [
        origin,
        createAuth({
          baseUrl: origin,
          secret: SECRET,
          providers: { default: { issuer: 'https://login.example.com', clientId: 'app', clientSecret: 's' } },
          logger: { warn: () => undefined, error: () => undefined },
        }),
      ]),
    );
    fc.assert(
      fc.property(returnTo, ({ value, origin }) => {
        const login = new URL(auths.get(origin)!.loginUrl(value), origin);
        expect(login.origin).toBe(origin);
        expect(login.pathname).toBe('/auth/login');
        expect(
          [...login.searchParams.keys()].every((key) => key === 'returnTo'),
          `only returnTo in ${login.search}`,
        ).toBe(true);
        const safe = login.searchParams.get('returnTo');
        if (safe !== null) expectSafePath(safe, origin, value);
      }),
      fuzzOptions(1000),
    );
  });
});

describe('returnTo over HTTP (the demo app and the real provider)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack?.close());

  const onStack = () => returnTo.map(({ value }) => value.replaceAll('app.example.com', new URL(stack.appUrl).host));

  // Catches: the login route or the callback following a returnTo that the browser resolves off-origin.
  it('when a login starts with any returnTo then the browser lands on the app origin', async () => {
    const agent = new Agent();
    await fc.assert(
      fc.asyncProperty(onStack(), async (value) => {
        const start = new URL(`${stack.appUrl}/auth/login`);
        start.searchParams.set('returnTo', value);
        const result = await followOrExplain(value, () => agent.loginAtProvider(start, ALICE));
        await result.response.body?.cancel();
        const back = result.chain.findIndex((url) => url.pathname === '/auth/callback');
        expect(back, `the login came back to the app for ${JSON.stringify(value)}`).toBeGreaterThanOrEqual(0);
        for (const url of [...result.chain.slice(back), result.url]) {
          expect(url.origin, `${JSON.stringify(value)} led to ${url.href}`).toBe(stack.appUrl);
        }
      }),
      fuzzOptions(25, { shrink: false }),
    );
  });

  // Catches: the logout route or its callback following an off-origin returnTo.
  it('when a local logout is posted with any returnTo then the browser lands on the app origin', async () => {
    const agent = new Agent();
    const csrfToken = ((await (await agent.fetch(`${stack.appUrl}/auth/csrf`)).json()) as { csrfToken: string }).csrfToken;
    await fc.assert(
      fc.asyncProperty(onStack(), async (value) => {
        const result = await followOrExplain(value, () =>
          agent.follow(`${stack.appUrl}/auth/logout`, {
            method: 'POST',
            body: new URLSearchParams({ csrfToken, returnTo: value, federated: 'false' }),
            initiator: stack.appUrl,
          }),
        );
        await result.response.body?.cancel();
        expect(result.chain[1]?.pathname, 'the logout went through its callback').toBe('/auth/logout/callback');
        for (const url of [...result.chain, result.url]) {
          expect(url.origin, `${JSON.stringify(value)} led to ${url.href}`).toBe(stack.appUrl);
        }
      }),
      fuzzOptions(60, { shrink: false }),
    );
  });
});

describe('post_logout_redirect_uri', () => {
  const uriPiece = fc.oneof(
    fc.constantFrom(
      '{baseUrl}',
      'https://',
      'http://',
      'HTTPS://',
      'javascript:',
      'data:text/html,',
      'file:///',
      '//',
      '/',
      '\\',
      '\t',
      '\n',
      '\r',
      '\u0000',
      ' ',
      '\uff0f',
      '@',
      ':',
      '..',
      '#',
      '?',
      'evil.example',
      'app.example.com',
      'localhost',
      '127.0.0.1',
      '[::1]',
      '127.0.0.1.evil.example',
      'localhost.evil.example',
      '0x7f.1',
      ':443',
      ':80',
      '/auth/logout/callback',
      '%2F',
      '%00',
    ),
    fc.webUrl(),
    fc.string({ maxLength: 5 }),
  );
  const candidate = fc.oneof(
    fc.array(uriPiece, { minLength: 1, maxLength: 6 }).map((pieces) => pieces.join('')),
    fc.webUrl({ withQueryParameters: true, withFragments: true }),
  );

  // Catches: an option accepted that is not an absolute https URL (or http on a local host):
  // javascript:, data:, protocol-relative, http to a public host, a host that only starts with
  // "localhost", or a string the URL parser had to clean up (tabs, newlines, backslashes).
  it('when createAuth is given any postLogoutRedirectUri then it throws a ConfigError or keeps an absolute https (or local http) URL', () => {
    fc.assert(
      fc.property(candidate, fc.constantFrom('https://app.example.com', 'http://127.0.0.1:3000'), (uri, baseUrl) => {
        let configured: string;
        try {
          const auth = createAuth({
            baseUrl,
            secret: SECRET,
            providers: { default: { issuer: 'https://login.example.com', clientId: 'app', clientSecret: 's' } },
            postLogoutRedirectUri: uri,
          });
          configured = auth.config.postLogoutRedirectUri;
        } catch (error) {
          expect(error, `createAuth threw something else for ${JSON.stringify(uri)}`).toBeInstanceOf(ConfigError);
          return;
        }
        const where = `${JSON.stringify(uri)} → ${JSON.stringify(configured)}`;
        const url = new URL(configured);
        expect(
          url.protocol === 'https:' || (url.protocol === 'http:' && LOCAL_HOSTS.has(url.hostname)),
          `https or local http: ${where}`,
        ).toBe(true);
        expect(/^[\x21-\x7e]+$/.test(configured), `no whitespace, control or non-ASCII character: ${where}`).toBe(true);
        expect(configured.includes('\\'), `no backslash: ${where}`).toBe(false);
      }),
      fuzzOptions(2000),
    );
  });

  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack?.close());

  // Catches: post_logout_redirect_uri (or a returnTo) read from the logout request's body or
  // query and sent to the provider, which would make the provider redirect wherever a page says.
  it('when a logout request carries its own post_logout_redirect_uri then the configured one is sent to the provider', async () => {
    const configured = `${stack.appUrl}/auth/logout/callback`;
    await fc.assert(
      fc.asyncProperty(candidate, async (uri) => {
        const agent = new Agent();
        const cookie = await mintSession(stack.auth, SECRET);
        const csrf = await fetch(`${stack.appUrl}/auth/csrf`, { headers: { cookie } });
        const { csrfToken } = (await csrf.json()) as { csrfToken: string };
        const response = await agent.fetch(`${stack.appUrl}/auth/logout?${new URLSearchParams({ post_logout_redirect_uri: uri })}`, {
          method: 'POST',
          headers: { cookie },
          body: new URLSearchParams({ csrfToken, post_logout_redirect_uri: uri, returnTo: uri }),
          initiator: stack.appUrl,
        });
        await response.body?.cancel();
        expect(response.status).toBe(303);
        const endSession = new URL(response.headers.get('location')!);
        expect(endSession.origin).toBe(stack.provider.issuer);
        expect(endSession.searchParams.getAll('post_logout_redirect_uri'), `for ${JSON.stringify(uri)}`).toEqual([configured]);
      }),
      fuzzOptions(30, { shrink: false }),
    );
  });
});
