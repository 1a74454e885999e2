/**
 * The Next.js example (examples/next) in Chromium, against `next build && next start`: one
 * build, then one `next start` per configuration — cookie mode on the memory store, the same
 * with automatic refresh, server mode on Redis — configured only by environment variables.
 */
import { Redis } from 'ioredis';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevProvider } from '../../examples/demo/dev-provider.js';
import {
  buildExample,
  countRefreshes,
  exampleClient,
  freePort,
  frontchannelPageUrl,
  type NextApp,
  removeExample,
  startExample,
  startProvider,
} from './next-support.js';
import { confirmProviderSignOut, type Device, finishSignIn, launchChromium, openDevice, requireChromium, signIn } from './support.js';

const available = requireChromium();
const REDIS_URL = 'redis://127.0.0.1:6379';

async function me(device: Device, app: NextApp): Promise<{ status: number; sid?: string; sub?: string }> {
  const response = await device.context.request.get(`${app.url}/api/me`, { headers: { accept: 'application/json' } });
  const body = (await response.json()) as { user: { sid?: string; sub?: string } | null };
  return { status: response.status(), ...(body.user ? { sid: body.user.sid, sub: body.user.sub } : {}) };
}

/** What the server component of /session (no proxy in front of it) renders. */
async function serverComponentView(page: Page, app: NextApp): Promise<string> {
  await page.goto(`${app.url}/session`);
  return page.getByRole('heading', { level: 1 }).innerText();
}

/** Signs out at the provider's own end-session page (no app involved): a provider-initiated logout. */
async function signOutAtProvider(page: Page, provider: DevProvider): Promise<void> {
  await page.goto(`${provider.issuer}/session/end`);
  await confirmProviderSignOut(page);
}

/** From a signed-out page: the login route with returnTo, then the provider's pages, until back at returnTo. */
async function signInTo(page: Page, app: NextApp, returnTo: string): Promise<void> {
  await page.goto(`${app.url}/auth/login?${new URLSearchParams({ returnTo })}`);
  await page.getByLabel('Login').fill('alice');
  await page.getByLabel('Password').fill('alice-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const consent = page.getByRole('button', { name: 'Continue' });
  const arrived = page.waitForURL(`${app.url}${returnTo}`).then(() => true);
  for (let step = 0; step < 3; step++) {
    if (
      await Promise.race([
        arrived,
        consent.waitFor().then(
          () => false,
          () => false,
        ),
      ])
    )
      return;
    await consent.click();
    await consent.waitFor({ state: 'detached' });
  }
  await arrived;
}

/** The value of the tokens cookie the browser holds for the app. */
async function tokensCookie(context: BrowserContext, app: NextApp): Promise<string | undefined> {
  return (await context.cookies(app.url)).find((c) => c.name === 'oidc.tokens')?.value;
}

/** The tokens cookie that the login callback set, once the page has passed it. */
function tokensSetAtCallback(page: Page): () => string | undefined {
  let value: string | undefined;
  page.on('response', async (response) => {
    if (new URL(response.url()).pathname !== '/auth/callback') return;
    const line = (await response.headerValues('set-cookie')).find((c) => c.startsWith('oidc.tokens='));
    value = line?.slice('oidc.tokens='.length).split(';')[0];
  });
  return () => value;
}

async function waitForPanelEntry(page: Page, kind: string): Promise<void> {
  await page.locator(`#logout-events .kind-${kind}`).first().waitFor();
}

describe.runIf(available)('in Chromium: the Next.js example (next build && next start)', () => {
  let browser: Browser;
  let provider: DevProvider;
  let cookieApp: NextApp;
  let refreshApp: NextApp;
  let serverApp: NextApp;
  const apps: NextApp[] = [];
  let exampleDir: string;

  beforeAll(async () => {
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true });
    // Server mode needs Redis: fail here, with a clear message, rather than in a page.
    await redis.connect().finally(() => redis.disconnect());
    const ports = { cookie: await freePort(), refresh: await freePort(), server: await freePort() };
    [browser, provider, exampleDir] = await Promise.all([
      launchChromium(),
      startProvider([
        exampleClient('next-cookie', ports.cookie),
        exampleClient('next-refresh', ports.refresh),
        exampleClient('next-server', ports.server),
      ]),
      buildExample(),
    ]);
    [cookieApp, refreshApp, serverApp] = await Promise.all([
      startExample(exampleDir, provider, ports.cookie, 'next-cookie'),
      // The provider's access tokens live an hour: a two-hour window makes every read due.
      startExample(exampleDir, provider, ports.refresh, 'next-refresh', { REFRESH_AUTOMATIC: '7200' }),
      startExample(exampleDir, provider, ports.server, 'next-server', { SESSION_MODE: 'server', SESSION_STORE: REDIS_URL }),
    ]);
    apps.push(cookieApp, refreshApp, serverApp);
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await Promise.all(apps.map((app) => app.close()));
    await provider?.close();
    removeExample(exampleDir);
  });

  describe('cookie mode, memory store', () => {
    it('when a person signs in then the server components show them and /api/me answers their claims', async () => {
      const device = await openDevice(browser);
      const anonymous = await device.context.request.get(`${cookieApp.url}/api/me`);
      expect(anonymous.status()).toBe(401);
      expect(await anonymous.json()).toEqual({ user: null });

      expect((await signIn(device.page, cookieApp.url)).askedForPassword).toBe(true);
      await device.page.getByRole('heading', { name: 'Alice Liddell' }).waitFor();
      expect(await device.page.locator('header.top').innerText()).toContain('cookie sessions · memory store');
      expect(await serverComponentView(device.page, cookieApp)).toBe('Alice Liddell');
      expect(await me(device, cookieApp)).toMatchObject({ status: 200, sub: 'alice' });
    });

    it('when a signed-out browser opens the private page then the proxy sends it to sign in and back, and a fetch gets 401 JSON', async () => {
      const device = await openDevice(browser);
      const fetched = await device.context.request.get(`${cookieApp.url}/private`, { headers: { accept: 'application/json' } });
      expect(fetched.status()).toBe(401);
      expect(await fetched.json()).toEqual({ error: 'unauthorized', login: '/auth/login?returnTo=%2Fprivate' });

      await device.page.goto(`${cookieApp.url}/private`);
      expect(new URL(device.page.url()).origin).toBe(provider.issuer);
      await finishSignIn(device.page);
      await device.page.getByText('Only signed-in users see this, Alice Liddell.').waitFor();
      expect(device.page.url()).toBe(`${cookieApp.url}/private`);
    });

    it('when a person signs out here then this app forgets them, the provider does not, and the panel shows a local logout', async () => {
      const { page } = await openDevice(browser);
      await signIn(page, cookieApp.url);
      await page.getByRole('button', { name: 'Sign out here' }).click();
      await page.waitForURL(`${cookieApp.url}/?signedOut=here`);
      expect(await page.getByRole('status').innerText()).toContain('You signed out of this app.');
      await waitForPanelEntry(page, 'local');
      expect(await serverComponentView(page, cookieApp)).toBe('No session');
      expect((await signIn(page, cookieApp.url)).askedForPassword).toBe(false);
    });

    it('when a person signs out of the provider too then both sessions end and signing in asks for the password again', async () => {
      const { page } = await openDevice(browser);
      await signIn(page, cookieApp.url);
      await page.getByRole('button', { name: 'Sign out of the provider too' }).click();
      await confirmProviderSignOut(page);
      await page.waitForURL(`${cookieApp.url}/?signedOut=provider`);
      await waitForPanelEntry(page, 'rp-initiated');
      expect((await signIn(page, cookieApp.url)).askedForPassword).toBe(true);
    });

    it('when a person signs out everywhere on one device then the other device is signed out at its next render', async () => {
      const device1 = await openDevice(browser, 'device-1');
      const device2 = await openDevice(browser, 'device-2');
      await signIn(device1.page, cookieApp.url);
      await signIn(device2.page, cookieApp.url);
      await device1.page.getByRole('button', { name: 'Sign out everywhere' }).click();
      await confirmProviderSignOut(device1.page);
      await device1.page.waitForURL(`${cookieApp.url}/?signedOut=everywhere`);
      // Device 2's open page hears of it live and says its session has ended.
      await device2.page.getByText('This session has ended (a logout arrived).').waitFor();
      expect(await serverComponentView(device2.page, cookieApp)).toBe('No session');
      await device2.page.goto(`${cookieApp.url}/`);
      await device2.page.getByRole('heading', { name: 'Not signed in' }).waitFor();
    });

    // The route handler that receives the logout token, the server components and the proxy
    // are evaluated by different bundles of the app (the proxy at least, in Next 16): they see
    // one store only because the adapter keeps one instance per process. /session is a server
    // component with no proxy in front of it; /private is guarded by the proxy.
    it('when the provider ends the session by back-channel then the next server component render and the proxy no longer see the user', async () => {
      const { page } = await openDevice(browser);
      const observer = await openDevice(browser, 'observer');
      await signIn(page, cookieApp.url);
      expect(await serverComponentView(page, cookieApp)).toBe('Alice Liddell');
      await observer.page.goto(`${cookieApp.url}/`);
      await signOutAtProvider(await page.context().newPage(), provider);
      // Another browser's live panel says when the logout token has been applied.
      await waitForPanelEntry(observer.page, 'back-channel');
      expect(await serverComponentView(page, cookieApp)).toBe('No session');
      await page.goto(`${cookieApp.url}/private`);
      expect(new URL(page.url()).origin).toBe(provider.issuer);
    });

    it('when the provider frames the front-channel logout URL then the session ends, without a cookie in the frame', async () => {
      const device = await openDevice(browser);
      await signIn(device.page, cookieApp.url);
      const { sid } = await me(device, cookieApp);
      expect(sid).toEqual(expect.any(String));
      const providerTab = await device.context.newPage();
      await providerTab.goto(frontchannelPageUrl(provider, cookieApp, sid!));
      await providerTab
        .frameLocator('iframe')
        .getByText(/signed out/i)
        .first()
        .waitFor();
      expect(await serverComponentView(device.page, cookieApp)).toBe('No session');
      await device.page.goto(`${cookieApp.url}/`);
      await device.page.getByRole('heading', { name: 'Not signed in' }).waitFor();
      await waitForPanelEntry(device.page, 'front-channel');
    });
  });

  describe('automatic refresh', () => {
    // The provider's access tokens live an hour and REFRESH_AUTOMATIC is two: every read finds
    // them due. The core reuses a refresh for a minute, so each test starts a session of its own.
    it('when tokens are due then a server component alone refreshes nothing, and the proxy refreshes before the render that shows the new token', async () => {
      const refreshes = countRefreshes(provider);
      try {
        const { page, context } = await openDevice(browser);
        const fromCallback = tokensSetAtCallback(page);
        await signInTo(page, refreshApp, '/session');
        expect(refreshes.count()).toBe(0);
        expect(await tokensCookie(context, refreshApp)).toBe(fromCallback());
        const shownAlone = await page.locator('#access-token').innerText();

        await page.goto(`${refreshApp.url}/`);
        await page.getByRole('heading', { name: 'Alice Liddell' }).waitFor();
        expect(refreshes.count()).toBe(1);
        expect(await tokensCookie(context, refreshApp)).not.toBe(fromCallback());
        const shownByHome = await page.locator('.token code').nth(1).innerText();
        expect(shownAlone.startsWith(shownByHome.replace(/…$/, ''))).toBe(false);
        // The render behind the proxy showed the token the browser now holds.
        await serverComponentView(page, refreshApp);
        expect((await page.locator('#access-token').innerText()).startsWith(shownByHome.replace(/…$/, ''))).toBe(true);
      } finally {
        refreshes.stop();
      }
    });

    it('when tokens are due then a route handler refreshes them and its new cookie reaches the browser', async () => {
      const refreshes = countRefreshes(provider);
      try {
        const { page, context } = await openDevice(browser);
        const fromCallback = tokensSetAtCallback(page);
        await signInTo(page, refreshApp, '/api/me');
        expect(refreshes.count()).toBe(1);
        expect(await tokensCookie(context, refreshApp)).not.toBe(fromCallback());
      } finally {
        refreshes.stop();
      }
    });
  });

  describe('server mode, Redis store', () => {
    it('when a person signs in, the provider ends the session by back-channel, then the server component sees no session', async () => {
      const device = await openDevice(browser);
      await signIn(device.page, serverApp.url);
      expect(await device.page.locator('header.top').innerText()).toContain('server sessions · redis store');
      // Server mode: the cookie is an opaque id, not a sealed session.
      const session = (await device.context.cookies(serverApp.url)).find((c) => c.name === 'oidc.session');
      expect(session?.value.split('.')).toHaveLength(1);
      expect(await serverComponentView(device.page, serverApp)).toBe('Alice Liddell');

      const observer = await openDevice(browser, 'observer');
      await observer.page.goto(`${serverApp.url}/`);
      await signOutAtProvider(await device.context.newPage(), provider);
      await waitForPanelEntry(observer.page, 'back-channel');
      expect(await observer.page.locator('#logout-events .kind-back-channel').first().innerText()).toContain('1 stored session ended');
      expect(await serverComponentView(device.page, serverApp)).toBe('No session');
    });

    it('when a person signs out here then the stored session ends', async () => {
      const device = await openDevice(browser);
      await signIn(device.page, serverApp.url);
      await device.page.getByRole('button', { name: 'Sign out here' }).click();
      await device.page.waitForURL(`${serverApp.url}/?signedOut=here`);
      expect((await me(device, serverApp)).status).toBe(401);
    });
  });
});
