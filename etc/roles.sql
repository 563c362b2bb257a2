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
--   dmarc_scoped_reader
--                 a group for customers' and teams' logins: SELECT on the
--                 report data and its views, row by row only for the
--                 domains dmarc.domain_grant gives each login; nothing of the
--                 ledger, the ingest errors or the polls (schema version 9,
--                 doc/bi.md "Scoped readers").
--
-- Run it as a superuser (or a role with CREATEROLE that owns the database),
-- connected to the database that holds (or will hold) the schema:
--   psql -d dmarc -f etc/roles.sql
-- then give the roles logins, for example
--   ALTER ROLE dmarc_owner  LOGIN PASSWORD '...';
--   ALTER ROLE dmarc_writer LOGIN PASSWORD '...';
--   CREATE ROLE grafana LOGIN PASSWORD '...' IN ROLE dmarc_reader;
--   CREATE ROLE acme LOGIN PASSWORD '...' IN ROLE dmarc_scoped_reader;
-- and run "dmarc-agent migrate" connected as dmarc_owner.  The script is
-- idempotent: run it again after each migration (it then also takes the
-- writer's write access to schema_version and domain_grant away, and adds the
-- scoped readers' policies to a schema migrated before the role existed).
-- Objects the owner creates later (new tables and views of later
-- migrations) get the right grants by themselves through ALTER DEFAULT
-- PRIVILEGES, except for scoped readers (see below).
--
-- An existing schema (created by another role before this script) is handed
-- over to dmarc_owner, with every table, view, sequence and function in it.

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
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dmarc_scoped_reader') THEN
        CREATE ROLE dmarc_scoped_reader NOLOGIN;
    END IF;
    EXECUTE format('GRANT CONNECT, CREATE ON DATABASE %I TO dmarc_owner',
                   current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO dmarc_writer, dmarc_reader,'
                   ' dmarc_scoped_reader', current_database());
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
    -- Functions too, or the next migration could not replace them.
    FOR o IN SELECT p.oid::regprocedure AS f FROM pg_proc p
             JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = 'dmarc'
             AND pg_get_userbyid(p.proowner) <> 'dmarc_owner'
    LOOP
        EXECUTE format('ALTER ROUTINE %s OWNER TO dmarc_owner', o.f);
    END LOOP;
END $$;

REVOKE ALL ON SCHEMA dmarc FROM PUBLIC;
GRANT USAGE ON SCHEMA dmarc TO dmarc_writer, dmarc_reader, dmarc_scoped_reader;

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

-- The schema version and the domain grants are the owner's to write.
DO $$
BEGIN
    IF to_regclass('dmarc.schema_version') IS NOT NULL THEN
        REVOKE INSERT, UPDATE, DELETE ON dmarc.schema_version FROM dmarc_writer;
    END IF;
    IF to_regclass('dmarc.domain_grant') IS NOT NULL THEN
        REVOKE INSERT, UPDATE, DELETE ON dmarc.domain_grant FROM dmarc_writer;
    END IF;
END $$;

-- Scoped readers get no default privileges: a table a later migration adds
-- stays closed to them until that migration gives it a policy.  Their
-- policies and grants come from the schema (version 9 and later), which
-- made them already when the role existed at migration time.
DO $$
BEGIN
    IF to_regprocedure('dmarc.scoped_reader_setup()') IS NOT NULL THEN
        CALL dmarc.scoped_reader_setup();
    END IF;
END $$;
