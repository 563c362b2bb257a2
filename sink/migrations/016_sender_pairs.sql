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

-- senders_window: a window's rollup rows per source and results (g), the
-- results' part of the sender once per distinct policy domain and pair (t:
-- MATERIALIZED, so that the planner does not push it back down to every
-- source), then each source's sender once per authenticated domains (h).
-- NULL results join as '' (a results text is never empty).
CREATE FUNCTION senders_window(p_from date, p_until date, p_domains text[])
RETURNS TABLE (policy_domain text, sender_kind text, sender_value text,
    approved_pk bigint, messages numeric, dmarc_pass numeric,
    dmarc_fail numeric, sources bigint, first_day date, last_day date)
LANGUAGE sql STABLE
SET jit = off SET work_mem = '32MB'
AS $$
WITH g AS (
    SELECT r.policy_domain, r.source_ip,
           coalesce(r.dkim_results, '') AS dk,
           coalesce(r.spf_results, '') AS sp, sum(r.messages) AS m,
           coalesce(sum(r.messages) FILTER (WHERE r.dkim_aligned = 'pass'
                                               OR r.spf_aligned = 'pass'), 0) AS p,
           min(r.day) AS d0, max(r.day) AS d1
      FROM dmarc.rollup_source r
     WHERE r.day BETWEEN p_from AND p_until
       AND r.policy_domain = ANY (p_domains)
       AND r.authenticity IN (SELECT dmarc.counted_authenticities())
     GROUP BY 1, 2, 3, 4),
t AS MATERIALIZED (
    SELECT k.policy_domain, k.dk, k.sp, a.domains, a.other
      FROM (SELECT DISTINCT g.policy_domain, g.dk, g.sp FROM g) k,
           LATERAL dmarc.sender_auth(k.policy_domain, nullif(k.dk, ''),
               nullif(k.sp, '')) a),
h AS (
    SELECT g.policy_domain, g.source_ip, t.domains, t.other, sum(g.m) AS m,
           sum(g.p) AS p, min(g.d0) AS d0, max(g.d1) AS d1
      FROM g JOIN t ON t.policy_domain = g.policy_domain AND t.dk = g.dk
                   AND t.sp = g.sp
     GROUP BY 1, 2, 3, 4)
SELECT h.policy_domain, s.sender_kind, s.sender_value, s.approved_pk,
       sum(h.m), sum(h.p), sum(h.m) - sum(h.p), count(DISTINCT h.source_ip),
       min(h.d0), max(h.d1)
  FROM h, LATERAL dmarc.sender_by(h.policy_domain, h.source_ip, h.domains,
           h.other) s
 GROUP BY 1, 2, 3, 4
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
