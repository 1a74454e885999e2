/**
 * The core browser flows again in server mode, on Redis: the cookie holds only a session id, and
 * every kind of sign-out deletes the stored session at once (no cookie left to carry a session).
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisStore } from '../../src/stores/redis.js';
import { probeRedis, redisUrl, requireService } from '../support/services.js';
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

const available = requireChromium() && (await requireService('redis', () => probeRedis()));

describe.runIf(available)('in Chromium: server-mode sessions on Redis', () => {
  const prefix = `browser-${randomUUID()}:`;
  let redis: Redis;
  let browser: Browser;
  let stack: BrowserStack;
  beforeAll(async () => {
    redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    [browser, stack] = await Promise.all([
      launchChromium(),
      startBrowserStack({ mode: 'server', auth: { store: redisStore(redis, { prefix }) }, storeName: 'redis' }),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.quit();
  });

  /** The Redis keys of this run that hold a session (the store's own layout is not this test's business). */
  const storedSessions = async () => (await redis.keys(`${prefix}*`)).length;

  /** The session cookies Chromium keeps for the app. */
  const sessionCookies = async (device: Device) => (await device.context.cookies(stack.app.url)).filter((c) => c.name.startsWith('oidc.'));

  it('when a person signs in then the page says server mode on Redis and the browser holds only a small session id', async () => {
    const device = await openDevice(browser);
    const before = await storedSessions();
    await signIn(device.page, stack.app.url);
    expect(await device.page.locator('.facts').innerText()).toContain('server mode, redis store');
    const cookies = await sessionCookies(device);
    expect(cookies.map((c) => c.name)).toEqual(['oidc.session']);
    expect(cookies[0]!.value.length).toBeLessThan(200);
    expect(await storedSessions()).toBeGreaterThan(before);
  });

  it('when a person signs out here then the cookie goes and the page stays signed out after a reload', async () => {
    const device = await openDevice(browser);
    await signIn(device.page, stack.app.url);
    await device.page.getByRole('button', { name: 'Sign out here' }).click();
    await device.page.waitForURL(`${stack.app.url}/?signedOut=here`);
    expect(await sessionCookies(device)).toEqual([]);
    await device.page.locator('#logout-events .kind-local').first().waitFor();
    await device.page.reload();
    await device.page.getByRole('heading', { name: 'Not signed in' }).waitFor();
  });

  it('when a person signs out of the provider too then the provider confirms and the next sign-in asks for the password', async () => {
    const device = await openDevice(browser);
    await signIn(device.page, stack.app.url);
    await device.page.getByRole('button', { name: 'Sign out of the provider too' }).click();
    await confirmProviderSignOut(device.page);
    await device.page.waitForURL(`${stack.app.url}/?signedOut=provider`);
    expect(await sessionCookies(device)).toEqual([]);
    expect((await signIn(device.page, stack.app.url)).askedForPassword).toBe(true);
  });

  it('when the person signs out at the provider itself then the back-channel logout deletes the stored session at once', async () => {
    const device = await openDevice(browser);
    await signIn(device.page, stack.app.url);
    const cookie = (await sessionCookies(device))[0]!;
    const before = stack.app.events.entries().length;
    const providerTab = await device.context.newPage();
    await providerTab.goto(`${stack.provider.issuer}/session/end`);
    await confirmProviderSignOut(providerTab);
    await waitForEvent(stack.app.events, (e) => e.source === 'notice' && e.kind === 'back-channel');
    // Server mode: the provider's call itself deleted the session, before this browser asks again.
    const added = stack.app.events.entries().slice(0, stack.app.events.entries().length - before);
    expect(added.find((e) => e.source === 'notice')!.what).toMatch(/1 stored session ended\.$/);
    expect(added.filter((e) => e.source === 'session' && e.kind === 'back-channel')).toHaveLength(1);
    expect((await stack.app.auth.readSession(`${cookie.name}=${cookie.value}`)).session).toBeNull();
    await device.page.getByText('This session has ended (a logout arrived).').waitFor();
  });

  it('when a person signs out everywhere then the other device ends at once and the panel says Everywhere for both sessions', async () => {
    const device1 = await openDevice(browser, 'device-1');
    const device2 = await openDevice(browser, 'device-2');
    await signIn(device1.page, stack.app.url);
    await signIn(device2.page, stack.app.url);
    const before = stack.app.events.entries().length;
    await device1.page.getByRole('button', { name: 'Sign out everywhere' }).click();
    // At the provider's "Sign out?" page the app's part is done, and no request from device 2
    // was needed: its stored session is gone already. (The provider's back-channel call follows.)
    await device1.page.getByRole('heading', { name: 'Sign out' }).waitFor();
    // Oldest first: the session that asked, then every other of Alice's (device 2's, and those
    // earlier tests left signed in), each said to be what it was.
    const added = stack.app.events
      .entries()
      .slice(0, stack.app.events.entries().length - before)
      .reverse();
    expect(added.length).toBeGreaterThanOrEqual(2);
    expect(added.every((e) => e.kind === 'everywhere' && e.source === 'session')).toBe(true);
    expect(added[0]!.what).toMatch(/ended here: the user signed out everywhere; .* then the browser went to the provider\.$/);
    for (const other of added.slice(1)) expect(other.what).toMatch(/signed out everywhere from another device\.$/);
    await device2.page.getByText('This session has ended (a logout arrived).').waitFor();
    await confirmProviderSignOut(device1.page);
    await device1.page.waitForURL(`${stack.app.url}/?signedOut=everywhere`);
    // The panel draws the entries as the log has them.
    expect(await device1.page.locator('#logout-events .kind-everywhere', { hasText: 'ended here' }).count()).toBe(1);
  });
});
