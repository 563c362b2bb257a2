-- 016_sender_pairs.sql: the dmarc schema, version 16.
--
-- Who sent the mail, named once per distinct pair of raw results instead
-- of once per source.  Schema 15 called sender_of for every source and
-- pair of results in a window; most of that call is reading the results
-- (auth_domains) and finding the first authenticated domain outside the
-- policy domain's base domain, which depend on the policy domain and the
-- results only, not on the address.  A month of a busy domain has about a
-- third as many pairs as sources-with-pairs, and the address part of a
-- sender (reverse name, AS, approved addresses) is a few index probes.
--
--   sender_auth(domain, dkim, spf)  the results' part: the domains that
--                                   authenticated and the first of them
--                                   outside the policy domain's base domain;
--   sender_by(domain, ip, domains, other)
--                                   the rest: the address's facts and the
--                                   approved sender it matches;
--   sender_of                       the same as before, now the two above,
--                                   so that a sender has one definition;
--   senders_window(from, until, domains[])
--                                   each sender of a window once, with its
--                                   first and last day: the senders listing,
--                                   the report's senders and the dashboard's
--                                   senders table;
--   senders_daily                   the same per day, through the two;
--   senders_failed_daily(...)       per day the failed messages of approved
--                                   and unapproved senders: the dashboard's
--                                   chart, reading failing rows only.
--
-- rollup_source_month gets days, the days of its month that have a
-- rollup_source row of its key (a bit each), kept by rollup_flush and
-- rollup_sweep and compared by rollup_check: senders_window reads a long
-- window's whole months from it and still gives each sender's first and
-- last day.
--
-- v_senders_daily (schema 15) stays as it was: sender_of per source and
-- pair, one plain query a filter on day or domain goes into; its rows are
-- the same as senders_daily's (tests/server/senders.test).
--
-- The three functions run with jit off (compiling their plans took longer
-- than running them) and 32 MB of work_mem (a month of a busy domain's
-- rows sorted in memory, not on disk), whoever calls them; a function with
-- settings is not inlined, which these need not be.
--
-- Run by "dmarc-agent migrate" in one transaction; by hand:
-- psql -1 -f 016_sender_pairs.sql, then
-- INSERT INTO dmarc.schema_version (version, name) VALUES (16, '016_sender_pairs').
-- Released versions are never edited: add a new file instead.

SET LOCAL search_path = dmarc;

CREATE FUNCTION sender_auth(p_domain text, p_dkim text, p_spf text)
RETURNS TABLE (domains text[], other text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
SELECT d, (SELECT x FROM unnest(d) WITH ORDINALITY AS u (x, n)
            WHERE dmarc.base_domain(x) <> dmarc.base_domain(p_domain)
            ORDER BY n LIMIT 1)
  FROM dmarc.auth_domains(p_dkim, p_spf) AS d
$$;
COMMENT ON FUNCTION sender_auth(text, text, text) IS
'The part of who sent the mail that its raw DKIM and SPF results give, for a policy domain: the domains that authenticated with a pass (auth_domains) and the first of them whose base domain is not the policy domain''s (NULL when none). sender_by takes the two.';

CREATE FUNCTION sender_by(p_domain text, p_ip inet, p_domains text[],
    p_other text)
RETURNS TABLE (auth_domains text[], lookup_status text, ptr_domain text,
    sender_name text, asn bigint, as_org text, approved_pk bigint,
    sender_kind text, sender_value text)
LANGUAGE sql STABLE
AS $$
SELECT p_domains, i.status,
       CASE WHEN i.ptr_confirmed THEN i.base_domain END,
       m.sender_name, i.asn, i.as_org,
       a.id,
       coalesce(a.kind, CASE
           WHEN p_domains IS NOT NULL THEN 'domain'
           WHEN m.sender_name IS NOT NULL THEN 'name'
           WHEN i.ptr_confirmed AND i.base_domain IS NOT NULL THEN 'ptr'
           WHEN i.asn IS NOT NULL THEN 'asn'
           ELSE 'cidr' END),
       coalesce(a.value, dmarc.base_domain(coalesce(p_other, p_domains[1])),
           m.sender_name,
           CASE WHEN i.ptr_confirmed THEN i.base_domain END, i.asn::text,
           p_ip::cidr::text, '(unreadable)')
FROM (SELECT 1) one
LEFT JOIN dmarc.ip_info i ON i.ip = p_ip
LEFT JOIN dmarc.source_map m ON m.base_domain = i.base_domain AND i.ptr_confirmed
LEFT JOIN LATERAL (
    SELECT p.id, p.kind, p.value FROM dmarc.approved_sender p
     WHERE p.policy_domain = p_domain AND CASE p.kind
        WHEN 'domain' THEN EXISTS (SELECT 1 FROM unnest(p_domains) d
             WHERE d = p.value OR right(d, length(p.value) + 1) = '.' || p.value)
        WHEN 'ptr' THEN coalesce(i.ptr_confirmed AND i.base_domain = p.value, false)
        WHEN 'name' THEN m.sender_name = p.value
        WHEN 'asn' THEN i.asn::text = p.value
        WHEN 'cidr' THEN p_ip <<= p.value::cidr
        ELSE false END
     ORDER BY array_position(ARRAY['domain','name','ptr','asn','cidr'], p.kind),
              p.kind = 'domain' AND dmarc.base_domain(p.value) = dmarc.base_domain(p_domain),
              p.value
     LIMIT 1) a ON true
$$;
COMMENT ON FUNCTION sender_by(text, inet, text[], text) IS
'Who sent the mail of one source for a policy domain, given what sender_auth says of its results (p_domains, p_other): the rules of sender_of, which is this over sender_auth.';

CREATE OR REPLACE FUNCTION sender_of(p_domain text, p_ip inet, p_dkim text,
    p_spf text)
RETURNS TABLE (auth_domains text[], lookup_status text, ptr_domain text,
    sender_name text, asn bigint, as_org text, approved_pk bigint,
    sender_kind text, sender_value text)
LANGUAGE sql STABLE
AS $$
SELECT s.* FROM dmarc.sender_auth(p_domain, p_dkim, p_spf) a,
       LATERAL dmarc.sender_by(p_domain, p_ip, a.domains, a.other) s
$$;


-- The days of a month row ------------------------------------------------------------
-- A rollup_source_month row says which days of its month have a
-- rollup_source row of its key (days: bit d - 1 for day d), so that a
-- long window reads its whole months from it and still knows each
-- sender's first and last day.  Adding sets bits (OR); rollup_sweep, which
-- deletes the daily rows a subtraction left with no record, clears theirs:
-- a bit is set exactly when its daily row exists.  check-db compares them.
CREATE FUNCTION rollup_day_bit(p_day date) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT 1 << (extract(day FROM p_day)::integer - 1) $$;
COMMENT ON FUNCTION rollup_day_bit(date) IS
'The bit of a day in rollup_source_month.days: 1 << (day of month - 1).';

CREATE FUNCTION rollup_first_day(p_month date, p_days integer) RETURNS date
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT CASE WHEN p_days <> 0 THEN p_month
             + (32 - length(rtrim(p_days::bit(32)::text, '0'))) END $$;
CREATE FUNCTION rollup_last_day(p_month date, p_days integer) RETURNS date
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT CASE WHEN p_days <> 0 THEN p_month
             + (32 - position('1' IN p_days::bit(32)::text)) END $$;
COMMENT ON FUNCTION rollup_first_day(date, integer) IS
'The first day of month p_month whose bit is set in p_days (rollup_source_month.days); NULL when none is.';
COMMENT ON FUNCTION rollup_last_day(date, integer) IS
'The last day of month p_month whose bit is set in p_days (rollup_source_month.days); NULL when none is.';

ALTER TABLE rollup_source_month ADD COLUMN days integer NOT NULL DEFAULT 0;
COMMENT ON COLUMN rollup_source_month.days IS
'The days of the month with a rollup_source row of this key: bit d - 1 for day d (rollup_day_bit; rollup_first_day and rollup_last_day read it).';
UPDATE rollup_source_month t SET days = x.days
  FROM (SELECT policy_domain, date_trunc('month', day::timestamp)::date AS month,
               authenticity, k, bit_or(rollup_day_bit(day)) AS days
          FROM rollup_source GROUP BY 1, 2, 3, 4) x
 WHERE t.policy_domain = x.policy_domain AND t.month = x.month
   AND t.authenticity = x.authenticity AND t.k = x.k;

-- 014's rollup_flush, setting the month rows' days.
CREATE OR REPLACE FUNCTION rollup_flush() RETURNS bigint
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
        authenticity, messages, records, k, days)
    SELECT date_trunc('month', u.day::timestamp)::date, u.policy_domain,
           u.source_ip, u.header_from, u.envelope_from, u.disposition,
           u.dkim_aligned, u.spf_aligned, u.dkim_results, u.spf_results,
           u.reasons, u.forwarded, u.authenticity, sum(u.messages),
           sum(u.records), u.k, bit_or(dmarc.rollup_day_bit(u.day))
      FROM unnest(a) u
     GROUP BY 1, u.policy_domain, u.authenticity, u.k, u.source_ip,
           u.header_from, u.envelope_from, u.disposition, u.dkim_aligned,
           u.spf_aligned, u.dkim_results, u.spf_results, u.reasons,
           u.forwarded
     ORDER BY u.policy_domain, 1, u.authenticity, u.k
    ON CONFLICT (policy_domain, month, authenticity, k) DO UPDATE SET
        messages = t.messages + EXCLUDED.messages,
        records = t.records + EXCLUDED.records,
        days = t.days | EXCLUDED.days;

    -- Rows a subtraction left with no record (their days' bits cleared).
    IF EXISTS (SELECT 1 FROM unnest(a) u WHERE u.records < 0) THEN
        PERFORM dmarc.rollup_sweep(array_agg(x.policy_domain),
                                   array_agg(x.day))
           FROM (SELECT DISTINCT u.policy_domain, u.day
                   FROM unnest(a) u WHERE u.records < 0) x;
    END IF;
    RETURN n;
END $$;

CREATE OR REPLACE FUNCTION rollup_sweep(p_domains text[], p_days date[])
RETURNS void
LANGUAGE sql
AS $$
DELETE FROM dmarc.rollup_volume t USING unnest(p_domains, p_days) x (d, y)
 WHERE t.policy_domain = x.d AND t.day = x.y AND t.records = 0;
WITH gone AS (
    DELETE FROM dmarc.rollup_source t USING unnest(p_domains, p_days) x (d, y)
     WHERE t.policy_domain = x.d AND t.day = x.y AND t.records = 0
    RETURNING t.policy_domain, t.day, t.authenticity, t.k),
m AS (
    SELECT policy_domain, date_trunc('month', day::timestamp)::date AS month,
           authenticity, k, bit_or(dmarc.rollup_day_bit(day)) AS bits
      FROM gone GROUP BY 1, 2, 3, 4)
UPDATE dmarc.rollup_source_month t SET days = t.days & ~m.bits
  FROM m
 WHERE t.policy_domain = m.policy_domain AND t.month = m.month
   AND t.authenticity = m.authenticity AND t.k = m.k;
DELETE FROM dmarc.rollup_source_month t
 USING (SELECT DISTINCT d, date_trunc('month', y::timestamp)::date AS m
          FROM unnest(p_domains, p_days) x (d, y)) x
 WHERE t.policy_domain = x.d AND t.month = x.m AND t.records = 0;
$$;

-- 014's rollup_check, comparing the month rows' days too.
CREATE OR REPLACE FUNCTION rollup_check() RETURNS TABLE (relation text, side text, row_text text)
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
               sum(message_count) AS m, count(*) AS records,
               bit_or(dmarc.rollup_day_bit(day)) AS days
          FROM rollup_check_rec GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13),
    have AS (
        SELECT month, policy_domain, source_ip, header_from, envelope_from,
               disposition, dkim_aligned, spf_aligned, dkim_results,
               spf_results, reasons, forwarded, authenticity, sum(messages),
               sum(records), bit_or(days)
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

-- senders_window: a window's rollup rows (r: its whole months from
-- rollup_source_month, the days around them from rollup_source, as
-- rollup_source_window splits a window) per source and results (g), the
-- results' part of the sender once per distinct policy domain and pair
-- (t: MATERIALIZED, so that the planner does not push it back down to
-- every source), then each source's sender once per authenticated domains
-- (h).  NULL results join as '' (a results text is never empty).
--
-- A month row's first and last days are read from its days once per
-- sender, not once per row: f orders its rows by month and then by the
-- lowest bit of days (the earliest day), l by month and then by days
-- itself (the highest bit, the latest day, decides), each as one bigint
-- (the month as a Julian day, times 2^31, plus the bits), whose min and
-- max carry the month and the bits to rollup_first_day and
-- rollup_last_day at the end.
CREATE FUNCTION senders_window(p_from date, p_until date, p_domains text[])
RETURNS TABLE (policy_domain text, sender_kind text, sender_value text,
    approved_pk bigint, messages numeric, dmarc_pass numeric,
    dmarc_fail numeric, sources bigint, first_day date, last_day date)
LANGUAGE sql STABLE
SET jit = off SET work_mem = '32MB'
AS $$
WITH r AS (
    SELECT s.policy_domain, s.source_ip, s.dkim_results, s.spf_results,
           s.dkim_aligned, s.spf_aligned, s.messages, s.day AS d,
           NULL::bigint AS f, NULL::bigint AS l
      FROM dmarc.rollup_source s
     WHERE s.policy_domain = ANY (p_domains)
       AND s.day >= p_from AND s.day <= p_until
       AND s.authenticity IN (SELECT dmarc.counted_authenticities())
       AND s.day < (date_trunc('month', (p_from - 1)::timestamp)
                    + interval '1 month')::date
    UNION ALL
    SELECT s.policy_domain, s.source_ip, s.dkim_results, s.spf_results,
           s.dkim_aligned, s.spf_aligned, s.messages, s.day, NULL, NULL
      FROM dmarc.rollup_source s
     WHERE s.policy_domain = ANY (p_domains)
       AND s.day >= p_from AND s.day <= p_until
       AND s.authenticity IN (SELECT dmarc.counted_authenticities())
       AND s.day > date_trunc('month', (p_until + 1)::timestamp)::date - 1
       AND s.day >= (date_trunc('month', (p_from - 1)::timestamp)
                     + interval '1 month')::date
    UNION ALL
    SELECT m.policy_domain, m.source_ip, m.dkim_results, m.spf_results,
           m.dkim_aligned, m.spf_aligned, m.messages, NULL,
           (m.month - date '4714-11-24 BC')::bigint * 2147483648
               + (m.days & -m.days),
           (m.month - date '4714-11-24 BC')::bigint * 2147483648 + m.days
      FROM dmarc.rollup_source_month m
     WHERE m.policy_domain = ANY (p_domains)
       AND m.authenticity IN (SELECT dmarc.counted_authenticities())
       AND m.month >= (date_trunc('month', (p_from - 1)::timestamp)
                       + interval '1 month')::date
       AND m.month <= date_trunc('month', (p_until + 1)::timestamp)::date - 1),
g AS (
    SELECT r.policy_domain, r.source_ip,
           coalesce(r.dkim_results, '') AS dk,
           coalesce(r.spf_results, '') AS sp, sum(r.messages) AS m,
           coalesce(sum(r.messages) FILTER (WHERE r.dkim_aligned = 'pass'
                                               OR r.spf_aligned = 'pass'), 0) AS p,
           min(r.d) AS d0, max(r.d) AS d1, min(r.f) AS f, max(r.l) AS l
      FROM r GROUP BY 1, 2, 3, 4),
t AS MATERIALIZED (
    SELECT k.policy_domain, k.dk, k.sp, a.domains, a.other
      FROM (SELECT DISTINCT g.policy_domain, g.dk, g.sp FROM g) k,
           LATERAL dmarc.sender_auth(k.policy_domain, nullif(k.dk, ''),
               nullif(k.sp, '')) a),
h AS (
    SELECT g.policy_domain, g.source_ip, t.domains, t.other, sum(g.m) AS m,
           sum(g.p) AS p, min(g.d0) AS d0, max(g.d1) AS d1, min(g.f) AS f,
           max(g.l) AS l
      FROM g JOIN t ON t.policy_domain = g.policy_domain AND t.dk = g.dk
                   AND t.sp = g.sp
     GROUP BY 1, 2, 3, 4),
w AS (
    SELECT h.policy_domain, s.sender_kind, s.sender_value, s.approved_pk,
           sum(h.m) AS m, sum(h.p) AS p, count(DISTINCT h.source_ip) AS n,
           min(h.d0) AS d0, max(h.d1) AS d1, min(h.f) AS f, max(h.l) AS l
      FROM h, LATERAL dmarc.sender_by(h.policy_domain, h.source_ip,
               h.domains, h.other) s
     GROUP BY 1, 2, 3, 4)
SELECT w.policy_domain, w.sender_kind, w.sender_value, w.approved_pk, w.m,
       w.p, w.m - w.p, w.n,
       least(w.d0, dmarc.rollup_first_day(date '4714-11-24 BC'
           + (w.f / 2147483648)::integer, (w.f % 2147483648)::integer)),
       greatest(w.d1, dmarc.rollup_last_day(date '4714-11-24 BC'
           + (w.l / 2147483648)::integer, (w.l % 2147483648)::integer))
  FROM w
$$;
COMMENT ON FUNCTION senders_window(date, date, text[]) IS
'The senders of the policy domains p_domains from p_from to p_until (UTC days), each once (as v_sender_record names them), with the approved sender they match, their volume, DMARC pass and fail, distinct source addresses and first and last day with mail, counting the reports authenticity_setting counts: the senders listing, the report''s senders and the dashboard''s senders table.';

-- senders_daily: the same per day.  A pair's rows ride along in arrays
-- (k), its sender part is found once (t), the arrays are regrouped per
-- source and authenticated domains (g, by the number aid of those), and
-- each source's sender is found once, its days unnested at the end: no
-- join of every day with every source in any plan.
CREATE OR REPLACE FUNCTION senders_daily(p_from date, p_until date,
    p_domains text[])
RETURNS TABLE (day date, policy_domain text, sender_kind text,
    sender_value text, approved boolean, messages numeric,
    dmarc_pass numeric, dmarc_fail numeric, sources bigint)
LANGUAGE sql STABLE
SET jit = off SET work_mem = '32MB'
AS $$
WITH k AS (
    SELECT r.policy_domain, coalesce(r.dkim_results, '') AS dk,
           coalesce(r.spf_results, '') AS sp,
           array_agg(r.source_ip) AS ips, array_agg(r.day) AS days,
           array_agg(r.messages) AS ms,
           array_agg(CASE WHEN r.dkim_aligned = 'pass'
                            OR r.spf_aligned = 'pass'
                          THEN r.messages ELSE 0 END) AS ps
      FROM dmarc.rollup_source r
     WHERE r.day BETWEEN p_from AND p_until
       AND r.policy_domain = ANY (p_domains)
       AND r.authenticity IN (SELECT dmarc.counted_authenticities())
     GROUP BY 1, 2, 3),
t AS MATERIALIZED (
    SELECT k.policy_domain, k.ips, k.days, k.ms, k.ps, a.domains, a.other,
           dense_rank() OVER (ORDER BY k.policy_domain, a.domains,
               a.other) AS aid
      FROM k, LATERAL dmarc.sender_auth(k.policy_domain, nullif(k.dk, ''),
               nullif(k.sp, '')) a),
g AS (
    SELECT t.policy_domain, u.ip, t.aid, array_agg(u.day) AS days,
           array_agg(u.m) AS ms, array_agg(u.p) AS ps
      FROM t, LATERAL unnest(t.ips, t.days, t.ms, t.ps) AS u (ip, day, m, p)
     GROUP BY 1, 2, 3),
a AS (SELECT DISTINCT t.aid, t.domains, t.other FROM t)
SELECT u.day, g.policy_domain, s.sender_kind, s.sender_value,
       s.approved_pk IS NOT NULL, sum(u.m), sum(u.p), sum(u.m) - sum(u.p),
       count(DISTINCT g.ip)
  FROM g JOIN a ON a.aid = g.aid,
       LATERAL dmarc.sender_by(g.policy_domain, g.ip, a.domains, a.other) s,
       LATERAL unnest(g.days, g.ms, g.ps) AS u (day, m, p)
 GROUP BY 1, 2, 3, 4, 5
$$;

-- senders_failed_daily: only the rows that failed DMARC (what dmarc_fail
-- adds up: neither aligned result a pass), and of a sender only whether it
-- is approved.
CREATE FUNCTION senders_failed_daily(p_from date, p_until date,
    p_domains text[])
RETURNS TABLE (day date, policy_domain text, approved boolean,
    dmarc_fail numeric)
LANGUAGE sql STABLE
SET jit = off SET work_mem = '32MB'
AS $$
WITH g AS (
    SELECT r.policy_domain, r.source_ip,
           coalesce(r.dkim_results, '') AS dk,
           coalesce(r.spf_results, '') AS sp,
           array_agg(r.day) AS days, array_agg(r.messages) AS fs
      FROM dmarc.rollup_source r
     WHERE r.day BETWEEN p_from AND p_until
       AND r.policy_domain = ANY (p_domains)
       AND r.authenticity IN (SELECT dmarc.counted_authenticities())
       AND NOT coalesce(r.dkim_aligned = 'pass' OR r.spf_aligned = 'pass',
           false)
     GROUP BY 1, 2, 3, 4),
t AS MATERIALIZED (
    SELECT k.policy_domain, k.dk, k.sp, a.domains, a.other
      FROM (SELECT DISTINCT g.policy_domain, g.dk, g.sp FROM g) k,
           LATERAL dmarc.sender_auth(k.policy_domain, nullif(k.dk, ''),
               nullif(k.sp, '')) a)
SELECT u.day, g.policy_domain, s.approved_pk IS NOT NULL, sum(u.f)
  FROM g JOIN t ON t.policy_domain = g.policy_domain AND t.dk = g.dk
               AND t.sp = g.sp,
       LATERAL dmarc.sender_by(g.policy_domain, g.source_ip, t.domains,
           t.other) s,
       LATERAL unnest(g.days, g.fs) AS u (day, f)
 GROUP BY 1, 2, 3
$$;
COMMENT ON FUNCTION senders_failed_daily(date, date, text[]) IS
'Per UTC day from p_from to p_until and policy domain of p_domains, the messages that failed DMARC from approved senders (what p=reject would refuse) and from the others, as senders_daily counts them: the dashboard''s chart of failures.';
