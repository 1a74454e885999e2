import type { Context } from './context.js';
import { timingSafeEqual } from './encoding.js';

/**
 * Session-bound CSRF token: an HMAC of the presented session cookie's identity (the sealed
 * session's id, or the SHA-256 of a server-mode id), so it needs no cookie of its own, dies
 * with the session, and cannot be computed by another site. The identity is known without the
 * store, so logout still works while the store is down. Signed-out visitors share one token
 * per secret (there is nothing of theirs to protect).
 */
export async function csrfTokenFor(ctx: Context, cookies: Map<string, string>, signedIn: boolean): Promise<string> {
  const binding = signedIn ? await ctx.sessions.binding(cookies) : null;
  return ctx.sealer.mac(`csrf:${binding ?? 'anonymous'}`);
}

export async function checkCsrfToken(
  ctx: Context,
  cookies: Map<string, string>,
  signedIn: boolean,
  token: string | null,
): Promise<boolean> {
  if (!token) return false;
  return timingSafeEqual(token, await csrfTokenFor(ctx, cookies, signedIn));
}

/**
 * A state-changing request must come from our own pages: when the browser sends
 * `Origin` it must be ours, and `Sec-Fetch-Site` must be `same-origin` (or `none`,
 * a user typing or bookmarking). Both headers are absent from old browsers and
 * non-browser clients; the CSRF token still protects those.
 */
export function isSameOriginRequest(ctx: Context, request: Request): boolean {
  const origin = request.headers.get('origin');
  const site = request.headers.get('sec-fetch-site');
  // A page with `Referrer-Policy: no-referrer` makes Chromium send `Origin: null` even for its
  // own forms; Sec-Fetch-Site then still tells same-origin apart (an opaque attacker is cross-site).
  if (origin === 'null') return site === 'same-origin';
  if (origin !== null && origin !== ctx.config.origin) return false;
  return site === null || site === 'same-origin' || site === 'none';
}
