/*
 * sink.h: the PostgreSQL store (schema "dmarc").
 *
 * One struct sink holds one libpq connection.  The ledger (mail_message)
 * records every examined message, keyed by (mailbox, uidvalidity, uid)
 * where the mailbox is its row of table mailbox (sink_mailbox_claim),
 * found by the mailbox's identity, not by its name;
 * a message's rows and its final status are written in one transaction
 * (sink_msg_begin ... sink_msg_commit), so a crash loses nothing and counts
 * nothing twice.  Reports are deduplicated on their natural key
 * (reporter_key, report_id, policy_domain, date_begin).
 *
 * Round trips: statements whose answer is not needed at once are sent
 * without waiting (libpq pipeline mode) and checked at the next call that
 * waits.  A one-payload message costs four round trips (sink_msg_begin,
 * sink_report_head, sink_report_end, sink_msg_commit), three inside a
 * batch (see sink_batch_begin), whatever the number of statements; with
 * reports held back (sink_set_defer), three and two.  A
 * failure is always reported with the cause and class of the statement
 * that failed, by the call that sent it or a later one of the same
 * payload (records: sink_report_end at the latest) or message.
 *
 * Errors: 0 or -1 with *cause (malloc'd, one line: what failed and the
 * server's message).  The calls with more than two outcomes return an
 * enum that names them (enum sink_schema, sink_lock, sink_result), whose
 * error is -1 as well.  After every -1, sink_last_error tells what to do
 * (see enum sink_error); sink_is_broken tells whether the connection is
 * gone (reopen it).  Calling a function out of order
 * (records without a new report, a second sink_msg_begin ...) is a bug and
 * calls fatalx.  The schema and what each column means: the COMMENT ON of
 * the files in sink/migrations (psql: \d+ dmarc.record).
 */
#ifndef SINK_H
#define SINK_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "report/report.h"

struct sink;

/*
 * Connect with a libpq conninfo string or URI (fallback_application_name
 * "dmarc-agent", client_encoding UTF8, empty search_path).  NULL with
 * *cause on failure; the cause never holds the password.
 */
struct sink *sink_open(const char *conninfo, char **);
void	sink_close(struct sink *);
/* The server's version as PostgreSQL numbers it (150005 for 15.5). */
int	sink_server_version(struct sink *);
int	sink_is_broken(struct sink *);

/*
 * What a -1 means, from the server's SQLSTATE.
 *
 * SINK_ERR_TRANSIENT: nothing is wrong with the data; try again later.
 * Connection lost (class 08, or libpq's CONNECTION_BAD), serialization
 * failure 40001, deadlock 40P01, server shutdown 57P01/57P02/57P03, too
 * many connections 53300, disk full 53100, and every state not listed
 * under SINK_ERR_DATA (permissions, a missing table, out of memory ...:
 * the administrator's to fix, the message must not be marked failed).
 * The caller rolls back the whole message (sink_msg_rollback; the ledger
 * row stays 'claimed') and processes it again later, reopening the sink
 * when sink_is_broken says so.
 *
 * SINK_ERR_DATA: the values were refused: class 22 (data exception: a
 * malformed inet, a date out of range ...), 23 (integrity constraint
 * violation: a CHECK, a duplicate ord ...), 21 and 54 (cardinality, program
 * limit: an oversized value), and the sink's own refusals (an array over
 * SINK_ARRAY_MAX, a row count that does not add up).  Inside a payload the
 * transaction is now aborted: the caller rolls back to the payload
 * savepoint (sink_payload_rollback), may record the payload as failed
 * (sink_file_begin again, sink_file_end with the cause as error) and goes
 * on with the message.  Retrying would fail the same way.
 *
 * SINK_ERR_NONE: no failure recorded yet on this connection.  The value is
 * only meaningful right after a -1 (or NULL) return.
 */
enum sink_error {
	SINK_ERR_NONE = 0,
	SINK_ERR_TRANSIENT,
	SINK_ERR_DATA
};
enum sink_error sink_last_error(struct sink *);

/*
 * Schema version.  sink_schema_check tells whether the database's schema
 * is the one this program writes; sink_migrate creates or upgrades it (one
 * transaction per step, under an advisory lock).
 */
enum sink_schema {
	SINK_SCHEMA_ERROR = -1,	/* *cause set: the check failed, or the
				   database is newer than this program */
	SINK_SCHEMA_CURRENT = 0,
	SINK_SCHEMA_OLD = 1	/* missing or older: run sink_migrate */
};
enum sink_schema sink_schema_check(struct sink *, char **);
int	sink_migrate(struct sink *, char **);
int	sink_schema_version(void);		/* what this program wants */
/*
 * Migrate up to version (at most sink_schema_version()), for tests of the
 * upgrade path; a database already at or past version is left alone.
 */
int	sink_migrate_to(struct sink *, int version, char **);

/*
 * Compare the rollup tables (daily sums of the records, migration 014)
 * with the records, added up afresh: *n differences, the first max of
 * them as one line of text each in *lines (the table, which side has the
 * group, and the group), none when they are equal.  Reads every record:
 * slow on a large database.  The caller frees *lines with
 * sink_enrich_free(*lines, *nlines).
 */
int	sink_rollup_check(struct sink *, size_t max, char ***lines,
	    size_t *nlines, size_t *n, char **);

/* Ledger states, as in mail_message.status. */
enum sink_status {
	SINK_NONE = 0,		/* not in the ledger */
	SINK_CLAIMED,
	SINK_STORED,
	SINK_DUPLICATE,
	SINK_IGNORED,
	SINK_INVALID,
	SINK_TOO_LARGE,
	SINK_PRUNED		/* sink_ledger_find only: a pruned row's UID
				   (final, after-action done) */
};
const char *sink_status_name(enum sink_status);

/*
 * The mailbox's row (table mailbox) for a poll: *id is what the ledger
 * calls below, sink_msg_info and sink_run_begin take.  identity says what
 * the mailbox is (imap_url_identity: server, account, folder), name is
 * its name in the configuration, a label.  The row is found by identity
 * and its name set to name (a renamed mailbox keeps its ledger); else a
 * ledger from before schema version 8 kept under this name and not
 * claimed yet becomes this mailbox's (its identity is set: an upgrade
 * fetches nothing twice); else a new row is made.  Claims are serialised
 * (a transaction-level advisory lock), so two agents claiming at once
 * never both take one old ledger.  Its own transaction; commits.
 */
int	sink_mailbox_claim(struct sink *, const char *identity,
	    const char *name, int64_t *id, char **);

struct sink_ledger_entry {
	uint32_t	 uid;
	enum sink_status status;
	int		 after_done;	/* after_action = 'done' */
};

/*
 * Every ledger row of (mailbox, uidvalidity), ascending by uid; mailbox is
 * the id sink_mailbox_claim gave.  The caller frees *out.
 */
int	sink_ledger_list(struct sink *, int64_t mailbox, uint32_t uidvalidity,
	    struct sink_ledger_entry **out, size_t *n, char **);

/*
 * The ledger rows a poll needs, ascending by uid, without reading the rest
 * of a long ledger: the rows of these uids (ascending; those of pruned
 * rows, kept in mail_settled, come back as SINK_PRUNED with after_done
 * set), and every unfinished row of (mailbox, uidvalidity), claimed or
 * with its after-action pending, whatever its uid.  Many uids go in
 * several statements (a full search of a large folder), so the memory
 * used stays that of the rows returned.  The caller frees *out.
 */
int	sink_ledger_find(struct sink *, int64_t mailbox, uint32_t uidvalidity,
	    const uint32_t *uids, size_t n, struct sink_ledger_entry **out,
	    size_t *nout, char **);

/*
 * What the last complete search of a mailbox covered (table
 * mailbox_search): the next poll of the same uidvalidity and criteria
 * asks the server only for what can be new since (agent/poll-plan.c).
 */
#define SINK_CRITERIA_MAX	64
struct sink_search_mark {
	uint32_t	 uidvalidity;	/* 0: no mark */
	char		 criteria[SINK_CRITERIA_MAX]; /* "all", "unseen since
					   30d" ... */
	uint32_t	 uidnext;	/* 0: the server did not say */
	uint64_t	 highestmodseq;	/* 0: none (no CONDSTORE) */
	time_t		 full_at;	/* the last search of everything */
};
/* The mailbox's mark; uidvalidity 0 when it has none. */
int	sink_mark_read(struct sink *, int64_t mailbox,
	    struct sink_search_mark *, char **);
/* Replace it (autocommit; not inside a message transaction or batch). */
int	sink_mark_write(struct sink *, int64_t mailbox,
	    const struct sink_search_mark *, char **);

/*
 * Insert 'claimed' rows for these uids (existing rows untouched), labelled
 * with the mailbox's name; commits.
 */
int	sink_claim(struct sink *, int64_t mailbox, uint32_t uidvalidity,
	    const uint32_t *uids, size_t n, char **);

/*
 * The ids of the ledger rows of these uids that are claimed: ids[i] for
 * uids[i], 0 when its row is not claimed or does not exist.
 */
int	sink_claimed_ids(struct sink *, int64_t mailbox, uint32_t uidvalidity,
	    const uint32_t *uids, size_t n, int64_t *ids, char **);

/* Mark after_action done for these uids; commits. */
int	sink_after_done(struct sink *, int64_t mailbox, uint32_t uidvalidity,
	    const uint32_t *uids, size_t n, char **);

/* What the ledger keeps about a message. */
/* No Date field (-1 is a date: 1969-12-31 23:59:59). */
#define SINK_NO_DATE	INT64_MIN
struct sink_msg_info {
	int64_t		 mailbox_pk;	/* IMAP: sink_mailbox_claim's id */
	const char	*mailbox;	/* IMAP: the name, a label for a row
					   made here (see sink_claim) */
	uint32_t	 uidvalidity;	/* 0 for files */
	uint32_t	 uid;		/* 0 for files (then sha256 is the key) */
	const char	*path;		/* files: the path, for information */
	const char	*message_id;
	const char	*from;
	const char	*subject;
	int64_t		 date;		/* SINK_NO_DATE: unknown */
	const char	*auth_results;
	uint64_t	 size;
	const unsigned char *sha256;	/* 32 bytes */
	int64_t		 claimed_pk;	/* IMAP: the row's id when the caller
					   knows it claimed (a poll: see
					   sink_claimed_ids), else 0 */
};

/*
 * Start the transaction for one message (BEGIN; lock its ledger row,
 * creating it if needed; write the message facts).  For files
 * (uidvalidity 0, uid 0) the ledger key is the content SHA-256 (sha256 must
 * be set) and the row's mailbox is always "file", whatever info->mailbox
 * and info->mailbox_pk say: *prior is set to the final status already recorded for this
 * content (SINK_NONE if none), and the caller should sink_msg_rollback and
 * count it as already seen.  For IMAP messages *prior is the row's current
 * status as well (SINK_NONE when the row was created now).  On error the
 * transaction is already rolled back (inside a batch: the message's
 * savepoint).  One round trip.
 *
 * Inside a batch with sink_set_sets, a message whose claimed_pk is set
 * costs no round trip: its row is not written now but with the batch's
 * others, with their status, before the batch commits (*prior is then
 * SINK_CLAIMED).  When the row is not claimed any more by then (another
 * agent finished the message meanwhile), the batch fails as a transient
 * failure, and goes again with sets off: then this call reads the row.
 */
int	sink_msg_begin(struct sink *, const struct sink_msg_info *,
	    enum sink_status *prior, char **);

/* Provenance of one payload (report_file row). */
struct sink_file_info {
	const char	*mime_path;
	const char	*filename;
	const char	*content_type;
	const char	*transfer_encoding;
	const char	*container;
	const char	*zip_member;
	const char	*kind;		/* "xml" "json" "arf" */
	uint64_t	 encoded_bytes;
	/*
	 * What the file name and the Subject say (mime_name_parse,
	 * mime_subject_parse); fn_begin and fn_end count only with
	 * fn_receiver set, and not when negative.
	 */
	const char	*fn_receiver;
	const char	*fn_policy_domain;
	int64_t		 fn_begin;
	int64_t		 fn_end;
	const char	*fn_unique_id;
	const char	*subj_domain;
	const char	*subj_submitter;
	const char	*subj_report_id;
};

/*
 * What became of a report: the answer of the calls that store one or close
 * its payload.  The values are fixed: the report parsers' callbacks hand
 * them on unchanged (report.h: a callback's 1 means a duplicate).
 */
enum sink_result {
	SINK_FAILED = -1,	/* *cause set (see sink_last_error) */
	SINK_OK = 0,		/* done: a new report stored, a batch sent
				   ...; held back (sink_set_defer), its fate
				   shows later */
	SINK_DUP = 1,		/* a duplicate: nothing of it stored, the
				   delivery counted (see sink_report_head) */
	SINK_REFUSED = 2	/* sink_file_end only, with sink_set_defer:
				   the database refused the report held back
				   (SINK_ERR_DATA, *cause set) */
};

/*
 * Within the message transaction: open a payload (report_file row), then
 * store its report.  sink_report_head returns SINK_OK when the report is
 * new (its records follow), SINK_DUP when it is a duplicate (seen_count is
 * bumped when the message differs from the ones that delivered it before;
 * skip the records), SINK_FAILED on error.  Records go in batches of any
 * size, one statement each; their ord must be unique within the report.
 * sink_report_end takes the end header: its warnings, errors and
 * extensions replace the head's (they may have grown), record_count and
 * message_total are counted from the stored records.  sink_report_records
 * and sink_report_end return SINK_OK or SINK_FAILED (and SINK_DUP only
 * with sink_set_defer, see there).  sink_file_end stores the payload's
 * size and SHA-256 (may be NULL) and an optional error text (a payload
 * that failed to parse); it closes the payload (returns SINK_OK or
 * SINK_FAILED, and SINK_DUP or SINK_REFUSED only with sink_set_defer).
 *
 * Only sink_report_head and sink_report_end wait for the server.
 * sink_file_begin, sink_report_records, sink_file_end (and
 * sink_raw_append) send their statements and return 0; a failure shows at
 * the next call that waits: a record batch the server refuses makes a
 * later sink_report_records or sink_report_end return SINK_FAILED with the
 * batch's own cause ("insert records: ...") and SINK_ERR_DATA, so it is
 * still this payload's failure.  What sink_file_end sends is checked by
 * the next sink_payload_savepoint or sink_msg_commit (or, inside a batch,
 * the next sink_msg_begin or sink_batch_commit: then it fails the batch).
 */
int	sink_file_begin(struct sink *, const struct sink_file_info *, char **);
enum sink_result sink_report_head(struct sink *, const struct report_head *,
	    char **);
enum sink_result sink_report_records(struct sink *,
	    const struct report_record *, size_t, char **);
enum sink_result sink_report_end(struct sink *, const struct report_head *,
	    char **);
enum sink_result sink_file_end(struct sink *, uint64_t payload_bytes,
	    const unsigned char sha256[32], const char *error, char **);

/*
 * Raw payload store (table report_raw).  While a payload is open
 * (sink_file_begin .. sink_file_end) the caller hands over the decoded
 * payload bytes as it reads them; they are gzip-compressed on the fly and
 * written in chunks of at most 1 MiB, so memory stays bounded whatever the
 * payload's size.  sink_file_end finishes the stream; rolling back the
 * payload or the message discards it.  Nothing is stored for a payload
 * with no bytes appended, nor when storing is off.  The bytes are only
 * read (borrowed for the call).
 */
int	sink_raw_append(struct sink *, const void *, size_t, char **);
/*
 * Hold each payload's rows back and store them in as few statements as
 * possible (off by default): the report_file row waits for the payload's
 * end (or the first statement that refers to it), and a report whose
 * records come in one batch (most reports; a second batch sends the head
 * and goes on batch by batch) waits too, so that the payload row, the
 * report, its records and totals, and the last chunk of the raw copy are
 * one statement at sink_file_end.  Then sink_report_head and
 * sink_report_end return SINK_OK without asking the server, and the
 * report's fate shows later: sink_report_records (second batch),
 * sink_report_end (when a raw chunk already sent the payload row) or
 * sink_file_end return SINK_DUP for a duplicate (nothing of the report
 * stored, the delivery counted as after sink_report_head's SINK_DUP), and
 * sink_file_end returns SINK_REFUSED when the database refused the report
 * (SINK_ERR_DATA, *cause set: roll the payload back, as after a refused
 * record batch).  Reparse is not held back.
 */
void	sink_set_defer(struct sink *, int);

/*
 * Inside a batch, with sink_set_defer on: keep each payload that would
 * end in one statement (most: see sink_set_defer) instead of sending it,
 * and write all those of the batch in one statement before its COMMIT
 * (or between two messages, past 1 MiB kept; a payload that would take
 * the kept bytes past 2 MiB is sent at once, as without sets).  sink_file_end then
 * answers SINK_OK, as for a new report, without asking the server.  When
 * that was wrong (a report kept was a duplicate, or the database refused
 * one), the batch fails with SINK_ERR_TRANSIENT and a cause that says so,
 * and the sink goes back to payload by payload until a batch commits:
 * run the batch's messages again (as after a deadlock) and they get the
 * usual answers.  Only for callers that can replay a batch.  Off by
 * default; reparse is never kept.
 */
void	sink_set_sets(struct sink *, int);

/*
 * The authenticity the next report gets ("verified", "unverified" or
 * "forged", as report.authenticity), when the caller judged it before
 * sink_report_head: the report is then written with it, and its records
 * counted under it in the rollup at once, rather than moved there by a
 * later UPDATE (which costs a second pass over the records).  NULL, the
 * default: "unverified".  The string must outlive the next
 * sink_report_head, which resets it to NULL.
 */
void	sink_set_authenticity(struct sink *, const char *);

/* Keep raw payloads (config store_raw); on by default. */
void	sink_set_store_raw(struct sink *, int);

/* Savepoints around one payload, so a bad payload does not spoil the
   message's other payloads.  sink_payload_rollback waits; the savepoint
   does not, except to check what the previous payload sent. */
int	sink_payload_savepoint(struct sink *, char **);
int	sink_payload_rollback(struct sink *, char **);

/*
 * Write the final status (and detail text, may be NULL) and COMMIT.  On
 * failure nothing of the message is kept (the transaction is rolled back).
 * Inside a batch: RELEASE SAVEPOINT msg instead, without waiting (see
 * sink_batch_begin).
 */
int	sink_msg_commit(struct sink *, enum sink_status, const char *detail,
	    char **);
/* ROLLBACK the message transaction (nothing of it is kept). */
void	sink_msg_rollback(struct sink *);

/*
 * Who sent a report mail (verify/'s verdict in the sink's terms).  Every
 * string is borrowed for the call; the words are the schema's (see
 * migration 012: "pass" "fail" "none", "strict" "relaxed" "none",
 * "verified" "unverified" "forged").
 */
struct sink_sig_info {
	const char	*domain, *selector, *algorithm;
	const char	*result;	/* pass fail temperror permerror skipped */
	const char	*error;
	int64_t		 body_length;	/* -1: no l= */
	const char	*key_sha256;
	const char	*aligned;
};
struct sink_auth_info {
	time_t		 checked_at;
	const char	*from_domain;
	unsigned	 from_count, sigs_seen;
	const char	*dmarc, *dmarc_via, *alignment;
	const char	*ar_id, *ar_dkim, *ar_dkim_domain, *ar_spf;
	const char	*ar_dmarc, *ar_dmarc_from;
	const char *const *auth_domains;
	size_t		 nauth;
	const char	*reporter_domain;
	int		 reporter_matched;	/* -1: no report */
	const char	*authenticity;		/* of the first report */
	const char	*detail;
	const struct sink_sig_info *sigs;
	size_t		 nsigs;
	/* report.authenticity of the reports stored from the message, by
	   report_id. */
	const char *const *report_ids;
	const char *const *report_auth;
	size_t		 nreports;
};
/*
 * Store (or replace) a message's verdict and set its reports'
 * authenticity: message_pk 0 is the message open now (before
 * sink_msg_commit, or inside a reparse); another is done in a
 * transaction of its own (dmarc-agent verify).  A report whose
 * authenticity changes moves between the rollup's rows (migration 014):
 * flushed before that transaction's COMMIT, or the message's.  Waits.
 */
int	sink_auth_store(struct sink *, int64_t message_pk,
	    const struct sink_auth_info *, char **);
/* Keep the whole open message, gzip'd in 1 MiB chunks (message_raw). */
int	sink_msg_raw_store(struct sink *, const void *, size_t, char **);
/*
 * Read a kept message back, at most cap bytes: 1 with *buf (the caller
 * frees it; a NUL follows the len bytes), 0 when none is kept, -1.
 */
int	sink_msg_raw_read(struct sink *, int64_t message_pk, uint64_t cap,
	    char **buf, size_t *len, char **);
/*
 * The messages kept whole, fetched (or dated) since since (-1: all), and,
 * when file_pk is not 0, only the one that delivered that payload.  The
 * caller frees *pks.
 */
int	sink_auth_list(struct sink *, time_t since, int64_t file_pk,
	    int64_t **pks, size_t *n, char **);
/* The reports stored from a message; free with sink_auth_reports_free. */
struct sink_auth_report {
	char	*report_id, *org_email, *org_name, *authenticity;
};
int	sink_auth_reports(struct sink *, int64_t message_pk,
	    struct sink_auth_report **, size_t *, char **);
void	sink_auth_reports_free(struct sink_auth_report *, size_t);

/*
 * Group commit: one transaction, one fsync, for many messages.
 *
 * sink_batch_begin opens a batch (BEGIN, sent without waiting).  Inside
 * it, sink_msg_begin opens SAVEPOINT msg instead of BEGIN (the ledger row
 * is written and locked as usual); sink_msg_commit writes the status and
 * RELEASEs the savepoint instead of COMMIT, and sink_msg_rollback rolls
 * back to it: a message is still all or nothing, and a message rolled
 * back (or refused: SINK_ERR_DATA) leaves the others of the batch alone.
 * Nothing is durable until sink_batch_commit returns 0: only then may the
 * caller count the batch's messages as done and do their after-actions
 * (it returns 0 when the COMMIT's reply came, even if the connection was
 * lost right after: the next call finds that).
 * When it returns -1 the whole batch is rolled back and every message of
 * it is as before the batch (its ledger row 'claimed', or absent): it is
 * fetched again.  Except when sink_commit_unknown says 1: the connection
 * was lost after the COMMIT went out, so the server may have committed
 * the batch before it died; only the database can tell (the ledger rows:
 * still 'claimed', or final with after_action 'pending', which the next
 * poll completes).  sink_batch_rollback abandons a batch (an open message
 * included); harmless outside one.
 *
 * Inside a batch, sink_msg_commit does not wait for the server: a
 * failure of its statements (or of sink_msg_rollback's) is reported by
 * the next call that waits (the next sink_msg_begin, or
 * sink_batch_commit), and it fails the batch.  So does any
 * SINK_ERR_TRANSIENT failure (a lost connection, a deadlock ...): from
 * then on sink_msg_begin, sink_msg_commit and sink_batch_commit return -1
 * with SINK_ERR_TRANSIENT and a cause that starts "the batch failed:";
 * call sink_batch_rollback (and sink_close when sink_is_broken).  A
 * SINK_ERR_DATA failure only concerns its payload or message, as outside
 * a batch.
 *
 * Only message transactions belong in a batch: sink_claim,
 * sink_after_done and sink_reparse_begin inside one are bugs (fatalx).
 * Each message adds two subtransactions (message and payload savepoints)
 * to the batch's transaction; keep batches to about a hundred messages.
 */
int	sink_batch_begin(struct sink *, char **);
int	sink_batch_commit(struct sink *, char **);
void	sink_batch_rollback(struct sink *);
/* 1 when the last failed sink_batch_commit may have committed. */
int	sink_commit_unknown(struct sink *);
/*
 * Tests (agent/poll-fault.c, point in-commit): call fn(arg) in
 * sink_batch_commit once its COMMIT has been sent to the server, whose
 * reply then waits in the server until the sync point that follows the
 * hook; NULL removes it.
 */
void	sink_set_commit_hook(struct sink *, void (*fn)(void *), void *arg);

/*
 * Reparse support.  sink_raw_list selects the payloads (report_file ids,
 * ascending) that have raw data and are aggregate (xml), TLS (json) or
 * failure (arf) reports: with all set, every such payload except those
 * that only delivered a duplicate of a report stored from another
 * payload (payloads that failed are included); otherwise the payloads a
 * report was stored from, whose date_begin (for a failure report: its
 * arrival_date, or first_seen) >= since (when since != -1) and whose
 * report_id is one of report_ids (when nreport_ids > 0; failure reports
 * have none).  The caller frees *ids.
 */
struct sink_raw_filter {
	int		 all;
	time_t		 since;			/* -1: no date filter */
	const char *const *report_ids;
	size_t		 nreport_ids;		/* 0: no id filter */
};
int	sink_raw_list(struct sink *, const struct sink_raw_filter *,
	    int64_t **ids, size_t *n, char **);

/*
 * Read a stored payload back, decompressed chunk by chunk (one chunk in
 * memory at a time).  sink_raw_read has the report_read_fn signature: pass
 * it with the struct sink_raw * to report_parse_xml.  It refuses more
 * bytes than report_file.payload_bytes says the payload had, but for a
 * failure report: its copy holds the parts around the payload too
 * (agent/pipeline.h, pipeline_arf_raw), and the caller caps what it
 * reads.  To read again (a parse retry), close and open again.  The
 * stream uses the sink's connection: use it between sink_reparse_begin
 * and sink_reparse_commit, or outside any transaction.  sink_raw_kind
 * gives report_file.kind ("xml", "json", "arf"; static until close);
 * sink_raw_sha256 its payload_sha256 (0, or -1 when not known).
 */
struct sink_raw;
struct sink_raw *sink_raw_open(struct sink *, int64_t file_pk, char **);
ssize_t	sink_raw_read(void *, char *, size_t, char **);
const char *sink_raw_kind(const struct sink_raw *);
int	sink_raw_sha256(const struct sink_raw *, unsigned char out[32]);
void	sink_raw_close(struct sink_raw *);

/*
 * Replace what was derived from one payload, in one transaction:
 * sink_reparse_begin (BEGIN, lock the report_file row), then the parser's
 * callbacks sink_report_head, sink_report_records, sink_report_end as for
 * a message, then sink_reparse_commit (or sink_reparse_rollback, for
 * instance before a parse retry in another mode).  sink_report_head then
 * works in place: when a report was stored from this payload, its records,
 * errors and extensions are deleted and its row is updated, keeping
 * report.id, the stored natural key (reporter_key, report_id,
 * policy_domain, date_begin, whatever the new parse says), first_seen,
 * last_seen and seen_count; it returns SINK_OK and the records follow.
 * When the payload only delivered a duplicate it returns SINK_DUP (nothing
 * to do).  When no report came from it (a payload that failed) the report
 * is stored as new (SINK_OK), or linked as an uncounted delivery when
 * another payload already stored it (SINK_DUP).  Running it twice gives
 * the same rows.  sink_tlsrpt_store and sink_failure_store work the same
 * way for TLS and failure reports: the report keeps its id, its natural
 * key ((organization_name, report_id); feedback_raw and its SHA-256),
 * file_pk, message_pk, first_seen, last_seen and seen_count; a TLS
 * report's policies and failure details are replaced.
 * sink_reparse_commit writes report_file.error (NULL: the payload parsed)
 * and commits; on failure everything is rolled back.
 */
int	sink_reparse_begin(struct sink *, int64_t file_pk, char **);
int	sink_reparse_commit(struct sink *, const char *error, char **);
void	sink_reparse_rollback(struct sink *);

/* --- Health: poll runs and mailbox locks --- */

/*
 * A poll's ingest_run row: sink_run_begin inserts it (committed at once,
 * outside any message transaction) and gives its id; sink_run_end fills
 * in the counts and the error (NULL: the poll completed).
 */
struct sink_run_stats {
	unsigned	fetched, stored, duplicates, invalid, ignored;
	uint64_t	bytes;
};
int	sink_run_begin(struct sink *, const char *mailbox, int64_t mailbox_pk,
	    int64_t *, char **);
int	sink_run_end(struct sink *, int64_t, const struct sink_run_stats *,
	    const char *error, char **);
/*
 * The mailbox's advisory lock, held by this connection until it is
 * closed.  Keyed by the mailbox's identity (see sink_mailbox_claim), not
 * its name: two mailboxes that share a name are polled at once, one
 * mailbox under two names is not.
 */
enum sink_lock {
	SINK_LOCK_ERROR = -1,	/* *cause set */
	SINK_LOCK_BUSY = 0,	/* another agent holds it */
	SINK_LOCK_TAKEN = 1	/* this connection holds it now */
};
enum sink_lock sink_mailbox_lock(struct sink *, const char *identity,
	    char **);

/* --- Retention: prune --- */

/*
 * What prune deletes, one kind at a time, in batches of its own
 * transaction each (autocommit), so a poll running meanwhile never waits
 * long on a lock.  before is the cutoff (a time):
 *
 * SINK_PRUNE_REPORTS  aggregate reports whose period ended before it,
 *                     with their records (ON DELETE CASCADE) and the
 *                     payload rows that delivered them (report_file, and
 *                     so their raw copies: a reparse cannot bring them
 *                     back); rows: reports, items: records, files:
 *                     payloads.
 * SINK_PRUNE_TLS      the same for SMTP TLS reports (items: policies).
 * SINK_PRUNE_FAILURE  failure reports whose failed message arrived before
 *                     it, or that were stored before it (personal data:
 *                     the earlier of the two counts), with their payload
 *                     rows and raw copies, and the whole mail that
 *                     delivered them where verify kept it (message_raw;
 *                     items: its chunks).
 * SINK_PRUNE_RAW      raw copies (report_raw) of payloads stored before
 *                     it; the payload rows stay (rows: payloads, items:
 *                     chunks).
 * SINK_PRUNE_MAIL_RAW the whole report mails verify keeps (message_raw)
 *                     of messages fetched before it; the ledger rows stay
 *                     (rows: messages, items: chunks).  After it, verify
 *                     cannot check those messages again, as reparse
 *                     cannot re-derive a payload whose raw copy went.
 * SINK_PRUNE_LEDGER   IMAP ledger rows settled before it (a final status
 *                     written then, after-action done) none of whose
 *                     payloads still delivers a stored report; their
 *                     UIDs go to mail_settled, so a search that finds the
 *                     message again finds it settled; their payload rows
 *                     without a report go with them (rows: ledger rows,
 *                     items: UID ranges added, files: payloads).  Files
 *                     from ingest keep their rows: their SHA-256 is what
 *                     tells a file already read.
 * SINK_PRUNE_RUNS     rows of polls (ingest_run) that started before it,
 *                     by `ledger` too, but never a mailbox's last
 *                     successful poll or any poll after it (what
 *                     v_mailbox_health and the mailbox_failing alert
 *                     read); rows: polls.
 */
enum sink_prune {
	SINK_PRUNE_REPORTS = 0,
	SINK_PRUNE_TLS,
	SINK_PRUNE_FAILURE,
	SINK_PRUNE_RAW,
	SINK_PRUNE_MAIL_RAW,
	SINK_PRUNE_LEDGER,
	SINK_PRUNE_RUNS,
	SINK_NPRUNE
};
struct sink_prune_count {
	uint64_t	 rows;
	uint64_t	 items;
	uint64_t	 files;
};
/*
 * One batch: delete at most limit rows (reports, payloads or ledger rows
 * looked at) and add what went to *c.  *cursor (0 at first) is where the
 * next batch starts; *more is 0 when nothing is left to look at.
 */
int	sink_prune_batch(struct sink *, enum sink_prune, time_t before,
	    size_t limit, int64_t *cursor, struct sink_prune_count *,
	    int *more, char **);
/*
 * What sink_prune_batch would delete of one kind, all batches together,
 * once the kinds before it were pruned (a dry run): cutoffs[k] is the
 * cutoff of kind k, 0 for a kind kept forever.
 */
int	sink_prune_count(struct sink *, enum sink_prune,
	    const time_t cutoffs[SINK_NPRUNE], struct sink_prune_count *,
	    char **);

/* --- Enrichment: ip_info and source_map --- */

/*
 * Source enrichment (table ip_info, migration 004).  Every call is its own
 * transaction (autocommit), never inside a message transaction.  One pass:
 * sink_enrich_discover (new addresses become 'pending' rows; gives the
 * pass's start time), then sink_enrich_due and sink_enrich_store in turn
 * until sink_enrich_due gives nothing.  Two agents enriching at once only
 * look some addresses up twice.
 */

/*
 * Insert a 'pending' ip_info row for each address of the records written
 * since the last discovery (see enrich_state), and move the watermarks.
 * *added: rows inserted; *pass_start: the database's clock now, in
 * microseconds since the epoch (give it to sink_enrich_due).
 */
int	sink_enrich_discover(struct sink *, size_t *added, int64_t *pass_start,
	    char **);

/*
 * Up to limit addresses (text, for example "192.0.2.1" or "2001:db8::1")
 * that need a lookup and were not looked up since pass_start: pending
 * ones, definitive answers older than ttl seconds, and failures whose
 * backoff elapsed (retry seconds, doubled per failed attempt, at most
 * ttl).  Oldest first.  The caller frees *ips with sink_enrich_free.
 */
int	sink_enrich_due(struct sink *, int64_t pass_start, long ttl,
	    long retry, size_t limit, char ***ips, size_t *n, char **);
void	sink_enrich_free(char **, size_t);

/* What one lookup found (strings borrowed for the call; NULL: none). */
struct sink_ip_info {
	const char	*ip;
	const char	*status;	/* ok nxdomain no_ptr timeout servfail
					   refused error */
	const char	*ptr;
	int		 ptr_confirmed;	/* 1 yes, 0 no, -1 unknown (NULL) */
	const char	*base_domain;
	int		 have_geo;	/* a MaxMind database was consulted:
					   asn, as_org, country replace the
					   stored ones (NULL included) */
	int64_t		 asn;		/* 0: none */
	const char	*as_org;
	const char	*country;
	const char	*detail;	/* failure text */
};

/*
 * Store n results in one statement (upsert).  A definitive status
 * replaces ptr, ptr_confirmed and base_domain, sets resolved_at and
 * attempts 0.  A failure adds 1 to attempts and keeps the data of the
 * last definitive answer, except that a PTR name found before the
 * failure (its forward lookup failed) replaces it.  looked_up_at is set
 * either way.
 */
int	sink_enrich_store(struct sink *, const struct sink_ip_info *, size_t,
	    char **);

/* --- SMTP TLS reports and failure reports --- */

/*
 * Within the message transaction, while a payload is open
 * (sink_file_begin with kind "json" or "arf" .. sink_file_end), like
 * sink_report_head for an aggregate report.  sink_tlsrpt_store stores a
 * TLS report with its policies and failure details (tables tlsrpt_*),
 * deduplicated on (organization_name, report_id); sink_failure_store
 * stores a failure report (failure_report), deduplicated on the SHA-256
 * of its feedback part.  Both return SINK_OK when the report is new,
 * SINK_DUP when it is a duplicate (the payload is linked to it, and
 * seen_count is bumped when the message differs from the ones that
 * delivered it before), SINK_FAILED with *cause on error
 * (sink_last_error: SINK_ERR_DATA means roll back to the payload savepoint
 * and record the payload as failed).  The report is only read.  In a
 * reparse (sink_reparse_begin) they replace what the payload stored, as
 * described there.
 */
enum sink_result sink_tlsrpt_store(struct sink *,
	    const struct tlsrpt_report *, char **);
enum sink_result sink_failure_store(struct sink *,
	    const struct failure_report *, char **);

#endif
