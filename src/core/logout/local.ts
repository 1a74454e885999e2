import type { Context } from '../context.js';
import type { SessionRecord, TokenRecord } from '../session/model.js';
import type { LogoutReason } from '../types.js';

/**
 * Ends the session in this app: deletes every session and tokens cookie (and chunk)
 * the request carried, with the attributes they were set with, then tells `onLogout`.
 * Always runs before anything that talks to the provider, so a provider that is down
 * cannot keep the user signed in here.
 */
export async function endLocalSession(
  ctx: Context,
  cookies: Map<string, string>,
  record: SessionRecord | null,
  tokens: TokenRecord | null,
  reason: LogoutReason,
): Promise<string[]> {
  const setCookies = await ctx.sessions.clear(cookies, record);
  if (record) await ctx.hook('onLogout', ctx.toSession(record, tokens), reason);
  return setCookies;
}
