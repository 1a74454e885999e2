-- oidc-session PostgreSQL store: the tables postgresStore() creates on first use (migrate: true).
-- Run it yourself and pass { migrate: false } when the app's database user may not create tables.
-- For another prefix ({ table: 'myapp_oidc' }), replace every "oidc_session" below with it,
-- or print the DDL with postgresMigration('myapp_oidc') from 'oidc-session/stores/postgres'.
-- Every row carries expires_at: reads ignore expired rows, the store's cleanup deletes them.

CREATE TABLE IF NOT EXISTS oidc_session_kv (
  key text PRIMARY KEY,
  value text NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS oidc_session_kv_expires_at_idx ON oidc_session_kv (expires_at);
CREATE TABLE IF NOT EXISTS oidc_session_set (
  key text NOT NULL,
  member text NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (key, member)
);
CREATE INDEX IF NOT EXISTS oidc_session_set_expires_at_idx ON oidc_session_set (expires_at);
