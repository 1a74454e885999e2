import type { Context } from '../context.js';
import { nowSeconds } from '../encoding.js';
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
  if (record && ctx.config.mode === 'cookie') await revoke(ctx, record);
  if (record) await ctx.hook('onLogout', ctx.toSession(record, tokens), reason);
  return setCookies;
}

/** Cookie mode: deleting the cookie is not enough if a copy exists; the store remembers the id. */
async function revoke(ctx: Context, record: SessionRecord): Promise<void> {
  try {
    await ctx.registry.revoke(record.id, record.a - nowSeconds() + ctx.config.clockTolerance);
  } catch (error) {
    // The cookies are deleted anyway: a store outage must not keep anyone signed in here.
    ctx.storeFailed(error);
  }
}
