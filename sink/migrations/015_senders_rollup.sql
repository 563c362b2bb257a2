-- 015_senders_rollup.sql: the dmarc schema, version 15.
--
-- Who sent the mail (the approved senders of schema 11), read from the
-- rollup of schema 14 instead of one line per record, so that the
-- report's senders section and the dashboard's senders panels cost what
-- the window holds in sources, not in records.  A rollup_source row keeps
-- the raw DKIM and SPF results of its records (domain/selector=result and
-- domain(scope)=result, space separated), which is all the identity of a
-- sender needs besides the source address: the domains that authenticated
-- with a pass.
--
--   auth_domains(dkim, spf)  those domains, as v_sender_record lists them;
--   sender_of(...)           v_sender_record's identity and approval for a
--                            policy domain, a source and its results;
--   v_senders_daily          the same columns as before, from the rollup,
--                            counting what authenticity_setting counts.
--
--   v_sender_record          still one line per record (the alert rules read
--                            who reported each record, which the rollup
--                            does not keep), now through sender_of too, so
--                            that who a sender is has one definition.
--
-- Run by "dmarc-agent migrate" in one transaction; by hand:
-- psql -1 -f 015_senders_rollup.sql, then
-- INSERT INTO dmarc.schema_version (version, name) VALUES (15, '015_senders_rollup').
-- Released versions are never edited: add a new file instead.

SET LOCAL search_path = dmarc;

-- The domains that authenticated, in document order: DKIM first, then SPF
-- for MAIL FROM (a scope the report left out counts as MAIL FROM, as in
-- v_sender_record), lower-case, without empty or unknown ones.
CREATE FUNCTION auth_domains(p_dkim text, p_spf text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
SELECT array_agg(d ORDER BY o) FROM (
    SELECT lower(substring(t FROM '^(.*)/[^/=]*=pass$')) AS d, n AS o
      FROM unnest(string_to_array(p_dkim, ' ')) WITH ORDINALITY AS x (t, n)
    UNION ALL
    SELECT lower(substring(t FROM '^(.*)\([^()]*\)=pass$')), 100000 + n
      FROM unnest(string_to_array(p_spf, ' ')) WITH ORDINALITY AS y (t, n)
     WHERE substring(t FROM '\(([^()]*)\)=pass$') IS DISTINCT FROM 'helo') z
 WHERE d IS NOT NULL AND d NOT IN ('', '?')
$$;
COMMENT ON FUNCTION auth_domains(text, text) IS
'The domains that authenticated a rollup row''s mail with a pass, from its raw results (rollup_source.dkim_results, spf_results): DKIM first, then SPF for MAIL FROM, lower-case; NULL when none did. v_sender_record.auth_domains, for the rollup.';

-- Who sent a source's mail, and the approved sender it matches.
CREATE FUNCTION sender_of(p_domain text, p_ip inet, p_dkim text, p_spf text)
RETURNS TABLE (auth_domains text[], lookup_status text, ptr_domain text,
    sender_name text, asn bigint, as_org text, approved_pk bigint,
    sender_kind text, sender_value text)
LANGUAGE sql STABLE
AS $$
SELECT au.domains, i.status,
       CASE WHEN i.ptr_confirmed THEN i.base_domain END,
       m.sender_name, i.asn, i.as_org,
       a.id,
       coalesce(a.kind, CASE
           WHEN au.domains IS NOT NULL THEN 'domain'
           WHEN m.sender_name IS NOT NULL THEN 'name'
           WHEN i.ptr_confirmed AND i.base_domain IS NOT NULL THEN 'ptr'
           WHEN i.asn IS NOT NULL THEN 'asn'
           ELSE 'cidr' END),
       coalesce(a.value, dmarc.base_domain(coalesce(au.other, au.domains[1])),
           m.sender_name,
           CASE WHEN i.ptr_confirmed THEN i.base_domain END, i.asn::text,
           p_ip::cidr::text, '(unreadable)')
FROM (SELECT d AS domains,
             (SELECT x FROM unnest(d) WITH ORDINALITY AS u (x, n)
               WHERE dmarc.base_domain(x) <> dmarc.base_domain(p_domain)
               ORDER BY n LIMIT 1) AS other
        FROM dmarc.auth_domains(p_dkim, p_spf) AS d) au
LEFT JOIN dmarc.ip_info i ON i.ip = p_ip
LEFT JOIN dmarc.source_map m ON m.base_domain = i.base_domain AND i.ptr_confirmed
LEFT JOIN LATERAL (
    SELECT p.id, p.kind, p.value FROM dmarc.approved_sender p
     WHERE p.policy_domain = p_domain AND CASE p.kind
        WHEN 'domain' THEN EXISTS (SELECT 1 FROM unnest(au.domains) d
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
COMMENT ON FUNCTION sender_of(text, inet, text, text) IS
'Who sent the mail of one source for a policy domain, given its raw DKIM and SPF results (as rollup_source keeps them): the approved sender it matches (the first by kind in the order domain, name, ptr, asn, cidr; among domains, those of the policy domain''s own base domain last), else its best identity: the base domain of the first domain DKIM or SPF (MAIL FROM) authenticated with a pass (one outside the policy domain''s base domain when there is one), else the source_map name of its confirmed reverse DNS, else that name''s base domain, else its AS number, else its address. v_sender_record, the senders listing and v_senders_daily all name senders through it.';

-- One line per record, named by sender_of from the record's results in the
-- form rollup_source keeps them (v_record_rollup's), so that a record and
-- the rollup row it is added to name the same sender.
CREATE OR REPLACE VIEW v_sender_record WITH (security_invoker = true) AS
SELECT r.id AS record_pk, r.report_pk, r.report_day, r.policy_domain,
       rp.reporter_key, rp.policy_p, rp.first_seen AS report_stored,
       r.source_ip, r.header_from, r.disposition, r.dkim_aligned,
       r.spf_aligned, r.dmarc_pass, r.message_count,
       s.auth_domains, s.lookup_status, s.ptr_domain, s.sender_name, s.asn,
       s.as_org, s.approved_pk, s.sender_kind, s.sender_value
FROM record r
JOIN report rp ON rp.id = r.report_pk,
LATERAL sender_of(r.policy_domain, r.source_ip,
    (SELECT string_agg(coalesce(d.domain, '?') || '/' ||
            coalesce(d.selector, '-') || '=' ||
            coalesce(d.result, d.result_raw, '?'), ' ' ORDER BY d.ord)
       FROM record_dkim d WHERE d.record_pk = r.id),
    (SELECT string_agg(coalesce(f.domain, '?') || '(' ||
            coalesce(f.scope, f.scope_raw, 'mfrom') || ')=' ||
            coalesce(f.result, f.result_raw, '?'), ' ' ORDER BY f.ord)
       FROM record_spf f WHERE f.record_pk = r.id)) s;

CREATE OR REPLACE VIEW v_senders_daily WITH (security_invoker = true) AS
WITH g AS (
    SELECT day, policy_domain, source_ip, dkim_results, spf_results,
           sum(messages) AS m,
           sum(messages) FILTER (WHERE dkim_aligned = 'pass'
                                    OR spf_aligned = 'pass') AS p
      FROM rollup_source
     WHERE authenticity IN (SELECT counted_authenticities())
     GROUP BY 1, 2, 3, 4, 5)
SELECT g.day, g.policy_domain, s.sender_kind, s.sender_value,
       s.approved_pk IS NOT NULL AS approved,
       sum(g.m) AS messages,
       coalesce(sum(g.p), 0) AS dmarc_pass,
       sum(g.m) - coalesce(sum(g.p), 0) AS dmarc_fail,
       count(DISTINCT g.source_ip) AS sources
FROM g, LATERAL sender_of(g.policy_domain, g.source_ip, g.dkim_results,
    g.spf_results) s
GROUP BY 1, 2, 3, 4, 5;
COMMENT ON VIEW v_senders_daily IS 'Daily volume per policy domain and sender (as v_sender_record identifies it), approved or not, read from the rollup (schema 15) and counting the reports authenticity_setting counts. For an approved sender dmarc_fail is what p=reject would have refused.';

-- The same for a window and some domains, each source's sender named once
-- whatever the number of days (the view names it once a day): what the
-- dashboard's senders panels read.  A source's days ride along in arrays
-- rather than by a join back, so that no plan (a fresh database has no
-- statistics yet) can compare every day with every source.
CREATE FUNCTION senders_daily(p_from date, p_until date, p_domains text[])
RETURNS TABLE (day date, policy_domain text, sender_kind text,
    sender_value text, approved boolean, messages numeric,
    dmarc_pass numeric, dmarc_fail numeric, sources bigint)
LANGUAGE sql STABLE
AS $$
WITH d AS (
    SELECT r.policy_domain, r.source_ip, r.dkim_results, r.spf_results,
           r.day, sum(r.messages) AS m,
           coalesce(sum(r.messages) FILTER (WHERE r.dkim_aligned = 'pass'
                                               OR r.spf_aligned = 'pass'), 0) AS p
      FROM dmarc.rollup_source r
     WHERE r.day BETWEEN p_from AND p_until
       AND r.policy_domain = ANY (p_domains)
       AND r.authenticity IN (SELECT dmarc.counted_authenticities())
     GROUP BY 1, 2, 3, 4, 5),
g AS (
    SELECT d.policy_domain, d.source_ip, d.dkim_results, d.spf_results,
           array_agg(d.day) AS days, array_agg(d.m) AS ms,
           array_agg(d.p) AS ps
      FROM d GROUP BY 1, 2, 3, 4)
SELECT u.day, g.policy_domain, s.sender_kind, s.sender_value,
       s.approved_pk IS NOT NULL, sum(u.m), sum(u.p), sum(u.m) - sum(u.p),
       count(DISTINCT g.source_ip)
  FROM g,
       LATERAL dmarc.sender_of(g.policy_domain, g.source_ip, g.dkim_results,
           g.spf_results) s,
       LATERAL unnest(g.days, g.ms, g.ps) AS u (day, m, p)
 GROUP BY 1, 2, 3, 4, 5
$$;
COMMENT ON FUNCTION senders_daily(date, date, text[]) IS
'v_senders_daily for the days from p_from to p_until and the policy domains p_domains, each source''s sender named once (sender_of): what the dashboard''s senders panels call.';
