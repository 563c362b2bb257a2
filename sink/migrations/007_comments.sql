-- 007_comments.sql: the dmarc schema, version 7.
--
-- Two table comments (tlsrpt_report, failure_report) named a design
-- document that is not part of dmarc-agent; they now say in their own
-- words what the tables keep beyond the RFCs' fields.  Nothing else
-- changes.  Run by "dmarc-agent migrate" in one transaction; by hand:
-- psql -1 -f 007_comments.sql, then
-- INSERT INTO dmarc.schema_version (version, name) VALUES (7, '007_comments').
-- Released versions are never edited: add a new file instead.

SET LOCAL search_path = dmarc;

COMMENT ON TABLE tlsrpt_report IS
'One row per distinct SMTP TLS report (RFC 8460): who tried to deliver mail to our domains over TLS, and how it went. Deduplicated on (organization_name, report_id); a report delivered again only raises seen_count (see tlsrpt_delivery). Kept beyond the fields the RFC names: the raw texts of non-canonical times, totals, unknown JSON members (extra), parse warnings and the seen_count bookkeeping of the aggregate reports.';

COMMENT ON TABLE failure_report IS
'One row per distinct DMARC failure (forensic) report: one message that failed authentication, as a receiver described it (RFC 6591 ARF, updated by RFC 9991). Deduplicated on feedback_sha256 (ARF has no report ID), with the seen_count rule of the aggregate reports (failure_delivery). Reports without a message/feedback-report part (Exim''s plain text) are kept with what could be read (format plain, reason). Holds personal data (addresses, sample headers): sample_body is only filled when failure_reports.store_body is set in the configuration. Kept beyond the fields the RFC names: file_pk, the *_raw columns, reported_domain and reported_uri as lists, the DKIM canonicalised fields, Incidents, the feedback part itself, the sample''s From, Subject and Message-ID, and the dedup bookkeeping.';
