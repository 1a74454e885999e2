/**
 * Many distinct sessions of one real login, for the scenario where every request carries a
 * cookie the server has not seen lately (the decrypted-session cache misses).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomId } from '../src/core/encoding.js';
import { SessionRegistry } from '../src/core/registry.js';
import { CookieSessions } from '../src/core/session/cookie-session.js';
import { parseCookies, readChunked } from '../src/core/session/cookies.js';
import { decodeSession, decodeTokens } from '../src/core/session/record.js';
import { Sealer } from '../src/core/session/seal.js';
import type { Auth, ResolvedConfig } from '../src/index.js';

/** Writes `count` Cookie headers (one a line), each a copy of the logged-in one under a new session id. */
export async function mintCookies(auth: Auth, secret: string, cookieHeader: string, count: number): Promise<string> {
  const config = { ...auth.config, secrets: [secret] } as unknown as ResolvedConfig;
  if (config.mode !== 'cookie') throw new TypeError('distinct sessions are minted for cookie mode only');
  const sessions = new CookieSessions(config, await Sealer.create([secret]), new SessionRegistry(config));
  // A sealer of its own: the server's must not have these values cached.
  const reader = await Sealer.create([secret]);
  const cookies = parseCookies(cookieHeader);
  const record = decodeSession(await reader.unseal(readChunked(cookies, sessions.sessionName) ?? '', 'session'));
  const tokens = record && decodeTokens(await reader.unseal(readChunked(cookies, sessions.tokensName) ?? '', 'tokens'), record);
  if (!record || !tokens) throw new Error('the logged-in cookie did not unseal: cannot mint copies');
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    // A copy of the login under another id: the same user, another session.
    const id = randomId();
    const setCookies = await sessions.write({ ...record, id }, { ...tokens, sessionId: id }, new Map());
    lines.push(setCookies.map((line) => line.split(';')[0]).join('; '));
  }
  // A file of its own: two scenarios mint at the same time.
  const file = join(await mkdtemp(join(tmpdir(), 'oidc-session-bench-')), 'cookies.txt');
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}
