import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type PgQueryable, postgresMigration, postgresStore } from '../../src/stores/postgres.js';
import { postgresUrl, probePostgres, requireService } from '../support/services.js';
import { runStoreSuite, type StoreHarness } from './suite.js';

const available = await requireService('postgres', () => probePostgres());

/** A table prefix no other run uses; every prefix handed out is dropped at the end. */
const created: string[] = [];
function freshTable(): string {
  const table = `oidc_test_${randomBytes(5).toString('hex')}`;
  created.push(table);
  return table;
}

async function dropTables(pool: pg.Pool, tables: string[]): Promise<void> {
  for (const table of tables) await pool.query(`DROP TABLE IF EXISTS ${table}_kv, ${table}_set`);
}

describe.runIf(available)('postgres', () => {
  let admin: pg.Pool;

  beforeAll(() => {
    admin = new pg.Pool({ connectionString: postgresUrl });
  });
  afterAll(async () => {
    await dropTables(admin, created);
    await admin.end();
  });

  runStoreSuite(
    'postgres',
    async (): Promise<StoreHarness> => {
      const table = freshTable();
      const pools = [new pg.Pool({ connectionString: postgresUrl })];
      const stores = [postgresStore(pools[0]!, { table })];
      return {
        store: stores[0]!,
        async reopen() {
          // A restart: its own pool, its own (idempotent) migration.
          const pool = new pg.Pool({ connectionString: postgresUrl });
          pools.push(pool);
          stores.push(postgresStore(pool, { table }));
          return stores.at(-1)!;
        },
        async sibling() {
          stores.push(postgresStore(pools[0]!, { table: freshTable() }));
          return stores.at(-1)!;
        },
        async cleanup() {
          await Promise.all(stores.map((store) => store.close()));
          await Promise.all(pools.map((pool) => pool.end()));
        },
      };
    },
    { info: { name: 'postgres', shared: true } },
  );

  describe('postgres store specifics', () => {
    it.each(['Upper', '1starts_with_digit', 'has-dash', 'x; drop table users', 'a'.repeat(42), '', 'naïve'])(
      'when the table prefix is %j then it throws a TypeError quoting "table"',
      (table) => {
        expect(() => postgresStore(admin, { table })).toThrow(TypeError);
        expect(() => postgresStore(admin, { table })).toThrow(/"table" must match/);
      },
    );

    it('when the table prefix is 41 valid characters then it is accepted', async () => {
      await postgresStore(admin, { table: `_${'a1'.repeat(20)}`, migrate: false }).close();
    });

    it.each([
      ['null', null],
      ['an object without query', { connect() {} }],
    ])('when given %s instead of a pool then it throws a TypeError', (_, pool) => {
      expect(() => postgresStore(pool as never)).toThrow(/"pool" must be a pg Pool/);
    });

    it.each([{ cleanupIntervalSeconds: 0 }, { cleanupIntervalSeconds: -5 }, { cleanupIntervalSeconds: 1e9 }])(
      'when given %o then it throws a TypeError naming the option',
      (options) => {
        expect(() => postgresStore(admin, options)).toThrow(/"cleanupIntervalSeconds"/);
      },
    );

    it('when postgres.sql is read then it holds exactly the DDL the store runs', async () => {
      const file = await readFile(new URL('../../src/stores/postgres.sql', import.meta.url), 'utf8');
      const ddl = file
        .split('\n')
        .filter((line) => !line.startsWith('--'))
        .join('\n')
        .trim();
      expect(ddl).toBe(postgresMigration().trim());
      expect(postgresMigration('myapp')).toContain('CREATE TABLE IF NOT EXISTS myapp_set');
    });

    it('when first used then it creates both tables, their columns and the expiry indexes', async () => {
      const table = freshTable();
      const store = postgresStore(admin, { table });
      await store.getMany(['anything']);
      const { rows: columns } = await admin.query(
        `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
         WHERE table_name IN ($1, $2) ORDER BY table_name, ordinal_position`,
        [`${table}_kv`, `${table}_set`],
      );
      expect(columns.map((c) => `${c.table_name.slice(table.length)}.${c.column_name} ${c.data_type} ${c.is_nullable}`)).toEqual([
        '_kv.key text NO',
        '_kv.value text NO',
        '_kv.expires_at timestamp with time zone NO',
        '_set.key text NO',
        '_set.member text NO',
        '_set.expires_at timestamp with time zone NO',
      ]);
      const { rows: indexes } = await admin.query('SELECT indexname FROM pg_indexes WHERE tablename IN ($1, $2) ORDER BY indexname', [
        `${table}_kv`,
        `${table}_set`,
      ]);
      expect(indexes.map((i) => i.indexname)).toEqual([
        `${table}_kv_expires_at_idx`,
        `${table}_kv_pkey`,
        `${table}_set_expires_at_idx`,
        `${table}_set_pkey`,
      ]);
      await store.close();
    });

    it('when several instances migrate the same new tables at once then none fails', async () => {
      const table = freshTable();
      const pools = Array.from({ length: 6 }, () => new pg.Pool({ connectionString: postgresUrl, max: 1 }));
      const stores = pools.map((pool) => postgresStore(pool, { table }));
      await Promise.all(stores.map((store, i) => store.set(`k${i}`, 'v', 60)));
      expect(await stores[0]!.getMany(['k0', 'k5'])).toEqual(['v', 'v']);
      await Promise.all(stores.map((store) => store.close()));
      await Promise.all(pools.map((pool) => pool.end()));
    });

    it('when migrate is false then it creates nothing, and works once postgres.sql-style DDL has run', async () => {
      const table = freshTable();
      const store = postgresStore(admin, { table, migrate: false });
      await expect(store.getMany(['k'])).rejects.toMatchObject({ code: '42P01' });
      await admin.query(postgresMigration(table));
      await store.set('k', 'v', 60);
      expect(await store.getMany(['k'])).toEqual(['v']);
      await store.close();
    });

    it('when the first migration fails (database down) then the next call tries again', async () => {
      let failures = 1;
      const flaky: PgQueryable = {
        query: (text, values) => (failures-- > 0 ? Promise.reject(new Error('connect ECONNREFUSED')) : admin.query(text, values)),
      };
      const store = postgresStore(flaky, { table: freshTable() });
      await expect(store.set('k', 'v', 60)).rejects.toThrow(/ECONNREFUSED/);
      await store.set('k', 'v', 60);
      expect(await store.getMany(['k'])).toEqual(['v']);
      await store.close();
    });

    it('when rows have expired then reads ignore them at once and the cleanup deletes only them', async () => {
      const table = freshTable();
      const store = postgresStore(admin, { table, cleanupIntervalSeconds: 0.1 });
      await store.set('live', 'v', 60);
      await store.addToSet('set', 'live', 60);
      await admin.query(`INSERT INTO ${table}_kv VALUES ('dead', 'v', now() - interval '1 second')`);
      await admin.query(`INSERT INTO ${table}_set VALUES ('set', 'dead', now() - interval '1 second')`);
      await admin.query(`INSERT INTO ${table}_set VALUES ('dead-set', 'm', now() - interval '1 second')`);
      expect(await store.getMany(['dead', 'live'])).toEqual([null, 'v']);
      expect(await store.setMembers('set')).toEqual(['live']);

      const count = async () => {
        const { rows } = await admin.query(`SELECT (SELECT count(*) FROM ${table}_kv) + (SELECT count(*) FROM ${table}_set) AS n`);
        return Number(rows[0].n);
      };
      await vi.waitFor(async () => expect(await count()).toBe(2), { timeout: 5_000, interval: 50 });
      expect(await store.setIfAbsent('dead', 'reborn', 60)).toBe(true);
      await store.close();
    });

    it('when closed then the cleanup stops and the caller’s pool still works', async () => {
      const table = freshTable();
      const store = postgresStore(admin, { table, cleanupIntervalSeconds: 0.05 });
      await store.set('k', 'v', 60);
      await store.close();
      await admin.query(`INSERT INTO ${table}_kv VALUES ('dead', 'v', now() - interval '1 second')`);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const { rows } = await admin.query(`SELECT count(*)::int AS n FROM ${table}_kv`);
      expect(rows[0].n).toBe(2);
    });

    it('when a key, value or member holds NUL then the call is refused with a TypeError before reaching PostgreSQL', async () => {
      const store = postgresStore(admin, { table: freshTable() });
      await expect(store.set('a\0b', 'v', 60)).rejects.toThrow(/NUL/);
      await expect(store.set('k', 'a\0b', 60)).rejects.toThrow(TypeError);
      await expect(store.addToSet('k', 'a\0b', 60)).rejects.toThrow(TypeError);
      await expect(store.getMany(['a\0b'])).rejects.toThrow(TypeError);
      await store.close();
    });
  });
});
