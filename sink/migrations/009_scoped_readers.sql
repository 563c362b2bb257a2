-- 009_scoped_readers.sql: the dmarc schema, version 9.
--
-- Scoped readers: a login in the group role dmarc_scoped_reader (created by
-- etc/roles.sql) sees only the domains granted to it in domain_grant, through
-- every table and view of report data, and nothing of the ledger, the ingest
-- errors or the polls.  Row-level security does it:
--
--   * every table below gets RLS and a permissive policy "unscoped" for
--     everyone (USING true: the planner drops it, so the writer, the owner
--     and the unscoped readers run the plans they ran before);
--   * the procedure scoped_reader_setup() adds a restrictive policy "scoped"
--     for dmarc_scoped_reader only, and grants that role SELECT on the
--     report data; it runs here when the role exists, and etc/roles.sql runs
--     it again once it has created the role (a migration runs as the
--     database owner, who may not create roles);
--   * every view becomes security_invoker, so that it reads the tables with
--     the caller's policies instead of its owner's (the owner bypasses RLS).
--
-- A later migration that adds a table of report data adds it to
-- scoped_reader_setup() (CREATE OR REPLACE, then CALL it when the role
-- exists) and to the RLS list; a new view is created WITH (security_invoker
-- = true), and CREATE OR REPLACE VIEW must repeat that option, or it is
-- dropped.  tests/server/scoped.test fails on a table without a rule, a view
-- scoped readers may not read and that is not on its list, or a view that is
-- not security_invoker.
--
-- Run by "dmarc-agent migrate" in one transaction; by hand:
-- psql -1 -f 009_scoped_readers.sql, then
-- INSERT INTO dmarc.schema_version (version, name) VALUES (9, '009_scoped_readers').
-- Released versions are never edited: add a new file instead.

SET LOCAL search_path = dmarc;

-- Grants ------------------------------------------------------------------------
CREATE TABLE domain_grant (
    grantee     text NOT NULL CHECK (grantee <> ''),
    domain      text NOT NULL CHECK (domain = lower(domain)
                AND domain ~ '^(\*\.)?[^.*[:space:]]+(\.[^.*[:space:]]+)*$'),
    granted_at  timestamptz NOT NULL DEFAULT now(),
    note        text,
    PRIMARY KEY (grantee, domain)
);
COMMENT ON TABLE domain_grant IS
'Which domains a scoped reader (a member of the role dmarc_scoped_reader) sees: one row per role and domain. The database owner grants with an INSERT and takes back with a DELETE. A member of dmarc_scoped_reader sees the rows of every role it is a member of (its own, and those of a group it belongs to), and nothing of the others'' grants. Rows for a role that does not exist are ignored.';
COMMENT ON COLUMN domain_grant.grantee IS 'The role name, as in pg_roles.rolname (case kept: a role created as "Acme" is Acme, one created as Acme is acme).';
COMMENT ON COLUMN domain_grant.domain IS 'A policy domain, lower-case, without a trailing dot (example.com: that domain only), or *. followed by one (*.example.com: its subdomains, not example.com itself; grant both to see both).';
COMMENT ON COLUMN domain_grant.granted_at IS 'When the row was written.';
COMMENT ON COLUMN domain_grant.note IS 'Free text: the customer, the ticket ...';

DO $$
BEGIN
    -- roles.sql's default privileges gave the agent write access to this
    -- table: grants are the owner's, not the agent's, to write.
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dmarc_writer') THEN
        REVOKE INSERT, UPDATE, DELETE ON domain_grant FROM dmarc_writer;
    END IF;
END $$;

-- The caller's domains as one pattern -------------------------------------------
CREATE FUNCTION domain_scope() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
SELECT '^(?:' || string_agg(CASE WHEN g.domain LIKE '*.%'
           THEN '.+\.' || regexp_replace(substr(g.domain, 3),
                                         '([].[^$|?*+(){}\\])', '\\\1', 'g')
           ELSE regexp_replace(g.domain, '([].[^$|?*+(){}\\])', '\\\1', 'g')
       END, '|' ORDER BY g.domain) || ')$'
  FROM dmarc.domain_grant g
 WHERE EXISTS (SELECT 1 FROM pg_roles r
                WHERE r.rolname = g.grantee AND pg_has_role(r.oid, 'USAGE'))
$$;
COMMENT ON FUNCTION domain_scope() IS
'The domains granted to the current role (domain_grant rows of every role it is a member of) as one case-insensitive regular expression for ~*; NULL when none, which matches nothing. The scoped policies call it as (SELECT dmarc.domain_scope()), so that it runs once per query, not once per row. SECURITY INVOKER: it reads domain_grant with the caller''s policies.';

-- Row-level security: everyone through, as before ---------------------------
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['mail_message', 'ingest_run', 'mailbox',
        'report_file',
        'report_raw', 'report', 'report_error', 'report_extension',
        'report_delivery', 'record', 'record_reason', 'record_dkim',
        'record_spf', 'record_extension', 'ip_info', 'tlsrpt_report',
        'tlsrpt_delivery', 'tlsrpt_policy', 'tlsrpt_failure',
        'failure_report', 'failure_delivery', 'domain_grant']
    LOOP
        EXECUTE format('ALTER TABLE dmarc.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY unscoped ON dmarc.%I AS PERMISSIVE'
            ' FOR ALL TO PUBLIC USING (true) WITH CHECK (true)', t);
        EXECUTE format('COMMENT ON POLICY unscoped ON dmarc.%I IS %L', t,
            'Every role with the privileges sees and writes every row; '
            'members of dmarc_scoped_reader are held back by the '
            'restrictive policy "scoped".');
    END LOOP;
END $$;

-- Row-level security: scoped readers ----------------------------------------
CREATE PROCEDURE scoped_reader_setup()
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
DECLARE
    t   text;
    q   text;
    -- A row is visible when everything it carries concerns granted domains
    -- only: a TLS report's totals add up every policy, so the report shows
    -- when all its policies do (policy_count counts them all; the policies
    -- a scoped reader can count are its own); a failure report when every
    -- Reported-Domain is granted.  Children follow their parent.  Columns
    -- of the policy's own table are qualified with its name: unqualified,
    -- "id" in a subquery would be the subquery's own.
    rules CONSTANT text[][] := ARRAY[
        ['report', 'policy_domain ~* (SELECT dmarc.domain_scope())'],
        ['record', 'policy_domain ~* (SELECT dmarc.domain_scope())'],
        ['report_error', 'EXISTS (SELECT 1 FROM dmarc.report r WHERE r.id = report_error.report_pk)'],
        ['report_extension', 'EXISTS (SELECT 1 FROM dmarc.report r WHERE r.id = report_extension.report_pk)'],
        ['report_delivery', 'EXISTS (SELECT 1 FROM dmarc.report r WHERE r.id = report_delivery.report_pk)'],
        ['record_reason', 'EXISTS (SELECT 1 FROM dmarc.record r WHERE r.id = record_reason.record_pk)'],
        ['record_dkim', 'EXISTS (SELECT 1 FROM dmarc.record r WHERE r.id = record_dkim.record_pk)'],
        ['record_spf', 'EXISTS (SELECT 1 FROM dmarc.record r WHERE r.id = record_spf.record_pk)'],
        ['record_extension', 'EXISTS (SELECT 1 FROM dmarc.record r WHERE r.id = record_extension.record_pk)'],
        ['ip_info', 'EXISTS (SELECT 1 FROM dmarc.record r WHERE r.source_ip = ip_info.ip)'],
        ['tlsrpt_policy', 'policy_domain ~* (SELECT dmarc.domain_scope())'],
        ['tlsrpt_failure', 'EXISTS (SELECT 1 FROM dmarc.tlsrpt_policy p WHERE p.id = tlsrpt_failure.policy_pk)'],
        ['tlsrpt_report', 'policy_count > 0 AND policy_count = (SELECT count(*)'
            ' FROM dmarc.tlsrpt_policy p WHERE p.report_pk = tlsrpt_report.id)'],
        ['tlsrpt_delivery', 'EXISTS (SELECT 1 FROM dmarc.tlsrpt_report r WHERE r.id = tlsrpt_delivery.report_pk)'],
        ['failure_report', '(SELECT bool_and(coalesce(d ~* (SELECT dmarc.domain_scope()),'
            ' false)) FROM unnest(failure_report.reported_domain) AS u(d))'],
        ['failure_delivery', 'EXISTS (SELECT 1 FROM dmarc.failure_report f WHERE f.id = failure_delivery.failure_pk)'],
        ['report_file', 'error IS NULL AND'
            ' (EXISTS (SELECT 1 FROM dmarc.report_delivery d WHERE d.file_pk = report_file.id)'
            ' OR EXISTS (SELECT 1 FROM dmarc.tlsrpt_delivery d WHERE d.file_pk = report_file.id)'
            ' OR EXISTS (SELECT 1 FROM dmarc.failure_delivery d WHERE d.file_pk = report_file.id))'],
        ['report_raw', 'EXISTS (SELECT 1 FROM dmarc.report_file f WHERE f.id = report_raw.file_pk)'],
        ['domain_grant', 'EXISTS (SELECT 1 FROM pg_catalog.pg_roles r'
            ' WHERE r.rolname = domain_grant.grantee AND pg_has_role(r.oid, ''USAGE''))'],
        -- The ledger, the polls and the mailboxes (accounts, servers)
        -- name every customer's mail: never.
        ['mail_message', 'false'],
        ['ingest_run', 'false'],
        ['mailbox', 'false'],
        -- Who sent each report mail (schema 12): per message, like the
        -- ledger, and a kept copy of the whole mail: never.
        ['message_auth', 'false'],
        ['message_signature', 'false'],
        ['message_raw', 'false'],
        -- Approved senders and alerts (schema 11) are per policy domain
        -- (a mailbox alert has none: hidden); their deliveries and the
        -- summaries sent name recipients of every domain: never.
        ['approved_sender', 'policy_domain ~* (SELECT dmarc.domain_scope())'],
        ['alert', 'policy_domain ~* (SELECT dmarc.domain_scope())'],
        ['notification', 'false'],
        ['summary_sent', 'false']];
    -- What scoped readers may read besides the tables above (never
    -- mail_message, ingest_run, mailbox, v_ingest_errors, v_mailbox_health).
    also CONSTANT text[] := ARRAY['source_map', 'v_daily_volume',
        'v_daily_volume_prorated', 'v_source_summary', 'v_source_detail',
        'v_forwarding_suspects', 'v_spoofing_suspects', 'v_reporter_activity',
        'v_silent_reporters', 'v_source_enriched', 'v_sources_by_sender',
        'v_tlsrpt_daily', 'v_tlsrpt_failures', 'v_failure_reports',
        'authenticity_setting', 'v_authenticity', 'v_sender_record',
        'v_senders_daily'];
BEGIN
    GRANT USAGE ON SCHEMA dmarc TO dmarc_scoped_reader;
    FOR i IN 1 .. array_length(rules, 1) LOOP
        t := rules[i][1];
        q := rules[i][2];
        -- Tables of a later schema version: set up when that version
        -- calls this procedure again.
        CONTINUE WHEN to_regclass('dmarc.' || t) IS NULL;
        EXECUTE format('DROP POLICY IF EXISTS scoped ON dmarc.%I', t);
        EXECUTE format('CREATE POLICY scoped ON dmarc.%I AS RESTRICTIVE'
            ' FOR ALL TO dmarc_scoped_reader USING (%s)', t, q);
        EXECUTE format('COMMENT ON POLICY scoped ON dmarc.%I IS %L', t,
            'Members of dmarc_scoped_reader see only the rows of the '
            'domains domain_grant gives them (see the procedure '
            'dmarc.scoped_reader_setup).');
        IF q <> 'false' THEN
            EXECUTE format('GRANT SELECT ON dmarc.%I TO dmarc_scoped_reader', t);
        END IF;
    END LOOP;
    FOREACH t IN ARRAY also LOOP
        CONTINUE WHEN to_regclass('dmarc.' || t) IS NULL;
        EXECUTE format('GRANT SELECT ON dmarc.%I TO dmarc_scoped_reader', t);
    END LOOP;
END $$;
REVOKE ALL ON PROCEDURE scoped_reader_setup() FROM PUBLIC;
COMMENT ON PROCEDURE scoped_reader_setup() IS
'Creates (again) the restrictive policies "scoped" for the role dmarc_scoped_reader and grants it SELECT on the report data and its views. Run by migration 9 when the role exists, and by etc/roles.sql once it has created the role; idempotent. Only the owner of the tables (or a superuser) can run it.';

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dmarc_scoped_reader') THEN
        CALL dmarc.scoped_reader_setup();
    END IF;
END $$;

-- Views read with the caller's rights ----------------------------------------
DO $$
DECLARE v text;
BEGIN
    FOR v IN SELECT c.relname FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'dmarc' AND c.relkind = 'v'
    LOOP
        EXECUTE format('ALTER VIEW dmarc.%I SET (security_invoker = true)', v);
    END LOOP;
END $$;
