/**
 * A real Glewlwyd (Debian's `glewlwyd` package, a C OpenID provider) for interop tests, configured
 * by the test itself: a fresh sqlite database and RSA key in a temporary directory, listening on
 * 127.0.0.1 only, then its admin API for the OIDC plugin, scopes, a user and clients.
 *
 * Why the admin API and not sqlite seeding: the plugin and client settings are JSON documents
 * whose shape Glewlwyd validates on the way in; going through the API keeps the tests on the same
 * path as an administrator, and a wrong setting fails loudly here instead of misbehaving later.
 * Only the empty schema (and its `admin` / `password` account) comes from the packaged SQL file.
 *
 * Glewlwyd's login page is a single-page app; the helpers below play its part with plain HTTP
 * (the same API calls it makes), so no browser is needed.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Agent, FollowResult } from './agent.js';

const SCHEMA_FILES = ['/usr/share/dbconfig-common/data/glewlwyd/install/sqlite3', '/usr/share/doc/glewlwyd/database/init.sqlite3.sql.gz'];
const HOW_TO_INSTALL =
  "apt-get update && echo 'glewlwyd glewlwyd/dbconfig-install boolean false' | debconf-set-selections && echo 'glewlwyd glewlwyd/config_type select No configuration' | debconf-set-selections && DEBIAN_FRONTEND=noninteractive apt-get install -y glewlwyd sqlite3";
/** The packaged schema's administrator. Harmless: the database is temporary and loopback-only. */
const ADMIN = { username: 'admin', password: 'password' };
const PLUGIN = 'oidc';

export const GLEWLWYD_USER = { login: 'alice', password: 'alice-glewlwyd-password', name: 'Alice Glewlwyd', email: 'alice@example.test' };
export const GLEWLWYD_SCOPES = ['openid', 'profile', 'email'];

export interface GlewlwydClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
  frontchannelLogoutUri?: string;
  backchannelLogoutUri?: string;
  /** Default both `client_secret_basic` and `client_secret_post`. */
  tokenEndpointAuthMethods?: string[];
}

export interface Glewlwyd {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** The OIDC plugin's issuer: `{url}/api/oidc`. */
  issuer: string;
  addClient(client: GlewlwydClient): Promise<void>;
  /** What the process printed (its log), for failure messages. */
  output(): string;
  close(): Promise<void>;
}

/** What is missing to run Glewlwyd here, or null when it can run. */
export function glewlwydMissing(): string | null {
  for (const [command, args] of [
    ['glewlwyd', ['--version']],
    ['sqlite3', ['-version']],
  ] as const) {
    try {
      execFileSync(command, args, { stdio: 'ignore' });
    } catch {
      return `the "${command}" command is not installed`;
    }
  }
  if (!SCHEMA_FILES.some((file) => existsSync(file))) return `Glewlwyd's sqlite schema is not at ${SCHEMA_FILES.join(' or ')}`;
  return null;
}

/**
 * True when Glewlwyd can run. Outside CI a missing install skips the suite after one loud line
 * saying how to install it; under CI=true it throws, so the suite fails instead of skipping.
 */
export function requireGlewlwyd(): boolean {
  const missing = glewlwydMissing();
  if (missing === null) return true;
  const install = `Install it with: ${HOW_TO_INSTALL}`;
  if (process.env.CI === 'true')
    throw new Error(`Glewlwyd cannot run: ${missing}; CI=true, so this suite fails instead of skipping. ${install}`);
  console.warn(`⚠️  SKIPPING the Glewlwyd interop tests: ${missing}. ${install}`);
  return false;
}

export async function startGlewlwyd(): Promise<Glewlwyd> {
  const dir = mkdtempSync(join(tmpdir(), 'oidc-session-glewlwyd-'));
  try {
    createDatabase(join(dir, 'glewlwyd.db'));
    const { url, server } = await listenOnFreePort(dir);
    // Glewlwyd answers 500 to concurrent client creations (its sqlite writes collide): one at a time.
    let queue: Promise<unknown> = Promise.resolve();
    const glewlwyd = {
      url,
      issuer: `${url}/api/${PLUGIN}`,
      output: server.output,
      async close() {
        await server.stop();
        rmSync(dir, { recursive: true, force: true });
      },
      addClient(client: GlewlwydClient): Promise<void> {
        const added = queue.then(() => admin.post('/client/', clientBody(client)));
        queue = added.catch(() => undefined);
        return added;
      },
    };
    const admin = await AdminApi.signIn(url);
    try {
      await configure(admin, glewlwyd.issuer, dir);
    } catch (error) {
      await glewlwyd.close();
      throw new Error(`configuring Glewlwyd failed: ${(error as Error).message}\n${server.output()}`, { cause: error });
    }
    return glewlwyd;
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** A free port can be taken between our probe and Glewlwyd's bind: try another, twice. */
async function listenOnFreePort(dir: string): Promise<{ url: string; server: Server }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    writeFileSync(join(dir, 'glewlwyd.conf'), configFile(dir, port, url));
    try {
      return { url, server: await spawnGlewlwyd(dir, url) };
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
}

function createDatabase(path: string): void {
  const file = SCHEMA_FILES.find((candidate) => existsSync(candidate))!;
  const schema = file.endsWith('.gz') ? gunzipSync(readFileSync(file)).toString() : readFileSync(file, 'utf8');
  execFileSync('sqlite3', [path], { input: schema, stdio: ['pipe', 'ignore', 'pipe'] });
}

/** Glewlwyd's own configuration: loopback only, plain http (so its cookies cannot be Secure). */
function configFile(dir: string, port: number, url: string): string {
  return `
port=${port}
bind_address="127.0.0.1"
external_url="${url}"
login_url="login.html"
api_prefix="api"
static_files_path="/usr/share/glewlwyd/webapp/"
log_mode="console"
log_level="INFO"
cookie_domain=""
cookie_secure=0
session_expiration=3600
session_key="GLEWLWYD2_SESSION_ID"
admin_session_authentication="cookie"
profile_session_authentication="cookie"
allow_multiple_user_per_session=true
login_api_enabled=true
admin_scope="g_admin"
profile_scope="g_profile"
user_module_path="/usr/lib/glewlwyd/user"
user_middleware_module_path="/usr/lib/glewlwyd/user_middleware"
client_module_path="/usr/lib/glewlwyd/client"
user_auth_scheme_module_path="/usr/lib/glewlwyd/scheme"
plugin_module_path="/usr/lib/glewlwyd/plugin"
hash_algorithm="SHA512"
database = { type = "sqlite3" path = "${join(dir, 'glewlwyd.db')}" };
`;
}

interface Server {
  output(): string;
  stop(): Promise<void>;
}

/** Starts the process and waits until its API answers; a failure carries what it printed. */
async function spawnGlewlwyd(dir: string, url: string): Promise<Server> {
  const child: ChildProcess = spawn('glewlwyd', ['-c', join(dir, 'glewlwyd.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks: string[] = [];
  const keep = (chunk: Buffer) => {
    chunks.push(chunk.toString());
    if (chunks.length > 2000) chunks.splice(0, 1000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const output = () => chunks.join('');
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const ready = waitForApi(url);
  const outcome = await Promise.race([ready, exited.then((code) => new Error(`glewlwyd exited with ${code}`))]);
  if (outcome instanceof Error) {
    await stop();
    throw new Error(`${outcome.message}\n${output()}`);
  }
  return { output, stop };
}

/** Start-up polling: the process has no readiness signal but its config endpoint. */
async function waitForApi(url: string): Promise<true | Error> {
  let last: unknown;
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      const response = await fetch(`${url}/config/`);
      if (response.ok) return true;
      last = new Error(`status ${response.status}`);
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return new Error(`Glewlwyd at ${url} did not answer: ${(last as Error)?.message}`);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The admin API with the administrator's session cookie. */
class AdminApi {
  private constructor(
    readonly url: string,
    readonly cookie: string,
  ) {}

  static async signIn(url: string): Promise<AdminApi> {
    const response = await fetch(`${url}/api/auth/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ADMIN),
    });
    if (!response.ok) throw new Error(`admin sign-in answered ${response.status}`);
    const cookie = response.headers.getSetCookie().map((line) => line.split(';')[0]);
    return new AdminApi(url, cookie.join('; '));
  }

  get<T>(path: string): Promise<T> {
    return this.send('GET', path) as Promise<T>;
  }

  async post(path: string, body: unknown): Promise<void> {
    await this.send('POST', path, body);
  }

  async put(path: string, body: unknown): Promise<void> {
    await this.send('PUT', path, body);
  }

  private async send(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`${this.url}/api${path}`, {
      method,
      headers: { cookie: this.cookie, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} /api${path} answered ${response.status}: ${text}`);
    return text ? JSON.parse(text) : undefined;
  }
}

interface ModuleInstance {
  parameters: { 'data-format': Record<string, unknown> } & Record<string, unknown>;
}

async function configure(admin: AdminApi, issuer: string, dir: string): Promise<void> {
  await storePostLogoutRedirectUris(admin);
  for (const [name, description] of [
    ['profile', 'Name'],
    ['email', 'E-mail address'],
  ]) {
    await admin.post('/scope/', { name, display_name: name, description, password_required: true, password_max_age: 0, scheme: {} });
  }
  await admin.post('/user/', {
    username: GLEWLWYD_USER.login,
    password: GLEWLWYD_USER.password,
    name: GLEWLWYD_USER.name,
    email: GLEWLWYD_USER.email,
    scope: [...GLEWLWYD_SCOPES, 'g_profile'],
    enabled: true,
  });
  await admin.post('/mod/plugin/', {
    module: 'oidc',
    name: PLUGIN,
    display_name: 'OpenID Connect',
    enabled: true,
    parameters: oidcPlugin(issuer, dir),
  });
}

/**
 * Quirk: the packaged client module stores `post_logout_redirect_uri` (one string) but the OIDC
 * plugin's end_session reads `post_logout_redirect_uris` (a list). Without this the provider logs
 * "Invalid post_logout_redirect_uris" and leaves the user on its own page.
 */
async function storePostLogoutRedirectUris(admin: AdminApi): Promise<void> {
  const module = await admin.get<ModuleInstance>('/mod/client/database');
  module.parameters['data-format'].post_logout_redirect_uris = { multiple: true, read: true, write: true };
  await admin.put('/mod/client/database', module);
  // The running instance keeps its old format until reset.
  await admin.put('/mod/client/database/reset', {});
}

/** The OIDC plugin: RS256 with a fresh key, code flow with PKCE, refresh, revocation, session management and both logout channels. */
function oidcPlugin(issuer: string, dir: string): Record<string, unknown> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const cert = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  writeFileSync(join(dir, 'private-rsa.pem'), key, { mode: 0o600 });
  writeFileSync(join(dir, 'public-rsa.pem'), cert);
  return {
    iss: issuer,
    'oauth-as-iss-id': true,
    'jwt-type': 'rsa',
    'jwt-key-size': '256',
    key,
    cert,
    'jwks-show': true,
    'access-token-duration': 3600,
    'refresh-token-duration': 1209600,
    'code-duration': 600,
    'refresh-token-rolling': true,
    'allow-non-oidc': false,
    'auth-type-code-enabled': true,
    'auth-type-token-enabled': false,
    'auth-type-id-token-enabled': false,
    'auth-type-none-enabled': false,
    'auth-type-password-enabled': false,
    'auth-type-client-enabled': false,
    'auth-type-refresh-enabled': true,
    'secret-type': 'public',
    'name-claim': 'mandatory',
    'email-claim': 'mandatory',
    'allowed-scope': GLEWLWYD_SCOPES,
    'pkce-allowed': true,
    'pkce-method-plain-allowed': false,
    'introspection-revocation-allowed': true,
    'introspection-revocation-auth-scope': [],
    'introspection-revocation-allow-target-client': true,
    'session-management-allowed': true,
    'session-cookie-name': 'GLEWLWYD2_OIDC_SID',
    'session-cookie-expiration': 3600,
    'front-channel-logout-allowed': true,
    'back-channel-logout-allowed': true,
    'request-parameter-allow': false,
  };
}

function clientBody(client: GlewlwydClient): Record<string, unknown> {
  return {
    client_id: client.clientId,
    name: client.clientId,
    enabled: true,
    confidential: true,
    client_secret: client.clientSecret,
    redirect_uri: client.redirectUris,
    authorization_type: ['code', 'refresh_token'],
    token_endpoint_auth_method: client.tokenEndpointAuthMethods ?? ['client_secret_basic', 'client_secret_post'],
    ...(client.postLogoutRedirectUris ? { post_logout_redirect_uris: client.postLogoutRedirectUris } : {}),
    ...(client.frontchannelLogoutUri
      ? { frontchannel_logout_uri: client.frontchannelLogoutUri, frontchannel_logout_session_required: 'true' }
      : {}),
    ...(client.backchannelLogoutUri
      ? { backchannel_logout_uri: client.backchannelLogoutUri, backchannel_logout_session_required: 'true' }
      : {}),
  };
}

// --- the browser's side ----------------------------------------------------------------------

function isLoginPage(glewlwyd: Glewlwyd, url: URL): boolean {
  return url.origin === glewlwyd.url && url.pathname === '/login.html';
}

/** A JSON call from the login page's script, with the agent's cookies. */
async function pageCall(agent: Agent, page: URL, method: string, path: string, body?: unknown): Promise<Response> {
  const response = await agent.fetch(new URL(`/api${path}`, page), {
    method,
    initiator: page,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  if (!response.ok)
    throw new Error(`${method} /api${path} from Glewlwyd's login page answered ${response.status}: ${await response.text()}`);
  return response;
}

export interface GlewlwydLogin extends FollowResult {
  /** True when Glewlwyd asked for the password; false when its session signed the user in silently. */
  sawLoginPage: boolean;
}

/**
 * Starts at an app URL (e.g. `/auth/login`) and plays the user through Glewlwyd: when its login
 * page comes up, signs in with the password and grants the requested scopes as the page's script
 * would, then continues the authorization request and follows redirects back to the app.
 */
export async function signInAtGlewlwyd(agent: Agent, glewlwyd: Glewlwyd, startUrl: string | URL): Promise<GlewlwydLogin> {
  const first = await agent.follow(startUrl, {}, { stopAt: (url) => isLoginPage(glewlwyd, url) });
  if (!isLoginPage(glewlwyd, first.url)) return { ...first, sawLoginPage: false };
  const page = first.url;
  const params = page.searchParams;
  const callback = params.get('callback_url');
  const clientId = params.get('client_id');
  if (!callback || !clientId) throw new Error(`Glewlwyd's login page came up without callback_url/client_id: ${page}`);
  await pageCall(agent, page, 'POST', '/auth/', { username: GLEWLWYD_USER.login, password: GLEWLWYD_USER.password });
  await pageCall(agent, page, 'PUT', `/auth/grant/${encodeURIComponent(clientId)}`, { scope: params.get('scope') ?? 'openid' });
  // The page's "Continue" button: the same authorization request, with g_continue.
  const next = new URL(callback, page);
  next.searchParams.set('g_continue', '');
  const rest = await agent.follow(next, { initiator: page });
  return { ...rest, chain: [...first.chain, ...rest.chain], sawLoginPage: true };
}

export interface GlewlwydLogout {
  /** Glewlwyd's end-session page, with its query (sid, client_id, post_redirect_to …). */
  page: URL;
  /** The front-channel logout URLs the page framed (with `iss` and `sid`) and their responses. */
  frames: Array<{ url: URL; response: Response }>;
  /** Where the browser went last (normally the app's post-logout callback and returnTo). */
  back?: FollowResult;
}

/**
 * From the app's 303 to Glewlwyd's end_session: follows it to Glewlwyd's end-session page, then
 * does what that page's script does when the user clicks "Log out": frames every front-channel
 * logout URL of the session's clients (`?iss=…&sid=…`), deletes the session at the plugin (which
 * makes Glewlwyd send its back-channel logout tokens), ends the Glewlwyd login session, and
 * follows the `post_logout_redirect_uri` (with `state`) back.
 */
export async function confirmGlewlwydLogout(agent: Agent, glewlwyd: Glewlwyd, endSessionUrl: string | URL): Promise<GlewlwydLogout> {
  const start = await agent.follow(endSessionUrl, {}, { stopAt: (url) => isLoginPage(glewlwyd, url) });
  const page = start.url;
  const params = page.searchParams;
  if (!isLoginPage(glewlwyd, page) || params.get('prompt') !== 'end_session') {
    throw new Error(`Glewlwyd did not show its end-session page: ${page} (status ${start.response.status})`);
  }
  const sid = params.get('sid')!;
  const plugin = params.get('plugin')!;
  const postRedirect = params.get('post_redirect_to');
  const query = postRedirect ? `?post_redirect_to=${encodeURIComponent(postRedirect)}` : '';
  const list = (await (
    await pageCall(agent, page, 'GET', `/${plugin}/session/${sid}/${encodeURIComponent(params.get('client_id')!)}${query}`)
  ).json()) as SessionClients;
  const frames: GlewlwydLogout['frames'] = [];
  for (const client of list.client) {
    // The page builds the URL by string concatenation, exactly like this.
    const url = new URL(
      `${client.frontchannel_logout_uri}?iss=${list.iss}${client.frontchannel_logout_session_required ? `&sid=${list.sid}` : ''}`,
    );
    frames.push({ url, response: await agent.fetch(url, { initiator: page, frame: true }) });
  }
  await pageCall(agent, page, 'DELETE', `/${plugin}/session/${sid}`);
  await pageCall(agent, page, 'DELETE', '/auth/');
  const callback = params.get('callback_url');
  if (!list.post_redirect_to || !callback) return { page, frames };
  return { page, frames, back: await agent.follow(new URL(callback, page), { initiator: page }) };
}

interface SessionClients {
  iss: string;
  sid: string;
  client_id: string;
  post_redirect_to?: string;
  client: Array<{ client_id: string; frontchannel_logout_uri: string; frontchannel_logout_session_required: boolean }>;
}
