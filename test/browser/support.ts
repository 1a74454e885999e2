/**
 * The browser suite's stack: the real development provider (`oidc-provider`) on
 * `http://localhost:PORT` and the demo app on `http://127.0.0.1:PORT` — two different sites, so
 * Chromium applies its real SameSite and frame rules between them — plus Chromium itself,
 * driven by `playwright-core` like a person: fill, click, go back.
 */
import { accessSync, constants, mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { onTestFinished } from 'vitest';
import { createDemoApp, createLogoutLog, type LogoutLog } from '../../examples/demo/app.js';
import { type DevClient, type DevProvider, startDevProvider } from '../../examples/demo/dev-provider.js';
import { type Auth, type AuthOptions, createAuth, type ProviderOptions } from '../../src/index.js';

/** Debian's package (`apt-get install -y chromium`); CHROMIUM_PATH points elsewhere, e.g. Ubuntu's chromium-browser. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SECRET = 'browser-secret-browser-secret-browser-secret';
const SCREENSHOTS = 'test-results/browser';

export const ALICE = { login: 'alice', password: 'alice-password' } as const;

/**
 * True when Chromium is installed. Outside CI a missing browser skips the file with one loud
 * line saying how to get it; under CI=true it throws, so the suite fails instead of passing
 * silently (docs/architecture.md, "Tests").
 */
export function requireChromium(): boolean {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
    return true;
  } catch {
    const how = 'Install it with: apt-get install -y chromium';
    if (process.env.CI === 'true') {
      throw new Error(`Chromium is missing at ${CHROMIUM_PATH}; CI=true, so the browser suite fails instead of skipping. ${how}`);
    }
    console.warn(`⚠️  SKIPPING the browser tests: Chromium is missing at ${CHROMIUM_PATH}. ${how}`);
    return false;
  }
}

/** One browser per test file; each test opens its own contexts ("devices") with `openDevice`. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_FLAGS });
}

export interface Device {
  context: BrowserContext;
  page: Page;
  /** Status and URL of every top-level document this device loaded with an error status. */
  errorPages: string[];
}

/**
 * A fresh browser context — its own cookies, as another device would have — with one page.
 * When the test fails, every page of the context is saved as a screenshot under
 * test-results/browser/; when it ends, the context is closed.
 */
export async function openDevice(browser: Browser, label = 'device'): Promise<Device> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  // Fail within the test's own timeout, so the screenshot shows the page that was waited on.
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const errorPages: string[] = [];
  context.on('response', (response) => {
    const request = response.request();
    if (request.isNavigationRequest() && request.frame().parentFrame() === null && response.status() >= 400) {
      errorPages.push(`${response.status()} ${response.url()}`);
    }
  });
  onTestFinished(async ({ task }) => {
    if (task.result?.state === 'fail') await saveScreenshots(context, `${task.name}-${label}`);
    await context.close();
  });
  return { context, page, errorPages };
}

async function saveScreenshots(context: BrowserContext, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const slug = name.replace(/[^\w-]+/g, '-').slice(0, 120);
  await Promise.all(
    context.pages().map((page, i) => page.screenshot({ path: `${SCREENSHOTS}/${slug}-${i}.png`, fullPage: true }).catch(() => undefined)),
  );
}

// --- the stack -------------------------------------------------------------------------------

export interface AppUnderTest {
  url: string;
  auth: Auth;
  events: LogoutLog;
  clientId: string;
}

export interface BrowserStack {
  provider: DevProvider;
  /** The demo app, client `demo`, with its back-channel logout URI registered. */
  app: AppUnderTest;
  /** A second app of the same provider (client `other`), when asked for. */
  other?: AppUnderTest;
  /** `http://localhost:PORT/test/frontchannel?sid=…`: a provider-side page framing the demo's front-channel logout URL. */
  frontchannelPageUrl(sid: string): string;
  /** Method and path of every request the provider received, in order (the browser's and the apps'). */
  providerRequests: string[];
  close(): Promise<void>;
}

export interface BrowserStackOptions {
  /** Extra claims for the account `alice`, e.g. a large one to force chunked cookies. */
  aliceClaims?: Record<string, unknown>;
  mode?: 'cookie' | 'server';
  /** Also start a second app (client `other`) on another port. */
  otherApp?: boolean;
  /** Options of the demo app's createAuth(); `store` goes here too. */
  auth?: Partial<AuthOptions>;
  /** The store's name on the demo page. Default `memory`. */
  storeName?: string;
  /** Options of the demo app's provider `default`. */
  provider?: Partial<ProviderOptions>;
}

export async function startBrowserStack(options: BrowserStackOptions = {}): Promise<BrowserStack> {
  const demo = await startServer();
  const other = options.otherApp ? await startServer() : undefined;
  let issuer = '';
  const providerRequests: string[] = [];
  const provider = await startDevProvider({
    host: '127.0.0.1',
    issuerHost: 'localhost',
    clients: [demoClient('demo', demo.url, true), ...(other ? [demoClient('other', other.url, false)] : [])],
    ...(options.aliceClaims ? { extraClaims: { alice: options.aliceClaims } } : {}),
    extraRoutes: (req, res) => {
      providerRequests.push(`${req.method} ${new URL(req.url ?? '/', issuer).pathname}`);
      return frontchannelPage(req, res, demo.url, issuer);
    },
  });
  issuer = provider.issuer;

  const mode = options.mode ?? 'cookie';
  const app = mountDemo(demo, provider, 'demo', { session: { mode }, ...options.auth }, mode, options.provider, options.storeName);
  // Both apps live on 127.0.0.1, and cookies ignore ports: the second app needs its own cookie names.
  const otherApp = other ? mountDemo(other, provider, 'other', { cookies: { name: 'other' } }, 'cookie') : undefined;
  return {
    provider,
    app,
    ...(otherApp ? { other: otherApp } : {}),
    providerRequests,
    frontchannelPageUrl: (sid) => `${provider.issuer}/test/frontchannel?${new URLSearchParams({ sid })}`,
    async close() {
      await Promise.all([demo.close(), other?.close()]);
      await provider.close();
    },
  };
}

function demoClient(clientId: string, appUrl: string, backchannel: boolean): DevClient {
  return {
    client_id: clientId,
    client_secret: `${clientId}-secret`,
    redirect_uris: [`${appUrl}/auth/callback`],
    post_logout_redirect_uris: [`${appUrl}/auth/logout/callback`],
    grant_types: ['authorization_code', 'refresh_token'],
    ...(backchannel
      ? { backchannel_logout_uri: `${appUrl}/auth/backchannel-logout/default`, backchannel_logout_session_required: true }
      : {}),
  };
}

interface AppServer {
  url: string;
  server: Server;
  setListener(listener: RequestListener): void;
  close(): Promise<void>;
}

/** The app listens before the provider starts: its URL must be known to register the client. */
async function startServer(): Promise<AppServer> {
  let listener: RequestListener = (_req, res) => res.end();
  const server = createServer((req, res) => listener(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    setListener: (next) => {
      listener = next;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function mountDemo(
  server: AppServer,
  provider: DevProvider,
  clientId: string,
  overrides: Partial<AuthOptions>,
  mode: string,
  providerOverrides: Partial<ProviderOptions> = {},
  storeName = 'memory',
): AppUnderTest {
  const events = createLogoutLog();
  const auth = createAuth({
    baseUrl: server.url,
    secret: SECRET,
    providers: {
      default: {
        issuer: provider.issuer,
        clientId,
        clientSecret: `${clientId}-secret`,
        displayName: 'the dev provider',
        frontChannelLogout: true,
        ...providerOverrides,
      },
    },
    exposeTokens: ['id', 'access'],
    logger: { warn: () => {}, error: (message) => console.error(`[${clientId}] ${message}`) },
    ...events.hooks,
    ...overrides,
  });
  const app = createDemoApp(auth, {
    mode,
    store: storeName,
    providerNote: `development provider at ${provider.issuer}`,
    users: provider.users,
    events,
    providerSignOutUrl: `${provider.issuer}/session/end`,
  });
  server.setListener(app as unknown as RequestListener);
  return { url: server.url, auth, events, clientId };
}

/**
 * What a provider's front-channel logout does: a page on the provider's site that frames each
 * app's `frontchannel_logout_uri` with `iss` and `sid` (Front-Channel Logout 1.0 §2–3).
 * `oidc-provider` 9 has no front-channel feature, so the test serves this page itself.
 */
function frontchannelPage(req: IncomingMessage, res: ServerResponse, appUrl: string, issuer: string): boolean {
  const url = new URL(req.url ?? '/', issuer);
  if (req.method !== 'GET' || url.pathname !== '/test/frontchannel') return false;
  const target = new URL(`${appUrl}/auth/frontchannel-logout/default`);
  target.search = new URLSearchParams({ iss: issuer, sid: url.searchParams.get('sid') ?? '' }).toString();
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(
    `<!doctype html><title>Signing you out</title><h1>Signing you out of every app</h1>` +
      `<iframe title="demo app" src="${target.href.replace(/&/g, '&amp;')}" width="600" height="200"></iframe>`,
  );
  return true;
}

// --- a person at the keyboard ----------------------------------------------------------------

export interface SignInResult {
  /** True when the provider asked for the password; false when its session signed the user in. */
  askedForPassword: boolean;
  /** True when the provider asked to authorize the app (first sign-in to this client). */
  askedForConsent: boolean;
}

/** From the app's home page: clicks "Sign in", then plays the provider's pages until back home, signed in. */
export async function signIn(page: Page, appUrl: string, user: { login: string; password: string } = ALICE): Promise<SignInResult> {
  await page.goto(`${appUrl}/`);
  await page.getByRole('link', { name: /^Sign in with/ }).click();
  return finishSignIn(page, user);
}

/** Plays the provider's sign-in and consent pages, whichever come, until the demo page shows a user. */
export async function finishSignIn(page: Page, user: { login: string; password: string } = ALICE): Promise<SignInResult> {
  const password = page.getByLabel('Password');
  const consent = page.getByRole('button', { name: 'Continue' });
  const home = page.locator('body[data-signed-in="true"]');
  const result: SignInResult = { askedForPassword: false, askedForConsent: false };
  for (let step = 0; step < 4; step++) {
    await password.or(consent).or(home).first().waitFor();
    if ((await home.count()) > 0) return result;
    if (await password.isVisible()) {
      result.askedForPassword = true;
      await page.getByLabel('Login').fill(user.login);
      await password.fill(user.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await password.waitFor({ state: 'detached' });
    } else {
      result.askedForConsent = true;
      await consent.click();
      await consent.waitFor({ state: 'detached' });
    }
  }
  throw new Error(`sign-in did not finish; the browser is at ${page.url()}`);
}

/** On the provider's end-session page: "Yes, sign me out". */
export async function confirmProviderSignOut(page: Page): Promise<void> {
  const yes = page.getByRole('button', { name: 'Yes, sign me out' });
  await yes.click();
  await yes.waitFor({ state: 'detached' });
}

/** Every top-level URL the page requests from now on, redirects included. */
export function recordNavigations(page: Page): URL[] {
  const urls: URL[] = [];
  page.on('request', (request) => {
    if (request.isNavigationRequest() && request.frame() === page.mainFrame()) urls.push(new URL(request.url()));
  });
  return urls;
}

/** Waits for the app's log to hold an entry matching `match` (back-channel calls arrive on their own time). */
export async function waitForEvent(events: LogoutLog, match: (entry: ReturnType<LogoutLog['entries']>[number]) => boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (events.entries().some(match)) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no matching logout event; the log has: ${JSON.stringify(events.entries())}`);
}
