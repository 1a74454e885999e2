/**
 * An embedded development OpenID provider: the real `oidc-provider` package, run in-process on a
 * `node:http` server. For the demo (`npm start`) and the end-to-end tests; never for production.
 *
 * Server-side errors are not printed; run with `DEBUG=oidc-provider:*` to see them.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';

export interface DevClient {
  client_id: string;
  client_secret?: string;
  redirect_uris: string[];
  post_logout_redirect_uris?: string[];
  backchannel_logout_uri?: string;
  backchannel_logout_session_required?: boolean;
  token_endpoint_auth_method?: 'client_secret_basic' | 'client_secret_post' | 'none';
  grant_types?: string[];
  id_token_signed_response_alg?: string;
  /**
   * Not client metadata but this provider's own flag: a first-party app, whose users are never
   * asked for consent (its grant of every scope exists from the first sign-in).
   */
  firstParty?: boolean;
}

/** Handles a request before the provider sees it; returns true when it answered. */
export type ExtraRoutes = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

export interface DevProviderOptions {
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Default 0: a random free port. */
  port?: number;
  /** Hostname in the issuer URL (default: `host`); `localhost` makes the provider another site. */
  issuerHost?: string;
  clients: DevClient[];
  /** Default true. False: discovery has no `end_session_endpoint`. */
  endSession?: boolean;
  /** Extra claims per account id, merged into that account's claims (released with `profile`). */
  extraClaims?: Record<string, Record<string, unknown>>;
  extraRoutes?: ExtraRoutes;
}

export interface DemoUser {
  login: string;
  password: string;
  name: string;
  email: string;
}

export interface InteractionDetails {
  uid: string;
  prompt: { name: string; reasons: string[]; details: Record<string, unknown> };
  params: Record<string, unknown>;
  session?: { accountId?: string; uid?: string };
  grantId?: string;
  lastSubmission?: Record<string, unknown>;
}

/** The parts of the `oidc-provider` instance callers are expected to need; the package ships no types. */
export interface OidcProvider {
  readonly issuer: string;
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
  interactionFinished(
    req: IncomingMessage,
    res: ServerResponse,
    result: Record<string, unknown>,
    options?: { mergeWithLastSubmission?: boolean },
  ): Promise<void>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
  // biome-ignore lint/suspicious/noExplicitAny: models (Client, Grant, Session, …) are untyped classes
  [member: string]: any;
}

export interface DevProvider {
  issuer: string;
  url: string;
  port: number;
  provider: OidcProvider;
  users: DemoUser[];
  /** Registers one more client after start (e.g. an app whose port was only known later). */
  addClient(client: DevClient): Promise<void>;
  close(): Promise<void>;
}

/**
 * The demo app's client, registered for the app at `appUrl`: client `demo`, secret `demo-secret`,
 * every redirect and logout URI of the README's routes, refresh tokens, no consent screen.
 */
export function demoClient(appUrl: string): DevClient {
  return {
    client_id: 'demo',
    client_secret: 'demo-secret',
    redirect_uris: [`${appUrl}/auth/callback`],
    post_logout_redirect_uris: [`${appUrl}/auth/logout/callback`],
    backchannel_logout_uri: `${appUrl}/auth/backchannel-logout/default`,
    backchannel_logout_session_required: true,
    grant_types: ['authorization_code', 'refresh_token'],
    // The demo is the provider's own app: sign-in asks for the password, never for consent.
    firstParty: true,
  };
}

export const DEMO_USERS: readonly DemoUser[] = Object.freeze([
  { login: 'alice', password: 'alice-password', name: 'Alice Liddell', email: 'alice@example.test' },
  { login: 'bob', password: 'bob-password', name: 'Bob Builder', email: 'bob@example.test' },
]);

const SCOPES = ['openid', 'profile', 'email', 'offline_access'];
const DEV_COOKIE_KEYS = ['dev-provider-cookie-key-1-not-secret', 'dev-provider-cookie-key-0-not-secret'];
const HOUR = 60 * 60;
const FORTNIGHT = 14 * 24 * HOUR;
const MAX_FORM_BYTES = 64 * 1024;

export async function startDevProvider(opts: DevProviderOptions): Promise<DevProvider> {
  const host = opts.host ?? '127.0.0.1';
  const { Provider, createMemoryAdapter } = await loadOidcProvider();
  const apps = new Apps(opts.clients);
  const configuration = await buildConfiguration(opts, apps);
  let handle: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
    res.statusCode = 503;
    res.end('starting');
  };
  const server = createServer((req, res) => handle(req, res));
  const port = await listen(server, host, opts.port ?? 0);
  const issuer = `http://${opts.issuerHost ?? host}:${port}`;

  let provider: OidcProvider;
  try {
    // A store per instance: the default adapter is one store shared by every provider in the process.
    provider = new Provider(issuer, { ...configuration, adapter: createMemoryAdapter() });
    await validateClients(provider, opts.clients);
  } catch (error) {
    await closeServer(server);
    throw error;
  }
  alwaysIncludeSid(provider);

  const callback = provider.callback();
  const shown = new ShownInteractions();
  handle = (req, res) => {
    route(provider, shown, opts.extraRoutes, req, res)
      .then((handled) => {
        if (!handled) callback(req, res);
      })
      .catch((error: unknown) => answerError(res, error));
  };

  return {
    issuer,
    url: issuer,
    port,
    provider,
    users: DEMO_USERS.map((user) => ({ ...user })),
    addClient: async (client) => {
      await addClient(provider, client);
      apps.add(client);
    },
    close: () => closeServer(server),
  };
}

interface OidcProviderModule {
  Provider: new (issuer: string, configuration: Record<string, unknown>) => OidcProvider;
  createMemoryAdapter: () => unknown;
}

let loading: Promise<OidcProviderModule> | undefined;

function loadOidcProvider(): Promise<OidcProviderModule> {
  loading ??= importQuietly();
  return loading;
}

async function importQuietly(): Promise<OidcProviderModule> {
  // oidc-provider warns on import about any runtime older than Node 22 LTS; Node 20 works for
  // development, so that one line is dropped. A string variable keeps TypeScript from looking for
  // types the package does not ship.
  const packageName = 'oidc-provider';
  const adapterPath = 'oidc-provider/lib/adapters/memory_adapter.js';
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!String(args[0]).includes('Unsupported runtime')) warn(...args);
  };
  try {
    const [main, memory] = await Promise.all([import(packageName), import(adapterPath)]);
    return { Provider: main.default, createMemoryAdapter: memory.createMemoryAdapter };
  } finally {
    console.warn = warn;
  }
}

/** What the provider knows of each client's application: where it lives, and whether it is first-party. */
class Apps {
  readonly #origins = new Map<string, string>();
  readonly #firstParty = new Set<string>();

  constructor(clients: DevClient[]) {
    for (const client of clients) this.add(client);
  }

  add(client: DevClient): void {
    const redirectUri = client.redirect_uris[0];
    if (redirectUri) this.#origins.set(client.client_id, new URL(redirectUri).origin);
    if (client.firstParty) this.#firstParty.add(client.client_id);
    else this.#firstParty.delete(client.client_id);
  }

  isFirstParty(clientId: string): boolean {
    return this.#firstParty.has(clientId);
  }

  /** The home page of one client's application, or of each one's when the client is not known. */
  homes(clientId: string | undefined): Array<{ clientId: string; url: string }> {
    const known = clientId === undefined ? undefined : this.#origins.get(clientId);
    if (clientId !== undefined && known) return [{ clientId, url: `${known}/` }];
    return [...this.#origins].map(([id, origin]) => ({ clientId: id, url: `${origin}/` }));
  }
}

async function buildConfiguration(opts: DevProviderOptions, apps: Apps) {
  const extraClaimNames = new Set(Object.values(opts.extraClaims ?? {}).flatMap((claims) => Object.keys(claims)));
  return {
    clients: opts.clients.map(toClientMetadata),
    jwks: { keys: await generateSigningKeys() },
    cookies: { keys: DEV_COOKIE_KEYS },
    scopes: SCOPES,
    claims: {
      openid: ['sub'],
      profile: ['name', 'preferred_username', ...extraClaimNames],
      email: ['email', 'email_verified'],
    },
    // Put scope claims (name, email) in the ID token itself, not only at the userinfo endpoint.
    conformIdTokenClaims: false,
    findAccount: (_ctx: unknown, id: string) => findAccount(id, opts.extraClaims?.[id]),
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    loadExistingGrant: (ctx: GrantContext) => loadExistingGrant(ctx, apps),
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: opts.endSession ?? true,
        logoutSource,
        postLogoutSuccessSource: (ctx: KoaLikeContext) => postLogoutSuccessSource(ctx, apps),
      },
      backchannelLogout: { enabled: true },
      revocation: { enabled: true, allowedPolicy: revocationAllowed },
    },
    ttl: {
      AccessToken: HOUR,
      AuthorizationCode: 60,
      ClientCredentials: 10 * 60,
      IdToken: HOUR,
      Interaction: HOUR,
      RefreshToken: FORTNIGHT,
      Session: FORTNIGHT,
      Grant: FORTNIGHT,
    },
    renderError,
    clientBasedCORS: () => false,
    fetch: fetchWithoutSsrfGuard,
  };
}

function toClientMetadata(client: DevClient): Record<string, unknown> {
  const { firstParty: _ours, ...metadata } = client;
  const given = Object.entries(metadata).filter(([, value]) => value !== undefined);
  return {
    token_endpoint_auth_method: client.client_secret ? 'client_secret_basic' : 'none',
    ...Object.fromEntries(given),
  };
}

async function generateSigningKeys(): Promise<JWK[]> {
  // RS256 first: oidc-provider's default ID token alg. ES256 lets a client ask for another alg.
  return Promise.all([generateSigningKey('RS256'), generateSigningKey('ES256')]);
}

async function generateSigningKey(alg: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: await calculateJwkThumbprint(jwk), alg, use: 'sig' };
}

function findAccount(id: string, extra: Record<string, unknown> = {}) {
  const user = DEMO_USERS.find((candidate) => candidate.login === id);
  const claims = {
    sub: id,
    name: user?.name ?? id,
    email: user?.email ?? `${id}@example.test`,
    email_verified: true,
    preferred_username: id,
    ...extra,
  };
  return { accountId: id, claims: async () => claims };
}

/**
 * oidc-provider puts `sid` in ID tokens only for clients registered with back-channel logout and
 * `backchannel_logout_session_required`. Front-channel logout and session bookkeeping need it in
 * every ID token, so this provider always includes it.
 */
function alwaysIncludeSid(provider: OidcProvider): void {
  provider.Client.prototype.includeSid = () => true;
}

/** oidc-provider checks static clients only when first used; a bad one should fail at start instead. */
async function validateClients(provider: OidcProvider, clients: DevClient[]): Promise<void> {
  await Promise.all(clients.map((client) => provider.Client.find(client.client_id)));
}

async function addClient(provider: OidcProvider, client: DevClient): Promise<void> {
  const metadata = toClientMetadata(client);
  await provider.Client.validate(metadata);
  await provider.Client.adapter.upsert(client.client_id, metadata);
}

type GrantContext = {
  oidc: {
    provider: OidcProvider;
    client: { clientId: string };
    session: { accountId?: string; grantIdFor(clientId: string): string | undefined };
    result?: { consent?: { grantId?: string } };
  };
};

/**
 * oidc-provider's default (the grant of this interaction or of the session), and for a
 * first-party client a grant of every scope made on the spot, so its users never see consent.
 *
 * @see https://github.com/panva/node-oidc-provider/blob/main/docs/README.md#loadexistinggrant
 */
async function loadExistingGrant(ctx: GrantContext, apps: Apps) {
  const { oidc } = ctx;
  const grantId = oidc.result?.consent?.grantId ?? oidc.session.grantIdFor(oidc.client.clientId);
  if (grantId) return oidc.provider.Grant.find(grantId);
  if (!apps.isFirstParty(oidc.client.clientId)) return undefined;
  const grant = new oidc.provider.Grant({ clientId: oidc.client.clientId, accountId: oidc.session.accountId });
  grant.addOIDCScope(SCOPES.join(' '));
  await grant.save();
  return grant;
}

function revocationAllowed(_ctx: unknown, client: { clientId: string }, token: { clientId: string }): boolean {
  return token.clientId === client.clientId;
}

// oidc-provider's fetch refuses loopback and private addresses, which is exactly where the
// back-channel logout endpoints of local apps live.
function fetchWithoutSsrfGuard(url: string | URL, options: RequestInit & { dispatcher?: unknown }) {
  const { dispatcher: _ssrfGuard, ...rest } = options;
  return fetch(url, rest);
}

// --- request routing -------------------------------------------------------------------------

async function route(
  provider: OidcProvider,
  shown: ShownInteractions,
  extraRoutes: ExtraRoutes | undefined,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<boolean> {
  if (extraRoutes && (await extraRoutes(req, res))) return true;
  if (pathOf(req) === '/favicon.ico') {
    // Browsers ask on every page; nothing to show, and nothing to ask again for a day.
    res.writeHead(204, { 'cache-control': 'public, max-age=86400' });
    res.end();
    return true;
  }
  const match = /^\/interaction\/([\w-]+)(?:\/(login|confirm|abort))?$/.exec(pathOf(req));
  if (!match) return false;
  const [, uid = '', action] = match;
  await handleInteraction(provider, shown, req, res, uid, action);
  return true;
}

/**
 * The application each interaction shown belonged to (bounded), so that a person who presses
 * back to a finished sign-in page is pointed back to the application instead of shown an error.
 */
class ShownInteractions {
  static readonly LIMIT = 1000;
  readonly #apps = new Map<string, string>();

  remember(details: InteractionDetails): void {
    const redirectUri = details.params.redirect_uri;
    if (typeof redirectUri !== 'string' || this.#apps.has(details.uid)) return;
    this.#apps.set(details.uid, new URL(redirectUri).origin);
    if (this.#apps.size > ShownInteractions.LIMIT) this.#apps.delete(this.#apps.keys().next().value as string);
  }

  appOf(uid: string): string | undefined {
    return this.#apps.get(uid);
  }
}

async function handleInteraction(
  provider: OidcProvider,
  shown: ShownInteractions,
  req: IncomingMessage,
  res: ServerResponse,
  uid: string,
  action: string | undefined,
): Promise<void> {
  const details = await readInteraction(provider, shown, req, res, uid);
  if (!details) return;
  if (action === undefined && req.method === 'GET') {
    shown.remember(details);
    return showInteraction(res, details);
  }
  if (action === 'abort' && req.method === 'GET') return abortInteraction(provider, req, res);
  if (action === 'login' && req.method === 'POST') return submitLogin(provider, req, res, details);
  if (action === 'confirm' && req.method === 'POST') return submitConsent(provider, req, res, details);
  sendHtml(res, 405, page('Not allowed', `<p>${escapeHtml(req.method ?? '')} is not allowed here.</p>`));
}

async function readInteraction(
  provider: OidcProvider,
  shown: ShownInteractions,
  req: IncomingMessage,
  res: ServerResponse,
  uid: string,
): Promise<InteractionDetails | undefined> {
  try {
    const details = await provider.interactionDetails(req, res);
    if (details.uid === uid) return details;
  } catch {
    // missing, finished or expired interaction: answered below
  }
  const app = req.method === 'GET' ? shown.appOf(uid) : undefined;
  if (app) {
    // The back button after signing in lands here: nothing is wrong, the sign-in is simply over.
    sendHtml(
      res,
      200,
      page('Sign-in finished', `<p>This sign-in is over.</p><p><a href="${escapeHtml(`${app}/`)}">Back to the application</a></p>`),
    );
  } else {
    sendHtml(res, 400, page('Sign-in expired', '<p>This sign-in request is unknown or has expired. Start again from the application.</p>'));
  }
  return undefined;
}

function showInteraction(res: ServerResponse, details: InteractionDetails): void {
  const { name } = details.prompt;
  if (name === 'login') sendHtml(res, 200, loginPage(details));
  else if (name === 'consent') sendHtml(res, 200, consentPage(details));
  else sendHtml(res, 501, page('Not supported', `<p>Prompt ${escapeHtml(name)} is not supported.</p>`));
}

async function submitLogin(provider: OidcProvider, req: IncomingMessage, res: ServerResponse, details: InteractionDetails): Promise<void> {
  const form = await readForm(req);
  const login = form.get('login') ?? '';
  const user = DEMO_USERS.find((candidate) => candidate.login === login);
  if (details.prompt.name !== 'login' || !user || user.password !== form.get('password')) {
    return sendHtml(res, 401, loginPage(details, 'Unknown login or wrong password.'));
  }
  await provider.interactionFinished(req, res, { login: { accountId: user.login, amr: ['pwd'] } }, { mergeWithLastSubmission: false });
}

async function submitConsent(
  provider: OidcProvider,
  req: IncomingMessage,
  res: ServerResponse,
  details: InteractionDetails,
): Promise<void> {
  await readForm(req);
  if (details.prompt.name !== 'consent') return sendHtml(res, 400, page('Nothing to confirm', '<p>No consent is pending.</p>'));
  const grant = await loadGrant(provider, details);
  const missing = details.prompt.details as {
    missingOIDCScope?: string[];
    missingOIDCClaims?: string[];
    missingResourceScopes?: Record<string, string[]>;
  };
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    grant.addResourceScope(resource, scopes.join(' '));
  }
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

async function loadGrant(provider: OidcProvider, details: InteractionDetails) {
  if (details.grantId) return provider.Grant.find(details.grantId);
  return new provider.Grant({ accountId: details.session?.accountId, clientId: details.params.client_id });
}

async function abortInteraction(provider: OidcProvider, req: IncomingMessage, res: ServerResponse): Promise<void> {
  await provider.interactionFinished(
    req,
    res,
    { error: 'access_denied', error_description: 'The user cancelled the sign-in.' },
    { mergeWithLastSubmission: false },
  );
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new Error('form body too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function answerError(res: ServerResponse, error: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  sendHtml(res, 500, page('Provider error', `<pre>${escapeHtml(message)}</pre>`));
}

// --- pages -----------------------------------------------------------------------------------

function loginPage(details: InteractionDetails, error?: string): string {
  const hint = typeof details.params.login_hint === 'string' ? details.params.login_hint : '';
  const rows = DEMO_USERS.map(
    (user) => `<tr><td><code>${escapeHtml(user.login)}</code></td><td><code>${escapeHtml(user.password)}</code></td></tr>`,
  ).join('');
  return page(
    'Sign in',
    `${error ? `<p class="error">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(details.uid)}/login" autocomplete="off">
  <input type="hidden" name="prompt" value="login">
  <label>Login <input type="text" name="login" value="${escapeHtml(hint)}" required autofocus></label>
  <label>Password <input type="password" name="password" required></label>
  <button type="submit">Sign in</button>
</form>
<p>Development provider: these demo accounts exist.</p>
<table><thead><tr><th>login</th><th>password</th></tr></thead><tbody>${rows}</tbody></table>
<p><a href="/interaction/${escapeHtml(details.uid)}/abort">Cancel</a></p>`,
  );
}

function consentPage(details: InteractionDetails): string {
  const missing = details.prompt.details as { missingOIDCScope?: string[] };
  const scopes = (missing.missingOIDCScope ?? []).map((scope) => `<li>${escapeHtml(scope)}</li>`).join('');
  return page(
    'Authorize',
    `<p><code>${escapeHtml(String(details.params.client_id))}</code> asks for:</p>
<ul>${scopes || '<li>confirmation of an earlier authorization</li>'}</ul>
<form method="post" action="/interaction/${escapeHtml(details.uid)}/confirm">
  <input type="hidden" name="prompt" value="consent">
  <button type="submit" autofocus>Continue</button>
</form>
<p><a href="/interaction/${escapeHtml(details.uid)}/abort">Cancel</a></p>`,
  );
}

type KoaLikeContext = { body: unknown; host: string; oidc: { client?: { clientId: string } } };

function logoutSource(ctx: KoaLikeContext, form: string): void {
  ctx.body = page(
    'Sign out',
    `<p>Sign out of the development provider at ${escapeHtml(ctx.host)}?</p>
${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, only this application</button>`,
  );
}

/** Without a post_logout_redirect_uri the person stays here: link back to the app (each app's, when none was named). */
function postLogoutSuccessSource(ctx: KoaLikeContext, apps: Apps): void {
  const clientId = ctx.oidc.client?.clientId;
  const client = clientId ? ` of ${escapeHtml(clientId)}` : '';
  const homes = apps.homes(clientId);
  const links = homes
    .map(
      ({ clientId: id, url }) =>
        `<a href="${escapeHtml(url)}">${homes.length === 1 ? 'Back to the application' : `Back to ${escapeHtml(id)}`}</a>`,
    )
    .map((link) => `<p>${link}</p>`)
    .join('');
  ctx.body = page('Signed out', `<p>You are signed out${client}.</p>${links}`);
}

function renderError(ctx: KoaLikeContext & { type: string }, out: Record<string, string>): void {
  ctx.type = 'html';
  const lines = Object.entries(out)
    .map(([key, value]) => `<p><strong>${escapeHtml(key)}</strong>: ${escapeHtml(value)}</p>`)
    .join('');
  ctx.body = page('Provider error', lines);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} · dev provider</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:2rem auto}label{display:block;margin:.5rem 0}
input[type=text],input[type=password]{width:100%}.error{color:#b00}td,th{padding:.2rem .6rem;text-align:left}</style>
</head><body><h1>${escapeHtml(title)}</h1>
${body}
</body></html>`;
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function pathOf(req: IncomingMessage): string {
  return new URL(req.url ?? '/', 'http://x').pathname;
}

// --- server lifecycle ------------------------------------------------------------------------

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}
