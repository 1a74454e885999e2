import type { Context } from '../context.js';
import type { Channel, IndexEntry, LogoutTarget } from '../registry.js';
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
  // Index entries carry login times: a session that began after the logout is a fresh login, never ended by it.
  const candidates = (await ctx.registry.sessionIds(target)).filter((entry) => entry.c <= at);
  // Reading the sessions costs O(k) parses; do it only when a hook wants them, or to check the
  // sub of a sid-named session (a token naming both).
  const read = ctx.config.onLogout !== undefined || (target.sid !== undefined && target.sub !== undefined);
  const stored = read ? await sessions.readByHash(candidates.map((e) => e.id)) : null;
  const doomed: IndexEntry[] = [];
  const gone: IndexEntry[] = [];
  const ended: StoredSession[] = [];
  candidates.forEach((entry, i) => {
    const session = stored?.[i];
    if (stored && session === null) gone.push(entry);
    else if (!session || target.sub === undefined || session.r.sub === target.sub) {
      doomed.push(entry);
      if (session) ended.push(session);
    }
  });
  await sessions.deleteByHash(
    doomed.map((e) => e.id),
    ended.map((s) => s.r),
  );
  // One removal for the target's index; the ended sessions' other index entries go at their
  // user's next login or logout (a stale entry points at nothing and is pruned then).
  await ctx.registry.prune(target, [...doomed, ...gone]);
  for (const session of ended) await ctx.hook('onLogout', ctx.toSession(session.r, session.k), channel);
  return doomed.length;
}
