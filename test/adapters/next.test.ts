/**
 * `oidc-session/next` outside Next: `next/headers` is replaced by a cookie store built from
 * Next's own classes (the sealed store of a server component, the writable one of a route
 * handler or server action), so the adapter meets the objects it meets in Next. The flows
 * through a real `next build && next start` are in test/browser/next.test.ts.
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type DevProvider, startDevProvider } from '../../examples/demo/dev-provider.js';
import { cookieHeaderAfter, parseSetCookie } from '../../src/adapters/next-cookies.js';
import type { AuthOptions } from '../../src/index.js';

const require = createRequire(import.meta.url);
const { RequestCookies } = require('next/dist/compiled/@edge-runtime/cookies/index.js');
const { RequestCookiesAdapter, MutableRequestCookiesAdapter } = require('next/dist/server/web/spec-extension/adapters/request-cookies.js');

/** What `cookies()` answers for the current "request"; each test sets it. */
let currentStore: unknown;
vi.mock('next/headers.js', () => ({ cookies: async () => currentStore }));

/** A server component's store: sealed, read-only. */
function serverComponentCookies(header: string) {
  return RequestCookiesAdapter.seal(new RequestCookies(new Headers({ cookie: header })));
}

/** A route handler's or server action's store; `written` collects the Set-Cookie values it would send. */
function routeHandlerCookies(header: string) {
  const written: string[] = [];
  const store = MutableRequestCookiesAdapter.wrap(new RequestCookies(new Headers({ cookie: header })), (cookies: string[]) => {
    written.splice(0, written.length, ...cookies);
  });
  return { store, written };
}

/** A fresh copy of the adapter module, as another Next bundle evaluates it. */
async function loadAdapterAgain() {
  vi.resetModules();
  return import('../../src/adapters/next.js');
}

const SECRET = 'next-adapter-secret-next-adapter-secret';
const QUIET = { warn: () => {}, error: () => {} };
let keys = 0;
/** A key of its own per test: the registry is process-wide, as it must be. */
const freshKey = () => `test-${++keys}`;

describe('oidc-session/next', () => {
  let provider: DevProvider;
  let options: AuthOptions;
  beforeAll(async () => {
    provider = await startDevProvider({
      clients: [{ client_id: 'next-unit', client_secret: 'next-unit-secret', redirect_uris: ['http://127.0.0.1:3999/auth/callback'] }],
    });
    options = {
      baseUrl: 'http://127.0.0.1:3999',
      secret: SECRET,
      providers: { default: { issuer: provider.issuer, clientId: 'next-unit', clientSecret: 'next-unit-secret' } },
      logger: QUIET,
    };
  });
  afterAll(() => provider?.close());
  beforeEach(() => {
    currentStore = undefined;
  });

  describe('one instance per process', () => {
    it('when two bundles evaluate the adapter and call createNextAuth with the same key then they share one Auth', async () => {
      const key = freshKey();
      const first = (await loadAdapterAgain()).createNextAuth(() => options, { key });
      const second = (await loadAdapterAgain()).createNextAuth(() => options, { key });
      expect(await second.instance()).toBe(await first.instance());
    });

    it('when two keys are used then there are two instances', async () => {
      const { createNextAuth } = await loadAdapterAgain();
      const a = createNextAuth(() => options, { key: freshKey() });
      const b = createNextAuth(() => options, { key: freshKey() });
      expect(await a.instance()).not.toBe(await b.instance());
    });

    it('when the options factory fails with something else than a ConfigError then the next request tries again', async () => {
      const { createNextAuth } = await loadAdapterAgain();
      let calls = 0;
      const auth = createNextAuth(
        () => {
          calls++;
          if (calls === 1) throw new Error('redis is not up yet');
          return options;
        },
        { key: freshKey() },
      );
      await expect(auth.instance()).rejects.toThrow('redis is not up yet');
      expect((await auth.instance()).config.baseUrl).toBe('http://127.0.0.1:3999');
      expect(calls).toBe(2);
    });
  });

  describe('configuration read at the first request', () => {
    it('when created without any setting then nothing is read until a request comes, which gets one ConfigError listing every problem', async () => {
      const { createNextAuth } = await loadAdapterAgain();
      let calls = 0;
      const auth = createNextAuth(
        () => {
          calls++;
          return { baseUrl: '', secret: '', providers: {} };
        },
        { key: freshKey() },
      );
      expect(calls).toBe(0);
      const failure = auth.handlers.GET(new Request('http://127.0.0.1:3999/auth/login'));
      await expect(failure).rejects.toMatchObject({ name: 'ConfigError', code: 'CONFIG_INVALID' });
      const problems = ((await failure.catch((error: { problems: string[] }) => error)) as { problems: string[] }).problems;
      expect(problems.map((p) => p.match(/^"(\w+)"/)?.[1])).toEqual(['baseUrl', 'secret', 'providers']);
      // The same error again, without running the factory again.
      await expect(auth.handlers.POST(new Request('http://127.0.0.1:3999/auth/logout', { method: 'POST' }))).rejects.toBe(
        await failure.catch((error: unknown) => error),
      );
      expect(calls).toBe(1);
    });
  });

  describe('route handlers', () => {
    it('when GET /auth/login arrives with a foreign Host then the provider is asked to come back to the configured origin', async () => {
      const { createNextAuth } = await loadAdapterAgain();
      const auth = createNextAuth(options, { key: freshKey() });
      const response = await auth.handlers.GET(new Request('http://evil.example/auth/login?returnTo=/account'));
      expect(response.status).toBe(302);
      const location = new URL(response.headers.get('location')!);
      expect(location.origin).toBe(provider.issuer);
      expect(location.searchParams.get('redirect_uri')).toBe('http://127.0.0.1:3999/auth/callback');
    });

    it('when a path that is not an auth route reaches the handlers then 404', async () => {
      const { createNextAuth } = await loadAdapterAgain();
      const auth = createNextAuth(options, { key: freshKey() });
      expect((await auth.handlers.GET(new Request('http://127.0.0.1:3999/auth/nothing'))).status).toBe(404);
    });
  });

  describe('server components and route handlers', () => {
    it('when a server component reads a dead session cookie then it gets null and writes nothing', async () => {
      const { createNextAuth } = await loadAdapterAgain();
      const auth = createNextAuth(options, { key: freshKey() });
      currentStore = serverComponentCookies('oidc.session=garbage; theme=dark');
      expect(await auth.getSession()).toBeNull();
      expect(await auth.getTokens()).toBeNull();
    });

    it('when a route handler reads a dead session cookie then it gets null and the cookie is deleted', async () => {
      const { createNextAuth } = await loadAdapterAgain();
      const auth = createNextAuth(options, { key: freshKey() });
      const { store, written } = routeHandlerCookies('oidc.session=garbage; theme=dark');
      currentStore = store;
      expect(await auth.getSession()).toBeNull();
      expect(written).toHaveLength(1);
      expect(parseSetCookie(written[0]!)).toMatchObject({ name: 'oidc.session', value: '', maxAge: 0, path: '/', httpOnly: true });
    });

    it('when refresh() is called in a server component then it throws before asking the provider', async () => {
      const { createNextAuth } = await loadAdapterAgain();
      const auth = createNextAuth({ ...options, refresh: {} }, { key: freshKey() });
      currentStore = serverComponentCookies('oidc.session=anything');
      await expect(auth.refresh()).rejects.toThrow(/server component cannot set cookies/);
    });

    it('when a server component asks for the CSRF token then it is the one POST /auth/logout accepts for that cookie', async () => {
      const { createNextAuth } = await loadAdapterAgain();
      const auth = createNextAuth(options, { key: freshKey() });
      currentStore = serverComponentCookies('');
      const token = await auth.csrfToken();
      expect(token).toBe(await (await auth.instance()).csrfToken(''));
      const response = await auth.handlers.GET(new Request('http://127.0.0.1:3999/auth/csrf'));
      expect(await response.json()).toEqual({ csrfToken: token });
    });
  });

  describe('proxy', () => {
    const navigate = { accept: 'text/html', 'sec-fetch-mode': 'navigate' };

    it('when a browser navigates to a protected path without a session then 302 to the login page with returnTo', async () => {
      const { createNextAuth } = await loadAdapterAgain();
      const proxy = createNextAuth(options, { key: freshKey() }).proxy({ protect: ['/account'] });
      const response = await proxy(new Request('http://127.0.0.1:3999/account/settings?tab=2', { headers: navigate }));
      expect(response.status).toBe(302);
      expect(response.headers.get('location')).toBe(
        `http://127.0.0.1:3999/auth/login?returnTo=${encodeURIComponent('/account/settings?tab=2')}`,
      );
    });

    it('when a fetch reaches a protected path without a session then 401 JSON naming the login URL', async () => {
      const { createNextAuth } = await loadAdapterAgain();
      const proxy = createNextAuth(options, { key: freshKey() }).proxy({ protect: ['/account'] });
      const response = await proxy(new Request('http://127.0.0.1:3999/account', { headers: { accept: 'application/json' } }));
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ error: 'unauthorized', login: '/auth/login?returnTo=%2Faccount' });
    });

    it('when a path is not protected then the request goes on, and a dead cookie is deleted for the browser and the render alike', async () => {
      const { createNextAuth } = await loadAdapterAgain();
      const proxy = createNextAuth(options, { key: freshKey() }).proxy({ protect: ['/account'] });
      const response = await proxy(
        new Request('http://127.0.0.1:3999/accounting', { headers: { ...navigate, cookie: 'oidc.session=garbage; theme=dark' } }),
      );
      expect(response.status).toBe(200);
      expect(response.headers.get('x-middleware-next')).toBe('1');
      expect(response.headers.getSetCookie().map((c) => c.split('=')[0])).toEqual(['oidc.session']);
      // What the render after the proxy sees as its Cookie header.
      expect(response.headers.get('x-middleware-request-cookie')).toBe('theme=dark');
    });

    it('when an auth route passes through the proxy then it is left to the route handlers, cookies untouched', async () => {
      const { createNextAuth } = await loadAdapterAgain();
      const proxy = createNextAuth(options, { key: freshKey() }).proxy();
      const response = await proxy(
        new Request('http://127.0.0.1:3999/auth/callback?code=x', { headers: { cookie: 'oidc.session=garbage' } }),
      );
      expect(response.headers.get('x-middleware-next')).toBe('1');
      expect(response.headers.getSetCookie()).toEqual([]);
    });

    it('when protect is not a list of paths then proxy() throws at setup', async () => {
      const { createNextAuth } = await loadAdapterAgain();
      const auth = createNextAuth(options, { key: freshKey() });
      expect(() => auth.proxy({ protect: ['account'] })).toThrow(TypeError);
    });
  });

  describe('cookie plumbing', () => {
    it('when Set-Cookie values replace and delete cookies then the forwarded Cookie header holds what the browser will send', () => {
      const header = cookieHeaderAfter(
        'oidc.session=old; oidc.tokens=stale; theme=dark',
        [
          'oidc.session=new; Path=/; Max-Age=600; HttpOnly; SameSite=Lax',
          'oidc.tokens=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax',
          'oidc.tx=t; Path=/auth; Max-Age=600; HttpOnly; SameSite=Lax',
        ],
        '/account',
      );
      expect(header).toBe('oidc.session=new; theme=dark');
    });
  });
});
