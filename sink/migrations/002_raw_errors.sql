-- 002_raw_errors.sql: the dmarc schema, version 2.
--
-- Adds the raw payload store (report_raw, for the reparse command) and the
-- view v_ingest_errors.  Run by "dmarc-agent migrate" like 001, in one
-- transaction; by hand: psql -1 -f 002_raw_errors.sql, then
-- INSERT INTO dmarc.schema_version (version, name) VALUES (2, '002_raw_errors').
-- Version 1 is released: never edit 001, add a new file instead.

SET LOCAL search_path = dmarc;

-- Raw payloads ----------------------------------------------------------------
CREATE TABLE report_raw (
    file_pk bigint  NOT NULL REFERENCES report_file(id) ON DELETE CASCADE,
    seq     integer NOT NULL CHECK (seq >= 0),
    data    bytea   NOT NULL CHECK (octet_length(data) BETWEEN 1 AND 1048576),
    PRIMARY KEY (file_pk, seq)
);
COMMENT ON TABLE report_raw IS
'The decoded payload of a report_file, kept gzip-compressed so that it can be parsed again (dmarc-agent reparse). Departure from the proposal (one row per payload with codec and data): the payload is compressed while it streams through the parser and written in chunks of at most 1 MiB, so neither the agent nor the server ever holds a whole payload in memory. The chunks of one payload, concatenated in seq order, form one gzip stream (RFC 1952) whose content is the payload as read, before any parsing; gunzip of the concatenation has report_file.payload_sha256. A payload has either all its chunks or none (written in the payload''s transaction).';
COMMENT ON COLUMN report_raw.file_pk IS 'The payload (report_file) this chunk belongs to.';
COMMENT ON COLUMN report_raw.seq IS '0-based position of the chunk in the gzip stream.';
COMMENT ON COLUMN report_raw.data IS 'Up to 1 MiB of the gzip stream.';

-- Ingest errors ---------------------------------------------------------------
CREATE VIEW v_ingest_errors AS
SELECT m.id AS message_pk, m.mailbox, m.uidvalidity, m.uid, m.path,
       m.status, m.status_detail, m.status_at, m.subject, m.from_addr,
       m.date_hdr, m.message_id,
       f.id AS file_pk, f.mime_path, f.filename, f.error AS payload_error,
       EXISTS (SELECT 1 FROM report_raw w WHERE w.file_pk = f.id) AS has_raw
FROM mail_message m
LEFT JOIN report_file f ON f.message_pk = m.id AND f.error IS NOT NULL
WHERE m.status IN ('invalid', 'too_large') OR f.id IS NOT NULL;
COMMENT ON VIEW v_ingest_errors IS 'Messages that could not be stored, wholly (status invalid or too_large) or in part (a payload with an error): one row per failed payload, or one row with NULL payload columns when no payload row says why. Messages still claimed (not processed yet, or interrupted) are not here: see mail_message.';
COMMENT ON COLUMN v_ingest_errors.message_pk IS 'The ledger row (mail_message.id).';
COMMENT ON COLUMN v_ingest_errors.mailbox IS 'IMAP mailbox, or ''file'' for the ingest command.';
COMMENT ON COLUMN v_ingest_errors.uidvalidity IS 'IMAP UIDVALIDITY; 0 for files.';
COMMENT ON COLUMN v_ingest_errors.uid IS 'IMAP UID; NULL for files.';
COMMENT ON COLUMN v_ingest_errors.path IS 'Files: the path given to the ingest command.';
COMMENT ON COLUMN v_ingest_errors.status IS 'Ledger status: invalid, too_large, or stored/duplicate/ignored when only some payloads failed.';
COMMENT ON COLUMN v_ingest_errors.status_detail IS 'Why the message has its status (free text).';
COMMENT ON COLUMN v_ingest_errors.status_at IS 'When the status was written.';
COMMENT ON COLUMN v_ingest_errors.subject IS 'Subject header of the message.';
COMMENT ON COLUMN v_ingest_errors.from_addr IS 'From header of the message.';
COMMENT ON COLUMN v_ingest_errors.date_hdr IS 'Date header of the message.';
COMMENT ON COLUMN v_ingest_errors.message_id IS 'Message-ID header of the message.';
COMMENT ON COLUMN v_ingest_errors.file_pk IS 'The failed payload (report_file.id), NULL when none is recorded.';
COMMENT ON COLUMN v_ingest_errors.mime_path IS 'Position of the failed payload in the message.';
COMMENT ON COLUMN v_ingest_errors.filename IS 'File name of the failed payload as declared.';
COMMENT ON COLUMN v_ingest_errors.payload_error IS 'Why the payload could not be stored (report_file.error).';
COMMENT ON COLUMN v_ingest_errors.has_raw IS 'true when the payload is kept in report_raw, so that dmarc-agent reparse can try it again.';
