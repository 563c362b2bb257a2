-- 017_sender_pair.sql: the dmarc schema, version 17.
--
-- The authenticated domains of each pair of raw results named once for
-- good.  Schema 16 named every distinct pair of a window (sender_auth:
-- the domains that passed, and the first outside the policy domain's base
-- domain) each time a window was read: about a third of the senders
-- query (a month of the year bench: 1,031 pairs at 60-90 us each).
-- sender_auth is IMMUTABLE, a function of the policy domain and the two
-- results only, and a domain's pairs repeat day after day (the year bench
-- has 1,074 in all; 1,000 mails of the corpus, 115): so each is now named
-- once, when rollup_flush first adds a row with it, and kept.
--
--   sender_pair          (policy_domain, k) -> domains, other: one row per
--                        pair of results a rollup_source row ever had;
--   sender_pair_key      k, 16 bytes of the SHA-256 of the two results
--                        (NULL as ''), as the rollup's keys are: results
--                        can be longer than a B-tree entry may be;
--   sender_auth_kept     sender_auth read from sender_pair, computed when
--                        the pair is missing (a pair is never required to
--                        be there: this is a cache, whose misses cost what
--                        schema 16 cost);
--   rollup_flush         also adds the pairs its rows bring, before the
--                        rollup's rows;
--   senders_window, senders_daily, senders_failed_daily
--                        as in 016, through sender_auth_kept;
--   rollup_check         also a kept pair that sender_auth would name
--                        otherwise (check-db).
--
-- Rows of sender_pair are never deleted: they are few (a pair per DKIM
-- selector and SPF domain a policy domain's senders use) and stay true
-- (sender_auth and the functions it calls are IMMUTABLE).  A later
-- version that changes what sender_auth computes must empty the table.
-- Scoped readers see the pairs of their domains (scoped_reader_setup,
-- restated with a rule for it).
--
-- Run by "dmarc-agent migrate" in one transaction; by hand:
-- psql -1 -f 017_sender_pair.sql, then
-- INSERT INTO dmarc.schema_version (version, name) VALUES (17, '017_sender_pair').
-- Released versions are never edited: add a new file instead.

SET LOCAL search_path = dmarc;

CREATE FUNCTION sender_pair_key(p_dkim text, p_spf text) RETURNS bytea
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT substr(pg_catalog.sha256(pg_catalog.convert_to(
    pg_catalog.quote_literal(coalesce($1, '')) ||
    pg_catalog.quote_literal(coalesce($2, '')), 'UTF8')), 1, 16) $$;
COMMENT ON FUNCTION sender_pair_key(text, text) IS
'The k of a sender_pair row: 16 bytes of the SHA-256 of the raw DKIM and SPF results (rollup_source.dkim_results, spf_results; NULL the same as an empty text).';

CREATE TABLE sender_pair (
    policy_domain text   NOT NULL,
    k             bytea  NOT NULL,
    dkim_results  text   NOT NULL,
    spf_results   text   NOT NULL,
    domains       text[],
    other         text,
    PRIMARY KEY (policy_domain, k)
);
COMMENT ON TABLE sender_pair IS
'sender_auth of every pair of raw results a rollup_source row of a policy domain ever had, computed once (rollup_flush adds the new ones): the senders functions read it through sender_auth_kept. A cache: never deleted from, and a pair missing from it is computed.';
COMMENT ON COLUMN sender_pair.policy_domain IS 'Domain of the published policy.';
COMMENT ON COLUMN sender_pair.k IS 'sender_pair_key(dkim_results, spf_results).';
COMMENT ON COLUMN sender_pair.dkim_results IS 'Raw DKIM results as in rollup_source.dkim_results (empty for none).';
COMMENT ON COLUMN sender_pair.spf_results IS 'Raw SPF results as in rollup_source.spf_results (empty for none).';
COMMENT ON COLUMN sender_pair.domains IS 'sender_auth(...).domains: the domains that authenticated with a pass, DKIM first; NULL when none did.';
COMMENT ON COLUMN sender_pair.other IS 'sender_auth(...).other: the first of them whose base domain is not the policy domain''s; NULL when none.';

INSERT INTO sender_pair (policy_domain, k, dkim_results, spf_results,
    domains, other)
SELECT p.policy_domain, sender_pair_key(p.dk, p.sp), p.dk, p.sp,
       x.domains, x.other
  FROM (SELECT DISTINCT policy_domain, coalesce(dkim_results, '') AS dk,
               coalesce(spf_results, '') AS sp
          FROM rollup_source) p,
       LATERAL sender_auth(p.policy_domain, nullif(p.dk, ''),
           nullif(p.sp, '')) x;

-- sender_auth, from sender_pair when the pair is there.  Plain SQL, so
-- that the planner inlines it; the lateral part runs only when the lookup
-- found nothing: OFFSET 0 keeps it a subquery of its own, where c.k IS
-- NULL is a one-time filter (pulled up, it would be a filter applied
-- after sender_auth ran for every pair).
CREATE FUNCTION sender_auth_kept(p_domain text, p_dkim text, p_spf text)
RETURNS TABLE (domains text[], other text)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
SELECT CASE WHEN c.k IS NULL THEN a.domains ELSE c.domains END,
       CASE WHEN c.k IS NULL THEN a.other ELSE c.other END
  FROM (SELECT 1) o
  LEFT JOIN dmarc.sender_pair c
    ON c.policy_domain = p_domain
   AND c.k = dmarc.sender_pair_key(p_dkim, p_spf)
  LEFT JOIN LATERAL (SELECT x.domains, x.other
                       FROM dmarc.sender_auth(p_domain, nullif(p_dkim, ''),
                           nullif(p_spf, '')) x
                      WHERE c.k IS NULL OFFSET 0) a ON true
$$;
COMMENT ON FUNCTION sender_auth_kept(text, text, text) IS
'sender_auth(p_domain, p_dkim, p_spf), read from sender_pair (computed when the pair is not there yet).';

-- 016's rollup_flush, adding the pairs of raw results its rows bring.
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
    -- The pairs of raw results not named yet, named once (sender_pair):
    -- in key order, before the rollup's rows (a transaction flushes once,
    -- just before COMMIT, so it holds no rollup row while it waits here).
    INSERT INTO dmarc.sender_pair AS c (policy_domain, k, dkim_results,
        spf_results, domains, other)
    -- Each distinct pair's key once, the pairs not there yet (the OFFSET
    -- 0s keep the planner from computing a key twice or naming a pair
    -- before it is known to be new).
    SELECT p.policy_domain, p.k, p.dk, p.sp, x.domains, x.other
      FROM (SELECT n.* FROM (SELECT q.policy_domain, q.dk, q.sp,
                   dmarc.sender_pair_key(q.dk, q.sp) AS k
              FROM (SELECT DISTINCT u.policy_domain,
                           coalesce(u.dkim_results, '') AS dk,
                           coalesce(u.spf_results, '') AS sp
                      FROM unnest(a) u WHERE u.records > 0) q OFFSET 0) n
             WHERE NOT EXISTS (SELECT 1 FROM dmarc.sender_pair e
                                WHERE e.policy_domain = n.policy_domain
                                  AND e.k = n.k) OFFSET 0) p
     CROSS JOIN LATERAL dmarc.sender_auth(p.policy_domain,
           nullif(p.dk, ''), nullif(p.sp, '')) x
     ORDER BY p.policy_domain, p.k
    ON CONFLICT (policy_domain, k) DO NOTHING;

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


-- 016's readers, naming each pair through sender_auth_kept (their
-- comments stay).
CREATE OR REPLACE FUNCTION senders_window(p_from date, p_until date, p_domains text[])
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
           LATERAL dmarc.sender_auth_kept(k.policy_domain, nullif(k.dk, ''),
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
      FROM k, LATERAL dmarc.sender_auth_kept(k.policy_domain, nullif(k.dk, ''),
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

CREATE OR REPLACE FUNCTION senders_failed_daily(p_from date, p_until date,
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
           LATERAL dmarc.sender_auth_kept(k.policy_domain, nullif(k.dk, ''),
               nullif(k.sp, '')) a)
SELECT u.day, g.policy_domain, s.approved_pk IS NOT NULL, sum(u.f)
  FROM g JOIN t ON t.policy_domain = g.policy_domain AND t.dk = g.dk
               AND t.sp = g.sp,
       LATERAL dmarc.sender_by(g.policy_domain, g.source_ip, t.domains,
           t.other) s,
       LATERAL unnest(g.days, g.fs) AS u (day, f)
 GROUP BY 1, 2, 3
$$;

-- 016's rollup_check, also comparing the pairs kept with sender_auth.
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

    -- A pair kept (schema 17) as sender_auth names it, under its key: a
    -- missing pair is no difference (sender_pair is a cache), a wrong one
    -- is (the senders would trust it).
    RETURN QUERY
    WITH c AS (
        SELECT t.policy_domain, t.k, t.dkim_results, t.spf_results,
               t.domains, t.other, a.domains AS want_domains,
               a.other AS want_other
          FROM dmarc.sender_pair t,
               LATERAL dmarc.sender_auth(t.policy_domain,
                   nullif(t.dkim_results, ''), nullif(t.spf_results, '')) a
         WHERE t.k <> dmarc.sender_pair_key(t.dkim_results, t.spf_results)
            OR t.domains IS DISTINCT FROM a.domains
            OR t.other IS DISTINCT FROM a.other)
    SELECT 'sender_pair', 'sender_pair', ROW(c.policy_domain, c.dkim_results,
           c.spf_results, c.domains, c.other)::text FROM c
    UNION ALL
    SELECT 'sender_pair', 'sender_auth', ROW(c.policy_domain, c.dkim_results,
           c.spf_results, c.want_domains, c.want_other)::text FROM c;

    RETURN QUERY
    SELECT 'rollup_pending', 'rollup', p::text FROM dmarc.rollup_pending p;
    DROP TABLE rollup_check_rec;
END $$;

-- Scoped readers (schema 9) -------------------------------------------------------
-- sender_pair gets row-level security like the rollup tables and a rule in
-- scoped_reader_setup(), restated from 014 with every earlier rule.
ALTER TABLE sender_pair ENABLE ROW LEVEL SECURITY;
CREATE POLICY unscoped ON sender_pair AS PERMISSIVE FOR ALL TO PUBLIC
    USING (true) WITH CHECK (true);

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
        ['rollup_pending', 'false'],
        -- The pairs of results named (schema 17): per policy domain.
        ['sender_pair', 'policy_domain ~* (SELECT dmarc.domain_scope())']];
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
