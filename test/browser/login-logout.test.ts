/**
 * Sign-in and the app's own sign-outs in Chromium: the provider's real login, consent and
 * end-session pages, cookies as the browser keeps them, the back button.
 * The app is on 127.0.0.1 and the provider on localhost: two sites.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserStack,
  confirmProviderSignOut,
  finishSignIn,
  launchChromium,
  openDevice,
  recordNavigations,
  requireChromium,
  signIn,
  startBrowserStack,
} from './support.js';

const available = requireChromium();

describe.runIf(available)('in Chromium: sign-in and sign-out', () => {
  let browser: Browser;
  let stack: BrowserStack;
  beforeAll(async () => {
    [browser, stack] = await Promise.all([launchChromium(), startBrowserStack()]);
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('when a person signs in through the provider login and consent pages then the demo page shows the user', async () => {
    const { page, context } = await openDevice(browser);
    await page.goto(`${stack.app.url}/`);
    await page.getByRole('link', { name: 'Sign in with the dev provider' }).click();

    await page.waitForURL((url) => url.origin === stack.provider.issuer && url.pathname.startsWith('/interaction/'));
    await page.getByLabel('Login').fill('alice');
    await page.getByLabel('Password').fill('alice-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Authorize' }).waitFor();
    await page.getByRole('button', { name: 'Continue' }).click();

    await page.waitForURL(`${stack.app.url}/`);
    await page.getByRole('heading', { name: 'Alice Liddell' }).waitFor();
    expect(await page.title()).toBe('Signed in as Alice Liddell · oidc-session demo');
    expect(await page.locator('.facts').innerText()).toContain('cookie mode, memory store');
    // The exposed ID token is shown decoded: its audience is this app's client.
    expect(await page.locator('.card', { hasText: 'Exposed tokens' }).innerText()).toMatch(/aud\s+demo/);

    const cookies = await context.cookies(stack.app.url);
    const session = cookies.find((c) => c.name === 'oidc.session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/', domain: '127.0.0.1' });
    // The login transaction cookie is gone once it has served.
    expect(cookies.map((c) => c.name).filter((n) => !/^oidc\.(session|tokens)/.test(n))).toEqual([]);
  });

  it('when a person signs out here (local) then the app is signed out but the provider still knows them', async () => {
    const { page, context } = await openDevice(browser);
    await signIn(page, stack.app.url);
    await page.getByRole('button', { name: 'Sign out here' }).click();

    await page.waitForURL(`${stack.app.url}/?signedOut=here`);
    await page.getByRole('heading', { name: 'Not signed in' }).waitFor();
    expect(await page.getByRole('status').innerText()).toContain('The provider still remembers you');
    expect((await context.cookies(stack.app.url)).map((c) => c.name)).toEqual([]);
    // The events panel lists it, fed by the library's onLogout hook.
    expect(await page.locator('#logout-events .kind-local').first().innerText()).toContain("Alice Liddell's session");

    const again = await signIn(page, stack.app.url);
    expect(again.askedForPassword).toBe(false);
    await page.getByRole('heading', { name: 'Alice Liddell' }).waitFor();
  });

  it('when a person signs out of the provider too (RP-initiated) then the provider confirms, the app shows the post-logout page and the next sign-in asks for the password', async () => {
    const { page, context } = await openDevice(browser);
    await signIn(page, stack.app.url);
    const visited = recordNavigations(page);
    await page.getByRole('button', { name: 'Sign out of the provider too' }).click();

    await page.waitForURL((url) => url.origin === stack.provider.issuer);
    await page.getByRole('heading', { name: 'Sign out' }).waitFor();
    // The app's cookies are gone before the provider is even asked.
    expect((await context.cookies(stack.app.url)).filter((c) => c.name.startsWith('oidc.session'))).toEqual([]);
    await confirmProviderSignOut(page);

    await page.waitForURL(`${stack.app.url}/?signedOut=provider`);
    expect(await page.getByRole('status').innerText()).toContain('You signed out of this app and of the provider');
    const endSession = visited.find((u) => u.origin === stack.provider.issuer && u.pathname === '/session/end')!;
    const callback = visited.find((u) => u.pathname === '/auth/logout/callback')!;
    expect(endSession.searchParams.get('client_id')).toBe('demo');
    expect(callback.searchParams.get('state')).toBe(endSession.searchParams.get('state'));
    expect(await page.locator('#logout-events .kind-rp-initiated').count()).toBeGreaterThan(0);

    const again = await signIn(page, stack.app.url);
    expect(again.askedForPassword).toBe(true);
  });

  // A real browser is the only place this shows: with `Referrer-Policy: no-referrer` Chromium posts a
  // page's own form with `Origin: null`, which the logout route once refused (403).
  it('when a person signs out from the confirmation page with a returnTo then they land on that page after the provider', async () => {
    const { page } = await openDevice(browser);
    await signIn(page, stack.app.url);
    await page.goto(`${stack.app.url}/auth/logout?${new URLSearchParams({ returnTo: '/private?from=logout' })}`);
    await page.getByRole('heading', { name: 'Sign out?' }).waitFor();
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    // Today: "Sign-out refused" (403) instead of the provider's "Sign out" page.
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Sign out');
    await confirmProviderSignOut(page);

    // /private needs a session again, so the round trip goes on to the provider's login form,
    // and from there back to /private?from=logout.
    const again = await finishSignIn(page);
    expect(again.askedForPassword).toBe(true);
    expect(page.url()).toBe(`${stack.app.url}/private?from=logout`);
    await page.getByRole('heading', { name: 'Private page' }).waitFor();
  });

  it('when the state coming back from the provider is tampered with then the neutral "You are signed out" page follows nothing', async () => {
    const { page } = await openDevice(browser);
    await signIn(page, stack.app.url);
    // The provider's answer to "Yes, sign me out" redirects to our callback: change the state in it.
    const redirects: string[] = [];
    await page.route(`${stack.provider.issuer}/session/end/confirm`, async (route) => {
      const response = await route.fetch({ maxRedirects: 0 });
      const location = new URL(response.headers().location ?? '', stack.provider.issuer);
      redirects.push(`${location.origin}${location.pathname}`);
      location.searchParams.set('state', `${location.searchParams.get('state')}x`);
      await route.fulfill({ response, headers: { ...response.headers(), location: location.href } });
    });
    await page.getByRole('button', { name: 'Sign out of the provider too' }).click();
    await confirmProviderSignOut(page);

    await page.getByRole('heading', { name: 'You are signed out' }).waitFor();
    expect(redirects).toEqual([`${stack.app.url}/auth/logout/callback`]);
    expect(new URL(page.url()).pathname).toBe('/auth/logout/callback');
    await page.getByRole('link', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Not signed in' }).waitFor();
    expect(new URL(page.url()).search).toBe('');
  });

  it('when a person presses back after signing in then every page still answers and the app page is fresh, not a cached signed-out copy', async () => {
    const { page, errorPages } = await openDevice(browser);
    await signIn(page, stack.app.url);
    const visited = recordNavigations(page);
    // Back through the provider's consent and login pages to the app's page from before the sign-in.
    const titles = await backToAppHome(page, stack.app.url);
    expect(titles.slice(0, -1)).toEqual(['Sign-in finished · dev provider', 'Sign-in finished · dev provider']);
    // The page from before the sign-in is asked for again (no-store): it shows the session.
    expect(titles.at(-1)).toBe('Signed in as Alice Liddell · oidc-session demo');
    expect(visited.filter((u) => u.pathname === '/auth/callback')).toEqual([]);
    await page.goForward();
    await page.goForward();
    await page.goForward();
    await page.getByRole('heading', { name: 'Alice Liddell' }).waitFor();
    expect(errorPages).toEqual([]);
  });

  it('when a person presses back after signing out of the provider too then the provider passes them on to the neutral page and the app page before shows nobody', async () => {
    const { page, context, errorPages } = await openDevice(browser);
    await signIn(page, stack.app.url);
    await page.getByRole('button', { name: 'Sign out of the provider too' }).click();
    await confirmProviderSignOut(page);
    await page.waitForURL(`${stack.app.url}/?signedOut=provider`);

    const titles = await backToAppHome(page, stack.app.url);
    // The provider's end-session page, with no session left to confirm, carries on to our callback
    // by itself; its state was used up, so the callback shows the neutral page. Chromium skips that
    // self-submitting entry on the next back, to the app page that showed Alice: asked for again, it shows nobody.
    expect(titles).toEqual(['You are signed out', 'Not signed in · oidc-session demo']);
    expect(await page.getByRole('heading', { name: 'Alice Liddell' }).count()).toBe(0);
    expect((await context.cookies(stack.app.url)).filter((c) => c.name.startsWith('oidc.session'))).toEqual([]);
    expect(errorPages).toEqual([]);
  });

  it('when a person presses back after signing out here then the signed-in page does not come back', async () => {
    const { page, errorPages } = await openDevice(browser);
    await signIn(page, stack.app.url);
    await page.getByRole('button', { name: 'Sign out here' }).click();
    await page.waitForURL(`${stack.app.url}/?signedOut=here`);
    expect(await backToAppHome(page, stack.app.url)).toEqual(['Not signed in · oidc-session demo']);
    expect(errorPages).toEqual([]);
  });
});

/** Presses back until the app's home page shows; returns the title of every page on the way. */
async function backToAppHome(page: Page, appUrl: string): Promise<string[]> {
  const titles: string[] = [];
  do {
    await page.goBack();
    titles.push(await page.title());
    if (titles.length > 5) throw new Error(`back never reached ${appUrl}/: ${titles.join(' | ')}`);
  } while (page.url() !== `${appUrl}/`);
  return titles;
}
