-- 012_authenticity.sql: the dmarc schema, version 12.
--
-- Who sent each report mail: per message, its DKIM signatures as checked
-- (d=, s=, result, the key used), the trusted Authentication-Results
-- verdict of the user's own server, the report mail's own DMARC verdict
-- and whether the reporter named in its reports authenticated it
-- (message_auth, message_signature); per report, report.authenticity:
-- verified, unverified or forged.  The whole message is kept gzip'd
-- (message_raw) when it carries a signature, so that "dmarc-agent verify"
-- can check it again later.  A setting (authenticity_setting) decides
-- which reports the figures count; the verdict never drops a row.
--
-- The views that sum messages count only the reports counted() lets
-- through (by default every report but the forged ones) and say how many
-- of their messages came from verified reports; v_authenticity shows per
-- domain and day how much of the data is verified, forged reports
-- included.  Views are CREATE OR REPLACE with their columns unchanged
-- (new ones at the end), so comments and dependants stay.
--
-- Run by "dmarc-agent migrate" in one transaction; by hand:
-- psql -1 -f 012_authenticity.sql, then
-- INSERT INTO dmarc.schema_version (version, name) VALUES (12, '012_authenticity').
-- Released versions are never edited: add a new file instead.

SET LOCAL search_path = dmarc;

-- Per message ---------------------------------------------------------------------
CREATE TABLE message_auth (
    message_pk        bigint PRIMARY KEY REFERENCES mail_message(id) ON DELETE CASCADE,
    checked_at        timestamptz NOT NULL DEFAULT now(),
    from_domain       text,
    from_count        smallint NOT NULL CHECK (from_count >= 0),
    signatures_seen   integer NOT NULL DEFAULT 0 CHECK (signatures_seen >= 0),
    dmarc             text NOT NULL CHECK (dmarc IN ('pass','fail','none')),
    dmarc_via         text CHECK (dmarc_via IN ('dkim','authres')),
    dkim_alignment    text NOT NULL CHECK (dkim_alignment IN ('strict','relaxed','none')),
    authres_id        text,
    authres_dkim      text,
    authres_dkim_domain text,
    authres_spf       text,
    authres_dmarc     text,
    authres_dmarc_from text,
    auth_domains      text[] NOT NULL DEFAULT '{}',
    reporter_domain   text,
    reporter_matched  boolean,
    authenticity      text CHECK (authenticity IN ('verified','unverified','forged')),
    detail            text
);
COMMENT ON TABLE message_auth IS
'Who sent a report mail, as dmarc-agent found when it checked the message (at ingestion, by reparse, or by dmarc-agent verify): one row per checked message, replaced by a later check. Messages stored before schema 12, and files that are not mail, have none.';
COMMENT ON COLUMN message_auth.message_pk IS 'The message (mail_message.id).';
COMMENT ON COLUMN message_auth.checked_at IS 'When the verdict was made: keys rotate, so a later check may find other keys (message_signature.key_sha256 says which).';
COMMENT ON COLUMN message_auth.from_domain IS 'Domain of the RFC5322.From address, lower case; NULL when there is no From field, several, several addresses, or one without a domain.';
COMMENT ON COLUMN message_auth.from_count IS 'Number of From header fields (RFC 5322 allows one; RFC 7489 section 6.6.1).';
COMMENT ON COLUMN message_auth.signatures_seen IS 'DKIM-Signature fields in the message, those not checked (past verification.max_signatures, or too large) included.';
COMMENT ON COLUMN message_auth.dmarc IS 'The report mail''s own DMARC verdict: pass when a passing signature''s domain is aligned with the From domain (relaxed, on organisational domains, as adkim=r), or the trusted Authentication-Results says dmarc=pass; fail when something could be judged and did not pass, or the From is unusable; none when there was nothing to judge (no signature, no trusted header). SPF cannot be checked after delivery: only the trusted header tells it.';
COMMENT ON COLUMN message_auth.dmarc_via IS 'What the DMARC verdict rests on: dkim (our own check) or authres (the trusted header).';
COMMENT ON COLUMN message_auth.dkim_alignment IS 'Best alignment of a passing signature with the From domain: strict (same domain), relaxed (same organisational domain) or none.';
COMMENT ON COLUMN message_auth.authres_id IS 'authserv-id of the Authentication-Results header that was trusted (the topmost one whose id is in verification.trusted_authserv_ids); NULL when none was. Every other such header is ignored (RFC 8601 section 5).';
COMMENT ON COLUMN message_auth.authres_dkim IS 'dkim= result of the trusted header (a pass preferred over others).';
COMMENT ON COLUMN message_auth.authres_dkim_domain IS 'header.d (or the domain of header.i) of the trusted header''s dkim=pass.';
COMMENT ON COLUMN message_auth.authres_spf IS 'spf= result of the trusted header.';
COMMENT ON COLUMN message_auth.authres_dmarc IS 'dmarc= result of the trusted header.';
COMMENT ON COLUMN message_auth.authres_dmarc_from IS 'header.from of the trusted header''s dmarc= result.';
COMMENT ON COLUMN message_auth.auth_domains IS 'Domains that authenticated the mail: those of passing signatures (whose l=, if any, covers the whole body), the trusted header''s dkim=pass header.d and dmarc=pass header.from.';
COMMENT ON COLUMN message_auth.reporter_domain IS 'Organisational domain of the reporter the message''s first report names (its email''s domain, else its org_name when that is a domain name); NULL when no report named one.';
COMMENT ON COLUMN message_auth.reporter_matched IS 'true when an authenticated domain has the reporter''s organisational domain (and no signature of that domain failed); NULL when the message stored no report.';
COMMENT ON COLUMN message_auth.authenticity IS 'The verdict for the message''s first aggregate report, as report.authenticity; NULL when it stored none (an SMTP TLS or failure report, a duplicate, a message that could not be read).';
COMMENT ON COLUMN message_auth.detail IS 'Each signature as domain/selector result (why), for people.';

CREATE TABLE message_signature (
    message_pk   bigint   NOT NULL REFERENCES message_auth(message_pk) ON DELETE CASCADE,
    ord          smallint NOT NULL,
    domain       text,
    selector     text,
    algorithm    text,
    result       text NOT NULL CHECK (result IN ('pass','fail','temperror','permerror','skipped')),
    error        text,
    body_length  bigint,
    key_sha256   text CHECK (key_sha256 ~ '^[0-9a-f]{64}$'),
    aligned      text NOT NULL CHECK (aligned IN ('strict','relaxed','none')),
    PRIMARY KEY (message_pk, ord)
);
COMMENT ON TABLE message_signature IS
'The DKIM signatures of a checked message (RFC 6376), in header order, at most verification.max_signatures of them (and one row for those over the size limit).';
COMMENT ON COLUMN message_signature.message_pk IS 'The message.';
COMMENT ON COLUMN message_signature.ord IS '1-based position among the signatures checked.';
COMMENT ON COLUMN message_signature.domain IS 'The signing domain (d=), lower case.';
COMMENT ON COLUMN message_signature.selector IS 'The selector (s=).';
COMMENT ON COLUMN message_signature.algorithm IS 'The algorithm (a=).';
COMMENT ON COLUMN message_signature.result IS 'pass: header and whole body verified; fail: the signature or body hash does not match, or l= leaves part of the body unsigned; temperror: the key lookup timed out or failed (a later check may tell); permerror: no key, a malformed key, several key records, a malformed or expired signature; skipped: not checked (too large).';
COMMENT ON COLUMN message_signature.error IS 'Why it did not pass.';
COMMENT ON COLUMN message_signature.body_length IS 'The l= tag: how many body bytes the signature covers; NULL when absent.';
COMMENT ON COLUMN message_signature.key_sha256 IS 'SHA-256 (hex) of the p= value of the key record used: which key the verdict was made with. NULL when no key was found.';
COMMENT ON COLUMN message_signature.aligned IS 'For a passing signature, its alignment with the From domain.';

CREATE TABLE message_raw (
    message_pk bigint  NOT NULL REFERENCES mail_message(id) ON DELETE CASCADE,
    seq        integer NOT NULL CHECK (seq >= 0),
    data       bytea   NOT NULL CHECK (octet_length(data) BETWEEN 1 AND 1048576),
    PRIMARY KEY (message_pk, seq)
);
COMMENT ON TABLE message_raw IS
'The whole message as fetched, gzip-compressed (RFC 1952) in chunks of at most 1 MiB, kept for messages that carry a DKIM-Signature so that dmarc-agent verify can check them again (report_raw keeps only the decoded payloads, which a signature does not cover as such). Off with verification.keep_message = false.';
COMMENT ON COLUMN message_raw.message_pk IS 'The message.';
COMMENT ON COLUMN message_raw.seq IS '0-based position of the chunk in the gzip stream.';
COMMENT ON COLUMN message_raw.data IS 'Up to 1 MiB of the gzip stream.';

-- Per report ----------------------------------------------------------------------
ALTER TABLE report ADD COLUMN authenticity text NOT NULL DEFAULT 'unverified'
    CHECK (authenticity IN ('verified','unverified','forged'));
COMMENT ON COLUMN report.authenticity IS 'Whether the message the report was stored from came from the reporter it names: verified (the reporter''s organisational domain authenticated it: a passing DKIM signature, or the trusted Authentication-Results header), forged (a signature failed, or only another domain authenticated it), unverified (no usable signature: old archives, plain files, a key that timed out). Reports stored before schema 12 are unverified until dmarc-agent verify checks them. The report is stored whatever the verdict; authenticity_setting decides what the figures count.';
CREATE INDEX report_authenticity_idx ON report (authenticity) WHERE authenticity <> 'verified';

-- What the figures count ----------------------------------------------------------
CREATE TABLE authenticity_setting (
    only_row          boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    count_unverified  boolean NOT NULL DEFAULT true,
    count_forged      boolean NOT NULL DEFAULT false
);
INSERT INTO authenticity_setting DEFAULT VALUES;
COMMENT ON TABLE authenticity_setting IS
'One row: which reports the views (and so dmarc-agent report and the Grafana dashboard) count in their figures. Verified reports always count. By default unverified reports count (and are flagged: see the verified_messages columns and v_authenticity) and forged ones do not. Change it with UPDATE dmarc.authenticity_setting SET count_unverified = false, for example. Nothing is ever deleted: v_authenticity shows every report.';
COMMENT ON COLUMN authenticity_setting.only_row IS 'Always true: the table has one row.';
COMMENT ON COLUMN authenticity_setting.count_unverified IS 'Whether reports that could not be verified count in the figures (default true).';
COMMENT ON COLUMN authenticity_setting.count_forged IS 'Whether reports found forged count in the figures (default false).';

CREATE FUNCTION counted(authenticity text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT $1 = 'verified'
        OR ($1 = 'unverified' AND (SELECT count_unverified FROM dmarc.authenticity_setting))
        OR ($1 = 'forged' AND (SELECT count_forged FROM dmarc.authenticity_setting))
$$;
COMMENT ON FUNCTION counted(text) IS 'Whether a report of this authenticity counts in the figures, as authenticity_setting says.';

-- Views ---------------------------------------------------------------------------
CREATE OR REPLACE VIEW v_daily_volume AS
SELECT r.report_day AS day, r.policy_domain, r.header_from,
       sum(r.message_count)                                                 AS messages,
       coalesce(sum(r.message_count) FILTER (WHERE r.dmarc_pass), 0)        AS dmarc_pass,
       coalesce(sum(r.message_count) FILTER (WHERE NOT r.dmarc_pass), 0)    AS dmarc_fail,
       coalesce(sum(r.message_count) FILTER (WHERE r.dkim_aligned = 'pass'), 0) AS dkim_aligned_pass,
       coalesce(sum(r.message_count) FILTER (WHERE r.spf_aligned  = 'pass'), 0) AS spf_aligned_pass,
       coalesce(sum(r.message_count) FILTER (WHERE r.disposition = 'quarantine'), 0) AS quarantined,
       coalesce(sum(r.message_count) FILTER (WHERE r.disposition = 'reject'), 0)     AS rejected,
       count(DISTINCT r.report_pk) AS reports,
       coalesce(sum(r.message_count) FILTER (WHERE rp.authenticity = 'verified'), 0) AS verified_messages
FROM record r JOIN report rp ON rp.id = r.report_pk
WHERE counted(rp.authenticity)
GROUP BY 1, 2, 3;
COMMENT ON COLUMN v_daily_volume.verified_messages IS 'Of messages, those from verified reports (report.authenticity); the rest come from unverified (or, if authenticity_setting counts them, forged) reports.';

CREATE OR REPLACE VIEW v_daily_volume_prorated AS
SELECT g.day::date AS day, r.policy_domain, r.header_from,
       round(sum(r.message_count * g.share), 2) AS messages,
       coalesce(round(sum(r.message_count * g.share) FILTER (WHERE r.dmarc_pass), 2), 0) AS dmarc_pass
FROM record r JOIN report rp ON rp.id = r.report_pk
CROSS JOIN LATERAL (
  SELECT d AS day,
         coalesce(extract(epoch FROM least(rp.date_end AT TIME ZONE 'UTC', d + interval '1 day')
                                   - greatest(rp.date_begin AT TIME ZONE 'UTC', d))
                  / nullif(extract(epoch FROM rp.date_end - rp.date_begin), 0), 1) AS share
  FROM generate_series(date_trunc('day', rp.date_begin AT TIME ZONE 'UTC'),
                       date_trunc('day', rp.date_end   AT TIME ZONE 'UTC'), interval '1 day') d) g
WHERE g.share > 0 AND counted(rp.authenticity)
GROUP BY 1, 2, 3;

CREATE OR REPLACE VIEW v_source_summary AS
SELECT r.policy_domain, r.source_ip,
       min(r.report_day) AS first_day, max(r.report_day) AS last_day,
       sum(r.message_count) AS messages,
       round(100.0 * coalesce(sum(r.message_count) FILTER (WHERE r.dmarc_pass), 0)
             / nullif(sum(r.message_count), 0), 1) AS dmarc_pass_pct,
       count(DISTINCT rp.reporter_key) AS reporters,
       array_agg(DISTINCT r.header_from) AS header_froms,
       i.ptr, i.ptr_confirmed, i.base_domain,
       coalesce(m.sender_name, i.base_domain, 'unknown') AS sender,
       m.sender_kind, i.country, i.asn, i.as_org,
       coalesce(sum(r.message_count) FILTER (WHERE rp.authenticity = 'verified'), 0) AS verified_messages
FROM record r JOIN report rp ON rp.id = r.report_pk
LEFT JOIN ip_info i ON i.ip = r.source_ip
LEFT JOIN source_map m ON m.base_domain = i.base_domain
WHERE counted(rp.authenticity)
GROUP BY r.policy_domain, r.source_ip, i.ip, m.base_domain;
COMMENT ON COLUMN v_source_summary.verified_messages IS 'Of messages, those from verified reports.';

CREATE OR REPLACE VIEW v_source_detail AS
SELECT r.report_day, r.policy_domain, r.source_ip, rp.reporter_key,
       r.header_from, r.envelope_from, r.disposition, r.dkim_aligned, r.spf_aligned,
       (SELECT string_agg(coalesce(d.domain,'?')||'/'||coalesce(d.selector,'-')||'='||
                          coalesce(d.result, d.result_raw, '?'), ' ' ORDER BY d.ord)
          FROM record_dkim d WHERE d.record_pk = r.id) AS dkim_results,
       (SELECT string_agg(coalesce(s.domain,'?')||'('||coalesce(s.scope, s.scope_raw, 'mfrom')||')='||
                          coalesce(s.result, s.result_raw, '?'), ' ' ORDER BY s.ord)
          FROM record_spf s WHERE s.record_pk = r.id) AS spf_results,
       (SELECT string_agg(coalesce(x.type, x.type_raw, '?'), ',' ORDER BY x.ord)
          FROM record_reason x WHERE x.record_pk = r.id) AS override_reasons,
       r.message_count,
       rp.authenticity
FROM record r JOIN report rp ON rp.id = r.report_pk
WHERE counted(rp.authenticity);
COMMENT ON COLUMN v_source_detail.authenticity IS 'The report''s authenticity: verified, unverified or forged (report.authenticity).';

CREATE OR REPLACE VIEW v_source_enriched AS
SELECT r.id AS record_pk, r.report_pk, r.report_day, r.policy_domain,
       r.source_ip, r.header_from, r.envelope_from, r.disposition,
       r.dkim_aligned, r.spf_aligned, r.dmarc_pass, r.message_count,
       i.status AS lookup_status, i.ptr, i.ptr_confirmed, i.base_domain,
       m.sender_name, m.sender_kind,
       coalesce(m.sender_name, i.base_domain, 'unknown') AS sender,
       i.country, i.asn, i.as_org,
       rp.authenticity
FROM record r JOIN report rp ON rp.id = r.report_pk
LEFT JOIN ip_info i ON i.ip = r.source_ip
LEFT JOIN source_map m ON m.base_domain = i.base_domain
WHERE counted(rp.authenticity);
COMMENT ON COLUMN v_source_enriched.authenticity IS 'The report''s authenticity (report.authenticity).';

CREATE OR REPLACE VIEW v_forwarding_suspects AS
SELECT r.report_day, r.policy_domain, r.source_ip, r.header_from, r.envelope_from,
       sum(r.message_count) AS messages
FROM record r JOIN report rp ON rp.id = r.report_pk
WHERE r.dkim_aligned = 'pass' AND r.spf_aligned = 'fail' AND counted(rp.authenticity)
GROUP BY 1, 2, 3, 4, 5;

CREATE OR REPLACE VIEW v_spoofing_suspects AS
SELECT r.report_day, r.policy_domain, r.source_ip, r.header_from,
       sum(r.message_count) AS messages,
       coalesce(sum(r.message_count) FILTER (WHERE r.disposition IN ('quarantine','reject')), 0) AS blocked,
       bool_or(EXISTS (SELECT 1 FROM record_reason x WHERE x.record_pk = r.id
                       AND x.type IN ('forwarded','mailing_list','trusted_forwarder'))) AS receiver_saw_forwarding
FROM record r JOIN report rp ON rp.id = r.report_pk
WHERE r.dkim_aligned = 'fail' AND r.spf_aligned = 'fail' AND counted(rp.authenticity)
GROUP BY 1, 2, 3, 4;

CREATE VIEW v_authenticity AS
SELECT (rp.date_begin AT TIME ZONE 'UTC')::date AS day, rp.policy_domain,
       count(*) AS reports,
       count(*) FILTER (WHERE rp.authenticity = 'verified')   AS verified_reports,
       count(*) FILTER (WHERE rp.authenticity = 'unverified') AS unverified_reports,
       count(*) FILTER (WHERE rp.authenticity = 'forged')     AS forged_reports,
       sum(rp.message_total) AS messages,
       coalesce(sum(rp.message_total) FILTER (WHERE rp.authenticity = 'verified'), 0)   AS verified_messages,
       coalesce(sum(rp.message_total) FILTER (WHERE rp.authenticity = 'unverified'), 0) AS unverified_messages,
       coalesce(sum(rp.message_total) FILTER (WHERE rp.authenticity = 'forged'), 0)     AS forged_messages,
       coalesce(sum(rp.message_total) FILTER (WHERE counted(rp.authenticity)), 0)        AS counted_messages,
       round(100.0 * coalesce(sum(rp.message_total) FILTER (WHERE rp.authenticity = 'verified'), 0)
             / nullif(sum(rp.message_total), 0), 1) AS verified_pct
FROM report rp
GROUP BY 1, 2;
COMMENT ON VIEW v_authenticity IS 'How much of each policy domain''s data is verified, per UTC day the report period starts: every report, forged ones included (the other views count what authenticity_setting lets through).';
COMMENT ON COLUMN v_authenticity.day IS 'UTC day of the report period start.';
COMMENT ON COLUMN v_authenticity.policy_domain IS 'Domain of the published policy.';
COMMENT ON COLUMN v_authenticity.reports IS 'Reports stored.';
COMMENT ON COLUMN v_authenticity.verified_reports IS 'Reports whose reporter authenticated the mail.';
COMMENT ON COLUMN v_authenticity.unverified_reports IS 'Reports without a usable signature.';
COMMENT ON COLUMN v_authenticity.forged_reports IS 'Reports with a failing signature, or authenticated only by another domain.';
COMMENT ON COLUMN v_authenticity.messages IS 'Messages the reports describe (report.message_total).';
COMMENT ON COLUMN v_authenticity.verified_messages IS 'Of those, in verified reports.';
COMMENT ON COLUMN v_authenticity.unverified_messages IS 'Of those, in unverified reports.';
COMMENT ON COLUMN v_authenticity.forged_messages IS 'Of those, in forged reports.';
COMMENT ON COLUMN v_authenticity.counted_messages IS 'Of those, in reports the figures count (authenticity_setting).';
COMMENT ON COLUMN v_authenticity.verified_pct IS 'Percentage of the messages in verified reports.';

-- Scoped readers (schema 9): the new tables (and schema 11's) get
-- row-level security like
-- the others, scoped_reader_setup() (which knows them) runs again when the
-- role exists, and every view is read with the caller's rights again: the
-- views re-created above lost security_invoker.
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['message_auth', 'message_signature',
        'message_raw', 'authenticity_setting',
        -- and schema 11's, which came after 9
        'approved_sender', 'alert', 'notification', 'summary_sent']
    LOOP
        EXECUTE format('ALTER TABLE dmarc.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY unscoped ON dmarc.%I AS PERMISSIVE'
            ' FOR ALL TO PUBLIC USING (true) WITH CHECK (true)', t);
    END LOOP;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dmarc_scoped_reader') THEN
        CALL dmarc.scoped_reader_setup();
    END IF;
END $$;

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
