import type { Store } from './store.js';
import type { ResolvedConfig } from './types.js';

/** Who ended sessions in bulk: the provider (two channels) or the user signing out everywhere. */
export type Channel = 'back-channel' | 'front-channel' | 'everywhere';

/**
 * What a bulk logout ends: one provider session (`sid`) or every session of a user (`sub`),
 * of one client (`aud`) of one issuer — several clients of one issuer never end each other's.
 */
export type LogoutTarget =
  | { iss: string; aud: string; sid: string; sub?: string }
  | { iss: string; aud: string; sub: string; sid?: undefined };

/** The fields of a session the registry needs: who, which client and provider session, and when it began. */
export interface RegisteredSession {
  readonly id: string;
  /** Provider key: gives the client (`aud`). */
  readonly provider: string;
  readonly issuer: string;
  readonly subject: string;
  readonly sid?: string;
  /** Login time, epoch seconds with milliseconds. */
  readonly createdAt: number;
}

/** The channel of each tombstone `endedBy` reads, in the order of `#checkKeys`. */
const CHECKED_CHANNELS: readonly Channel[] = ['back-channel', 'everywhere', 'back-channel', 'front-channel'];

/** One session in an index: its id and login time, and the raw member string. */
export interface IndexEntry {
  member: string;
  id: string;
  createdAt: number;
}

const memberOf = (session: RegisteredSession) => `${session.id} ${session.createdAt}`;

function parseMember(member: string): IndexEntry {
  const space = member.indexOf(' ');
  // An entry without a time counts as "began at the dawn of time": any logout ends it.
  if (space < 0) return { member, id: member, createdAt: 0 };
  return { member, id: member.slice(0, space), createdAt: Number(member.slice(space + 1)) };
}

/**
 * Knows which local sessions belong to `(iss, aud, sid)` and `(iss, aud, sub)`, on every
 * instance, through the store. Two models (docs/architecture.md):
 *
 * - cookie mode keeps no session server-side, so a logout leaves a **tombstone**: "sessions of
 *   this target that began at or before T are ended". Every session read checks them, in one
 *   `getMany`. A later login never removes a tombstone (that would resurrect old cookies); it
 *   expires with the longest possible session lifetime, and its time only ever grows.
 * - server mode indexes session ids by `(iss, aud, sid)` and `(iss, aud, sub)` and deletes exactly those.
 *
 * In both, T is when the logout happened — for a logout token the end of the second of its
 * `iat` (login times have milliseconds, `iat` has not): a session that began after it is never
 * ended by it, so a late duplicate cannot log out a fresh login.
 *
 * @see https://openid.net/specs/openid-connect-backchannel-1_0.html#BCActions Back-Channel Logout 1.0 §2.7
 */
export class SessionRegistry {
  readonly #store: Store;
  readonly #config: ResolvedConfig;
  /** A tombstone outlives every session it could end. */
  readonly #tombstoneTtl: number;

  constructor(config: ResolvedConfig) {
    this.#store = config.store;
    this.#config = config;
    this.#tombstoneTtl = config.absoluteDuration + config.clockTolerance;
  }

  /** Cookie mode: why this session is over (revoked at logout, or a tombstone's channel), or null. One round trip. */
  async endedBy(session: RegisteredSession): Promise<Channel | 'local' | null> {
    const keys = this.#checkKeys(session);
    const values = await this.#store.getMany(keys);
    if (values[0] !== null && values[0] !== undefined) return 'local';
    for (let i = 1; i < values.length; i++) {
      const time = values[i];
      if (time !== null && time !== undefined && session.createdAt <= Number(time)) return CHECKED_CHANNELS[i - 1]!;
    }
    return null;
  }

  // Every request of a session checks the same keys: build them once per (cached, frozen) record.
  readonly #keysOf = new WeakMap<RegisteredSession, string[]>();

  /**
   * The revocation mark and the tombstones that can name this session, in CHECKED_CHANNELS
   * order: by `sub`, the back channel and "everywhere"; by `sid`, the back and front channels
   * (front-channel logout names a `sid` only, "everywhere" a `sub` only).
   */
  #checkKeys(session: RegisteredSession): string[] {
    let keys = this.#keysOf.get(session);
    if (!keys) {
      const prefix = this.#targetPrefix(session);
      const bySub = `sub:${prefix},${JSON.stringify(session.subject)}]`;
      keys = [revokedKey(session.id), `tomb-back-channel:${bySub}`, `tomb-everywhere:${bySub}`];
      if (session.sid !== undefined) {
        const bySid = `sid:${prefix},${JSON.stringify(session.sid)}]`;
        keys.push(`tomb-back-channel:${bySid}`, `tomb-front-channel:${bySid}`);
      }
      this.#keysOf.set(session, keys);
    }
    return keys;
  }

  // `[iss, aud` of targetPart's JSON array, made once per issuer and provider.
  readonly #prefixes = new Map<string, string>();

  #targetPrefix(session: RegisteredSession): string {
    const cacheKey = `${session.provider} ${session.issuer}`;
    let prefix = this.#prefixes.get(cacheKey);
    if (prefix === undefined) {
      const array = JSON.stringify([session.issuer, this.#aud(session.provider)]);
      prefix = array.slice(0, -1);
      if (this.#prefixes.size < 64) this.#prefixes.set(cacheKey, prefix);
    }
    return prefix;
  }

  /**
   * Cookie mode: sessions of the target that began at or before `at` are ended. The time only
   * ever grows (atomic 'greater'), and a bounded store keeps room for it — except for the front
   * channel: anyone may send those, so they must never take the room kept for signed logouts.
   * Each front-channel write stamps the time it happened, so a plain write still only grows it
   * but for two writes racing within a second.
   */
  async tombstone(target: LogoutTarget, at: number, channel: Channel): Promise<void> {
    const key = tombstoneKey(target, channel);
    if (channel === 'front-channel') await this.#store.set(key, String(at), this.#tombstoneTtl);
    else await this.#store.set(key, String(at), this.#tombstoneTtl, 'greater');
  }

  /**
   * Marks one session (by id) as over: a copy of its cookie taken before logout (another tab, a
   * stolen cookie) is refused too (cookie mode), and a late write cannot bring a deleted stored
   * session back (server mode). Lives as long as the session could.
   */
  async revoke(id: string, ttlSeconds: number): Promise<void> {
    // 'greater': the mark's TTL only grows, and a bounded store keeps room for it (store.ts).
    await this.#store.set(revokedKey(id), '1', Math.max(1, Math.ceil(ttlSeconds)), 'greater');
  }

  /**
   * Claims the one report of a session's end (the `onLogout` hook): true for the first caller,
   * on any instance; a dead cookie replayed again and again is reported once.
   */
  async claimEndReport(id: string, ttlSeconds: number): Promise<boolean> {
    return this.#store.setIfAbsent(`ended:${id}`, '1', Math.max(1, Math.ceil(ttlSeconds)));
  }

  /** Key under which `revoke()` marks a session id, for readers that fetch it with other keys. */
  revokedKey(id: string): string {
    return revokedKey(id);
  }

  /**
   * Server mode: indexes a new session under its targets. A member carries the login time
   * (`"<id> <c>"`), so a bulk logout can tell which sessions began before it without reading
   * them. Each login also sweeps its user's index of sessions that are gone, so a set stays as
   * large as the live sessions.
   */
  async register(session: RegisteredSession, ttlSeconds: number, exists: (ids: string[]) => Promise<boolean[]>): Promise<void> {
    for (const target of this.#targetsOf(session)) {
      const key = indexKey(target);
      await this.#store.addToSet(key, memberOf(session), ttlSeconds);
      const members = (await this.#store.setMembers(key)).map(parseMember);
      const alive = await exists(members.map((m) => m.id));
      const gone = members.filter((_m, i) => !alive[i]).map((m) => m.member);
      if (gone.length > 0) await this.#store.removeFromSet(key, gone);
    }
  }

  /** Server mode: the sessions a target names, with their login times (stale entries of ended sessions included). */
  async sessionIds(target: LogoutTarget): Promise<IndexEntry[]> {
    return (await this.#store.setMembers(indexKey(target))).map(parseMember);
  }

  /** Server mode: drops entries from the target's index. */
  async prune(target: LogoutTarget, entries: readonly IndexEntry[]): Promise<void> {
    if (entries.length > 0)
      await this.#store.removeFromSet(
        indexKey(target),
        entries.map((e) => e.member),
      );
  }

  /** Server mode: forgets an ended session in every index it is in. */
  async unregister(session: RegisteredSession): Promise<void> {
    for (const target of this.#targetsOf(session)) await this.#store.removeFromSet(indexKey(target), [memberOf(session)]);
  }

  /**
   * Replay cache for logout tokens, per issuer, across instances: claims the `jti` atomically
   * (set-if-absent) until the token could no longer be accepted. True when this delivery may
   * apply the logout: the first one, or a retransmission of one whose logout never completed
   * (spec §2.5) — applying a logout twice ends nothing more. False for a replay of a done one.
   */
  async claimJti(iss: string, jti: string, ttlSeconds: number): Promise<boolean> {
    const key = jtiKey(iss, jti);
    if (await this.#store.setIfAbsent(key, 'pending', Math.max(1, Math.ceil(ttlSeconds)))) return true;
    const [value] = await this.#store.getMany([key]);
    return value === 'pending';
  }

  /** Marks a token's logout as done: from now on the same `jti` is a replay. */
  async completeJti(iss: string, jti: string, ttlSeconds: number): Promise<void> {
    await this.#store.set(jtiKey(iss, jti), 'done', Math.max(1, Math.ceil(ttlSeconds)));
  }

  /**
   * Cross-instance lock for refreshing one session's tokens: true for the caller that may
   * refresh. Held for `ttlSeconds` (so another instance does not spend a rotated refresh token).
   */
  async lockRefresh(id: string, ttlSeconds: number): Promise<boolean> {
    return this.#store.setIfAbsent(`refresh-lock:${id}`, '1', Math.max(1, Math.ceil(ttlSeconds)));
  }

  async unlockRefresh(id: string): Promise<void> {
    await this.#store.delete([`refresh-lock:${id}`]);
  }

  #targetsOf(session: RegisteredSession): LogoutTarget[] {
    const aud = this.#aud(session.provider);
    const targets: LogoutTarget[] = [{ iss: session.issuer, aud, sub: session.subject }];
    if (session.sid !== undefined) targets.push({ iss: session.issuer, aud, sid: session.sid });
    return targets;
  }

  #aud(provider: string): string {
    return Object.hasOwn(this.#config.providers, provider) ? this.#config.providers[provider]!.clientId : '';
  }
}

// Issuers, clients, sids and subs are opaque and may hold any character, ":" included: a JSON
// array keeps every combination distinct, byte for byte.
function targetPart(target: LogoutTarget): string {
  return target.sid !== undefined
    ? `sid:${JSON.stringify([target.iss, target.aud, target.sid])}`
    : `sub:${JSON.stringify([target.iss, target.aud, target.sub])}`;
}
const tombstoneKey = (target: LogoutTarget, channel: Channel) => `tomb-${channel}:${targetPart(target)}`;
const indexKey = (target: LogoutTarget) => `idx:${targetPart(target)}`;
const jtiKey = (iss: string, jti: string) => `jti:${JSON.stringify([iss, jti])}`;
const revokedKey = (id: string) => `revoked:${id}`;
