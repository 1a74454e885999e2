/**
 * Sessions in Chromium: cookies split into chunks that the browser stores and sends back, and
 * the token lifecycle — "sign out everywhere" across devices, automatic refresh re-sealing the
 * cookies, revocation only after the provider round trip.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import {
  type BrowserStack,
  confirmProviderSignOut,
  launchChromium,
  openDevice,
  requireChromium,
  signIn,
  startBrowserStack,
  waitForEvent,
} from './support.js';

const available = requireChromium();

// About 3,000 bytes: the session cookie (and the ID token in the tokens cookie) pass 4,096
// bytes and need chunks, while all cookies together stay under the 14 KiB cookie mode accepts.
const MOTTO = 'Curiouser and curiouser! '.repeat(120).trim();

describe.runIf(available)('in Chromium: sessions and tokens', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  describe('cookies', () => {
    let stack: BrowserStack;
    beforeAll(async () => {
      stack = await startBrowserStack({ aliceClaims: { motto: MOTTO } });
    });
    afterAll(() => stack?.close());

    it('when the claims are large then the browser stores the session in chunk cookies and the page shows the claim', async () => {
      const { page, context } = await openDevice(browser);
      await signIn(page, stack.app.url);

      const names = (await context.cookies(stack.app.url)).map((c) => c.name).sort();
      expect(names).toEqual(expect.arrayContaining(['oidc.session.0', 'oidc.session.1']));
      expect(names).not.toContain('oidc.session');
      // In the claims, and again in the decoded ID token.
      const motto = page.getByRole('cell', { name: MOTTO, exact: true });
      await motto.first().waitFor();
      expect(await motto.count()).toBe(2);
      // The chunks come back on the next request and read as one session.
      await page.reload();
      await page.getByRole('heading', { name: 'Alice Liddell' }).waitFor();
      expect(await motto.count()).toBe(2);
    });
  });

  describe('token lifecycle: sign out everywhere, refresh, revocation', () => {
    let stack: BrowserStack;
    beforeAll(async () => {
      stack = await startBrowserStack({
        // The provider's access tokens live an hour: a two-hour window makes every request refresh.
        auth: { refresh: { automatic: 7200 }, revokeOnLogout: true },
        provider: { scopes: ['openid', 'profile', 'email', 'offline_access'], authorizationParams: { prompt: 'consent' } },
      });
    });
    afterAll(() => stack?.close());

    it('when a person signs out everywhere on one device then the provider confirms and the other device is signed out at its next request', async () => {
      const device1 = await openDevice(browser, 'device-1');
      const device2 = await openDevice(browser, 'device-2');
      await signIn(device1.page, stack.app.url);
      await signIn(device2.page, stack.app.url);

      await device1.page.getByRole('button', { name: 'Sign out everywhere' }).click();
      await device1.page.getByRole('heading', { name: 'Sign out' }).waitFor();
      await confirmProviderSignOut(device1.page);
      await device1.page.waitForURL(`${stack.app.url}/?signedOut=everywhere`);
      expect(await device1.page.getByRole('status').innerText()).toContain('You signed out of this app on every device');
      // The session that asked is logged as what it was: "everywhere", not the RP-initiated transport it used.
      expect(stack.app.events.entries().filter((e) => e.kind === 'rp-initiated')).toEqual([]);
      expect(stack.app.events.entries().filter((e) => e.kind === 'everywhere' && e.what.includes('ended here'))).toHaveLength(1);

      // Device 2 had its own provider session: only the app's "everywhere" ends it. Its open
      // page hears of device 1's sign-out live, asks, and says its session has ended.
      await device2.page.getByText('This session has ended (a logout arrived).').waitFor();
      await waitForEvent(stack.app.events, (e) => e.kind === 'everywhere');
      await device2.page.reload();
      await device2.page.getByRole('heading', { name: 'Not signed in' }).waitFor();
      // Signing in again there is a new session, after the sign-out: it lives.
      await signIn(device2.page, stack.app.url);
      await device2.page.reload();
      await device2.page.getByRole('heading', { name: 'Alice Liddell' }).waitFor();
    });

    it('when the access token is due then the landing page refreshes it and the browser keeps the re-sealed session', async () => {
      let refreshes = 0;
      const countRefresh = (ctx: unknown) => {
        if ((ctx as { oidc: { params: { grant_type?: string } } }).oidc.params.grant_type === 'refresh_token') refreshes++;
      };
      stack.provider.provider.on('grant.success', countRefresh);
      onTestFinished(() => void stack.provider.provider.off('grant.success', countRefresh));
      const { page, context } = await openDevice(browser);
      const setAtCallback: string[] = [];
      page.on('response', async (response) => {
        if (new URL(response.url()).pathname === '/auth/callback') setAtCallback.push(...(await response.headerValues('set-cookie')));
      });

      await signIn(page, stack.app.url);
      expect(refreshes).toBe(1);
      const tokensCookie = (cookies: Array<{ name: string; value: string }>) =>
        cookies
          .filter((c) => c.name.startsWith('oidc.tokens'))
          .map((c) => `${c.name}=${c.value}`)
          .join('; ');
      const fromCallback = tokensCookie(
        setAtCallback.map((c) => ({ name: c.split('=')[0]!, value: c.slice(c.indexOf('=') + 1).split(';')[0]! })),
      );
      expect(fromCallback).not.toBe('');
      // The landing request refreshed the tokens and re-sealed their cookie: the browser holds the new one.
      expect(tokensCookie(await context.cookies(stack.app.url))).not.toBe(fromCallback);

      const facts = await page.locator('.facts').innerText();
      await page.reload();
      await page.getByRole('heading', { name: 'Alice Liddell' }).waitFor();
      // Same session: began at the same time, same provider session id.
      expect(await page.locator('.facts').innerText()).toBe(facts);
    });

    it('when the app revokes its tokens at logout then the revocation reaches the provider only after the person confirmed there', async () => {
      const { page } = await openDevice(browser);
      await signIn(page, stack.app.url);
      const from = stack.providerRequests.length;
      await page.getByRole('button', { name: 'Sign out of the provider too' }).click();
      await confirmProviderSignOut(page);
      await page.waitForURL(`${stack.app.url}/?signedOut=provider`);

      // Revocation runs at our callback, bounded by its timeout: wait for it to reach the provider.
      for (let i = 0; i < 100 && !stack.providerRequests.slice(from).includes('POST /token/revocation'); i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const seen = stack.providerRequests.slice(from).filter((r) => /\/session\/end|\/token\/revocation/.test(r));
      expect(seen).toEqual(['GET /session/end', 'POST /session/end/confirm', 'POST /token/revocation']);
    });
  });
});
