/**
 * OP-initiated logout in Chromium: the provider ends sessions it shares with the demo app,
 * by back-channel (its own POST with a logout token) and by front-channel (an iframe on the
 * provider's site, where the app's SameSite=Lax cookie is not sent).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import {
  type BrowserStack,
  confirmProviderSignOut,
  type Device,
  launchChromium,
  openDevice,
  requireChromium,
  signIn,
  startBrowserStack,
  waitForEvent,
} from './support.js';

const available = requireChromium();

/** The provider's session id behind the device's demo session, as /api/me shows it. */
async function sidOf(device: Device, appUrl: string): Promise<string> {
  const response = await device.context.request.get(`${appUrl}/api/me`);
  const body = (await response.json()) as { user: { sid?: string } };
  if (!body.user.sid) throw new Error('the session has no sid');
  return body.user.sid;
}

describe.runIf(available)('in Chromium: logout started by the provider', () => {
  let browser: Browser;
  let stack: BrowserStack;
  beforeAll(async () => {
    [browser, stack] = await Promise.all([launchChromium(), startBrowserStack({ otherApp: true })]);
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  // Each browser context is its own provider session (its own sid). Signing out of the second
  // app ends the provider session of device 1, which the demo shares there: the provider sends
  // the demo a logout token for that sid. Device 2 is another provider session and stays.
  it('when a person signs out of another app of the same provider then the demo session in that browser ends by back-channel and another device stays signed in', async () => {
    const device1 = await openDevice(browser, 'device-1');
    const device2 = await openDevice(browser, 'device-2');
    const other = stack.other!;
    expect((await signIn(device1.page, stack.app.url)).askedForPassword).toBe(true);
    expect((await signIn(device2.page, stack.app.url)).askedForPassword).toBe(true);
    // In a second tab of device 1, the provider session signs the person in to the other app: consent only.
    const otherTab = await device1.context.newPage();
    expect(await signIn(otherTab, other.url)).toEqual({ askedForPassword: false, askedForConsent: true });
    const [sid1, sid2] = [await sidOf(device1, stack.app.url), await sidOf(device2, stack.app.url)];
    expect(sid1).not.toBe(sid2);

    await otherTab.getByRole('button', { name: 'Sign out of the provider too' }).click();
    await confirmProviderSignOut(otherTab);
    await otherTab.waitForURL(`${other.url}/?signedOut=provider`);
    await waitForEvent(stack.app.events, (e) => e.source === 'notice' && e.kind === 'back-channel');
    expect(stack.app.events.entries().find((e) => e.source === 'notice')!.what).toBe(
      `Logout token from default for sid ${sid1.slice(0, 8)}…, sub alice. Tombstone written; matching cookies end at their next request.`,
    );

    // Both demo pages hear of it live; the one whose session ended says so, the other does not.
    await device1.page.getByText('This session has ended (a logout arrived).').waitFor();
    await device2.page.locator('#logout-events .kind-back-channel').first().waitFor();
    expect(await device2.page.locator('#session-ended').isVisible()).toBe(false);

    await device1.page.reload();
    await device1.page.getByRole('heading', { name: 'Not signed in' }).waitFor();
    expect((await device1.context.cookies(stack.app.url)).filter((c) => c.name.startsWith('oidc.session'))).toEqual([]);
    await device2.page.reload();
    await device2.page.getByRole('heading', { name: 'Alice Liddell' }).waitFor();
    expect(await sidOf(device2, stack.app.url)).toBe(sid2);
    // Cookie mode: the session itself ended when device 1's cookie came back, and the app said so.
    expect(stack.app.events.entries().filter((e) => e.source === 'session' && e.kind === 'back-channel')).toHaveLength(1);
  });

  it('when a provider page frames the front-channel logout URL then the iframe shows and the app session is gone at the next request', async () => {
    const device = await openDevice(browser);
    const { page, context } = device;
    await signIn(page, stack.app.url);
    const sid = await sidOf(device, stack.app.url);

    const providerTab = await context.newPage();
    const framed = providerTab.waitForRequest((r) => new URL(r.url()).pathname === '/auth/frontchannel-logout/default');
    await providerTab.goto(stack.frontchannelPageUrl(sid));
    // A cross-site frame: Chromium withholds the SameSite=Lax session cookie, so only iss + sid can end the session.
    expect((await (await framed).allHeaders()).cookie).toBeUndefined();
    // frame-ancestors names the provider's origin: Chromium renders the app's page inside it.
    const frame = providerTab.frame({ url: (url) => url.pathname === '/auth/frontchannel-logout/default' });
    expect(frame).not.toBeNull();
    await frame!.getByText('This application has ended your session.').waitFor();
    await waitForEvent(stack.app.events, (e) => e.source === 'notice' && e.kind === 'front-channel');

    // The open demo tab hears of it live; its next request finds the session gone.
    await page.getByText('This session has ended (a logout arrived).').waitFor();
    await page.reload();
    await page.getByRole('heading', { name: 'Not signed in' }).waitFor();
  });

  it('when a page of another site frames the front-channel logout URL then Chromium refuses to show it', async () => {
    const { page } = await openDevice(browser);
    // Another origin than the provider's, served for real: Chromium's local-network checks refuse
    // a loopback frame inside a page that did not come from a loopback address.
    const foreign = await serveHtml(`<!doctype html><iframe src="${stack.app.url}/auth/frontchannel-logout/default"></iframe>`);
    onTestFinished(() => foreign.close());
    const messages: string[] = [];
    page.on('console', (message) => messages.push(message.text()));
    const framed = page.waitForRequest(`${stack.app.url}/auth/frontchannel-logout/default`);
    await page.goto(foreign.url);
    const request = await framed;
    // The app answered 200, but frame-ancestors names only the provider: Chromium shows an error page instead.
    expect((await request.response())?.status()).toBe(200);
    await page.waitForLoadState('load');
    const frame = page.frames().find((f) => f !== page.mainFrame())!;
    // On a busy machine Chromium may swap in its error page (and log why) a moment after 'load'.
    await expect.poll(() => frame.url(), { timeout: 10_000 }).toBe('chrome-error://chromewebdata/');
    await expect
      .poll(
        () =>
          messages.some((m) =>
            m.includes(`violates the following Content Security Policy directive: "frame-ancestors ${stack.provider.issuer}"`),
          ),
        { timeout: 10_000 },
      )
      .toBe(true);
    expect(await frame.getByText('This application has ended your session.').count()).toBe(0);
  });
});

/** A page on `http://localhost:PORT/`: another origin than both the app and the provider. */
async function serveHtml(html: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://localhost:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
