-- 013_history.sql: the dmarc schema, version 13.
--
-- Years of history on one database.  A poll read every ledger row of its
-- mailbox (a million after a few busy years: a second and 110 MB each
-- poll), and nothing was ever deleted.  Now:
--
--   - a poll reads only the ledger rows of the UIDs the server returned,
--     and the unfinished ones, found by the partial index
--     mail_message_unfinished_idx;
--   - mailbox_search keeps what the last complete search of each mailbox
--     covered (UIDNEXT, HIGHESTMODSEQ), so that the next one asks the
--     server only for what can be new;
--   - "dmarc-agent prune" deletes what is older than the retention the
--     configuration sets; a pruned ledger row of an IMAP message leaves
--     its UID behind in mail_settled, so that the message is never
--     fetched or counted again.
--   - report_date_end_idx lets prune find old reports without a scan.
--
-- Run by "dmarc-agent migrate" in one transaction; by hand:
-- psql -1 -f 013_history.sql, then
-- INSERT INTO dmarc.schema_version (version, name) VALUES (13, '013_history').
-- Released versions are never edited: add a new file instead.

SET LOCAL search_path = dmarc;

-- Rows a poll reads whatever its search returns: claimed and not
-- committed, or committed with the after-action still to do.  Few, so the
-- index stays small however long the ledger grows.
CREATE INDEX mail_message_unfinished_idx
    ON mail_message (mailbox_pk, uidvalidity, uid)
    WHERE uid IS NOT NULL AND (status = 'claimed' OR after_action = 'pending');

CREATE TABLE mailbox_search (
    mailbox_pk     bigint PRIMARY KEY REFERENCES mailbox(id) ON DELETE CASCADE,
    uidvalidity    bigint NOT NULL CHECK (uidvalidity BETWEEN 1 AND 4294967295),
    criteria       text   NOT NULL,
    uidnext        bigint CHECK (uidnext BETWEEN 1 AND 4294967295),
    highestmodseq  bigint CHECK (highestmodseq > 0),
    full_at        timestamptz NOT NULL,
    searched_at    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE mailbox_search IS
'What the last complete search of each IMAP mailbox covered, written by the poll once every message that search found is in the ledger (claimed or settled). The next poll of the same UIDVALIDITY and criteria asks the server only for what can be new since: with CONDSTORE (RFC 7162), the messages whose mod-sequence is above highestmodseq (arrivals and flag changes, whatever their UID), or nothing when HIGHESTMODSEQ did not move; without it, for search = "all", the UIDs from uidnext on, and a full search once a day (which finds a message that appeared below uidnext). A poll with other criteria, another UIDVALIDITY or no row searches everything.';
COMMENT ON COLUMN mailbox_search.mailbox_pk IS 'The mailbox (mailbox.id).';
COMMENT ON COLUMN mailbox_search.uidvalidity IS 'UIDVALIDITY of the folder at that search; another value makes the next poll search everything.';
COMMENT ON COLUMN mailbox_search.criteria IS 'What was searched: "unseen" or "all", with " since Nd" when the mailbox has since; other criteria make the next poll search everything.';
COMMENT ON COLUMN mailbox_search.uidnext IS 'UIDNEXT the SELECT before that search gave: every message with a lower UID that matched the criteria then is in the ledger. NULL when the server did not say.';
COMMENT ON COLUMN mailbox_search.highestmodseq IS 'HIGHESTMODSEQ the SELECT gave (CONDSTORE): every change after it has a higher mod-sequence. NULL without CONDSTORE.';
COMMENT ON COLUMN mailbox_search.full_at IS 'When the folder was last searched whole.';
COMMENT ON COLUMN mailbox_search.searched_at IS 'When this row was written.';

CREATE TABLE mail_settled (
    mailbox_pk   bigint NOT NULL REFERENCES mailbox(id) ON DELETE CASCADE,
    uidvalidity  bigint NOT NULL CHECK (uidvalidity BETWEEN 1 AND 4294967295),
    uid_lo       bigint NOT NULL,
    uid_hi       bigint NOT NULL,
    pruned_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (mailbox_pk, uidvalidity, uid_lo),
    CHECK (uid_lo BETWEEN 1 AND uid_hi AND uid_hi <= 4294967295)
);
COMMENT ON TABLE mail_settled IS
'The UIDs of pruned ledger rows, as ranges of consecutive UIDs: a pruned message may still be in its folder (after = "seen" leaves it there), and a search that finds it again must find it settled, never new. A poll treats every UID in a range like a ledger row with a final status whose after-action is done. Only IMAP rows whose after-action was done and whose reports are no longer stored are pruned (see dmarc-agent prune); files from the ingest command keep their ledger rows.';
COMMENT ON COLUMN mail_settled.mailbox_pk IS 'The mailbox (mailbox.id).';
COMMENT ON COLUMN mail_settled.uidvalidity IS 'UIDVALIDITY of the folder when the messages were read.';
COMMENT ON COLUMN mail_settled.uid_lo IS 'First UID of the range.';
COMMENT ON COLUMN mail_settled.uid_hi IS 'Last UID of the range (included); every UID from uid_lo to uid_hi had a ledger row.';
COMMENT ON COLUMN mail_settled.pruned_at IS 'When the rows were pruned.';

CREATE INDEX report_date_end_idx ON report (date_end);

-- Scoped readers (schema 9): the two new tables are per-mailbox
-- bookkeeping like the ledger, never visible to a scoped reader.  They get
-- row-level security like every other table, scoped_reader_setup() learns
-- them (every earlier rule kept), and runs again when the role exists.
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['mailbox_search', 'mail_settled']
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

CREATE OR REPLACE PROCEDURE scoped_reader_setup()
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
        ['summary_sent', 'false'],
        -- A poll's search mark and the UIDs of pruned ledger rows
        -- (schema 13): per mailbox, like the ledger: never.
        ['mailbox_search', 'false'],
        ['mail_settled', 'false']];
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

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dmarc_scoped_reader') THEN
        CALL dmarc.scoped_reader_setup();
    END IF;
END $$;
