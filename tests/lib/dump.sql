-- The stored aggregate data, one line per row, in the format of
-- tests/lib/oracle.py (psql -X -At -f dump.sql | LC_ALL=C sort).
-- Positions are renumbered from 1, so the comparison does not depend on
-- where ord starts.
WITH rn AS (
  SELECT id, report_pk, row_number() OVER (PARTITION BY report_pk ORDER BY ord) AS n
    FROM dmarc.record)
SELECT array_to_string(ARRAY['report', reporter_key, report_id, policy_domain,
       extract(epoch FROM date_begin)::bigint::text,
       extract(epoch FROM date_end)::bigint::text,
       record_count::text, message_total::text], E'\t', '\N')
  FROM dmarc.report
UNION ALL
SELECT array_to_string(ARRAY['record', p.reporter_key, p.report_id, rn.n::text,
       host(r.source_ip), r.message_count::text, r.disposition, r.dkim_aligned,
       r.spf_aligned, r.header_from, r.envelope_from], E'\t', '\N')
  FROM dmarc.record r JOIN rn ON rn.id = r.id JOIN dmarc.report p ON p.id = r.report_pk
UNION ALL
SELECT array_to_string(ARRAY['dkim', p.reporter_key, p.report_id, rn.n::text,
       (row_number() OVER (PARTITION BY d.record_pk ORDER BY d.ord))::text,
       d.domain, d.selector, d.result], E'\t', '\N')
  FROM dmarc.record_dkim d JOIN rn ON rn.id = d.record_pk
  JOIN dmarc.report p ON p.id = rn.report_pk
UNION ALL
SELECT array_to_string(ARRAY['spf', p.reporter_key, p.report_id, rn.n::text,
       (row_number() OVER (PARTITION BY s.record_pk ORDER BY s.ord))::text,
       s.domain, s.scope, s.result], E'\t', '\N')
  FROM dmarc.record_spf s JOIN rn ON rn.id = s.record_pk
  JOIN dmarc.report p ON p.id = rn.report_pk;
