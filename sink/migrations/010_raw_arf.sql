-- 010_raw_arf.sql: the dmarc schema, version 10.
--
-- The raw copy of a failure report (report_file.kind 'arf') now holds,
-- before the report, what its parse reads beside it: the report-type,
-- the text part and the returned message (or its headers), so that
-- "dmarc-agent reparse" can derive the failure_report row again.  The
-- comment of report_raw says so; nothing else changes.  Run by
-- "dmarc-agent migrate" in one transaction; by hand:
-- psql -1 -f 010_raw_arf.sql, then
-- INSERT INTO dmarc.schema_version (version, name) VALUES (10, '010_raw_arf').
-- Released versions are never edited: add a new file instead.

SET LOCAL search_path = dmarc;

COMMENT ON TABLE report_raw IS
'The decoded payload of a report_file, kept gzip-compressed so that it can be parsed again (dmarc-agent reparse). Departure from the proposal (one row per payload with codec and data): the payload is compressed while it streams through the parser and written in chunks of at most 1 MiB, so neither the agent nor the server ever holds a whole payload in memory. The chunks of one payload, concatenated in seq order, form one gzip stream (RFC 1952) whose content is the payload as read, before any parsing; gunzip of the concatenation has report_file.payload_sha256. Failure reports (kind arf) stored from schema version 10 on are the exception: the content starts with the line "DMARC-AGENT-ARF 1" and what their parse reads beside the payload (report-type, text part, returned message or its headers, each as "name: length", a line feed, its bytes and a line feed; the flags plain and headers-only as lines), then the line "report:" and the payload, whose digest is payload_sha256. Older failure reports hold the payload alone, which a reparse leaves as it is. A payload has either all its chunks or none (written in the payload''s transaction).';
