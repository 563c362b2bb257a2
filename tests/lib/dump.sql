-- The stored aggregate data, one line per row, in the format of
-- tests/lib/oracle.py (psql -X -At -f dump.sql | LC_ALL=C sort): the row
-- type, then its fields, separated by tabs; NULL is \N, and a backslash,
-- tab, line feed or carriage return in a value is written \\, \t, \n, \r
-- (as in COPY's text format), so that every row stays on one line.
-- Positions are renumbered from 1, so the comparison does not depend on
-- where ord starts.
WITH rn AS (
  SELECT id, report_pk, row_number() OVER (PARTITION BY report_pk ORDER BY ord) AS n
    FROM dmarc.record),
rows(f) AS (
SELECT ARRAY['report', reporter_key, report_id, policy_domain,
       extract(epoch FROM date_begin)::bigint::text,
       extract(epoch FROM date_end)::bigint::text,
       record_count::text, message_total::text]
  FROM dmarc.report
UNION ALL
SELECT ARRAY['meta', reporter_key, report_id, org_name, org_email,
       extra_contact_info, extra_contact_info_lang]
  FROM dmarc.report
UNION ALL
SELECT ARRAY['policy', reporter_key, report_id, policy_p, policy_p_raw,
       policy_sp, policy_sp_raw, policy_np, policy_np_raw,
       policy_adkim, policy_adkim_raw, policy_aspf, policy_aspf_raw,
       policy_pct::text, policy_pct_raw, policy_fo,
       policy_testing, policy_testing_raw,
       discovery_method, discovery_method_raw]
  FROM dmarc.report
UNION ALL
SELECT ARRAY['error', p.reporter_key, p.report_id,
       (row_number() OVER (PARTITION BY e.report_pk ORDER BY e.ord))::text,
       e.message, e.lang]
  FROM dmarc.report_error e JOIN dmarc.report p ON p.id = e.report_pk
UNION ALL
SELECT ARRAY['rep_ext', p.reporter_key, p.report_id,
       (row_number() OVER (PARTITION BY x.report_pk ORDER BY x.ord))::text,
       x.ns_uri, x.local_name, x.xml]
  FROM dmarc.report_extension x JOIN dmarc.report p ON p.id = x.report_pk
UNION ALL
SELECT ARRAY['record', p.reporter_key, p.report_id, rn.n::text,
       host(r.source_ip), r.message_count::text, r.disposition, r.dkim_aligned,
       r.spf_aligned, r.header_from, r.envelope_from, r.envelope_to]
  FROM dmarc.record r JOIN rn ON rn.id = r.id JOIN dmarc.report p ON p.id = r.report_pk
UNION ALL
SELECT ARRAY['reason', p.reporter_key, p.report_id, rn.n::text,
       (row_number() OVER (PARTITION BY x.record_pk ORDER BY x.ord))::text,
       x.type, x.type_raw, x.comment, x.comment_lang]
  FROM dmarc.record_reason x JOIN rn ON rn.id = x.record_pk
  JOIN dmarc.report p ON p.id = rn.report_pk
UNION ALL
SELECT ARRAY['dkim', p.reporter_key, p.report_id, rn.n::text,
       (row_number() OVER (PARTITION BY d.record_pk ORDER BY d.ord))::text,
       d.domain, d.selector, d.result]
  FROM dmarc.record_dkim d JOIN rn ON rn.id = d.record_pk
  JOIN dmarc.report p ON p.id = rn.report_pk
UNION ALL
SELECT ARRAY['spf', p.reporter_key, p.report_id, rn.n::text,
       (row_number() OVER (PARTITION BY s.record_pk ORDER BY s.ord))::text,
       s.domain, s.scope, s.result]
  FROM dmarc.record_spf s JOIN rn ON rn.id = s.record_pk
  JOIN dmarc.report p ON p.id = rn.report_pk
UNION ALL
SELECT ARRAY['rec_ext', p.reporter_key, p.report_id, rn.n::text,
       (row_number() OVER (PARTITION BY x.record_pk ORDER BY x.ord))::text,
       x.ns_uri, x.local_name, x.xml]
  FROM dmarc.record_extension x JOIN rn ON rn.id = x.record_pk
  JOIN dmarc.report p ON p.id = rn.report_pk)
SELECT array_to_string(ARRAY(
         SELECT replace(replace(replace(replace(v, '\', '\\'),
                E'\t', '\t'), E'\n', '\n'), E'\r', '\r')
           FROM unnest(f) WITH ORDINALITY AS u(v, i) ORDER BY i),
       E'\t', '\N')
  FROM rows;
