import express, { type Express } from 'express';
import { oidcSession, requireAuth } from '../../src/adapters/express.js';
import type { Auth, Session } from '../../src/index.js';

export interface DemoInfo {
  /** Shown on the page: `cookie` or `server`. */
  mode: string;
  /** Shown on the page: `memory`, `redis`, `postgres`. */
  store: string;
  /** A line about the provider, e.g. "embedded development provider at http://127.0.0.1:3001". */
  providerNote: string;
  /** Demo users and passwords to list on the page when the embedded provider runs. */
  users?: ReadonlyArray<{ login: string; password: string }>;
}

/**
 * The demo app: `/` shows who is signed in and the sign-out buttons, `/api/me` the
 * JSON contract of DESIGN.md §4, `/private` a page behind `requireAuth()`.
 */
export function createDemoApp(auth: Auth, info: DemoInfo): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(oidcSession(auth));

  app.get('/', async (req, res) => {
    const csrfToken = await auth.csrfToken(req.headers.cookie);
    res
      .set('Cache-Control', 'no-store')
      .type('html')
      .send(renderHome(auth, req.auth ?? null, csrfToken, info));
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
    res
      .set('Cache-Control', 'no-store')
      .type('html')
      .send(
        page(
          'Private page',
          `<p>Only signed-in users see this, ${esc(req.auth?.user.name ?? req.auth?.user.sub)}.</p><p><a href="/">Home</a></p>`,
        ),
      );
  });

  return app;
}

function renderHome(auth: Auth, session: Session | null, csrfToken: string, info: DemoInfo): string {
  const base = auth.config.basePath;
  const meta = `<p class="meta">Session mode <b>${esc(info.mode)}</b> · store <b>${esc(info.store)}</b> · ${esc(info.providerNote)}</p>`;
  if (!session) {
    const providers = Object.values(auth.config.providers)
      .map(
        (p) =>
          `<a class="button primary" href="${esc(`${base}/login?provider=${encodeURIComponent(p.name)}&returnTo=/`)}">Sign in with ${esc(p.displayName)}</a>`,
      )
      .join(' ');
    const users = info.users?.length
      ? `<p class="meta">Demo users: ${info.users.map((u) => `<code>${esc(u.login)}</code> / <code>${esc(u.password)}</code>`).join(', ')}</p>`
      : '';
    return page('Not signed in', `${meta}<p>${providers}</p>${users}<p><a href="/private">A private page</a> (redirects to sign-in)</p>`);
  }
  const form = (federated: boolean, label: string, cls: string) =>
    `<form method="post" action="${esc(`${base}/logout`)}"><input type="hidden" name="csrfToken" value="${esc(csrfToken)}">` +
    `${federated ? '' : '<input type="hidden" name="federated" value="false">'}<button class="${cls}" type="submit">${esc(label)}</button></form>`;
  const tokens = Object.entries(session.tokens)
    .filter(([, v]) => typeof v === 'string')
    .map(([k, v]) => `<h3>${esc(k)} token</h3>${decoded(v as string)}`)
    .join('');
  return page(
    `Signed in as ${String(session.user.name ?? session.user.sub)}`,
    `${meta}<p class="meta">Provider <b>${esc(session.provider)}</b> · since ${time(session.createdAt)} · expires ${time(session.expiresAt)}${session.sid ? ` · sid <code>${esc(session.sid)}</code>` : ''}</p>
<div class="actions">${form(false, 'Sign out here', 'button')}${form(true, 'Sign out everywhere', 'button primary')}</div>
<h2>Claims</h2><pre>${esc(JSON.stringify(session.user, null, 2))}</pre>
<h2>Exposed tokens</h2>${tokens || '<p class="meta">None (see exposeTokens).</p>'}
<p><a href="/api/me">/api/me</a> · <a href="/private">a private page</a></p>`,
  );
}

function decoded(token: string): string {
  const [, payload] = token.split('.');
  let claims = '(not a JWT)';
  try {
    claims = JSON.stringify(JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')), null, 2);
  } catch {
    // opaque access tokens are fine: show the value only
  }
  return `<pre class="token">${esc(token.slice(0, 60))}…</pre><pre>${esc(claims)}</pre>`;
}

function time(epochSeconds: number): string {
  return `<time datetime="${new Date(epochSeconds * 1000).toISOString()}">${esc(new Date(epochSeconds * 1000).toISOString().replace('T', ' ').slice(0, 19))} UTC</time>`;
}

function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(title)} · oidc-session demo</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;color:#1f2328}
.meta{color:#59636e;font-size:.9rem}pre{background:#f6f8fa;padding:.75rem;border-radius:6px;overflow:auto;font-size:.8rem}
.token{white-space:nowrap}.actions{display:flex;gap:.5rem;margin:1rem 0}
.button{font:inherit;padding:.5rem 1rem;border-radius:6px;border:1px solid #d1d9e0;background:#f6f8fa;color:inherit;text-decoration:none;cursor:pointer;display:inline-block}
.primary{background:#1f6feb;color:#fff;border-color:#1f6feb}</style></head>
<body><p class="meta">oidc-session demo</p><h1>${esc(title)}</h1>${body}</body></html>`;
}
