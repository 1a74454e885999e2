import type { Context } from '../context.js';
import type { SessionRecord, TokenRecord } from '../session/record.js';
import type { LogoutReason } from '../types.js';

/**
 * Ends the session in this app: deletes every session and tokens cookie (and chunk) the
 * request carried, with the attributes they were set with; ends the session where it lives
 * (so no copy of the cookie works); then tells `onLogout`. Always runs before anything that
 * talks to the provider, so a provider that is down cannot keep the user signed in here, and
 * a store that is down cannot keep the cookies in the browser.
 */
export async function endLocalSession(
  ctx: Context,
  cookies: Map<string, string>,
  record: SessionRecord | null,
  tokens: TokenRecord | null,
  reason: LogoutReason,
): Promise<string[]> {
  const setCookies = ctx.sessions.deleteCookies(cookies);
  if (!record) return setCookies;
  try {
    await ctx.sessions.end(cookies, record);
  } catch (error) {
    ctx.storeFailed(error);
  }
  await ctx.hook('onLogout', ctx.toSession(record, tokens), reason);
  return setCookies;
}
