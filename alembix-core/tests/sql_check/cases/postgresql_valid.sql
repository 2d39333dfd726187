-- check: postgresql
-- Realistic PostgreSQL migration SQL: every statement must parse, and none
-- refuses a transaction.
CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE SCHEMA IF NOT EXISTS app;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE TABLE orgs (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE
);
CREATE TABLE users (
    id bigserial PRIMARY KEY,
    uid uuid NOT NULL DEFAULT gen_random_uuid(),
    email text NOT NULL,
    org_id bigint REFERENCES orgs (id) ON DELETE CASCADE,
    status mood NOT NULL DEFAULT 'ok',
    tags text[] NOT NULL DEFAULT '{}',
    meta jsonb NOT NULL DEFAULT '{}'::jsonb,
    price numeric(10, 2) CHECK (price >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_email_key UNIQUE (email)
);
CREATE TABLE events (id int, created date) PARTITION BY RANGE (created);
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE bookings (room int, during tstzrange, EXCLUDE USING gist (room WITH =, during WITH &&));
CREATE UNLOGGED TABLE scratch (id int);
ALTER TABLE users ADD COLUMN IF NOT EXISTS age int;
ALTER TABLE users ALTER COLUMN age TYPE bigint USING age::bigint;
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
ALTER TABLE users ALTER COLUMN created_at SET DEFAULT now();
ALTER TABLE users ADD CONSTRAINT users_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id) NOT VALID;
ALTER TABLE users VALIDATE CONSTRAINT users_org_fk;
ALTER TABLE users RENAME COLUMN age TO years;
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE events DETACH PARTITION events_2026;
ALTER TABLE events ATTACH PARTITION events_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
ALTER TYPE mood ADD VALUE IF NOT EXISTS 'great' AFTER 'happy';
CREATE INDEX idx_users_email ON users (email);
CREATE UNIQUE INDEX IF NOT EXISTS idx_users_lower ON users (lower(email)) WHERE org_id IS NOT NULL;
CREATE INDEX idx_users_meta ON users USING gin (meta jsonb_path_ops);
CREATE INDEX idx_users_created ON users USING btree (created_at DESC NULLS LAST) INCLUDE (id);
CREATE MATERIALIZED VIEW user_counts AS SELECT org_id, count(*) AS n FROM users GROUP BY org_id;
CREATE UNIQUE INDEX ON user_counts (org_id);
REFRESH MATERIALIZED VIEW CONCURRENTLY user_counts;
CREATE OR REPLACE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.created_at = now();
    RETURN NEW;
END
$$;
CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW
    WHEN (OLD.email IS DISTINCT FROM NEW.email) EXECUTE FUNCTION touch();
CREATE FUNCTION add_one(a int) RETURNS int LANGUAGE sql IMMUTABLE RETURN a + 1;
CREATE POLICY own_rows ON users USING (email = current_user);
COMMENT ON TABLE users IS 'people who log in';
GRANT SELECT ON ALL TABLES IN SCHEMA app TO reader;
INSERT INTO orgs (name) VALUES ('acme') ON CONFLICT (name) DO NOTHING;
INSERT INTO users (email, org_id) SELECT 'admin@' || name, id FROM orgs RETURNING id;
UPDATE users SET org_id = (SELECT id FROM orgs WHERE orgs.name = 'acme') WHERE org_id IS NULL;
UPDATE users u SET org_id = o.id FROM orgs o WHERE o.name = split_part(u.email, '@', 2);
DELETE FROM users WHERE id IN (SELECT id FROM users WHERE created_at < now() - interval '1 year');
WITH moved AS (DELETE FROM scratch RETURNING *) INSERT INTO scratch SELECT * FROM moved;
SELECT setval('users_id_seq', (SELECT max(id) FROM users));
LOCK TABLE users IN ACCESS EXCLUSIVE MODE;
ANALYZE users;
TRUNCATE scratch RESTART IDENTITY;
DROP TRIGGER IF EXISTS users_touch ON users;
DROP FUNCTION IF EXISTS touch();
DROP INDEX IF EXISTS idx_users_created;
DROP TABLE IF EXISTS scratch CASCADE;
