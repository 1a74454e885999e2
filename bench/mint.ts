/**
 * Many distinct sessions, for the scenarios where every request carries another user's cookie
 * (no cache of the server's can hold them all). Each is a copy of one real login under a new
 * session id, subject and provider session id, written the way the server writes sessions: sealed
 * into cookies (cookie mode) or stored in the server's own store (server mode on Redis).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Context } from '../src/core/context.js';
import { randomId } from '../src/core/encoding.js';
import { parseCookies } from '../src/core/session/cookies.js';
import type { SessionRecord } from '../src/core/session/record.js';
import { Sealer } from '../src/core/session/seal.js';
import type { Auth, ResolvedConfig } from '../src/index.js';

/** Writes `count` Cookie headers (one a line) to a file of its own and returns its path. */
export async function mintCookies(auth: Auth, secret: string, cookieHeader: string, count: number): Promise<string> {
  const config = { ...auth.config, secrets: [secret] } as unknown as ResolvedConfig;
  // A sealer of its own: the server's must not have these values cached.
  const ctx = new Context(config, await Sealer.create([secret]));
  const cookies = parseCookies(cookieHeader);
  const { record } = await ctx.readSession(cookies, { hooks: false });
  const tokens = record && (await ctx.sessions.readTokens(cookies, record));
  if (!record || !tokens) throw new Error('the logged-in cookie did not read: cannot mint copies');
  const lines: string[] = new Array(count);
  // In batches: server mode writes each session and its index entries to the store.
  for (let start = 0; start < count; start += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, count - start) }, async (_, offset) => {
        const i = start + offset;
        const copy: SessionRecord = Object.freeze({
          ...record,
          id: randomId(),
          subject: `${record.subject}-${i}`,
          sid: `${record.sid ?? 'sid'}-${i}`,
        });
        const setCookies = await ctx.sessions.write(copy, { ...tokens, sessionId: copy.id }, new Map());
        lines[i] = setCookies.map((line) => line.split(';')[0]).join('; ');
      }),
    );
  }
  const file = join(await mkdtemp(join(tmpdir(), 'oidc-session-bench-')), 'cookies.txt');
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}
