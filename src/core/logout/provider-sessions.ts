import type { Context } from '../context.js';
import type { Channel, LogoutTarget } from '../registry.js';
import type { ResolvedProvider } from '../types.js';

/**
 * Ends, on every instance, the sessions an OP-initiated logout names (Back-Channel Logout §2.7;
 * Front-Channel Logout §2), counting only sessions that began at or before `at`, and tells
 * `onProviderLogout`. Returns how many stored sessions ended (null in cookie mode, where
 * cookies end when next seen).
 *
 * @see https://openid.net/specs/openid-connect-backchannel-1_0.html#BCActions
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
 * Ends the sessions of a target that began at or before `at`, on every instance, through the
 * session backend (a tombstone in cookie mode, deleted stored sessions in server mode), and
 * tells `onLogout` about each stored session it read.
 */
export async function endSessions(ctx: Context, target: LogoutTarget, at: number, channel: Channel): Promise<number | null> {
  const ended = await ctx.sessions.endTarget(target, at, channel, ctx.config.onLogout !== undefined);
  for (const session of ended.sessions) await ctx.hook('onLogout', ctx.toSession(session.record, session.tokens), channel);
  return ended.count;
}
