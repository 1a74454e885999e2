/**
 * Mints sessions directly through the core (no provider round trip), for tests that need many
 * sessions with chosen iss/sub/sid/login time — e.g. logout-token validation vectors.
 */

import { Context } from '../../src/core/context.js';
import { newSession } from '../../src/core/session/record.js';
import { Sealer } from '../../src/core/session/seal.js';
import type { ResolvedConfig } from '../../src/core/types.js';
import type { Auth } from '../../src/index.js';

export interface MintOptions {
  provider?: string;
  sub?: string;
  sid?: string | null;
  /** Login time, epoch seconds (default now). */
  createdAt?: number;
  /** Extra user claims. */
  claims?: Record<string, unknown>;
  /** The ID token kept for id_token_hint (default a short fake). */
  idToken?: string;
}

/** Returns the `Cookie` header of a new session, as the browser would send it. */
export async function mintSession(auth: Auth, secret: string, options: MintOptions = {}): Promise<string> {
  const config = { ...auth.config, secrets: [secret] } as unknown as ResolvedConfig;
  const provider = config.providers[options.provider ?? config.defaultProvider]!;
  const record = newSession({
    provider: provider.name,
    issuer: provider.issuer,
    subject: options.sub ?? 'alice',
    sid: options.sid === null ? undefined : (options.sid ?? 'sid-1'),
    user: { sub: options.sub ?? 'alice', ...options.claims },
    idToken: options.idToken ?? 'x.y.z',
    absoluteDuration: config.absoluteDuration,
    createdAt: options.createdAt ?? Math.floor(Date.now() / 1000),
  });
  const ctx = new Context(config, await Sealer.create(config.secrets));
  const setCookies = await ctx.sessions.write(record, { sessionId: record.id, accessToken: 'access' }, new Map());
  return setCookies.map((line) => line.split(';')[0]).join('; ');
}

/** True when a request carrying `cookie` is signed in. */
export async function isSignedIn(auth: Auth, cookie: string): Promise<boolean> {
  return (await auth.readSession(cookie)).session !== null;
}
