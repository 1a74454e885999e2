import type { Store } from './store.js';
import type { ResolvedConfig } from './types.js';

export type Channel = 'backchannel' | 'frontchannel' | 'everywhere';

/** What OP-initiated logout ends: one provider session (`sid`) or every session of a user (`sub`). */
export type LogoutTarget = { iss: string; sid: string; sub?: string } | { iss: string; sub: string; sid?: undefined };

/** The fields of a session the registry needs: who, which provider session, and when it began. */
export interface RegisteredSession {
  id: string;
  iss: string;
  sub: string;
  sid?: string;
  /** Login time, epoch seconds. */
  c: number;
}

/**
 * Knows which local sessions belong to `(iss, sid)` and `(iss, sub)`, on every instance,
 * through the store. Two models (DESIGN.md §3):
 *
 * - cookie mode keeps no session server-side, so a logout leaves a **tombstone**: "sessions of
 *   this `(iss, sid)` / `(iss, sub)` that began at or before T are ended". Every session read
 *   checks it. A later login never removes a tombstone (that would resurrect old cookies); it
 *   expires with the longest possible session lifetime.
 * - server mode indexes session ids by `(iss, sid)` and `(iss, sub)` and deletes exactly those.
 *
 * In both, T is when the logout happened — for a logout token the end of the second of its
 * `iat` (login times have milliseconds, `iat` has not): a session that began after it is never
 * ended by it, so a late duplicate cannot log out a fresh login.
 *
 * @see ../../../shared/specs/backchannel.txt Back-Channel Logout 1.0 §2.7
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

  /** Cookie mode: the channel whose tombstone ends this session, or null. One store round trip. */
  async endedBy(session: RegisteredSession): Promise<Channel | 'local' | null> {
    const keys = [revokedKey(session.id), subTombstone(session.iss, session.sub)];
    if (session.sid !== undefined) keys.push(sidTombstone(session.iss, session.sid));
    const values = await this.#store.getMany(keys);
    if (values[0] !== null && values[0] !== undefined) return 'local';
    for (const value of values.slice(1)) {
      const tombstone = parseTombstone(value ?? null);
      if (tombstone && session.c <= tombstone.at) return tombstone.channel;
    }
    return null;
  }

  /** Cookie mode: records that sessions of the target that began at or before `at` are ended. */
  async tombstone(target: LogoutTarget, at: number, channel: Channel): Promise<void> {
    const key = target.sid !== undefined ? sidTombstone(target.iss, target.sid) : subTombstone(target.iss, target.sub);
    // Never lower an existing tombstone: a late, older token must not shrink what a newer one ended.
    const [existing] = await this.#store.getMany([key]);
    const previous = parseTombstone(existing ?? null);
    const time = previous === null ? at : Math.max(at, previous.at);
    await this.#store.set(key, `${time} ${channel}`, this.#tombstoneTtl);
  }

  /**
   * Cookie mode: marks one session (by our id) as signed out, so a copy of its cookie taken
   * before logout (another tab, a stolen cookie) is refused too. Lives as long as the session could.
   */
  async revoke(id: string, ttlSeconds: number): Promise<void> {
    await this.#store.set(revokedKey(id), '1', Math.max(1, ttlSeconds));
  }

  /** Server mode: indexes a new session under its `(iss, sid)` and `(iss, sub)`. */
  async register(session: RegisteredSession, ttlSeconds: number): Promise<void> {
    await this.#store.addToSet(subIndex(session.iss, session.sub), session.id, ttlSeconds);
    if (session.sid !== undefined) await this.#store.addToSet(sidIndex(session.iss, session.sid), session.id, ttlSeconds);
  }

  /** Server mode: the ids of the sessions a target names (stale ids of already-ended sessions included). */
  async sessionIds(target: LogoutTarget): Promise<string[]> {
    const key = target.sid !== undefined ? sidIndex(target.iss, target.sid) : subIndex(target.iss, target.sub);
    return this.#store.setMembers(key);
  }

  /** Server mode: drops ids of sessions that no longer exist from the target's index. */
  async prune(target: LogoutTarget, ids: readonly string[]): Promise<void> {
    const key = target.sid !== undefined ? sidIndex(target.iss, target.sid) : subIndex(target.iss, target.sub);
    await this.#store.removeFromSet(key, ids);
  }

  /** Server mode: forgets ended session ids so the indexes stay O(live sessions). */
  async unregister(session: RegisteredSession): Promise<void> {
    await this.#store.removeFromSet(subIndex(session.iss, session.sub), [session.id]);
    if (session.sid !== undefined) await this.#store.removeFromSet(sidIndex(session.iss, session.sid), [session.id]);
  }

  /**
   * Replay cache for logout tokens, per issuer: true the first time a `jti` is seen, false after.
   * Atomic across instances (set-if-absent), kept until the token could no longer be accepted.
   */
  async firstUse(iss: string, jti: string, ttlSeconds: number): Promise<boolean> {
    return this.#store.setIfAbsent(jtiKey(iss, jti), '1', Math.max(1, ttlSeconds));
  }

  /** Lets a token be retried when its logout failed half-way (the provider may retransmit, spec §2.5). */
  async forgetUse(iss: string, jti: string): Promise<void> {
    await this.#store.delete([jtiKey(iss, jti)]);
  }

  get mode(): 'cookie' | 'server' {
    return this.#config.mode;
  }
}

// Issuers, sids and subs are opaque and may hold any character, ":" included: a JSON array
// keeps every (iss, value) pair distinct, byte for byte.
const key = (kind: string, iss: string, value: string) => `${kind}:${JSON.stringify([iss, value])}`;
const sidTombstone = (iss: string, sid: string) => key('tomb-sid', iss, sid);
const subTombstone = (iss: string, sub: string) => key('tomb-sub', iss, sub);
const sidIndex = (iss: string, sid: string) => key('idx-sid', iss, sid);
const subIndex = (iss: string, sub: string) => key('idx-sub', iss, sub);
const jtiKey = (iss: string, jti: string) => key('jti', iss, jti);
const revokedKey = (id: string) => `revoked:${id}`;

function parseTombstone(value: string | null): { at: number; channel: Channel } | null {
  if (value === null) return null;
  const [at, channel] = value.split(' ');
  return { at: Number(at), channel: channel === 'frontchannel' || channel === 'everywhere' ? channel : 'backchannel' };
}

/** Key of a stored session (server mode), from the SHA-256 of its cookie id. */
export const sessionKey = (digest: string) => `sess:${digest}`;
