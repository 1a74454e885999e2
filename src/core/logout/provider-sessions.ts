import type { Context } from '../context.js';
import type { Channel, LogoutTarget } from '../registry.js';
import { ServerSessions, type StoredSession } from '../session/server-session.js';
import type { ResolvedProvider } from '../types.js';

/**
 * Ends, on every instance, the sessions an OP-initiated logout names (§2.7 of Back-Channel
 * Logout; Front-Channel Logout §2), counting only sessions that began at or before `at`.
 * Returns how many stored sessions ended (null in cookie mode, where cookies end when next seen).
 */
export async function endProviderSessions(
  ctx: Context,
  provider: ResolvedProvider,
  target: LogoutTarget,
  at: number,
  channel: 'back-channel' | 'front-channel',
): Promise<number | null> {
  const ended = await endSessions(ctx, target, at, channel);
  const what = target.sid !== undefined ? 'sid' : 'sub';
  ctx.logger.info?.(
    `${channel} logout (provider=${provider.name}) by ${what}: ${ended === null ? 'tombstone written' : `${ended} session(s) ended`}`,
  );
  await ctx.hook('onProviderLogout', {
    channel,
    provider: provider.name,
    iss: target.iss,
    ...(target.sid !== undefined ? { sid: target.sid } : {}),
    ...(target.sub !== undefined ? { sub: target.sub } : {}),
    ended,
  });
  return ended;
}

/**
 * Ends the sessions of a target that began at or before `at`, on every instance: cookie mode
 * writes a tombstone that every instance checks on its next read; server mode deletes the
 * stored sessions and tells `onLogout` about each.
 */
export async function endSessions(ctx: Context, target: LogoutTarget, at: number, channel: Channel): Promise<number | null> {
  if (!(ctx.sessions instanceof ServerSessions)) {
    await ctx.registry.tombstone(target, at, channel);
    return null;
  }
  return deleteStored(ctx, ctx.sessions, target, at, channel);
}

async function deleteStored(ctx: Context, sessions: ServerSessions, target: LogoutTarget, at: number, channel: Channel): Promise<number> {
  const hashes = await ctx.registry.sessionIds(target);
  const stored = await sessions.readByHash(hashes);
  const doomed: Array<{ hash: string; session: StoredSession }> = [];
  const gone: string[] = [];
  stored.forEach((session, i) => {
    const hash = hashes[i]!;
    if (session === null) gone.push(hash);
    // A session that began after the logout is a fresh login: never ended by it.
    else if (session.r.c <= at && (target.sub === undefined || session.r.sub === target.sub)) doomed.push({ hash, session });
  });
  await sessions.deleteByHash(
    doomed.map((d) => d.hash),
    doomed.map((d) => d.session.r),
  );
  await Promise.all(doomed.map((d) => ctx.registry.unregister({ ...d.session.r, id: d.hash })));
  // Ids of sessions that already ended (logout, expiry) leave the index too.
  if (gone.length > 0) await ctx.registry.prune(target, gone);
  for (const { session } of doomed) await ctx.hook('onLogout', ctx.toSession(session.r, session.k), channel);
  return doomed.length;
}
