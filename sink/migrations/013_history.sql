-- 013_history.sql: the dmarc schema, version 13.
--
-- Years of history on one database.  A poll read every ledger row of its
-- mailbox (a million after a few busy years: a second and 110 MB each
-- poll), and nothing was ever deleted.  Now:
--
--   - a poll reads only the ledger rows of the UIDs the server returned,
--     and the unfinished ones, found by the partial index
--     mail_message_unfinished_idx;
--   - mailbox_search keeps what the last complete search of each mailbox
--     covered (UIDNEXT, HIGHESTMODSEQ), so that the next one asks the
--     server only for what can be new;
--   - "dmarc-agent prune" deletes what is older than the retention the
--     configuration sets; a pruned ledger row of an IMAP message leaves
--     its UID behind in mail_settled, so that the message is never
--     fetched or counted again.
--   - report_date_end_idx lets prune find old reports without a scan.
--
-- Run by "dmarc-agent migrate" in one transaction; by hand:
-- psql -1 -f 013_history.sql, then
-- INSERT INTO dmarc.schema_version (version, name) VALUES (13, '013_history').
-- Released versions are never edited: add a new file instead.

SET LOCAL search_path = dmarc;

-- Rows a poll reads whatever its search returns: claimed and not
-- committed, or committed with the after-action still to do.  Few, so the
-- index stays small however long the ledger grows.
CREATE INDEX mail_message_unfinished_idx
    ON mail_message (mailbox_pk, uidvalidity, uid)
    WHERE uid IS NOT NULL AND (status = 'claimed' OR after_action = 'pending');

CREATE TABLE mailbox_search (
    mailbox_pk     bigint PRIMARY KEY REFERENCES mailbox(id) ON DELETE CASCADE,
    uidvalidity    bigint NOT NULL CHECK (uidvalidity BETWEEN 1 AND 4294967295),
    criteria       text   NOT NULL,
    uidnext        bigint CHECK (uidnext BETWEEN 1 AND 4294967295),
    highestmodseq  bigint CHECK (highestmodseq > 0),
    full_at        timestamptz NOT NULL,
    searched_at    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE mailbox_search IS
'What the last complete search of each IMAP mailbox covered, written by the poll once every message that search found is in the ledger (claimed or settled). The next poll of the same UIDVALIDITY and criteria asks the server only for what can be new since: with CONDSTORE (RFC 7162), the messages whose mod-sequence is above highestmodseq (arrivals and flag changes, whatever their UID), or nothing when HIGHESTMODSEQ did not move; without it, for search = "all", the UIDs from uidnext on, and a full search once a day (which finds a message that appeared below uidnext). A poll with other criteria, another UIDVALIDITY or no row searches everything.';
COMMENT ON COLUMN mailbox_search.mailbox_pk IS 'The mailbox (mailbox.id).';
COMMENT ON COLUMN mailbox_search.uidvalidity IS 'UIDVALIDITY of the folder at that search; another value makes the next poll search everything.';
COMMENT ON COLUMN mailbox_search.criteria IS 'What was searched: "unseen" or "all", with " since Nd" when the mailbox has since; other criteria make the next poll search everything.';
COMMENT ON COLUMN mailbox_search.uidnext IS 'UIDNEXT the SELECT before that search gave: every message with a lower UID that matched the criteria then is in the ledger. NULL when the server did not say.';
COMMENT ON COLUMN mailbox_search.highestmodseq IS 'HIGHESTMODSEQ the SELECT gave (CONDSTORE): every change after it has a higher mod-sequence. NULL without CONDSTORE.';
COMMENT ON COLUMN mailbox_search.full_at IS 'When the folder was last searched whole.';
COMMENT ON COLUMN mailbox_search.searched_at IS 'When this row was written.';

CREATE TABLE mail_settled (
    mailbox_pk   bigint NOT NULL REFERENCES mailbox(id) ON DELETE CASCADE,
    uidvalidity  bigint NOT NULL CHECK (uidvalidity BETWEEN 1 AND 4294967295),
    uid_lo       bigint NOT NULL,
    uid_hi       bigint NOT NULL,
    pruned_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (mailbox_pk, uidvalidity, uid_lo),
    CHECK (uid_lo BETWEEN 1 AND uid_hi AND uid_hi <= 4294967295)
);
COMMENT ON TABLE mail_settled IS
'The UIDs of pruned ledger rows, as ranges of consecutive UIDs: a pruned message may still be in its folder (after = "seen" leaves it there), and a search that finds it again must find it settled, never new. A poll treats every UID in a range like a ledger row with a final status whose after-action is done. Only IMAP rows whose after-action was done and whose reports are no longer stored are pruned (see dmarc-agent prune); files from the ingest command keep their ledger rows.';
COMMENT ON COLUMN mail_settled.mailbox_pk IS 'The mailbox (mailbox.id).';
COMMENT ON COLUMN mail_settled.uidvalidity IS 'UIDVALIDITY of the folder when the messages were read.';
COMMENT ON COLUMN mail_settled.uid_lo IS 'First UID of the range.';
COMMENT ON COLUMN mail_settled.uid_hi IS 'Last UID of the range (included); every UID from uid_lo to uid_hi had a ledger row.';
COMMENT ON COLUMN mail_settled.pruned_at IS 'When the rows were pruned.';

CREATE INDEX report_date_end_idx ON report (date_end);
