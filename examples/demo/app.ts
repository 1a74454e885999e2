import { AsyncLocalStorage } from 'node:async_hooks';
import express, { type Express, type Response } from 'express';
import { oidcSession, requireAuth } from '../../src/adapters/express.js';
import type { Auth, AuthOptions, LogoutReason, ProviderLogoutEvent, Session } from '../../src/index.js';

export interface DemoInfo {
  /** Shown on the page: `cookie` or `server`. */
  mode: string;
  /** Shown on the page: `memory`, `redis`, `postgres`. */
  store: string;
  /** A line about the provider, e.g. "embedded development provider at http://127.0.0.1:3001". */
  providerNote: string;
  /** Demo users and passwords to list on the page when the embedded provider runs. */
  users?: ReadonlyArray<{ login: string; password: string }>;
  /**
   * The logouts the page shows, live. Pass `events.hooks` to `createAuth()` too, or the log
   * hears nothing. Without it the page has no events panel.
   */
  events?: LogoutLog;
  /** A link to the provider's own sign-out page, to watch a back-channel logout arrive. */
  providerSignOutUrl?: string;
}

/** One logout the app heard of, as the events panel shows it. */
export interface LogoutEntry {
  id: number;
  /** Epoch milliseconds. */
  at: number;
  kind: LogoutReason;
  /** Short name of the kind, e.g. "Back-channel". */
  label: string;
  /** `session`: one session of this app ended (onLogout). `notice`: the provider told us (onProviderLogout). */
  source: 'session' | 'notice';
  /** What ended, in one sentence. */
  what: string;
}

export interface LogoutLog {
  /** Spread into `createAuth()` options. */
  readonly hooks: Required<Pick<AuthOptions, 'onLogout' | 'onProviderLogout'>>;
  /** Newest first. */
  entries(): LogoutEntry[];
  /** Called with every entry (newest first) after each new one; returns the unsubscribe function. */
  subscribe(listener: (entries: LogoutEntry[]) => void): () => void;
}

const LABELS: Record<LogoutReason, string> = {
  local: 'Local',
  'rp-initiated': 'RP-initiated',
  everywhere: 'Everywhere',
  'back-channel': 'Back-channel',
  'front-channel': 'Front-channel',
  expired: 'Expired',
  'refresh-failed': 'Refresh failed',
};

/**
 * Set while the app handles a "Sign out everywhere" form. The library reports the session that
 * asked with the transport of its own sign-out ('rp-initiated' or 'local'); the panel says what
 * the person chose. The form marks itself in its action's query: the body is the library's to read.
 */
const signingOutEverywhere = new AsyncLocalStorage<true>();
const EVERYWHERE_QUERY = 'everywhere';

/**
 * A bounded, in-memory log of logouts for the demo page, fed by the library's hooks.
 * It shows every user's logouts to every visitor: fine on a developer's machine, not in an app.
 */
export function createLogoutLog(limit = 20): LogoutLog {
  const entries: LogoutEntry[] = [];
  const listeners = new Set<(entries: LogoutEntry[]) => void>();
  let nextId = 1;
  const add = (kind: LogoutReason, source: LogoutEntry['source'], what: string) => {
    entries.unshift({ id: nextId++, at: Date.now(), kind, label: LABELS[kind], source, what });
    entries.length = Math.min(entries.length, limit);
    for (const listener of listeners) listener(entries.slice());
  };
  return {
    hooks: {
      onLogout: (session, reason) => {
        if (reason !== 'everywhere' && signingOutEverywhere.getStore())
          add('everywhere', 'session', describeAskedEverywhere(session, reason));
        else add(reason, 'session', describeEndedSession(session, reason));
      },
      onProviderLogout: (event) => add(event.channel, 'notice', describeProviderLogout(event)),
    },
    entries: () => entries.slice(),
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
}

function describeEndedSession(session: Session, reason: LogoutReason): string {
  const who = `${displayName(session)}'s session${session.sid ? ` (sid ${shortId(session.sid)})` : ''}`;
  switch (reason) {
    case 'local':
      return `${who} ended in this app only; the provider session lives on.`;
    case 'rp-initiated':
      return `${who} ended here, then the browser went to the provider to end its session too.`;
    case 'expired':
      return `${who} reached its idle or absolute lifetime.`;
    case 'everywhere':
      return `${who} ended: the user signed out everywhere from another device.`;
    case 'back-channel':
      return `${who} ended: a logout token from the provider named it.`;
    case 'front-channel':
      return `${who} ended: the provider's front-channel iframe named it.`;
    case 'refresh-failed':
      return `${who} ended: the provider refused to refresh its tokens.`;
  }
}

/** The session whose user pressed "Sign out everywhere": it ended first, then every other one. */
function describeAskedEverywhere(session: Session, reason: LogoutReason): string {
  const who = `${displayName(session)}'s session${session.sid ? ` (sid ${shortId(session.sid)})` : ''}`;
  const then = reason === 'rp-initiated' ? ', then the browser went to the provider' : '; the provider session lives on';
  return `${who} ended here: the user signed out everywhere; every other session of theirs ends too${then}.`;
}

function describeProviderLogout(event: ProviderLogoutEvent): string {
  const how = event.channel === 'back-channel' ? 'Logout token' : 'Front-channel request';
  const target = [event.sid ? `sid ${shortId(event.sid)}` : '', event.sub ? `sub ${event.sub}` : ''].filter(Boolean).join(', ');
  const ended =
    event.ended === null
      ? 'Tombstone written; matching cookies end at their next request.'
      : `${event.ended} stored session${event.ended === 1 ? '' : 's'} ended.`;
  return `${how} from ${event.provider} for ${target || 'no session'}. ${ended}`;
}

function displayName(session: Session): string {
  return typeof session.user.name === 'string' ? session.user.name : session.sub;
}

function shortId(id: string): string {
  return id.length > 10 ? `${id.slice(0, 8)}…` : id;
}

/** `?signedOut=…` on `/`: the returnTo the sign-out forms send, so the page can say what happened. */
const SIGNED_OUT_NOTES: Record<string, string> = {
  here: 'You signed out of this app. The provider still remembers you: signing in again will not ask for your password.',
  provider: 'You signed out of this app and of the provider. Signing in again asks for your password.',
  everywhere: 'You signed out of this app on every device, and of the provider. Signing in again asks for your password.',
};

/**
 * The demo app: `/` shows who is signed in, the sign-out buttons and the logout events,
 * `/api/me` the JSON contract of the README's "Routes", `/private` a page behind `requireAuth()`,
 * `/events` the events as server-sent events and `/api/events` as JSON.
 */
export function createDemoApp(auth: Auth, info: DemoInfo): Express {
  const app = express();
  app.disable('x-powered-by');
  app.post(`${auth.config.basePath}/logout`, (req, _res, next) => {
    if (Object.hasOwn(req.query, EVERYWHERE_QUERY)) signingOutEverywhere.run(true, next);
    else next();
  });
  app.use(oidcSession(auth));
  // Browsers ask on every page; there is no icon, and nothing to ask again for a day.
  app.get('/favicon.ico', (_req, res) => void res.set('Cache-Control', 'public, max-age=86400').status(204).end());

  app.get('/', async (req, res) => {
    const csrfToken = await auth.csrfToken(req.headers.cookie);
    const signedOut = String(req.query.signedOut);
    const note = !req.auth && Object.hasOwn(SIGNED_OUT_NOTES, signedOut) ? SIGNED_OUT_NOTES[signedOut] : undefined;
    sendPage(res, renderHome(auth, req.auth ?? null, csrfToken, info, note));
  });

  app.get('/api/me', (req, res) => {
    res.set('Cache-Control', 'no-store');
    const session = req.auth;
    if (!session) {
      res.status(401).json({ user: null });
      return;
    }
    res.json({ user: session.user, provider: session.provider, tokens: session.tokens });
  });

  app.get('/private', requireAuth(), (req, res) => {
    const name = req.auth ? displayName(req.auth) : '';
    sendPage(
      res,
      page(
        'Private page',
        `<main class="narrow"><section class="card"><h1>Private page</h1><p>Only signed-in users see this, ${esc(name)}.</p><p><a href="/">Home</a></p></section></main>`,
        { signedIn: true },
      ),
    );
  });

  if (info.events) serveEvents(app, info.events);
  app.get('/assets/demo.css', (_req, res) => void res.set('Cache-Control', 'no-cache').type('css').send(CSS));
  app.get('/assets/demo.js', (_req, res) => void res.set('Cache-Control', 'no-cache').type('js').send(SCRIPT));
  return app;
}

function serveEvents(app: Express, events: LogoutLog): void {
  app.get('/api/events', (_req, res) => void res.set('Cache-Control', 'no-store').json({ events: events.entries() }));
  app.get('/events', (req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' });
    const send = (entries: LogoutEntry[]) => res.write(`data: ${JSON.stringify(entries)}\n\n`);
    res.write('retry: 2000\n\n');
    send(events.entries());
    const unsubscribe = events.subscribe(send);
    // A comment line now and then keeps proxies from closing an idle stream.
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 25_000).unref();
    req.on('close', () => {
      clearInterval(keepAlive);
      unsubscribe();
    });
  });
}

/**
 * No inline script or style. No `form-action` either: Chromium checks it against every redirect
 * after the sign-out POST too, and the end-session endpoint may live on another origin than the
 * issuer (Cognito's hosted UI, an Auth0 custom domain), known only after discovery.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

function sendPage(res: Response, html: string): void {
  res
    .set({
      'Cache-Control': 'no-store',
      'Content-Security-Policy': CONTENT_SECURITY_POLICY,
      // Not `no-referrer`: with it Chromium sends `Origin: null` on the sign-out form's POST,
      // which the library's same-origin check refuses. `same-origin` still tells other sites nothing.
      'Referrer-Policy': 'same-origin',
      'X-Content-Type-Options': 'nosniff',
    })
    .type('html')
    .send(html);
}

// --- pages -----------------------------------------------------------------------------------

function renderHome(auth: Auth, session: Session | null, csrfToken: string, info: DemoInfo, note: string | undefined): string {
  const main = session ? signedInColumn(auth, session, csrfToken, info) : signedOutColumn(auth, info, note);
  const title = session ? `Signed in as ${displayName(session)}` : 'Not signed in';
  return page(title, `<main class="layout"><div class="column">${main}</div>${info.events ? eventsPanel(info.events) : ''}</main>`, {
    signedIn: session !== null,
    header: `${esc(info.mode)} sessions · ${esc(info.store)} store`,
  });
}

function signedOutColumn(auth: Auth, info: DemoInfo, note: string | undefined): string {
  const base = auth.config.basePath;
  const buttons = Object.values(auth.config.providers)
    .map(
      (p) =>
        `<a class="button primary" href="${esc(`${base}/login?provider=${encodeURIComponent(p.name)}&returnTo=/`)}">Sign in with ${esc(p.displayName)}</a>`,
    )
    .join(' ');
  const users = info.users?.length
    ? `<h2>Demo accounts</h2><table class="kv"><thead><tr><th>login</th><th>password</th></tr></thead><tbody>${info.users
        .map((u) => `<tr><td><code>${esc(u.login)}</code></td><td><code>${esc(u.password)}</code></td></tr>`)
        .join('')}</tbody></table>`
    : '';
  return `${note ? `<p class="notice" role="status">${esc(note)}</p>` : ''}
<section class="card signed-out"><h1>Not signed in</h1>
<p>Sign in, then try each kind of sign-out and watch the events panel.</p>
<p class="muted">${esc(info.providerNote)}</p>
<div class="actions">${buttons}</div>
${users}
<p class="muted"><a href="/private">A private page</a> sends you to sign in first.</p></section>`;
}

function signedInColumn(auth: Auth, session: Session, csrfToken: string, info: DemoInfo): string {
  const provider = auth.config.providers[session.provider];
  const email = typeof session.user.email === 'string' ? `<p class="muted">${esc(session.user.email)}</p>` : '';
  const facts: Array<[string, string]> = [
    [
      'Provider',
      `<b>${esc(provider?.displayName ?? session.provider)}</b> <span class="muted">(${esc(session.provider)}, ${esc(session.iss)})</span>`,
    ],
    ['Session', `<b>${esc(info.mode)}</b> mode, <b>${esc(info.store)}</b> store`],
    ['Began', time(session.createdAt)],
    ['Expires', expiry(auth, session)],
    ['Provider session', session.sid ? `<code>${esc(session.sid)}</code>` : '<span class="muted">no sid</span>'],
  ];
  return `<p class="notice ended" id="session-ended" role="status" hidden>This session has ended (a logout arrived). <a href="/">Reload</a></p>
<section class="card who">
<div class="avatar" aria-hidden="true">${esc(displayName(session).slice(0, 1).toUpperCase())}</div>
<div><h1>${esc(displayName(session))}</h1>${email}</div>
<dl class="facts">${facts.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl>
${signOutActions(auth, csrfToken, info)}
</section>
<section class="card"><h2>Claims</h2>${claimsTable(session.user)}</section>
<section class="card"><h2>Exposed tokens</h2>${tokensSection(session)}</section>
<p class="muted links"><a href="/api/me">/api/me</a> · <a href="/private">a private page</a> · <a href="${esc(`${auth.config.basePath}/logout`)}">the sign-out confirmation page</a></p>`;
}

/** The three sign-outs an app can start; the forms differ only in `federated` and `scope` (and a mark for the events panel). */
const SIGN_OUTS = [
  { label: 'Sign out here', fields: { federated: 'false' }, note: 'here', hint: 'Local: this app, this browser.', query: '' },
  { label: 'Sign out of the provider too', fields: {}, note: 'provider', hint: 'RP-initiated: this app and the provider.', query: '' },
  {
    label: 'Sign out everywhere',
    fields: { scope: 'all' },
    note: 'everywhere',
    hint: 'Every device of yours, then the provider.',
    query: `?${EVERYWHERE_QUERY}`,
  },
] as const;

/** `expiresAt` is the idle limit when that comes first: say so, and when the session ends at the latest. */
function expiry(auth: Auth, session: Session): string {
  const latest = session.createdAt + auth.config.absoluteDuration;
  if (session.expiresAt >= latest) return time(session.expiresAt);
  return `${time(session.expiresAt)} <span class="muted">if idle; at the latest ${time(latest)}</span>`;
}

function signOutActions(auth: Auth, csrfToken: string, info: DemoInfo): string {
  const action = `${auth.config.basePath}/logout`;
  const hidden = (name: string, value: string) => `<input type="hidden" name="${esc(name)}" value="${esc(value)}">`;
  const forms = SIGN_OUTS.map(
    ({ label, fields, note, hint, query }, i) =>
      `<form method="post" action="${esc(action + query)}" class="signout">${hidden('csrfToken', csrfToken)}${hidden('returnTo', `/?signedOut=${note}`)}` +
      `${Object.entries(fields)
        .map(([name, value]) => hidden(name, value))
        .join(
          '',
        )}<button class="button${i === 2 ? ' primary' : ''}" type="submit">${esc(label)}</button><small>${esc(hint)}</small></form>`,
  ).join('');
  const atProvider = info.providerSignOutUrl
    ? `<p class="muted">Or <a href="${esc(info.providerSignOutUrl)}" target="_blank" rel="noopener">sign out at the provider itself</a> (new tab) and watch its back-channel logout arrive in the panel.</p>`
    : '';
  return `<div class="signouts"><h2>Sign out</h2><div class="actions">${forms}</div>${atProvider}</div>`;
}

function claimsTable(claims: Record<string, unknown>): string {
  const rows = Object.entries(claims)
    .map(([name, value]) => `<tr><th>${esc(name)}</th><td>${claimValue(name, value)}</td></tr>`)
    .join('');
  return `<table class="kv"><tbody>${rows}</tbody></table>`;
}

const TIME_CLAIMS = new Set(['exp', 'iat', 'nbf', 'auth_time', 'updated_at']);

function claimValue(name: string, value: unknown): string {
  if (TIME_CLAIMS.has(name) && typeof value === 'number') return `${time(value)} <span class="muted">(${value})</span>`;
  if (typeof value === 'string') return esc(value);
  return `<code>${esc(JSON.stringify(value))}</code>`;
}

function tokensSection(session: Session): string {
  const { tokens } = session;
  const parts: string[] = [];
  for (const [kind, token] of [
    ['ID token', tokens.id],
    ['Access token', tokens.access],
    ['Refresh token', tokens.refresh],
  ] as const) {
    if (!token) continue;
    const claims = decodeJwt(token);
    const expiry =
      kind === 'Access token' && tokens.accessExpiresAt ? ` <span class="muted">expires ${time(tokens.accessExpiresAt)}</span>` : '';
    parts.push(
      `<h3>${kind}${expiry}</h3><p class="token"><code>${esc(token.slice(0, 48))}…</code> <span class="muted">${token.length} chars</span></p>` +
        (claims ? claimsTable(claims) : '<p class="muted">Opaque: not a JWT, nothing to decode.</p>'),
    );
  }
  return parts.join('') || '<p class="muted">None: see the <code>exposeTokens</code> option.</p>';
}

function decodeJwt(token: string): Record<string, unknown> | null {
  const [, payload] = token.split('.');
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8'));
    return claims !== null && typeof claims === 'object' && !Array.isArray(claims) ? (claims as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function eventsPanel(events: LogoutLog): string {
  const entries = events.entries();
  return `<aside class="card events" aria-labelledby="events-title">
<h2 id="events-title">Logout events <span class="live" title="Updated live">live</span></h2>
<p class="muted">What this app heard, newest first (times in UTC): its own sign-outs and the provider's back- and front-channel calls.</p>
<ol id="logout-events">${entries.map(eventItem).join('')}</ol>
<p class="muted empty" id="no-events"${entries.length ? ' hidden' : ''}>No logouts yet.</p>
</aside>`;
}

const SOURCES: Record<LogoutEntry['source'], string> = { session: 'session ended', notice: 'provider notice' };

/** Keep in step with `item()` in SCRIPT, which draws the same entry from JSON. */
function eventItem(entry: LogoutEntry): string {
  return `<li class="event kind-${esc(entry.kind)}"><span class="badge">${esc(entry.label)}</span> <span class="source">${SOURCES[entry.source]}</span> <time datetime="${new Date(entry.at).toISOString()}">${esc(clock(entry.at))}</time><p>${esc(entry.what)}</p></li>`;
}

function clock(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(11, 19);
}

function time(epochSeconds: number): string {
  const iso = new Date(epochSeconds * 1000).toISOString();
  return `<time datetime="${iso}">${esc(iso.replace('T', ' ').slice(0, 19))} UTC</time>`;
}

function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string, options: { signedIn?: boolean; header?: string } = {}): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)} · oidc-session demo</title><link rel="stylesheet" href="/assets/demo.css"><script src="/assets/demo.js" defer></script></head>
<body data-signed-in="${options.signedIn === true}"><header class="top"><a href="/" class="brand">oidc-session <span>demo</span></a><span class="muted">${options.header ?? ''}</span></header>
${body}</body></html>`;
}

const CSS = `*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2328;background:#f3f4f6}
a{color:#0969da}code{font:.85em ui-monospace,SFMono-Regular,Menlo,monospace;background:#eff1f3;padding:.1em .3em;border-radius:4px;word-break:break-all}
h1{font-size:1.5rem;margin:0}h2{font-size:1.05rem;margin:0 0 .75rem}h3{font-size:.95rem;margin:1rem 0 .25rem}
.top{display:flex;justify-content:space-between;align-items:center;padding:.75rem 1.5rem;background:#fff;border-bottom:1px solid #d1d9e0}
.brand{font-weight:600;color:#1f2328;text-decoration:none}.brand span{color:#59636e;font-weight:400}
.layout{display:grid;grid-template-columns:minmax(0,1fr) 22rem;gap:1.25rem;max-width:72rem;margin:1.5rem auto;padding:0 1.5rem;align-items:start}
.narrow{max-width:40rem;margin:1.5rem auto;padding:0 1.5rem}
@media (max-width:60rem){.layout{grid-template-columns:1fr}}
.column{display:grid;gap:1.25rem;min-width:0}
.card{background:#fff;border:1px solid #d1d9e0;border-radius:10px;padding:1.25rem 1.5rem}
.muted{color:#59636e;font-size:.88rem}
.who{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem;align-items:center}
.who .muted{margin:.1rem 0 0}.who .facts,.who .signouts{grid-column:1/-1}
.signouts{border-top:1px solid #eaeef2;padding-top:1rem;margin-top:.5rem}.signouts h2{margin:0}.signouts .muted{margin:.75rem 0 0}
.avatar{width:3.5rem;height:3.5rem;border-radius:50%;background:linear-gradient(135deg,#1f6feb,#8250df);color:#fff;display:grid;place-items:center;font-size:1.5rem;font-weight:600}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem;margin:1rem 0 .5rem}.facts dt{color:#59636e}.facts dd{margin:0;min-width:0}
.actions{display:flex;flex-wrap:wrap;gap:.75rem;margin:.75rem 0 1.25rem}
.signouts .actions{display:grid;grid-template-columns:repeat(auto-fit,minmax(13.5rem,1fr));margin-bottom:0}
.signouts .button{white-space:nowrap;padding:.5rem .6rem;font-size:.93rem}
.signout{display:flex;flex-direction:column;gap:.3rem;margin:0}.signout small{color:#59636e;font-size:.78rem;text-align:center}
.signed-out .kv{width:auto;min-width:16rem}.signed-out h2{margin-top:.5rem}
.button{font:inherit;font-weight:500;padding:.5rem 1rem;border-radius:6px;border:1px solid #d1d9e0;background:#f6f8fa;color:#1f2328;text-decoration:none;cursor:pointer;display:inline-block;text-align:center}
.button:hover{background:#eaeef2}.primary{background:#1f6feb;color:#fff;border-color:#1f6feb}.primary:hover{background:#1a5fd0}
.kv{border-collapse:collapse;width:100%;font-size:.88rem}.kv th,.kv td{text-align:left;vertical-align:top;padding:.3rem .5rem;border-top:1px solid #eaeef2}
.kv th{color:#59636e;font-weight:500;white-space:nowrap}.kv tbody th{width:1%}.kv td{word-break:break-word}
.token{margin:.25rem 0}
.notice{background:#ddf4ff;border:1px solid #54aeff;border-radius:8px;padding:.75rem 1rem;margin:0}
.notice.ended{background:#fff8c5;border-color:#d4a72c}
.events{position:sticky;top:1rem}.events ol{list-style:none;margin:0;padding:0;display:grid;gap:.6rem}
.event{border-left:3px solid #8c959f;padding:.1rem 0 .1rem .7rem;display:flex;flex-wrap:wrap;align-items:baseline;gap:0 .4rem}
.event time{margin-left:auto}.event p{margin:.15rem 0 0;font-size:.85rem;flex-basis:100%}
.event time,.event .source{color:#59636e;font-size:.78rem}
.badge{display:inline-block;font-size:.75rem;font-weight:600;padding:.05rem .5rem;border-radius:999px;background:#eaeef2}
.kind-local{border-color:#8c959f}.kind-rp-initiated{border-color:#1f6feb}.kind-rp-initiated .badge{background:#ddf4ff;color:#0550ae}
.kind-everywhere{border-color:#1a7f37}.kind-everywhere .badge{background:#dafbe1;color:#116329}
.kind-back-channel{border-color:#8250df}.kind-back-channel .badge{background:#fbefff;color:#6639ba}
.kind-front-channel{border-color:#bf3989}.kind-front-channel .badge{background:#ffeff7;color:#99286e}
.kind-expired,.kind-refresh-failed{border-color:#9a6700}.kind-expired .badge,.kind-refresh-failed .badge{background:#fff8c5;color:#7d4e00}
.live{font-size:.7rem;font-weight:600;color:#1a7f37;text-transform:uppercase;letter-spacing:.05em;margin-left:.4rem}
.live::before{content:"";display:inline-block;width:.5rem;height:.5rem;border-radius:50%;background:#1a7f37;margin-right:.3rem;vertical-align:.05rem}
.links{margin:0}
`;

/** Live events panel: server-sent events from `/events`; no inline script, so the CSP stays strict. */
const SCRIPT = `'use strict';
(() => {
  const list = document.getElementById('logout-events');
  if (!list || !('EventSource' in window)) return;
  const empty = document.getElementById('no-events');
  const clock = (ms) => new Date(ms).toISOString().slice(11, 19);
  const item = (entry) => {
    const li = document.createElement('li');
    li.className = 'event kind-' + entry.kind;
    const badge = document.createElement('span');
    badge.className = 'badge';
    badge.textContent = entry.label;
    const source = document.createElement('span');
    source.className = 'source';
    source.textContent = entry.source === 'notice' ? 'provider notice' : 'session ended';
    const time = document.createElement('time');
    time.dateTime = new Date(entry.at).toISOString();
    time.textContent = clock(entry.at);
    const what = document.createElement('p');
    what.textContent = entry.what;
    li.append(badge, ' ', source, ' ', time, what);
    return li;
  };
  // A logout may have ended the session this page shows: ask, and say so instead of pretending.
  const checkSession = async () => {
    if (document.body.dataset.signedIn !== 'true') return;
    const response = await fetch('/api/me', { headers: { accept: 'application/json' } });
    if (response.status === 401) document.getElementById('session-ended').hidden = false;
  };
  // The first message is the list as it was when the page connected; later ones bring news.
  let seen = -1;
  let stream = null;
  const connect = () => {
    stream = new EventSource('/events');
    stream.onmessage = (message) => {
      const entries = JSON.parse(message.data);
      list.replaceChildren(...entries.map(item));
      if (empty) empty.hidden = entries.length > 0;
      const latest = entries.length ? entries[0].id : 0;
      if (seen !== -1 && latest > seen) checkSession();
      seen = Math.max(seen, latest);
    };
  };
  // Browsers allow about six connections per host: a hidden tab gives its stream back, and
  // catches up (and re-checks its session) when it is shown again.
  document.addEventListener('visibilitychange', () => {
    if (document.hidden) {
      stream?.close();
      stream = null;
    } else if (!stream) {
      connect();
    }
  });
  if (!document.hidden) connect();
})();
`;
