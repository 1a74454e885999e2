/**
 * A browser-like HTTP agent for end-to-end tests without a browser: a cookie jar that behaves
 * like a browser's (host, path, expiry, SameSite), manual redirect following, and helpers that
 * fill in the development provider's sign-in, consent and sign-out pages.
 */

/** `fetch` options plus the browsing context the request comes from. */
export interface AgentInit extends RequestInit {
  /**
   * The page that caused the request (a link, a form, a script). Omitted: the user typed the URL,
   * which counts as same-site. Decides SameSite cookies, `Origin` and `Sec-Fetch-Site`.
   */
  initiator?: string | URL;
  /** The request loads a frame or subresource, not the top-level page (SameSite=Lax withheld cross-site). */
  frame?: boolean;
}

export interface FollowOptions {
  maxHops?: number;
  /** Checked before each redirect is requested; true stops there without requesting it. */
  stopAt?: (url: URL) => boolean;
}

export interface FollowResult {
  /** The last response received (the redirect itself when `stopAt` stopped the chain). */
  response: Response;
  /** The final URL: the one `response` came from, or the one `stopAt` stopped before. */
  url: URL;
  /** Every URL requested, in order. */
  chain: URL[];
}

export interface LoginResult extends FollowResult {
  /** True when the provider asked for credentials; false when its session signed the user in silently. */
  sawLoginForm: boolean;
}

export interface Cookie {
  name: string;
  value: string;
  domain: string;
  hostOnly: boolean;
  path: string;
  /** Epoch milliseconds; undefined for a session cookie. */
  expires?: number;
  secure: boolean;
  httpOnly: boolean;
  sameSite: 'strict' | 'lax' | 'none' | undefined;
}

export interface HtmlForm {
  id?: string;
  action: URL;
  method: 'GET' | 'POST';
  /** Successful controls in document order (text, hidden, password, … but no buttons). */
  fields: Array<{ name: string; value: string; type: string }>;
  /** Submit buttons, including those outside the form that point at it with `form="id"`. */
  buttons: Array<{ name?: string; value: string; label: string }>;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

export class Agent {
  readonly #jar = new Map<string, Cookie>();

  /** One request, cookies attached and stored; redirects are returned, not followed. */
  async fetch(url: string | URL, init: AgentInit = {}): Promise<Response> {
    return this.#request(new URL(url), init, []);
  }

  /** Requests `url` and follows redirects the way a browser would (303, and 301/302 after POST, become GET). */
  async follow(url: string | URL, init: AgentInit = {}, options: FollowOptions = {}): Promise<FollowResult> {
    const { maxHops = 20, stopAt } = options;
    const chain: URL[] = [];
    let current = new URL(url);
    let currentInit = init;
    for (;;) {
      const response = await this.#request(current, currentInit, chain);
      chain.push(current);
      const location = response.headers.get('location');
      if (!REDIRECT_STATUSES.has(response.status) || location === null) return { response, url: current, chain };
      const next = new URL(location, current);
      if (stopAt?.(next)) return { response, url: next, chain };
      if (chain.length > maxHops) throw new Error(`more than ${maxHops} redirects: ${chain.map(String).join(' → ')}`);
      await response.body?.cancel();
      currentInit = redirectInit(currentInit, response.status);
      current = next;
    }
  }

  /** The cookies a request to `url` would carry, by name. */
  cookies(url: string | URL): Record<string, string> {
    const target = new URL(url);
    return Object.fromEntries(this.#cookiesFor(target).map((cookie) => [cookie.name, cookie.value]));
  }

  cookieHeader(url: string | URL): string {
    return serializeCookies(this.#cookiesFor(new URL(url)));
  }

  /** Every stored cookie with its attributes (for assertions on Path, SameSite, expiry, …). */
  allCookies(): Cookie[] {
    this.#dropExpired();
    return [...this.#jar.values()].map((cookie) => ({ ...cookie }));
  }

  clearCookies(): void {
    this.#jar.clear();
  }

  /**
   * Starts at an app URL (e.g. `/auth/login`) and plays the user through the provider: signs in
   * with the credentials when asked, accepts consent, submits auto-posting forms, and stops on the
   * first page that is none of these (normally back in the app).
   */
  async loginAtProvider(
    startUrl: string | URL,
    credentials: { login: string; password: string },
    init: AgentInit = {},
  ): Promise<LoginResult> {
    let result = await this.follow(startUrl, init);
    const chain = [...result.chain];
    let sawLoginForm = false;
    for (let step = 0; step < 10; step++) {
      const page = await readPage(result);
      const loginForm = page.forms.find(isLoginForm);
      if (loginForm) {
        if (sawLoginForm) throw new Error(`the provider rejected the login of ${credentials.login} at ${result.url}`);
        sawLoginForm = true;
        result = await this.submitForm(result.url, loginForm, credentialsFor(loginForm, credentials));
      } else {
        const next = page.forms.find(isConsentForm) ?? (page.autoSubmits ? page.forms[0] : undefined);
        if (!next) return { ...result, chain, sawLoginForm };
        result = await this.submitForm(result.url, next);
      }
      chain.push(...result.chain);
    }
    throw new Error(`login did not finish; last page ${result.url}`);
  }

  /**
   * On the provider's end-session page (`/session/end?...`, or any URL redirecting there), answers
   * "yes, sign me out" and follows the redirects back to the application.
   */
  async confirmProviderLogout(url: string | URL, init: AgentInit = {}): Promise<FollowResult> {
    const start = await this.follow(url, init);
    const page = await readPage(start);
    const form = page.forms.find((candidate) => candidate.fields.some((field) => field.name === 'xsrf'));
    if (!form) throw new Error(`no sign-out confirmation form at ${start.url} (status ${start.response.status})`);
    const yes = form.buttons.find((button) => button.name === 'logout');
    const result = await this.submitForm(start.url, form, yes?.name ? { [yes.name]: yes.value } : { logout: 'yes' });
    return { ...result, chain: [...start.chain, ...result.chain] };
  }

  /** Submits a parsed form from the page at `pageUrl`, like clicking its submit button, and follows redirects. */
  async submitForm(
    pageUrl: string | URL,
    form: HtmlForm,
    values: Record<string, string> = {},
    options: FollowOptions = {},
  ): Promise<FollowResult> {
    const data = new URLSearchParams(form.fields.map((field) => [field.name, field.value]));
    for (const [name, value] of Object.entries(values)) data.set(name, value);
    if (form.method === 'GET') {
      const target = new URL(form.action);
      target.search = data.toString();
      return this.follow(target, { initiator: pageUrl }, options);
    }
    return this.follow(form.action, { method: 'POST', body: data, initiator: pageUrl }, options);
  }

  async #request(url: URL, init: AgentInit, redirectedFrom: URL[]): Promise<Response> {
    const { initiator, frame, ...requestInit } = init;
    const method = (requestInit.method ?? 'GET').toUpperCase();
    const context: RequestContext = {
      crossSite: isCrossSite(url, initiator === undefined ? undefined : new URL(initiator), redirectedFrom),
      topLevelSafe: !frame && (method === 'GET' || method === 'HEAD'),
    };
    const headers = new Headers(requestInit.headers);
    const cookie = serializeCookies(this.#cookiesFor(url, context));
    if (cookie && !headers.has('cookie')) headers.set('cookie', cookie);
    if (initiator !== undefined) addFetchMetadata(headers, url, new URL(initiator), method, redirectedFrom);
    const response = await fetch(url, { ...requestInit, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) this.#store(url, line);
    return response;
  }

  #store(url: URL, line: string): void {
    const cookie = parseSetCookie(url, line);
    if (!cookie) return;
    const key = `${cookie.domain};${cookie.path};${cookie.name}`;
    if (cookie.expires !== undefined && cookie.expires <= Date.now()) this.#jar.delete(key);
    else this.#jar.set(key, cookie);
  }

  #cookiesFor(url: URL, context: RequestContext = { crossSite: false, topLevelSafe: true }): Cookie[] {
    this.#dropExpired();
    return [...this.#jar.values()]
      .filter((cookie) => domainMatches(url.hostname, cookie) && pathMatches(url.pathname, cookie.path))
      .filter((cookie) => sameSiteAllows(cookie, context))
      .sort((a, b) => b.path.length - a.path.length);
  }

  #dropExpired(): void {
    const now = Date.now();
    for (const [key, cookie] of this.#jar) {
      if (cookie.expires !== undefined && cookie.expires <= now) this.#jar.delete(key);
    }
  }
}

// --- cookies ---------------------------------------------------------------------------------

interface RequestContext {
  crossSite: boolean;
  topLevelSafe: boolean;
}

/** Parses one Set-Cookie line (RFC 6265 §5.2); returns undefined for a cookie a browser would refuse. */
export function parseSetCookie(url: URL, line: string): Cookie | undefined {
  const [pair = '', ...attributes] = line.split(';');
  const equals = pair.indexOf('=');
  if (equals < 1) return undefined;
  const cookie: Cookie = {
    name: pair.slice(0, equals).trim(),
    value: pair.slice(equals + 1).trim(),
    domain: url.hostname,
    hostOnly: true,
    path: defaultPath(url),
    secure: false,
    httpOnly: false,
    sameSite: undefined,
  };
  let maxAge: number | undefined;
  for (const attribute of attributes) {
    const [rawKey = '', ...rest] = attribute.split('=');
    const key = rawKey.trim().toLowerCase();
    const value = rest.join('=').trim();
    if (key === 'path' && value.startsWith('/')) cookie.path = value;
    else if (key === 'domain' && value) {
      const domain = value.replace(/^\./, '').toLowerCase();
      if (!domainMatches(url.hostname, { domain, hostOnly: false })) return undefined;
      cookie.domain = domain;
      cookie.hostOnly = false;
    } else if (key === 'max-age' && /^-?\d+$/.test(value)) maxAge = Number(value);
    else if (key === 'expires' && !Number.isNaN(Date.parse(value))) cookie.expires ??= Date.parse(value);
    else if (key === 'secure') cookie.secure = true;
    else if (key === 'httponly') cookie.httpOnly = true;
    else if (key === 'samesite') cookie.sameSite = parseSameSite(value);
  }
  // Max-Age wins over Expires.
  if (maxAge !== undefined) cookie.expires = maxAge <= 0 ? 0 : Date.now() + maxAge * 1000;
  if (cookie.sameSite === 'none' && !cookie.secure) return undefined;
  if (cookie.name.startsWith('__Host-') && (!cookie.secure || !cookie.hostOnly || cookie.path !== '/')) return undefined;
  if (cookie.name.startsWith('__Secure-') && !cookie.secure) return undefined;
  return cookie;
}

function parseSameSite(value: string): Cookie['sameSite'] {
  const lower = value.toLowerCase();
  return lower === 'strict' || lower === 'lax' || lower === 'none' ? lower : undefined;
}

function defaultPath(url: URL): string {
  const path = url.pathname;
  const lastSlash = path.lastIndexOf('/');
  return lastSlash <= 0 ? '/' : path.slice(0, lastSlash);
}

function domainMatches(hostname: string, cookie: Pick<Cookie, 'domain' | 'hostOnly'>): boolean {
  if (hostname === cookie.domain) return true;
  return !cookie.hostOnly && hostname.endsWith(`.${cookie.domain}`);
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

/** Browsers treat a cookie without SameSite as Lax. */
function sameSiteAllows(cookie: Cookie, context: RequestContext): boolean {
  if (!context.crossSite || cookie.sameSite === 'none') return true;
  if (cookie.sameSite === 'strict') return false;
  return context.topLevelSafe;
}

function serializeCookies(cookies: Cookie[]): string {
  return cookies.map((cookie) => `${cookie.name}=${cookie.value}`).join('; ');
}

// --- sites and fetch metadata ----------------------------------------------------------------

/**
 * The site of a URL. Without a public-suffix list, the host stands in for the registrable domain:
 * right for 127.0.0.1 and localhost (ports do not matter, as in browsers).
 */
function siteOf(url: URL): string {
  return `${url.protocol}//${url.hostname}`;
}

/** Cross-site when the initiator, or any earlier URL of the redirect chain, is another site. */
function isCrossSite(url: URL, initiator: URL | undefined, redirectedFrom: URL[]): boolean {
  const site = siteOf(url);
  const earlier = initiator ? [initiator, ...redirectedFrom] : redirectedFrom;
  return earlier.some((previous) => siteOf(previous) !== site);
}

function addFetchMetadata(headers: Headers, url: URL, initiator: URL, method: string, redirectedFrom: URL[]): void {
  const everyOrigin = [initiator, ...redirectedFrom].map((previous) => previous.origin);
  const secFetchSite = everyOrigin.every((origin) => origin === url.origin)
    ? 'same-origin'
    : isCrossSite(url, initiator, redirectedFrom)
      ? 'cross-site'
      : 'same-site';
  if (!headers.has('sec-fetch-site')) headers.set('sec-fetch-site', secFetchSite);
  // A browser sends Origin on POST; after a cross-origin redirect it becomes the opaque "null".
  if (method !== 'GET' && method !== 'HEAD' && !headers.has('origin')) {
    const tainted = redirectedFrom.some((previous) => previous.origin !== initiator.origin);
    headers.set('origin', tainted ? 'null' : initiator.origin);
  }
}

function redirectInit(init: AgentInit, status: number): AgentInit {
  const method = (init.method ?? 'GET').toUpperCase();
  const keepsMethod = status === 307 || status === 308 || (status !== 303 && method !== 'POST') || method === 'HEAD';
  if (keepsMethod) return init;
  const headers = new Headers(init.headers);
  headers.delete('content-type');
  headers.delete('content-length');
  const { body: _dropped, ...rest } = init;
  return { ...rest, method: 'GET', headers };
}

// --- HTML forms ------------------------------------------------------------------------------

interface Page {
  html: string;
  forms: HtmlForm[];
  /** The page submits its first form by script on load (oidc-provider's form_post pages). */
  autoSubmits: boolean;
}

async function readPage(result: FollowResult): Promise<Page> {
  const type = result.response.headers.get('content-type') ?? '';
  const html = type.includes('html') ? await result.response.clone().text() : '';
  return {
    html,
    forms: parseForms(html, result.url),
    autoSubmits: /document\.forms\[0\]\.submit\(\)/.test(html),
  };
}

/** Finds the forms of an HTML page with regular expressions; enough for server-rendered pages. */
export function parseForms(html: string, pageUrl: string | URL): HtmlForm[] {
  const base = new URL(pageUrl);
  const forms: HtmlForm[] = [];
  for (const match of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const attributes = parseAttributes(match[1] ?? '');
    const inner = match[2] ?? '';
    const form: HtmlForm = {
      action: new URL(attributes.action ?? '', base),
      method: (attributes.method ?? 'get').toUpperCase() === 'POST' ? 'POST' : 'GET',
      fields: parseFields(inner),
      buttons: parseButtons(inner),
    };
    if (attributes.id !== undefined) form.id = attributes.id;
    forms.push(form);
  }
  attachOutsideButtons(html, forms);
  return forms;
}

function parseFields(html: string): HtmlForm['fields'] {
  const fields: HtmlForm['fields'] = [];
  for (const match of html.matchAll(/<(input|textarea|select)\b([^>]*)>([\s\S]*?<\/\1>)?/gi)) {
    const tag = (match[1] ?? '').toLowerCase();
    const attributes = parseAttributes(match[2] ?? '');
    const type = tag === 'input' ? (attributes.type ?? 'text').toLowerCase() : tag;
    if (attributes.name === undefined || ['submit', 'button', 'image', 'reset', 'file'].includes(type)) continue;
    if ((type === 'checkbox' || type === 'radio') && !('checked' in attributes)) continue;
    fields.push({ name: attributes.name, value: fieldValue(tag, attributes, match[3] ?? ''), type });
  }
  return fields;
}

function parseButtons(html: string): HtmlForm['buttons'] {
  const buttons: HtmlForm['buttons'] = [];
  for (const match of html.matchAll(/<button\b([^>]*)>([\s\S]*?)<\/button>|<input\b([^>]*type=["']?submit[^>]*)>/gi)) {
    const attributes = parseAttributes(match[1] ?? match[3] ?? '');
    if ((attributes.type ?? 'submit').toLowerCase() !== 'submit') continue;
    buttons.push(toButton(attributes, match[2] === undefined ? (attributes.value ?? '') : textOf(match[2])));
  }
  return buttons;
}

/** Buttons may live outside their form and name it with `form="id"` (oidc-provider's logout page). */
function attachOutsideButtons(html: string, forms: HtmlForm[]): void {
  const outside = html.replace(/<form\b[^>]*>[\s\S]*?<\/form>/gi, '');
  for (const match of outside.matchAll(/<button\b([^>]*)>([\s\S]*?)<\/button>/gi)) {
    const attributes = parseAttributes(match[1] ?? '');
    const form = forms.find((candidate) => candidate.id !== undefined && candidate.id === attributes.form);
    if (!form || (attributes.type ?? 'submit').toLowerCase() !== 'submit') continue;
    form.buttons.push(toButton(attributes, textOf(match[2] ?? '')));
  }
}

function toButton(attributes: Record<string, string>, label: string): HtmlForm['buttons'][number] {
  const button: HtmlForm['buttons'][number] = { value: attributes.value ?? '', label };
  if (attributes.name !== undefined) button.name = attributes.name;
  return button;
}

function fieldValue(tag: string, attributes: Record<string, string>, content: string): string {
  if (tag === 'textarea') return decodeEntities(content.replace(/<\/textarea>$/i, ''));
  if (tag === 'select') {
    const options = [...content.matchAll(/<option\b([^>]*)>([^<]*)/gi)];
    const chosen = options.find((option) => /\bselected\b/i.test(option[1] ?? '')) ?? options[0];
    if (!chosen) return '';
    return parseAttributes(chosen[1] ?? '').value ?? decodeEntities((chosen[2] ?? '').trim());
  }
  return attributes.value ?? (attributes.type?.toLowerCase() === 'checkbox' ? 'on' : '');
}

function parseAttributes(source: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const match of source.matchAll(/([^\s=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g)) {
    const name = (match[1] ?? '').toLowerCase();
    attributes[name] = decodeEntities(match[2] ?? match[3] ?? match[4] ?? '');
  }
  return attributes;
}

function textOf(html: string): string {
  return decodeEntities(html.replace(/<[^>]*>/g, '').trim());
}

function decodeEntities(text: string): string {
  return text.replace(/&(#x[\da-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_entity, code: string) => {
    const lower = code.toLowerCase();
    if (lower.startsWith('#x')) return String.fromCodePoint(Number.parseInt(lower.slice(2), 16));
    if (lower.startsWith('#')) return String.fromCodePoint(Number(lower.slice(1)));
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[lower] ?? '';
  });
}

function isLoginForm(form: HtmlForm): boolean {
  return form.fields.some((field) => field.type === 'password');
}

function isConsentForm(form: HtmlForm): boolean {
  return form.fields.some((field) => field.name === 'prompt' && field.value === 'consent');
}

function credentialsFor(form: HtmlForm, credentials: { login: string; password: string }): Record<string, string> {
  const loginField =
    form.fields.find((field) => field.name === 'login') ?? form.fields.find((field) => field.type === 'text' || field.type === 'email');
  const passwordField = form.fields.find((field) => field.type === 'password');
  return {
    [loginField?.name ?? 'login']: credentials.login,
    [passwordField?.name ?? 'password']: credentials.password,
  };
}
