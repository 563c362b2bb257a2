-- etc/roles.sql: three roles for the dmarc schema.
--
--   dmarc_owner   owns the schema and its objects: runs "dmarc-agent migrate"
--                 (DDL).  Give it LOGIN and a password, or grant it to the
--                 person who upgrades.
--   dmarc_writer  the agent: SELECT, INSERT, UPDATE, DELETE on the tables,
--                 USAGE on the sequences, no DDL, no TRUNCATE; it may only
--                 read schema_version.
--   dmarc_reader  BI users and dashboards (Grafana): SELECT on the views
--                 and tables, nothing else.
--
-- Run it as a superuser (or a role with CREATEROLE that owns the database),
-- connected to the database that holds (or will hold) the schema:
--   psql -d dmarc -f etc/roles.sql
-- then give the roles logins, for example
--   ALTER ROLE dmarc_owner  LOGIN PASSWORD '...';
--   ALTER ROLE dmarc_writer LOGIN PASSWORD '...';
--   CREATE ROLE grafana LOGIN PASSWORD '...' IN ROLE dmarc_reader;
-- and run "dmarc-agent migrate" connected as dmarc_owner.  The script is
-- idempotent: run it again after each migration (it then also takes the
-- writer's write access to schema_version away).  Objects the owner creates
-- later (new tables and views of later migrations) get the right grants by
-- themselves through ALTER DEFAULT PRIVILEGES.
--
-- An existing schema (created by another role before this script) is handed
-- over to dmarc_owner, with every table, view and sequence in it.

\set ON_ERROR_STOP 1
SET client_min_messages = warning;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dmarc_owner') THEN
        CREATE ROLE dmarc_owner NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dmarc_writer') THEN
        CREATE ROLE dmarc_writer NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dmarc_reader') THEN
        CREATE ROLE dmarc_reader NOLOGIN;
    END IF;
    EXECUTE format('GRANT CONNECT, CREATE ON DATABASE %I TO dmarc_owner',
                   current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO dmarc_writer, dmarc_reader',
                   current_database());
END $$;

CREATE SCHEMA IF NOT EXISTS dmarc AUTHORIZATION dmarc_owner;

-- Hand an existing schema over (sequences follow their tables).
DO $$
DECLARE o record;
BEGIN
    EXECUTE 'ALTER SCHEMA dmarc OWNER TO dmarc_owner';
    FOR o IN SELECT c.relname, c.relkind FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'dmarc' AND c.relkind IN ('r', 'p', 'v', 'm')
             AND pg_get_userbyid(c.relowner) <> 'dmarc_owner'
    LOOP
        EXECUTE format('ALTER %s dmarc.%I OWNER TO dmarc_owner',
                       CASE o.relkind WHEN 'v' THEN 'VIEW'
                                      WHEN 'm' THEN 'MATERIALIZED VIEW'
                                      ELSE 'TABLE' END, o.relname);
    END LOOP;
END $$;

REVOKE ALL ON SCHEMA dmarc FROM PUBLIC;
GRANT USAGE ON SCHEMA dmarc TO dmarc_writer, dmarc_reader;

-- What exists now.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA dmarc TO dmarc_writer;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA dmarc TO dmarc_writer;
GRANT SELECT ON ALL TABLES IN SCHEMA dmarc TO dmarc_reader;

-- What the owner creates later.
ALTER DEFAULT PRIVILEGES FOR ROLE dmarc_owner IN SCHEMA dmarc
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO dmarc_writer;
ALTER DEFAULT PRIVILEGES FOR ROLE dmarc_owner IN SCHEMA dmarc
    GRANT USAGE, SELECT ON SEQUENCES TO dmarc_writer;
ALTER DEFAULT PRIVILEGES FOR ROLE dmarc_owner IN SCHEMA dmarc
    GRANT SELECT ON TABLES TO dmarc_reader;

-- The schema version is the owner's to write.
DO $$
BEGIN
    IF to_regclass('dmarc.schema_version') IS NOT NULL THEN
        REVOKE INSERT, UPDATE, DELETE ON dmarc.schema_version FROM dmarc_writer;
    END IF;
END $$;
