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
  await endWhereItLives(ctx, cookies, record);
  await ctx.hook('onLogout', ctx.toSession(record, tokens), reason);
  return setCookies;
}

/** How long a logout keeps trying to record the end while the store does not answer (a Redis failover takes seconds). */
const END_RETRY_MS = 6_000;
const END_RETRY_INTERVAL_MS = 100;

/**
 * Ends the session where it lives, retrying for a few seconds while the store does not answer:
 * until it is recorded, a copy of the cookie (cookie mode) or the stored session (server mode)
 * would outlive the logout. The cookies of this browser go whatever happens.
 */
async function endWhereItLives(ctx: Context, cookies: Map<string, string>, record: SessionRecord): Promise<void> {
  const until = Date.now() + END_RETRY_MS;
  for (;;) {
    try {
      await ctx.sessions.end(cookies, record);
      return;
    } catch (error) {
      ctx.storeFailed(error);
      if (Date.now() + END_RETRY_INTERVAL_MS > until) {
        ctx.logger.error(
          `logout (provider=${record.provider}): the end of the session could not be recorded; copies of its cookie stay valid until it expires`,
        );
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, END_RETRY_INTERVAL_MS));
    }
  }
}
