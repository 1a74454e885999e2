/**
 * A shared store on PostgreSQL, through the caller's own `pg` Pool. Two tables, `<table>_kv` and
 * `<table>_set`, created on first use (or by `postgres.sql` / `postgresMigration()` yourself).
 * Expired rows are invisible at once and deleted by a periodic cleanup. Members of a set expire
 * one by one (each lives at least its own TTL, and a member's TTL only grows).
 *
 * @example
 * import pg from 'pg';
 * import { postgresStore } from 'oidc-session/stores/postgres';
 * const store = postgresStore(new pg.Pool({ connectionString: process.env.DATABASE_URL }));
 * const auth = createAuth({ ...options, store });
 * // on shutdown: stop the cleanup, then end the pool, which stays yours
 * await store.close();
 */
import { type Store, type StoreInfo, storeInfo } from '../core/store.js';
import { assertEncodable, assertString, assertStrings, positiveOption, unrefTimer, wholeSeconds } from './shared.js';

/** What the store needs of a `pg` Pool (a Client works too). */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[]; rowCount: number | null }>;
}

export interface PostgresStoreOptions {
  /** Prefix of the two table names, `<table>_kv` and `<table>_set` (default `oidc_session`). */
  table?: string;
  /** Create the tables (if absent) once, on first use (default true). */
  migrate?: boolean;
  /** How often expired rows are deleted (default 60). Reads never see them regardless. */
  cleanupIntervalSeconds?: number;
}

export interface PostgresStore extends Store {
  readonly [storeInfo]: StoreInfo;
  /** Stops the cleanup timer and waits for a cleanup in progress. Never ends the caller's pool. */
  close(): Promise<void>;
}

const NAME = 'postgresStore';
const INFO: StoreInfo = Object.freeze({ name: 'postgres', shared: true });
const TABLE = /^[a-z_][a-z0-9_]{0,40}$/;
const MAX_TIMER_SECONDS = 2_147_483;
/** Rows deleted per cleanup statement, so no statement holds many locks for long. */
const CLEANUP_BATCH = 10_000;

/** The DDL for a table prefix; `postgres.sql` holds the same for the default prefix. */
export function postgresMigration(table = 'oidc_session'): string {
  checkTable(table);
  return `CREATE TABLE IF NOT EXISTS ${table}_kv (
  key text PRIMARY KEY,
  value text NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS ${table}_kv_expires_at_idx ON ${table}_kv (expires_at);
CREATE TABLE IF NOT EXISTS ${table}_set (
  key text NOT NULL,
  member text NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (key, member)
);
CREATE INDEX IF NOT EXISTS ${table}_set_expires_at_idx ON ${table}_set (expires_at);
`;
}

function checkTable(table: unknown): asserts table is string {
  if (typeof table !== 'string' || !TABLE.test(table)) {
    throw new TypeError(`${NAME}: "table" must match ${TABLE} (lower-case letters, digits, underscores), got ${JSON.stringify(table)}`);
  }
}

/** Every statement, built once per store from the validated prefix; values always go as parameters. */
function statements(t: string) {
  const expiry = 'now() + make_interval(secs => $3)';
  return {
    // Several instances may start at once: CREATE … IF NOT EXISTS can still race, so take a
    // lock first. A multi-statement simple query is one implicit transaction, holding the lock;
    // a transaction-scoped lock (never a session one) also holds under PgBouncer's transaction pooling.
    migrate: `SELECT pg_advisory_xact_lock(hashtext('oidc-session migrate ${t}'));\n${postgresMigration(t)}`,
    getMany: `SELECT key, value FROM ${t}_kv WHERE key = ANY($1::text[]) AND expires_at > now()`,
    set: `INSERT INTO ${t}_kv (key, value, expires_at) VALUES ($1, $2, ${expiry})
      ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
    // Atomic: keeps the numerically larger value and the later expiry (an expired row counts as absent).
    setGreater: `INSERT INTO ${t}_kv AS old (key, value, expires_at) VALUES ($1, $2, ${expiry})
      ON CONFLICT (key) DO UPDATE SET
        value = CASE WHEN old.expires_at <= now() OR old.value::float8 < excluded.value::float8 THEN excluded.value ELSE old.value END,
        expires_at = CASE WHEN old.expires_at <= now() THEN excluded.expires_at ELSE greatest(old.expires_at, excluded.expires_at) END`,
    // Atomic: the conflicting row is replaced only when it has expired; a row comes back when this call wrote.
    setIfAbsent: `INSERT INTO ${t}_kv AS old (key, value, expires_at) VALUES ($1, $2, ${expiry})
      ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
      WHERE old.expires_at <= now() RETURNING 1`,
    delete: `WITH kv AS (DELETE FROM ${t}_kv WHERE key = ANY($1::text[])) DELETE FROM ${t}_set WHERE key = ANY($1::text[])`,
    addToSet: `INSERT INTO ${t}_set AS old (key, member, expires_at) VALUES ($1, $2, ${expiry})
      ON CONFLICT (key, member) DO UPDATE SET expires_at = greatest(old.expires_at, excluded.expires_at)`,
    setMembers: `SELECT member FROM ${t}_set WHERE key = $1 AND expires_at > now()`,
    removeFromSet: `DELETE FROM ${t}_set WHERE key = $1 AND member = ANY($2::text[])`,
    // The outer expires_at check runs again on a row updated meanwhile, so a revived row survives.
    cleanupKv: `DELETE FROM ${t}_kv WHERE key IN (SELECT key FROM ${t}_kv WHERE expires_at <= now() LIMIT ${CLEANUP_BATCH})
      AND expires_at <= now()`,
    cleanupSet: `DELETE FROM ${t}_set WHERE (key, member) IN
      (SELECT key, member FROM ${t}_set WHERE expires_at <= now() LIMIT ${CLEANUP_BATCH}) AND expires_at <= now()`,
  };
}

type Statements = ReturnType<typeof statements>;

/** A store in two tables of the caller's database. */
export function postgresStore(pool: PgQueryable, options: PostgresStoreOptions = {}): PostgresStore {
  if (typeof (pool as { query?: unknown } | null)?.query !== 'function') {
    throw new TypeError(`${NAME}: "pool" must be a pg Pool (or anything with query(text, values))`);
  }
  const table = options.table ?? 'oidc_session';
  checkTable(table);
  const cleanupSeconds = positiveOption(options.cleanupIntervalSeconds, 'cleanupIntervalSeconds', NAME, 60);
  if (cleanupSeconds > MAX_TIMER_SECONDS) {
    throw new TypeError(`${NAME}: "cleanupIntervalSeconds" must be at most ${MAX_TIMER_SECONDS}, got ${cleanupSeconds}`);
  }
  const sql = statements(table);
  const lifecycle = new Lifecycle(pool, sql, options.migrate ?? true, cleanupSeconds);
  return Object.freeze(buildStore(pool, sql, lifecycle));
}

/** The lazy migration and the cleanup timer, which starts once the tables are known to exist. */
class Lifecycle {
  private ready: Promise<void> | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private cleaning: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly pool: PgQueryable,
    private readonly sql: Statements,
    private readonly migrate: boolean,
    private readonly cleanupSeconds: number,
  ) {}

  ensureReady(): Promise<void> {
    this.ready ??= this.prepare().catch((error: unknown) => {
      // A database that is down at the first request must not stay "failed" once it is back.
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.cleaning;
  }

  private async prepare(): Promise<void> {
    if (this.migrate) await this.pool.query(this.sql.migrate);
    if (this.closed || this.timer !== undefined) return;
    this.timer = setInterval(() => this.cleanup(), this.cleanupSeconds * 1000);
    unrefTimer(this.timer);
  }

  private cleanup(): void {
    if (this.cleaning !== undefined) return;
    // A failed cleanup is retried at the next tick; reads never see expired rows meanwhile.
    this.cleaning = this.deleteExpired()
      .catch(() => {})
      .finally(() => {
        this.cleaning = undefined;
      });
  }

  private async deleteExpired(): Promise<void> {
    for (const statement of [this.sql.cleanupKv, this.sql.cleanupSet]) {
      let deleted = CLEANUP_BATCH;
      while (deleted === CLEANUP_BATCH && !this.closed) deleted = (await this.pool.query(statement)).rowCount ?? 0;
    }
  }
}

function buildStore(pool: PgQueryable, sql: Statements, lifecycle: Lifecycle): PostgresStore {
  // Text and values, never a `name`: pg then sends an unnamed statement, which lives within one
  // transaction, so the store works through PgBouncer in transaction pooling mode (named prepared
  // statements need PgBouncer ≥ 1.21 with max_prepared_statements set).
  const run = async (text: string, values: unknown[]) => {
    await lifecycle.ensureReady();
    return pool.query(text, values);
  };
  return {
    [storeInfo]: INFO,
    async getMany(keys) {
      checkedAll(keys, '"keys"');
      if (keys.length === 0) return [];
      const { rows } = await run(sql.getMany, [keys]);
      const found = new Map((rows as Array<{ key: string; value: string }>).map((row) => [row.key, row.value]));
      return keys.map((key) => found.get(key) ?? null);
    },
    async set(key, value, ttlSeconds, only) {
      await run(only === 'greater' ? sql.setGreater : sql.set, [
        checked(key, '"key"'),
        checked(value, '"value"'),
        wholeSeconds(ttlSeconds, NAME),
      ]);
    },
    async setIfAbsent(key, value, ttlSeconds) {
      const { rowCount } = await run(sql.setIfAbsent, [checked(key, '"key"'), checked(value, '"value"'), wholeSeconds(ttlSeconds, NAME)]);
      return (rowCount ?? 0) > 0;
    },
    async delete(keys) {
      checkedAll(keys, '"keys"');
      if (keys.length > 0) await run(sql.delete, [keys]);
    },
    async addToSet(key, member, ttlSeconds) {
      await run(sql.addToSet, [checked(key, '"key"'), checked(member, '"member"'), wholeSeconds(ttlSeconds, NAME)]);
    },
    async setMembers(key) {
      const { rows } = await run(sql.setMembers, [checked(key, '"key"')]);
      return (rows as Array<{ member: string }>).map((row) => row.member);
    },
    async removeFromSet(key, members) {
      checkedAll(members, '"members"');
      if (members.length > 0) await run(sql.removeFromSet, [checked(key, '"key"'), members]);
    },
    close: () => lifecycle.close(),
  };
}

function checked(value: string, what: string): string {
  assertString(value, what, NAME);
  assertEncodable(value, what, NAME, true);
  return value;
}

function checkedAll(values: readonly string[], what: string): void {
  assertStrings(values, what, NAME);
  for (const value of values) assertEncodable(value, `each of ${what}`, NAME, true);
}
