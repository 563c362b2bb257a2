-- 008_mailbox_identity.sql: the dmarc schema, version 8.
--
-- A mailbox is the folder of an account on a server, not the name the
-- configuration gives it.  The ledger (mail_message) and ingest_run were
-- keyed by that name: two agents on two hosts that both called their
-- (different) mailboxes "reports" shared ledger rows, so one skipped the
-- other's messages whose UIDVALIDITY and UIDs matched, and a mailbox
-- whose url changed kept its name's ledger.  Now each mailbox is a row of
-- the table mailbox, keyed by its identity
-- ("imap://USER@HOST:PORT/FOLDER", see imap_url_identity in imap/imap.h)
-- with its name as a label, and the ledger is keyed by
-- (mailbox_pk, uidvalidity, uid).
--
-- Existing ledgers: each name found in mail_message (IMAP rows) or
-- ingest_run becomes a mailbox row with no identity yet, and its rows
-- point to it.  The first poll of a mailbox with that name claims it
-- (the identity is filled in), so an upgrade loses nothing and fetches
-- nothing twice.  Files from the ingest command (mailbox 'file', uid
-- NULL) keep no mailbox row: their key stays the content's SHA-256.
--
-- Run by "dmarc-agent migrate" in one transaction; by hand:
-- psql -1 -f 008_mailbox_identity.sql, then
-- INSERT INTO dmarc.schema_version (version, name) VALUES (8, '008_mailbox_identity').
-- Released versions are never edited: add a new file instead.

SET LOCAL search_path = dmarc;

CREATE TABLE mailbox (
    id          bigserial PRIMARY KEY,
    identity    text UNIQUE,
    name        text NOT NULL,
    first_seen  timestamptz NOT NULL DEFAULT now(),
    last_seen   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX mailbox_unclaimed_name_key ON mailbox (name)
    WHERE identity IS NULL;

COMMENT ON TABLE mailbox IS
'One row per IMAP mailbox dmarc-agent has polled: a folder of an account on a server, whatever the configuration calls it. The ledger (mail_message) and the polls (ingest_run) point here. Rows without an identity hold the ledger of a mailbox name from before schema version 8; the first poll of a mailbox with that name claims the row (sets its identity).';
COMMENT ON COLUMN mailbox.id IS 'Surrogate key (mail_message.mailbox_pk, ingest_run.mailbox_pk).';
COMMENT ON COLUMN mailbox.identity IS 'What the mailbox is: imap://USER@HOST:PORT/FOLDER, with the host in lower case, the port always written (993 for implicit TLS, 143 otherwise, when the url gives none), the folder as the server names it (modified UTF-7; INBOX in capitals) and the user name percent-encoded where it holds %, @, /, :, ; or bytes outside printable ASCII. Two configurations that reach one folder of one account are one mailbox. NULL: a ledger from before schema version 8 not claimed yet.';
COMMENT ON COLUMN mailbox.name IS 'The mailbox''s name in the configuration of the agent that polled it last (a label: renaming a mailbox keeps its ledger).';
COMMENT ON COLUMN mailbox.first_seen IS 'When the mailbox was first polled (for a ledger from before schema version 8: its oldest ledger row or poll).';
COMMENT ON COLUMN mailbox.last_seen IS 'When a poll last started on it.';

-- Existing ledgers, one unclaimed row per name.
INSERT INTO mailbox (name, first_seen, last_seen)
SELECT name, min(t0), max(t1) FROM (
    SELECT mailbox, min(fetched_at), max(fetched_at)
      FROM mail_message WHERE uid IS NOT NULL GROUP BY mailbox
    UNION ALL
    SELECT mailbox, min(started_at), max(started_at)
      FROM ingest_run GROUP BY mailbox) AS n (name, t0, t1)
GROUP BY name ORDER BY name;

-- The ledger's key: the mailbox's row, not its name.
ALTER TABLE mail_message ADD COLUMN mailbox_pk bigint REFERENCES mailbox(id);
UPDATE mail_message m SET mailbox_pk = b.id FROM mailbox b
 WHERE m.uid IS NOT NULL AND b.name = m.mailbox;
ALTER TABLE mail_message
    DROP CONSTRAINT mail_message_mailbox_uidvalidity_uid_key,
    ADD CONSTRAINT mail_message_mailbox_pk_uidvalidity_uid_key
        UNIQUE (mailbox_pk, uidvalidity, uid),
    ADD CONSTRAINT mail_message_imap_has_mailbox
        CHECK ((uid IS NULL) = (mailbox_pk IS NULL));

COMMENT ON TABLE mail_message IS
'The ledger: one row per examined mail message (IMAP) or file (the ingest command), with what became of it. IMAP messages are keyed by (mailbox_pk, uidvalidity, uid): the mailbox''s row, not its name (since schema version 8). Files have mailbox ''file'', mailbox_pk NULL, uidvalidity 0, uid NULL and are keyed by their content SHA-256 (partial unique index mail_message_file_sha256_key). Departure from the proposal: uid is nullable for files, so that a file needs no invented uid. Columns status and after_action hold dmarc-agent''s own vocabulary, never text from a report, so they have no *_raw column.';
COMMENT ON COLUMN mail_message.mailbox IS 'The name of the IMAP mailbox when the message was first recorded (the label; mailbox_pk says which mailbox it is), or ''file'' for a file given to the ingest command.';
COMMENT ON COLUMN mail_message.mailbox_pk IS 'The IMAP mailbox the message was read from (mailbox.id); NULL for files (constraint mail_message_imap_has_mailbox).';
COMMENT ON COLUMN mail_message.uidvalidity IS 'IMAP UIDVALIDITY of the mailbox when the message was read; 0 for files. A new UIDVALIDITY gives the same mail new ledger rows.';
COMMENT ON COLUMN mail_message.uid IS 'IMAP UID within (mailbox_pk, uidvalidity); NULL for files (constraint mail_message_imap_has_uid).';

-- Polls: which mailbox, not only its name.
ALTER TABLE ingest_run ADD COLUMN mailbox_pk bigint REFERENCES mailbox(id);
UPDATE ingest_run r SET mailbox_pk = b.id FROM mailbox b
 WHERE b.name = r.mailbox;
CREATE INDEX ingest_run_mailbox_pk_started_idx
    ON ingest_run (mailbox_pk, started_at);

COMMENT ON COLUMN ingest_run.mailbox IS 'The mailbox''s name in the configuration of the agent that polled (a label: mailbox_pk says which mailbox it is).';
COMMENT ON COLUMN ingest_run.mailbox_pk IS 'The mailbox polled (mailbox.id); NULL only for rows written by hand.';

-- Health per mailbox: two mailboxes that share a name are two rows, a
-- renamed one keeps its history.  Same columns (identity added at the
-- end): CREATE OR REPLACE keeps the comments and whatever depends on it.
CREATE OR REPLACE VIEW v_mailbox_health AS
WITH run AS (
    SELECT r.*, coalesce(r.mailbox_pk::text, 'name:' || r.mailbox) AS k
      FROM ingest_run r),
last AS (
    SELECT DISTINCT ON (k) k, mailbox_pk, mailbox, started_at, ended_at,
           ok, error, host
      FROM run WHERE ended_at IS NOT NULL
     ORDER BY k, started_at DESC),
success AS (
    SELECT k, max(started_at) AS last_success
      FROM run WHERE ok GROUP BY k),
failing AS (
    SELECT r.k, count(*) AS failing_in_row
      FROM run r LEFT JOIN success s USING (k)
     WHERE r.ok = false AND r.started_at > coalesce(s.last_success, '-infinity')
     GROUP BY r.k),
day AS (
    SELECT k, sum(fetched) AS fetched_24h, sum(stored) AS stored_24h,
           sum(invalid) AS invalid_24h, count(*) AS polls_24h
      FROM run WHERE started_at > now() - interval '24 hours'
     GROUP BY k)
SELECT coalesce(b.name, l.mailbox) AS mailbox,
       l.started_at AS last_poll,
       l.ok AS last_poll_ok,
       s.last_success,
       coalesce(f.failing_in_row, 0) AS polls_failing_in_row,
       CASE WHEN l.ok THEN NULL ELSE l.error END AS last_error,
       l.host AS last_host,
       coalesce(d.polls_24h, 0) AS polls_24h,
       coalesce(d.fetched_24h, 0) AS fetched_24h,
       coalesce(d.stored_24h, 0) AS stored_24h,
       coalesce(d.invalid_24h, 0) AS invalid_24h,
       b.identity
  FROM last l
  LEFT JOIN mailbox b ON b.id = l.mailbox_pk
  LEFT JOIN success s USING (k)
  LEFT JOIN failing f USING (k)
  LEFT JOIN day d USING (k);

COMMENT ON VIEW v_mailbox_health IS
'One row per mailbox (mailbox.id; two mailboxes that share a name are two rows): its last poll, its last successful poll, and how many polls in a row have failed since. Alert when polls_failing_in_row > 0 for a while, or when last_success is older than a few intervals.';
COMMENT ON COLUMN v_mailbox_health.mailbox IS 'The mailbox''s name in the configuration (mailbox.name, the name of its last poll).';
COMMENT ON COLUMN v_mailbox_health.identity IS 'What the mailbox is (mailbox.identity): imap://USER@HOST:PORT/FOLDER; NULL for a ledger from before schema version 8 not polled since.';
