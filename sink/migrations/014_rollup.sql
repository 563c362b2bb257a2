-- 014_rollup.sql: the dmarc schema, version 14.
--
-- Daily sums of the records, so that reading a month or a year costs what
-- that month or year holds, not what the whole history holds.  Three
-- rollup tables, the records added up along some of their columns:
--
--   rollup_volume        per day, policy domain and header_from: the
--                        volumes and the number of reports (v_daily_volume,
--                        the report's figures and daily chart);
--   rollup_source        per day, policy domain, source address,
--                        identifiers, disposition, aligned DKIM and SPF
--                        results, raw DKIM and SPF results and override
--                        reasons (the sources, forwarding and spoofing);
--   rollup_source_month  the same per calendar month (long ranges).
--
-- Each row is also per authenticity of the reports (schema 12), so that the
-- readers count what authenticity_setting says (counted()), as the views
-- of 012 did; a trigger on report moves a report's records from one
-- authenticity to another when dmarc-agent verify (or a reparse) changes
-- its verdict, in rollup_pending like any other change.
--
-- The reporter is in none of them: a report holds about one record per
-- source, so a table keyed by reporter and source has as many rows as
-- record (2.19 million against rollup_source's 0.72 million for a year of
-- 20 reporters).  Who reported a source is read from record, through the
-- index record_domain_ip_day_idx, for the few sources a report or a panel
-- shows.
--
-- Equal to the records at every commit.  The statement that inserts records
-- also writes what they add into rollup_pending (UNLOGGED: its rows never
-- outlive their transaction), and the sink calls rollup_flush() before
-- COMMIT: it adds the pending rows to the rollup tables, in key order, and
-- deletes them.  A duplicate report inserts no record and adds nothing.
-- Whoever deletes or replaces records takes them away in the same
-- transaction: rollup_stage(report ids, -1) before deleting them, and
-- rollup_flush() just before COMMIT (reparse does; so must a pruning of
-- reports: flushing last keeps the rollup's row locks after every other
-- lock, as the sink's writers take them, so they cannot deadlock), or
-- recomputes whole months afterwards with rollup_refresh(first day, last
-- day).  rollup_check() compares the rollup tables with the records
-- (dmarc-agent check-db).
--
-- Rows are merged on the day (or month), the policy domain and k, a 128-bit
-- prefix of the SHA-256 of the row's other key columns: they are nullable,
-- and the raw results can be longer than a B-tree entry may be.
--
-- The views v_daily_volume, v_forwarding_suspects, v_spoofing_suspects,
-- v_source_summary and v_sources_by_sender now read the rollup tables
-- (same columns, the counted() filter of 012 kept; v_sources_by_sender
-- gets it too, so that its sums stay v_daily_volume's).  v_source_detail, v_source_enriched and
-- v_daily_volume_prorated stay one line per record.
--
-- Run by "dmarc-agent migrate" in one transaction; by hand:
-- psql -1 -f 014_rollup.sql, then
-- INSERT INTO dmarc.schema_version (version, name) VALUES (14, '014_rollup').
-- Released versions are never edited: add a new file instead.

SET LOCAL search_path = dmarc;

-- Who reported the sources a report shows: an index-only scan (its
-- report, and its messages for the drill-down).
CREATE INDEX record_domain_ip_day_idx ON record (policy_domain, source_ip,
    report_day) INCLUDE (report_pk, message_count);

-- The key of a row's nullable columns ----------------------------------------------
-- STABLE, as convert_to and a row's text are, so that the planner inlines
-- them: a call of an SQL function that is not inlined costs far more than
-- the hash.
CREATE FUNCTION rollup_key(text) RETURNS bytea
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT substr(pg_catalog.sha256(pg_catalog.convert_to(
    pg_catalog.quote_nullable($1), 'UTF8')), 1, 16) $$;
CREATE FUNCTION rollup_key(inet, text, text, text, text, text, text, text,
    text[], boolean) RETURNS bytea
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT substr(pg_catalog.sha256(pg_catalog.convert_to(
    ROW($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)::text, 'UTF8')), 1, 16) $$;
COMMENT ON FUNCTION rollup_key(text) IS
'The k of a rollup_volume row: 16 bytes of the SHA-256 of its header_from (NULL included, distinct from any text).';
COMMENT ON FUNCTION rollup_key(inet, text, text, text, text, text, text, text, text[], boolean) IS
'The k of a rollup_source(_month) row: 16 bytes of the SHA-256 of its key columns after the day, as a row''s text (NULLs included, distinct from any text).';

-- What one record adds -------------------------------------------------------------
CREATE VIEW v_record_rollup WITH (security_invoker = true) AS
SELECT r.report_pk, r.report_day AS day, r.policy_domain,
       r.source_ip, r.header_from, r.envelope_from, r.disposition,
       r.dkim_aligned, r.spf_aligned,
       (SELECT string_agg(coalesce(d.domain, '?') || '/' ||
               coalesce(d.selector, '-') || '=' ||
               coalesce(d.result, d.result_raw, '?'), ' ' ORDER BY d.ord)
          FROM record_dkim d WHERE d.record_pk = r.id) AS dkim_results,
       (SELECT string_agg(coalesce(s.domain, '?') || '(' ||
               coalesce(s.scope, s.scope_raw, 'mfrom') || ')=' ||
               coalesce(s.result, s.result_raw, '?'), ' ' ORDER BY s.ord)
          FROM record_spf s WHERE s.record_pk = r.id) AS spf_results,
       x.reasons, coalesce(x.forwarded, false) AS forwarded,
       rp.authenticity, r.message_count
FROM record r
JOIN report rp ON rp.id = r.report_pk
LEFT JOIN LATERAL (
    SELECT array_agg(coalesce(y.type, y.type_raw, '?') ||
                     coalesce(': ' || y.comment, '') ORDER BY y.ord) AS reasons,
           bool_or(y.type IN ('forwarded', 'mailing_list',
                              'trusted_forwarder')) AS forwarded
      FROM record_reason y WHERE y.record_pk = r.id) x ON true;
COMMENT ON VIEW v_record_rollup IS 'One line per record with the values the rollup tables add up: the definition of the rollup (rollup_stage and rollup_check read it; the sink''s statements that insert records compute the same from what they insert).';
COMMENT ON COLUMN v_record_rollup.report_pk IS 'The record''s report.';
COMMENT ON COLUMN v_record_rollup.day IS 'UTC day of the report period start (record.report_day).';
COMMENT ON COLUMN v_record_rollup.policy_domain IS 'Domain of the published policy.';
COMMENT ON COLUMN v_record_rollup.source_ip IS 'Sending IP address (NULL when unreadable).';
COMMENT ON COLUMN v_record_rollup.header_from IS 'RFC5322.From domain.';
COMMENT ON COLUMN v_record_rollup.envelope_from IS 'RFC5321.MailFrom domain.';
COMMENT ON COLUMN v_record_rollup.disposition IS 'What the receiver did.';
COMMENT ON COLUMN v_record_rollup.dkim_aligned IS 'DMARC DKIM result (aligned).';
COMMENT ON COLUMN v_record_rollup.spf_aligned IS 'DMARC SPF result (aligned).';
COMMENT ON COLUMN v_record_rollup.dkim_results IS 'Raw DKIM results as in v_source_detail: domain/selector=result, space separated; NULL without any.';
COMMENT ON COLUMN v_record_rollup.spf_results IS 'Raw SPF results as in v_source_detail: domain(scope)=result, space separated; NULL without any.';
COMMENT ON COLUMN v_record_rollup.reasons IS 'Override reasons as type or type: comment, in document order; NULL without any.';
COMMENT ON COLUMN v_record_rollup.forwarded IS 'true when a reason is forwarded, mailing_list or trusted_forwarder.';
COMMENT ON COLUMN v_record_rollup.authenticity IS 'The report''s authenticity (report.authenticity).';
COMMENT ON COLUMN v_record_rollup.message_count IS 'Messages the record stands for.';

-- The rollup tables ----------------------------------------------------------------
CREATE TABLE rollup_volume (
    day               date   NOT NULL,
    policy_domain     text   NOT NULL,
    header_from       text,
    authenticity      text   NOT NULL,
    messages          bigint NOT NULL,
    dmarc_pass        bigint NOT NULL,
    dkim_aligned_pass bigint NOT NULL,
    spf_aligned_pass  bigint NOT NULL,
    quarantined       bigint NOT NULL,
    rejected          bigint NOT NULL,
    reports           bigint NOT NULL,
    records           bigint NOT NULL,
    k                 bytea  NOT NULL,
    UNIQUE (policy_domain, day, authenticity, k)
);
CREATE INDEX rollup_volume_day_idx ON rollup_volume (day);
COMMENT ON TABLE rollup_volume IS
'The records added up per UTC day, policy domain and header_from, equal to the records at every commit (see rollup_add). v_daily_volume reads it.';
COMMENT ON COLUMN rollup_volume.day IS 'UTC day of the report period start.';
COMMENT ON COLUMN rollup_volume.policy_domain IS 'Domain of the published policy.';
COMMENT ON COLUMN rollup_volume.header_from IS 'RFC5322.From domain.';
COMMENT ON COLUMN rollup_volume.authenticity IS 'The reports'' authenticity (report.authenticity): readers count the rows counted() lets through.';
COMMENT ON COLUMN rollup_volume.messages IS 'Messages reported (sum of record.message_count).';
COMMENT ON COLUMN rollup_volume.dmarc_pass IS 'Messages that passed DMARC.';
COMMENT ON COLUMN rollup_volume.dkim_aligned_pass IS 'Messages with an aligned DKIM pass.';
COMMENT ON COLUMN rollup_volume.spf_aligned_pass IS 'Messages with an aligned SPF pass.';
COMMENT ON COLUMN rollup_volume.quarantined IS 'Messages the receiver quarantined.';
COMMENT ON COLUMN rollup_volume.rejected IS 'Messages the receiver rejected.';
COMMENT ON COLUMN rollup_volume.reports IS 'Reports with at least one record here.';
COMMENT ON COLUMN rollup_volume.records IS 'Records added up here.';
COMMENT ON COLUMN rollup_volume.k IS 'rollup_key(header_from): with day and policy_domain, the row''s key.';

CREATE TABLE rollup_source (
    day           date    NOT NULL,
    policy_domain text    NOT NULL,
    source_ip     inet,
    header_from   text,
    envelope_from text,
    disposition   text,
    dkim_aligned  text,
    spf_aligned   text,
    dkim_results  text,
    spf_results   text,
    reasons       text[],
    forwarded     boolean NOT NULL,
    authenticity  text    NOT NULL,
    messages      bigint  NOT NULL,
    records       bigint  NOT NULL,
    k             bytea   NOT NULL,
    UNIQUE (policy_domain, day, authenticity, k)
);
COMMENT ON TABLE rollup_source IS
'The records added up per UTC day, policy domain, source, identifiers and results (the columns of v_record_rollup), equal to the records at every commit (see rollup_add). The sources, forwarding and spoofing views read it.';
COMMENT ON COLUMN rollup_source.day IS 'UTC day of the report period start.';
COMMENT ON COLUMN rollup_source.policy_domain IS 'Domain of the published policy.';
COMMENT ON COLUMN rollup_source.source_ip IS 'Sending IP address (NULL: unreadable).';
COMMENT ON COLUMN rollup_source.header_from IS 'RFC5322.From domain.';
COMMENT ON COLUMN rollup_source.envelope_from IS 'RFC5321.MailFrom domain.';
COMMENT ON COLUMN rollup_source.disposition IS 'What the receiver did.';
COMMENT ON COLUMN rollup_source.dkim_aligned IS 'DMARC DKIM result (aligned).';
COMMENT ON COLUMN rollup_source.spf_aligned IS 'DMARC SPF result (aligned).';
COMMENT ON COLUMN rollup_source.dkim_results IS 'Raw DKIM results (v_record_rollup.dkim_results).';
COMMENT ON COLUMN rollup_source.spf_results IS 'Raw SPF results (v_record_rollup.spf_results).';
COMMENT ON COLUMN rollup_source.reasons IS 'Override reasons (v_record_rollup.reasons).';
COMMENT ON COLUMN rollup_source.forwarded IS 'A reason says forwarding (v_record_rollup.forwarded).';
COMMENT ON COLUMN rollup_source.authenticity IS 'The reports'' authenticity (report.authenticity): readers count the rows counted() lets through.';
COMMENT ON COLUMN rollup_source.messages IS 'Messages reported.';
COMMENT ON COLUMN rollup_source.records IS 'Records added up here.';
COMMENT ON COLUMN rollup_source.k IS 'rollup_key of the columns from source_ip to forwarded: with day and policy_domain, the row''s key.';

CREATE TABLE rollup_source_month (
    month         date    NOT NULL
                  CHECK (month = date_trunc('month', month::timestamp)::date),
    policy_domain text    NOT NULL,
    source_ip     inet,
    header_from   text,
    envelope_from text,
    disposition   text,
    dkim_aligned  text,
    spf_aligned   text,
    dkim_results  text,
    spf_results   text,
    reasons       text[],
    forwarded     boolean NOT NULL,
    authenticity  text    NOT NULL,
    messages      bigint  NOT NULL,
    records       bigint  NOT NULL,
    k             bytea   NOT NULL,
    UNIQUE (policy_domain, month, authenticity, k)
);
COMMENT ON TABLE rollup_source_month IS
'rollup_source per calendar month (month: its first day): a year is twelve months of rows, not 365 days of them.';
COMMENT ON COLUMN rollup_source_month.month IS 'First day of the UTC month of the report period start.';
COMMENT ON COLUMN rollup_source_month.policy_domain IS 'As rollup_source.policy_domain.';
COMMENT ON COLUMN rollup_source_month.source_ip IS 'As rollup_source.source_ip.';
COMMENT ON COLUMN rollup_source_month.header_from IS 'As rollup_source.header_from.';
COMMENT ON COLUMN rollup_source_month.envelope_from IS 'As rollup_source.envelope_from.';
COMMENT ON COLUMN rollup_source_month.disposition IS 'As rollup_source.disposition.';
COMMENT ON COLUMN rollup_source_month.dkim_aligned IS 'As rollup_source.dkim_aligned.';
COMMENT ON COLUMN rollup_source_month.spf_aligned IS 'As rollup_source.spf_aligned.';
COMMENT ON COLUMN rollup_source_month.dkim_results IS 'As rollup_source.dkim_results.';
COMMENT ON COLUMN rollup_source_month.spf_results IS 'As rollup_source.spf_results.';
COMMENT ON COLUMN rollup_source_month.reasons IS 'As rollup_source.reasons.';
COMMENT ON COLUMN rollup_source_month.forwarded IS 'As rollup_source.forwarded.';
COMMENT ON COLUMN rollup_source_month.authenticity IS 'As rollup_source.authenticity.';
COMMENT ON COLUMN rollup_source_month.messages IS 'As rollup_source.messages.';
COMMENT ON COLUMN rollup_source_month.records IS 'As rollup_source.records.';
COMMENT ON COLUMN rollup_source_month.k IS 'As rollup_source.k.';

CREATE UNLOGGED TABLE rollup_pending (
    txid          xid8    NOT NULL DEFAULT pg_current_xact_id(),
    day           date    NOT NULL,
    policy_domain text    NOT NULL,
    report_pk     bigint  NOT NULL,
    source_ip     inet,
    header_from   text,
    envelope_from text,
    disposition   text,
    dkim_aligned  text,
    spf_aligned   text,
    dkim_results  text,
    spf_results   text,
    reasons       text[],
    forwarded     boolean NOT NULL,
    authenticity  text    NOT NULL,
    messages      bigint  NOT NULL,
    records       bigint  NOT NULL
);
-- The flush finds its transaction's rows by this index: a scan would
-- also read the dead rows of every transaction since the last vacuum.
CREATE INDEX rollup_pending_txid_idx ON rollup_pending (txid);
COMMENT ON TABLE rollup_pending IS
'What the records written (or deleted) in an open transaction add to (or take from) the rollup tables, one line per record, as in v_record_rollup: the statement that inserts records writes them here, and rollup_flush(), called before COMMIT, adds them up into the rollup tables and deletes them. Empty between transactions (unlogged: nothing in it outlives a crash).';
COMMENT ON COLUMN rollup_pending.day IS 'As v_record_rollup.day.';
COMMENT ON COLUMN rollup_pending.policy_domain IS 'As v_record_rollup.policy_domain.';
COMMENT ON COLUMN rollup_pending.source_ip IS 'As v_record_rollup.source_ip.';
COMMENT ON COLUMN rollup_pending.header_from IS 'As v_record_rollup.header_from.';
COMMENT ON COLUMN rollup_pending.envelope_from IS 'As v_record_rollup.envelope_from.';
COMMENT ON COLUMN rollup_pending.disposition IS 'As v_record_rollup.disposition.';
COMMENT ON COLUMN rollup_pending.dkim_aligned IS 'As v_record_rollup.dkim_aligned.';
COMMENT ON COLUMN rollup_pending.spf_aligned IS 'As v_record_rollup.spf_aligned.';
COMMENT ON COLUMN rollup_pending.dkim_results IS 'As v_record_rollup.dkim_results.';
COMMENT ON COLUMN rollup_pending.spf_results IS 'As v_record_rollup.spf_results.';
COMMENT ON COLUMN rollup_pending.reasons IS 'As v_record_rollup.reasons.';
COMMENT ON COLUMN rollup_pending.forwarded IS 'As v_record_rollup.forwarded.';
COMMENT ON COLUMN rollup_pending.authenticity IS 'As v_record_rollup.authenticity (the report''s before its change, on a line that takes a record away because the report''s authenticity changed).';
COMMENT ON COLUMN rollup_pending.txid IS 'The transaction that wrote the row (the flush takes its own).';
COMMENT ON COLUMN rollup_pending.report_pk IS 'The record''s report (for rollup_volume.reports).';
COMMENT ON COLUMN rollup_pending.messages IS 'The record''s message count, negative when it is taken away.';
COMMENT ON COLUMN rollup_pending.records IS '1, or -1 when the record is taken away.';

-- Keeping them equal to the records ------------------------------------------------
CREATE FUNCTION rollup_stage(p_reports bigint[], p_sign integer) RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    n bigint;
BEGIN
    IF p_sign IS NULL OR p_sign NOT IN (1, -1) THEN
        RAISE EXCEPTION 'rollup_stage: sign must be 1 or -1';
    END IF;
    INSERT INTO dmarc.rollup_pending (day, policy_domain, report_pk,
        source_ip, header_from, envelope_from, disposition, dkim_aligned,
        spf_aligned, dkim_results, spf_results, reasons, forwarded,
        authenticity, messages, records)
    SELECT u.day, u.policy_domain, u.report_pk, u.source_ip, u.header_from,
           u.envelope_from, u.disposition, u.dkim_aligned, u.spf_aligned,
           u.dkim_results, u.spf_results, u.reasons, u.forwarded,
           u.authenticity, p_sign * u.message_count, p_sign
      FROM dmarc.v_record_rollup u WHERE u.report_pk = ANY (p_reports);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;
COMMENT ON FUNCTION rollup_stage(bigint[], integer) IS
'Write into rollup_pending what the records of these reports add (1) or take away (-1); rollup_flush() applies it. Returns how many records. Take records away before deleting or replacing them.';

CREATE FUNCTION rollup_flush() RETURNS bigint
LANGUAGE plpgsql
SET jit = off
AS $$
DECLARE
    a dmarc.rollup_source[];
    b dmarc.rollup_volume[];
    n bigint;
BEGIN
    -- This transaction's rows, added up once per rollup_source row and
    -- per rollup_volume row.  Groups that
    -- add nothing (a report parsed again into the same records) are left
    -- out.
    WITH d AS (DELETE FROM dmarc.rollup_pending
                WHERE txid = pg_catalog.pg_current_xact_id() RETURNING *),
    g AS (SELECT d.day, d.policy_domain, d.source_ip, d.header_from,
                 d.envelope_from, d.disposition, d.dkim_aligned,
                 d.spf_aligned, d.dkim_results, d.spf_results, d.reasons,
                 d.forwarded, d.authenticity,
                 sum(d.messages)::bigint AS messages,
                 sum(d.records)::bigint AS records
            FROM d GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13
          HAVING sum(d.records) <> 0 OR sum(d.messages) <> 0),
    c AS (SELECT d.day, d.policy_domain, d.authenticity,
                 dmarc.rollup_key(d.header_from) AS k,
                 count(DISTINCT d.report_pk) FILTER (WHERE d.records > 0)
                 - count(DISTINCT d.report_pk) FILTER (WHERE d.records < 0)
                 AS reports
            FROM d GROUP BY 1, 2, 3, 4),
    v AS (SELECT g.day, g.policy_domain, g.header_from, g.authenticity,
                 dmarc.rollup_key(g.header_from) AS k,
                 sum(g.messages)::bigint AS messages,
                 coalesce(sum(g.messages) FILTER (WHERE
                     g.dkim_aligned = 'pass' OR g.spf_aligned = 'pass'),
                     0)::bigint AS pass,
                 coalesce(sum(g.messages) FILTER (WHERE
                     g.dkim_aligned = 'pass'), 0)::bigint AS dk,
                 coalesce(sum(g.messages) FILTER (WHERE
                     g.spf_aligned = 'pass'), 0)::bigint AS sp,
                 coalesce(sum(g.messages) FILTER (WHERE
                     g.disposition = 'quarantine'), 0)::bigint AS q,
                 coalesce(sum(g.messages) FILTER (WHERE
                     g.disposition = 'reject'), 0)::bigint AS rj,
                 sum(g.records)::bigint AS records
            FROM g GROUP BY 1, 2, 3, 4)
    SELECT (SELECT array_agg(ROW(g.*, dmarc.rollup_key(g.source_ip,
                g.header_from, g.envelope_from, g.disposition,
                g.dkim_aligned, g.spf_aligned, g.dkim_results,
                g.spf_results, g.reasons, g.forwarded))::dmarc.rollup_source)
              FROM g),
           (SELECT array_agg(ROW(v.day, v.policy_domain, v.header_from,
                v.authenticity, v.messages, v.pass, v.dk, v.sp, v.q, v.rj,
                coalesce(c.reports, 0), v.records, v.k)::dmarc.rollup_volume)
              FROM v LEFT JOIN c ON c.day = v.day
               AND c.policy_domain = v.policy_domain
               AND c.authenticity = v.authenticity AND c.k = v.k),
           (SELECT sum(d.records) FROM d)
      INTO a, b, n;
    IF a IS NULL THEN
        RETURN coalesce(n, 0);
    END IF;
    -- Each table in key order, so that two transactions adding at once
    -- take their row locks in one order and never deadlock.
    INSERT INTO dmarc.rollup_volume AS t
    SELECT * FROM unnest(b) u
     ORDER BY u.policy_domain, u.day, u.authenticity, u.k
    ON CONFLICT (policy_domain, day, authenticity, k) DO UPDATE SET
        messages = t.messages + EXCLUDED.messages,
        dmarc_pass = t.dmarc_pass + EXCLUDED.dmarc_pass,
        dkim_aligned_pass = t.dkim_aligned_pass + EXCLUDED.dkim_aligned_pass,
        spf_aligned_pass = t.spf_aligned_pass + EXCLUDED.spf_aligned_pass,
        quarantined = t.quarantined + EXCLUDED.quarantined,
        rejected = t.rejected + EXCLUDED.rejected,
        reports = t.reports + EXCLUDED.reports,
        records = t.records + EXCLUDED.records;

    INSERT INTO dmarc.rollup_source AS t
    SELECT * FROM unnest(a) u
     ORDER BY u.policy_domain, u.day, u.authenticity, u.k
    ON CONFLICT (policy_domain, day, authenticity, k) DO UPDATE SET
        messages = t.messages + EXCLUDED.messages,
        records = t.records + EXCLUDED.records;

    INSERT INTO dmarc.rollup_source_month AS t (month, policy_domain,
        source_ip, header_from, envelope_from, disposition, dkim_aligned,
        spf_aligned, dkim_results, spf_results, reasons, forwarded,
        authenticity, messages, records, k)
    SELECT date_trunc('month', u.day::timestamp)::date, u.policy_domain,
           u.source_ip, u.header_from, u.envelope_from, u.disposition,
           u.dkim_aligned, u.spf_aligned, u.dkim_results, u.spf_results,
           u.reasons, u.forwarded, u.authenticity, sum(u.messages),
           sum(u.records), u.k
      FROM unnest(a) u
     GROUP BY 1, u.policy_domain, u.authenticity, u.k, u.source_ip,
           u.header_from, u.envelope_from, u.disposition, u.dkim_aligned,
           u.spf_aligned, u.dkim_results, u.spf_results, u.reasons,
           u.forwarded
     ORDER BY u.policy_domain, 1, u.authenticity, u.k
    ON CONFLICT (policy_domain, month, authenticity, k) DO UPDATE SET
        messages = t.messages + EXCLUDED.messages,
        records = t.records + EXCLUDED.records;

    -- Rows a subtraction left with no record.
    IF EXISTS (SELECT 1 FROM unnest(a) u WHERE u.records < 0) THEN
        PERFORM dmarc.rollup_sweep(array_agg(x.policy_domain),
                                   array_agg(x.day))
           FROM (SELECT DISTINCT u.policy_domain, u.day
                   FROM unnest(a) u WHERE u.records < 0) x;
    END IF;
    RETURN n;
END $$;
COMMENT ON FUNCTION rollup_flush() IS
'Add what rollup_pending holds (this transaction''s records, see rollup_stage) to the rollup tables, in key order, and empty it; the sink calls it just before COMMIT, and so should whoever else changes records (a pruning: rollup_stage(ids, -1), the DELETE, rollup_flush(), COMMIT), so that the rollup''s row locks come after every other lock and writers never deadlock on them. Returns the records added (less those taken away).';

CREATE FUNCTION rollup_add(p_reports bigint[], p_sign integer) RETURNS bigint
LANGUAGE sql
AS $$
SELECT dmarc.rollup_stage(p_reports, p_sign);
SELECT dmarc.rollup_flush();
$$;
COMMENT ON FUNCTION rollup_add(bigint[], integer) IS
'Add (1) or take away (-1) the records of these reports to or from the rollup tables now: rollup_stage, then rollup_flush. Where other writers run, rather stage before deleting and flush just before COMMIT (see rollup_flush).';

-- Rows that a subtraction left with no record, of these (domain, day)s.
CREATE FUNCTION rollup_sweep(p_domains text[], p_days date[]) RETURNS void
LANGUAGE sql
AS $$
DELETE FROM dmarc.rollup_volume t USING unnest(p_domains, p_days) x (d, y)
 WHERE t.policy_domain = x.d AND t.day = x.y AND t.records = 0;
DELETE FROM dmarc.rollup_source t USING unnest(p_domains, p_days) x (d, y)
 WHERE t.policy_domain = x.d AND t.day = x.y AND t.records = 0;
DELETE FROM dmarc.rollup_source_month t
 USING (SELECT DISTINCT d, date_trunc('month', y::timestamp)::date AS m
          FROM unnest(p_domains, p_days) x (d, y)) x
 WHERE t.policy_domain = x.d AND t.month = x.m AND t.records = 0;
$$;
COMMENT ON FUNCTION rollup_sweep(text[], date[]) IS
'Delete the rollup rows of these policy domains and days (the arrays go in pairs), and of their months, that hold no record any more (after records were taken away).';

CREATE FUNCTION rollup_refresh(p_from date, p_until date,
    p_domain text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    f date := date_trunc('month', p_from::timestamp)::date;
    u date := (date_trunc('month', p_until::timestamp)
               + interval '1 month - 1 day')::date;
    ids bigint[];
    n bigint := 0;
BEGIN
    DELETE FROM dmarc.rollup_volume WHERE day BETWEEN f AND u
       AND (p_domain IS NULL OR policy_domain = p_domain);
    DELETE FROM dmarc.rollup_source WHERE day BETWEEN f AND u
       AND (p_domain IS NULL OR policy_domain = p_domain);
    DELETE FROM dmarc.rollup_source_month WHERE month BETWEEN f AND u
       AND (p_domain IS NULL OR policy_domain = p_domain);
    -- A few hundred reports at a time: rollup_add holds their sums in
    -- memory.
    FOR ids IN
        SELECT array_agg(c.id) FROM (
            SELECT id, (row_number() OVER (ORDER BY id) - 1) / 500 AS g
              FROM dmarc.report
             WHERE date_begin >= f::timestamp AT TIME ZONE 'UTC'
               AND date_begin < (u + 1)::timestamp AT TIME ZONE 'UTC'
               AND (p_domain IS NULL OR policy_domain = p_domain)) c
         GROUP BY c.g ORDER BY c.g
    LOOP
        n := n + dmarc.rollup_add(ids, 1);
    END LOOP;
    RETURN n;
END $$;
COMMENT ON FUNCTION rollup_refresh(date, date, text) IS
'Recompute the rollup rows of the whole months from p_from''s to p_until''s (of one policy domain, or all) from the records; returns how many records were added up. For whoever changed records without rollup_add, for example a pruning that deleted whole days: call it in the same transaction.';

CREATE FUNCTION rollup_check() RETURNS TABLE (relation text, side text, row_text text)
LANGUAGE plpgsql
AS $$
BEGIN
    CREATE TEMP TABLE rollup_check_rec ON COMMIT DROP AS
        SELECT * FROM dmarc.v_record_rollup;
    RETURN QUERY
    WITH want AS (
        SELECT day, policy_domain, header_from, authenticity,
               sum(message_count) AS m,
               coalesce(sum(message_count) FILTER (WHERE
                   dkim_aligned = 'pass' OR spf_aligned = 'pass'), 0) AS p,
               coalesce(sum(message_count) FILTER (WHERE dkim_aligned = 'pass'), 0) AS dk,
               coalesce(sum(message_count) FILTER (WHERE spf_aligned = 'pass'), 0) AS sp,
               coalesce(sum(message_count) FILTER (WHERE disposition = 'quarantine'), 0) AS q,
               coalesce(sum(message_count) FILTER (WHERE disposition = 'reject'), 0) AS rj,
               count(DISTINCT report_pk) AS reports, count(*) AS records
          FROM rollup_check_rec GROUP BY 1, 2, 3, 4),
    have AS (
        SELECT day, policy_domain, header_from, authenticity, sum(messages),
               sum(dmarc_pass), sum(dkim_aligned_pass), sum(spf_aligned_pass),
               sum(quarantined), sum(rejected), sum(reports), sum(records)
          FROM dmarc.rollup_volume GROUP BY 1, 2, 3, 4)
    SELECT 'rollup_volume', 'rollup', h::text
      FROM (SELECT * FROM have EXCEPT ALL SELECT * FROM want) h
    UNION ALL
    SELECT 'rollup_volume', 'records', w::text
      FROM (SELECT * FROM want EXCEPT ALL SELECT * FROM have) w;

    RETURN QUERY
    WITH want AS (
        SELECT day, policy_domain, source_ip, header_from, envelope_from,
               disposition, dkim_aligned, spf_aligned, dkim_results,
               spf_results, reasons, forwarded, authenticity,
               sum(message_count) AS m, count(*) AS records
          FROM rollup_check_rec GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13),
    have AS (
        SELECT day, policy_domain, source_ip, header_from, envelope_from,
               disposition, dkim_aligned, spf_aligned, dkim_results,
               spf_results, reasons, forwarded, authenticity, sum(messages),
               sum(records)
          FROM dmarc.rollup_source GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13)
    SELECT 'rollup_source', 'rollup', h::text
      FROM (SELECT * FROM have EXCEPT ALL SELECT * FROM want) h
    UNION ALL
    SELECT 'rollup_source', 'records', w::text
      FROM (SELECT * FROM want EXCEPT ALL SELECT * FROM have) w;

    RETURN QUERY
    WITH want AS (
        SELECT date_trunc('month', day::timestamp)::date AS month,
               policy_domain, source_ip, header_from, envelope_from,
               disposition, dkim_aligned, spf_aligned, dkim_results,
               spf_results, reasons, forwarded, authenticity,
               sum(message_count) AS m, count(*) AS records
          FROM rollup_check_rec GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13),
    have AS (
        SELECT month, policy_domain, source_ip, header_from, envelope_from,
               disposition, dkim_aligned, spf_aligned, dkim_results,
               spf_results, reasons, forwarded, authenticity, sum(messages),
               sum(records)
          FROM dmarc.rollup_source_month GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13)
    SELECT 'rollup_source_month', 'rollup', h::text
      FROM (SELECT * FROM have EXCEPT ALL SELECT * FROM want) h
    UNION ALL
    SELECT 'rollup_source_month', 'records', w::text
      FROM (SELECT * FROM want EXCEPT ALL SELECT * FROM have) w;

    -- A key that does not match its columns would keep two rows apart.
    RETURN QUERY
    SELECT 'rollup_volume', 'key', t::text FROM dmarc.rollup_volume t
     WHERE t.k <> dmarc.rollup_key(t.header_from)
    UNION ALL
    SELECT 'rollup_source', 'key', t::text FROM dmarc.rollup_source t
     WHERE t.k <> dmarc.rollup_key(t.source_ip, t.header_from,
           t.envelope_from, t.disposition, t.dkim_aligned, t.spf_aligned,
           t.dkim_results, t.spf_results, t.reasons, t.forwarded)
    UNION ALL
    SELECT 'rollup_source_month', 'key', t::text FROM dmarc.rollup_source_month t
     WHERE t.k <> dmarc.rollup_key(t.source_ip, t.header_from,
           t.envelope_from, t.disposition, t.dkim_aligned, t.spf_aligned,
           t.dkim_results, t.spf_results, t.reasons, t.forwarded);

    RETURN QUERY
    SELECT 'rollup_pending', 'rollup', p::text FROM dmarc.rollup_pending p;
    DROP TABLE rollup_check_rec;
END $$;
COMMENT ON FUNCTION rollup_check() IS
'Compare the rollup tables with the records, added up afresh: one row per difference (side rollup: a group the table has and the records do not; records: the other way round; key: a row whose k does not match its columns), none when they are equal. dmarc-agent check-db runs it.';

-- The authenticities counted() lets through, for a filter
-- "authenticity IN (SELECT dmarc.counted_authenticities())": evaluated once
-- a query, where counted(authenticity) costs a call a row (a year's rollup
-- rows of a month: 40 ms against 220).
CREATE FUNCTION counted_authenticities() RETURNS SETOF text
LANGUAGE sql STABLE
AS $$ SELECT a FROM unnest(ARRAY['verified', 'unverified', 'forged']) a
       WHERE dmarc.counted(a) $$;
COMMENT ON FUNCTION counted_authenticities() IS
'The values of report.authenticity that counted() counts (authenticity_setting): the rollup''s readers keep the rows whose authenticity is among them.';

-- The rows of a report window: whole months from rollup_source_month, the
-- days before and after them from rollup_source (each day once, whole
-- month or not: the second branch starts where the first ends).
CREATE FUNCTION rollup_source_window(p_domain text, p_from date, p_until date)
RETURNS TABLE (source_ip inet, header_from text, envelope_from text,
    disposition text, dkim_aligned text, spf_aligned text,
    dkim_results text, spf_results text, reasons text[], forwarded boolean,
    messages bigint, records bigint)
LANGUAGE sql STABLE
AS $$
SELECT s.source_ip, s.header_from, s.envelope_from, s.disposition,
       s.dkim_aligned, s.spf_aligned, s.dkim_results, s.spf_results,
       s.reasons, s.forwarded, s.messages, s.records
  FROM dmarc.rollup_source s
 WHERE s.policy_domain = p_domain AND s.day >= p_from AND s.day <= p_until
   AND s.authenticity IN (SELECT dmarc.counted_authenticities())
   AND s.day < (date_trunc('month', (p_from - 1)::timestamp)
                + interval '1 month')::date
UNION ALL
SELECT s.source_ip, s.header_from, s.envelope_from, s.disposition,
       s.dkim_aligned, s.spf_aligned, s.dkim_results, s.spf_results,
       s.reasons, s.forwarded, s.messages, s.records
  FROM dmarc.rollup_source s
 WHERE s.policy_domain = p_domain AND s.day >= p_from AND s.day <= p_until
   AND s.authenticity IN (SELECT dmarc.counted_authenticities())
   AND s.day > date_trunc('month', (p_until + 1)::timestamp)::date - 1
   AND s.day >= (date_trunc('month', (p_from - 1)::timestamp)
                 + interval '1 month')::date
UNION ALL
SELECT m.source_ip, m.header_from, m.envelope_from, m.disposition,
       m.dkim_aligned, m.spf_aligned, m.dkim_results, m.spf_results,
       m.reasons, m.forwarded, m.messages, m.records
  FROM dmarc.rollup_source_month m
 WHERE m.policy_domain = p_domain AND m.authenticity IN (SELECT dmarc.counted_authenticities())
   AND m.month >= (date_trunc('month', (p_from - 1)::timestamp)
                   + interval '1 month')::date
   AND m.month <= date_trunc('month', (p_until + 1)::timestamp)::date - 1
$$;
COMMENT ON FUNCTION rollup_source_window(text, date, date) IS
'The rollup_source rows of one policy domain from p_from to p_until (UTC days), whole months read from rollup_source_month, of the reports counted() counts: what a report over a long range adds up.';

-- The views read the rollup --------------------------------------------------------
-- Views re-created here keep the columns 012 gave them (verified_messages)
-- and its filter counted(); CREATE OR REPLACE VIEW drops an option it does
-- not repeat, hence security_invoker on each (scoped readers, schema 9).
CREATE OR REPLACE VIEW v_daily_volume WITH (security_invoker = true) AS
SELECT day, policy_domain, header_from,
       sum(messages)::numeric AS messages,
       sum(dmarc_pass)::numeric AS dmarc_pass,
       sum(messages - dmarc_pass)::numeric AS dmarc_fail,
       sum(dkim_aligned_pass)::numeric AS dkim_aligned_pass,
       sum(spf_aligned_pass)::numeric AS spf_aligned_pass,
       sum(quarantined)::numeric AS quarantined,
       sum(rejected)::numeric AS rejected,
       sum(reports)::bigint AS reports,
       coalesce(sum(messages) FILTER (WHERE authenticity = 'verified'), 0)::numeric AS verified_messages
FROM rollup_volume
WHERE authenticity IN (SELECT counted_authenticities())
GROUP BY 1, 2, 3;

CREATE OR REPLACE VIEW v_forwarding_suspects WITH (security_invoker = true) AS
SELECT day AS report_day, policy_domain, source_ip, header_from,
       envelope_from, sum(messages)::numeric AS messages
FROM rollup_source WHERE dkim_aligned = 'pass' AND spf_aligned = 'fail'
  AND authenticity IN (SELECT counted_authenticities())
GROUP BY 1, 2, 3, 4, 5;

CREATE OR REPLACE VIEW v_spoofing_suspects WITH (security_invoker = true) AS
SELECT day AS report_day, policy_domain, source_ip, header_from,
       sum(messages)::numeric AS messages,
       coalesce(sum(messages) FILTER (WHERE disposition IN ('quarantine','reject')), 0)::numeric AS blocked,
       bool_or(forwarded) AS receiver_saw_forwarding
FROM rollup_source WHERE dkim_aligned = 'fail' AND spf_aligned = 'fail'
  AND authenticity IN (SELECT counted_authenticities())
GROUP BY 1, 2, 3, 4;

-- 0.0.0.0/0 stands for an unreadable source (NULL) in a join: no record
-- has a network there.
CREATE OR REPLACE VIEW v_source_summary WITH (security_invoker = true) AS
WITH g AS (
    SELECT policy_domain, source_ip,
           min(day) AS first_day, max(day) AS last_day,
           sum(messages) AS messages,
           coalesce(sum(messages) FILTER (WHERE dkim_aligned = 'pass'
                    OR spf_aligned = 'pass'), 0) AS pass,
           array_agg(DISTINCT header_from) AS header_froms,
           coalesce(sum(messages) FILTER (WHERE authenticity = 'verified'), 0) AS verified
      FROM rollup_source WHERE authenticity IN (SELECT counted_authenticities())
     GROUP BY 1, 2),
rep AS (
    SELECT r.policy_domain, r.source_ip,
           count(DISTINCT p.reporter_key) AS n
      FROM record r JOIN report p ON p.id = r.report_pk
     WHERE p.authenticity IN (SELECT counted_authenticities()) GROUP BY 1, 2)
SELECT g.policy_domain, g.source_ip, g.first_day, g.last_day,
       g.messages::numeric AS messages,
       round(100.0 * g.pass / nullif(g.messages, 0), 1) AS dmarc_pass_pct,
       coalesce(rep.n, 0) AS reporters,
       g.header_froms,
       i.ptr, i.ptr_confirmed, i.base_domain,
       coalesce(m.sender_name, i.base_domain, 'unknown') AS sender,
       m.sender_kind, i.country, i.asn, i.as_org,
       g.verified::numeric AS verified_messages
FROM g
LEFT JOIN rep ON rep.policy_domain = g.policy_domain
    AND coalesce(rep.source_ip, '0.0.0.0/0') = coalesce(g.source_ip, '0.0.0.0/0')
LEFT JOIN ip_info i ON i.ip = g.source_ip
LEFT JOIN source_map m ON m.base_domain = i.base_domain;

CREATE OR REPLACE VIEW v_sources_by_sender WITH (security_invoker = true) AS
SELECT s.day, s.policy_domain,
       coalesce(m.sender_name, i.base_domain, 'unknown') AS sender,
       min(m.sender_kind) AS sender_kind,
       sum(s.messages)::numeric AS messages,
       coalesce(sum(s.messages) FILTER (WHERE s.dkim_aligned = 'pass'
                OR s.spf_aligned = 'pass'), 0)::numeric AS dmarc_pass,
       coalesce(sum(s.messages) FILTER (WHERE NOT (coalesce(s.dkim_aligned = 'pass', false)
                OR coalesce(s.spf_aligned = 'pass', false))), 0)::numeric AS dmarc_fail,
       count(DISTINCT s.source_ip) AS sources,
       array_agg(DISTINCT i.base_domain ORDER BY i.base_domain)
           FILTER (WHERE i.base_domain IS NOT NULL) AS base_domains,
       array_agg(DISTINCT i.country ORDER BY i.country)
           FILTER (WHERE i.country IS NOT NULL) AS countries
FROM rollup_source s
LEFT JOIN ip_info i ON i.ip = s.source_ip
LEFT JOIN source_map m ON m.base_domain = i.base_domain
WHERE s.authenticity IN (SELECT counted_authenticities())
GROUP BY 1, 2, 3;

COMMENT ON VIEW v_daily_volume IS 'Daily message volume per policy domain and From domain, by the UTC day the report period starts (read from rollup_volume).';
COMMENT ON VIEW v_forwarding_suspects IS 'Likely forwarding or mailing lists: aligned DKIM survived but SPF alignment broke (read from rollup_source).';
COMMENT ON VIEW v_spoofing_suspects IS 'Spoofing, or a legitimate sender not yet configured: neither DKIM nor SPF aligned (read from rollup_source).';
COMMENT ON VIEW v_source_summary IS 'Sending sources per policy domain: volume, DMARC pass rate and how many reporters saw them (read from rollup_source; the reporters from record).';
COMMENT ON VIEW v_sources_by_sender IS 'Daily volume per policy domain and sender, like Cloudflare''s list of sources: a sender is a source_map name, else the base domain of the reverse DNS name, else ''unknown'' (no name, or not enriched yet). Sums over a day and policy domain equal v_daily_volume''s (read from rollup_source).';

-- A report whose authenticity changes ------------------------------------------------
-- dmarc-agent verify, or a reparse, may change a report's verdict after
-- its records were added up: its records leave the rows of the old
-- authenticity and join those of the new one, through rollup_pending like
-- any other change (the sink flushes it before COMMIT; whoever else
-- updates report.authenticity calls rollup_flush() before COMMIT too).
CREATE FUNCTION rollup_authenticity_moved() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    INSERT INTO dmarc.rollup_pending (day, policy_domain, report_pk,
        source_ip, header_from, envelope_from, disposition, dkim_aligned,
        spf_aligned, dkim_results, spf_results, reasons, forwarded,
        authenticity, messages, records)
    SELECT u.day, u.policy_domain, u.report_pk, u.source_ip, u.header_from,
           u.envelope_from, u.disposition, u.dkim_aligned, u.spf_aligned,
           u.dkim_results, u.spf_results, u.reasons, u.forwarded,
           a.v, a.sign * u.message_count, a.sign
      FROM dmarc.v_record_rollup u,
           (VALUES (OLD.authenticity, -1), (NEW.authenticity, 1)) a (v, sign)
     WHERE u.report_pk = NEW.id;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION rollup_authenticity_moved() IS
'Trigger of report: when a report''s authenticity changes, write into rollup_pending that its records leave the rollup rows of the old authenticity and join those of the new (rollup_flush() applies it).';
CREATE TRIGGER report_authenticity_rollup
    AFTER UPDATE OF authenticity ON report FOR EACH ROW
    WHEN (OLD.authenticity IS DISTINCT FROM NEW.authenticity)
    EXECUTE FUNCTION rollup_authenticity_moved();

-- Scoped readers (schema 9) ---------------------------------------------------------
-- The rollup tables get row-level security like the others and a rule in
-- scoped_reader_setup(), which keeps every rule of 009, 011, 012 and 013.
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['rollup_volume', 'rollup_source',
        'rollup_source_month', 'rollup_pending']
    LOOP
        EXECUTE format('ALTER TABLE dmarc.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY unscoped ON dmarc.%I AS PERMISSIVE'
            ' FOR ALL TO PUBLIC USING (true) WITH CHECK (true)', t);
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
        -- A poll's bookkeeping (schema 13): the mark of the last search
        -- and the UIDs of pruned ledger rows, per mailbox: never.
        ['mailbox_search', 'false'],
        ['mail_settled', 'false'],
        -- The rollup (schema 14): sums per policy domain; what an open
        -- transaction is adding names every domain and is no report data:
        -- never.
        ['rollup_volume', 'policy_domain ~* (SELECT dmarc.domain_scope())'],
        ['rollup_source', 'policy_domain ~* (SELECT dmarc.domain_scope())'],
        ['rollup_source_month', 'policy_domain ~* (SELECT dmarc.domain_scope())'],
        ['rollup_pending', 'false']];
    -- What scoped readers may read besides the tables above (never
    -- mail_message, ingest_run, mailbox, v_ingest_errors, v_mailbox_health).
    also CONSTANT text[] := ARRAY['source_map', 'v_daily_volume',
        'v_daily_volume_prorated', 'v_source_summary', 'v_source_detail',
        'v_forwarding_suspects', 'v_spoofing_suspects', 'v_reporter_activity',
        'v_silent_reporters', 'v_source_enriched', 'v_sources_by_sender',
        'v_tlsrpt_daily', 'v_tlsrpt_failures', 'v_failure_reports',
        'authenticity_setting', 'v_authenticity', 'v_sender_record',
        'v_senders_daily', 'v_record_rollup'];
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
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dmarc_scoped_reader') THEN
        CALL dmarc.scoped_reader_setup();
    END IF;
END $$;

-- Retention (schema 13) -------------------------------------------------------------
-- A batch of `dmarc-agent prune`: the oldest aggregate reports whose period
-- ended before p_before, at most p_limit, with their records (ON DELETE
-- CASCADE) and the payload rows that delivered them; what their records
-- added is taken off the rollup in the same transaction, flushed last as
-- the sink's writers do.
CREATE FUNCTION prune_reports(p_before timestamptz, p_limit integer,
    OUT reports bigint, OUT records bigint, OUT files bigint)
LANGUAGE plpgsql
AS $$
DECLARE
    ids bigint[];
BEGIN
    SELECT coalesce(array_agg(r.id), '{}') INTO ids
      FROM (SELECT id FROM dmarc.report WHERE date_end < p_before
             ORDER BY date_end, id LIMIT p_limit FOR UPDATE) r;
    PERFORM dmarc.rollup_stage(ids, -1);
    WITH f AS (SELECT DISTINCT d.file_pk FROM dmarc.report_delivery d
                WHERE d.report_pk = ANY (ids)),
         dr AS (DELETE FROM dmarc.report x WHERE x.id = ANY (ids)
                RETURNING x.record_count AS n),
         df AS (DELETE FROM dmarc.report_file x USING f
                WHERE x.id = f.file_pk RETURNING x.id)
    SELECT (SELECT count(*) FROM dr), (SELECT coalesce(sum(n), 0) FROM dr),
           (SELECT count(*) FROM df)
      INTO reports, records, files;
    PERFORM dmarc.rollup_flush();
END $$;
COMMENT ON FUNCTION prune_reports(timestamptz, integer) IS
'One batch of dmarc-agent prune: delete the oldest p_limit aggregate reports whose period ended before p_before, their records and the payloads that delivered them, and take their records off the rollup in the same transaction. Returns how many reports, records and payload rows went.';

-- The existing records, added up ----------------------------------------------------
SELECT rollup_refresh(coalesce(min(date_begin AT TIME ZONE 'UTC')::date, '2000-01-01'),
                      coalesce(max(date_begin AT TIME ZONE 'UTC')::date, '2000-01-01'))
  FROM report;
