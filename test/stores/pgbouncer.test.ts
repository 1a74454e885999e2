/**
 * The PostgreSQL store through a real PgBouncer in transaction pooling mode, 2 server connections
 * shared by every client connection: the migration, the atomic operations and the whole store
 * conformance suite. Under transaction pooling, anything that lives in a server session (named
 * prepared statements on PgBouncer < 1.21 without max_prepared_statements, session advisory
 * locks, SET) breaks; the store sends unnamed statements only and takes transaction-scoped locks.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresStore } from '../../src/stores/postgres.js';
import { type PgBouncer, requirePgBouncer, startPgBouncer } from '../support/pgbouncer.js';
import { postgresUrl, probePostgres, requireService } from '../support/services.js';
import { runStoreSuite, type StoreHarness } from './suite.js';

const available = (await requireService('postgres', () => probePostgres())) && requirePgBouncer();

const created: string[] = [];
function freshTable(): string {
  const table = `oidc_bouncer_${randomBytes(5).toString('hex')}`;
  created.push(table);
  return table;
}

describe.runIf(available)('postgres through pgbouncer (transaction pooling)', () => {
  let bouncer: PgBouncer;
  const pools: pg.Pool[] = [];
  /** A pool through the bouncer with more client connections than the bouncer has server connections. */
  const pool = (max = 8) => {
    const opened = new pg.Pool({ connectionString: bouncer.url, max });
    pools.push(opened);
    return opened;
  };

  beforeAll(async () => {
    bouncer = await startPgBouncer({ poolSize: 2 });
  });
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.end()));
    const admin = new pg.Pool({ connectionString: postgresUrl });
    for (const table of created) await admin.query(`DROP TABLE IF EXISTS ${table}_kv, ${table}_set`);
    await admin.end();
    await bouncer?.stop();
  });

  runStoreSuite(
    'postgres via pgbouncer',
    async (): Promise<StoreHarness> => {
      const table = freshTable();
      const first = pool();
      const stores = [postgresStore(first, { table })];
      return {
        store: stores[0]!,
        async reopen() {
          stores.push(postgresStore(pool(), { table }));
          return stores.at(-1)!;
        },
        async sibling() {
          stores.push(postgresStore(first, { table: freshTable() }));
          return stores.at(-1)!;
        },
        async cleanup() {
          await Promise.all(stores.map((store) => store.close()));
        },
      };
    },
    { info: { name: 'postgres', shared: true } },
  );

  describe('pgbouncer specifics', () => {
    it('when the bouncer is asked then it pools by transaction, with fewer server connections than clients', async () => {
      const admin = new pg.Client({ connectionString: bouncer.adminUrl });
      await admin.connect();
      // The admin console speaks the simple protocol only.
      const { rows } = await admin.query({ text: 'SHOW CONFIG', queryMode: 'simple' } as pg.QueryConfig);
      await admin.end();
      const setting = (key: string) => (rows as Array<{ key: string; value: string }>).find((row) => row.key === key)?.value;
      expect(setting('pool_mode')).toBe('transaction');
      expect(setting('default_pool_size')).toBe('2');
    });

    it('when 8 instances migrate the same new tables at once through the bouncer then none fails and all see one store', async () => {
      const table = freshTable();
      const stores = Array.from({ length: 8 }, () => postgresStore(pool(1), { table }));
      await Promise.all(stores.map((store, i) => store.set(`k${i}`, 'v', 60)));
      expect(await stores[0]!.getMany(['k0', 'k7'])).toEqual(['v', 'v']);
      await Promise.all(stores.map((store) => store.close()));
    });

    it('when 200 setIfAbsent and greater writes race from 8 client connections over 2 server connections then each key has one winner and the largest value', async () => {
      const table = freshTable();
      const stores = Array.from({ length: 8 }, () => postgresStore(pool(2), { table }));
      const claims = await Promise.all(Array.from({ length: 200 }, (_, i) => stores[i % 8]!.setIfAbsent(`jti${i % 10}`, `w${i}`, 60)));
      for (let key = 0; key < 10; key++) expect(claims.filter((won, i) => won && i % 10 === key)).toHaveLength(1);
      await Promise.all(
        Array.from({ length: 200 }, (_, i) => stores[i % 8]!.set('tomb', String(1_700_000_000 + ((i * 37) % 200)), 60, 'greater')),
      );
      expect(await stores[3]!.getMany(['tomb'])).toEqual([String(1_700_000_199)]);
      await Promise.all(stores.map((store) => store.close()));
    });
  });
});
