-- 006_zero_sums.sql: the dmarc schema, version 6.
--
-- The views counted "messages that passed" and the like with
-- sum(...) FILTER (WHERE ...), which is NULL, not 0, when no message of
-- the group matched: a chart showed a gap where it meant zero, and
-- dmarc_pass + dmarc_fail did not add up to messages.  They say 0 now
-- (v_daily_volume, v_daily_volume_prorated, v_source_summary's
-- dmarc_pass_pct, v_spoofing_suspects' blocked).
-- Same columns, same types (numeric): CREATE OR REPLACE keeps the views'
-- comments and whatever depends on them.  Run by "dmarc-agent migrate" in
-- one transaction; by hand: psql -1 -f 006_zero_sums.sql, then
-- INSERT INTO dmarc.schema_version (version, name) VALUES (6, '006_zero_sums').
-- Released versions are never edited: add a new file instead.

SET LOCAL search_path = dmarc;

CREATE OR REPLACE VIEW v_daily_volume AS
SELECT report_day AS day, policy_domain, header_from,
       sum(message_count)                                               AS messages,
       coalesce(sum(message_count) FILTER (WHERE dmarc_pass), 0)        AS dmarc_pass,
       coalesce(sum(message_count) FILTER (WHERE NOT dmarc_pass), 0)    AS dmarc_fail,
       coalesce(sum(message_count) FILTER (WHERE dkim_aligned = 'pass'), 0) AS dkim_aligned_pass,
       coalesce(sum(message_count) FILTER (WHERE spf_aligned  = 'pass'), 0) AS spf_aligned_pass,
       coalesce(sum(message_count) FILTER (WHERE disposition = 'quarantine'), 0) AS quarantined,
       coalesce(sum(message_count) FILTER (WHERE disposition = 'reject'), 0)     AS rejected,
       count(DISTINCT report_pk) AS reports
FROM record GROUP BY 1, 2, 3;

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
WHERE g.share > 0
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
       m.sender_kind, i.country, i.asn, i.as_org
FROM record r JOIN report rp ON rp.id = r.report_pk
LEFT JOIN ip_info i ON i.ip = r.source_ip
LEFT JOIN source_map m ON m.base_domain = i.base_domain
GROUP BY r.policy_domain, r.source_ip, i.ip, m.base_domain;

CREATE OR REPLACE VIEW v_spoofing_suspects AS
SELECT r.report_day, r.policy_domain, r.source_ip, r.header_from,
       sum(r.message_count) AS messages,
       coalesce(sum(r.message_count) FILTER (WHERE r.disposition IN ('quarantine','reject')), 0) AS blocked,
       bool_or(EXISTS (SELECT 1 FROM record_reason x WHERE x.record_pk = r.id
                       AND x.type IN ('forwarded','mailing_list','trusted_forwarder'))) AS receiver_saw_forwarding
FROM record r WHERE r.dkim_aligned = 'fail' AND r.spf_aligned = 'fail'
GROUP BY 1, 2, 3, 4;
