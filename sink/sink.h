/*
 * sink.h: the PostgreSQL store (schema "dmarc").
 *
 * One struct sink holds one libpq connection.  The ledger (mail_message)
 * records every examined message, keyed by (mailbox, uidvalidity, uid);
 * a message's rows and its final status are written in one transaction
 * (sink_msg_begin ... sink_msg_commit), so a crash loses nothing and counts
 * nothing twice.  Reports are deduplicated on their natural key
 * (reporter_key, report_id, policy_domain, date_begin).
 *
 * Errors: 0 or -1 with *cause (malloc'd, one line: what failed and the
 * server's message).  sink_is_broken tells whether the connection is gone
 * (retry later) rather than a data error.  Calling a function out of order
 * (records without a new report, a second sink_msg_begin ...) is a bug and
 * calls fatalx.  The schema and what each column means: the COMMENT ON of
 * the files in sink/migrations (psql: \d+ dmarc.record).
 */
#ifndef SINK_H
#define SINK_H

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
int	sink_is_broken(struct sink *);

/*
 * Schema version.  sink_schema_check returns 0 when the schema is current,
 * 1 when it is missing or old (run migrate), -1 with *cause on error or
 * when the database is newer than this program.  sink_migrate creates or
 * upgrades it (one transaction per step, under an advisory lock).
 */
int	sink_schema_check(struct sink *, char **);
int	sink_migrate(struct sink *, char **);
int	sink_schema_version(void);		/* what this program wants */

/* Ledger states, as in mail_message.status. */
enum sink_status {
	SINK_NONE = 0,		/* not in the ledger */
	SINK_CLAIMED,
	SINK_STORED,
	SINK_DUPLICATE,
	SINK_IGNORED,
	SINK_INVALID,
	SINK_TOO_LARGE
};
const char *sink_status_name(enum sink_status);

struct sink_ledger_entry {
	uint32_t	 uid;
	enum sink_status status;
	int		 after_done;	/* after_action = 'done' */
};

/*
 * Every ledger row of (mailbox, uidvalidity), ascending by uid.  The caller
 * frees *out.
 */
int	sink_ledger_list(struct sink *, const char *mailbox, uint32_t uidvalidity,
	    struct sink_ledger_entry **out, size_t *n, char **);

/* Insert 'claimed' rows for these uids (existing rows untouched); commits. */
int	sink_claim(struct sink *, const char *mailbox, uint32_t uidvalidity,
	    const uint32_t *uids, size_t n, char **);

/* Mark after_action done for these uids; commits. */
int	sink_after_done(struct sink *, const char *mailbox, uint32_t uidvalidity,
	    const uint32_t *uids, size_t n, char **);

/* What the ledger keeps about a message. */
struct sink_msg_info {
	const char	*mailbox;
	uint32_t	 uidvalidity;	/* 0 for files */
	uint32_t	 uid;		/* 0 for files (then sha256 is the key) */
	const char	*path;		/* files: the path, for information */
	const char	*message_id;
	const char	*from;
	const char	*subject;
	time_t		 date;		/* -1 unknown */
	const char	*auth_results;
	uint64_t	 size;
	const unsigned char *sha256;	/* 32 bytes */
};

/*
 * Start the transaction for one message (BEGIN; lock its ledger row,
 * creating it if needed; write the message facts).  For files
 * (uidvalidity 0, uid 0) the ledger key is the content SHA-256 (sha256 must
 * be set) and the row's mailbox is always "file", whatever info->mailbox
 * says: *prior is set to the final status already recorded for this
 * content (SINK_NONE if none), and the caller should sink_msg_rollback and
 * count it as already seen.  For IMAP messages *prior is the row's current
 * status as well (SINK_NONE when the row was created now).  On error the
 * transaction is already rolled back.
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
};

/*
 * Within the message transaction: open a payload (report_file row), then
 * store its report.  sink_report_head returns 0 when the report is new (its
 * records follow), 1 when it is a duplicate (seen_count is bumped when the
 * message differs from the ones that delivered it before; skip the
 * records), -1 on error.  Records go in batches of any size, one statement
 * each; their ord must be unique within the report.  sink_report_end takes
 * the end header: its warnings, errors and extensions replace the head's
 * (they may have grown), record_count and message_total are counted from
 * the stored records.  sink_file_end stores the payload's size and SHA-256
 * (may be NULL) and an optional error text (a payload that failed to
 * parse); it closes the payload.
 */
int	sink_file_begin(struct sink *, const struct sink_file_info *, char **);
int	sink_report_head(struct sink *, const struct report_head *, char **);
int	sink_report_records(struct sink *, const struct report_record *,
	    size_t, char **);
int	sink_report_end(struct sink *, const struct report_head *, char **);
int	sink_file_end(struct sink *, uint64_t payload_bytes,
	    const unsigned char sha256[32], const char *error, char **);

/* Savepoints around one payload, so a bad payload does not spoil the
   message's other payloads. */
int	sink_payload_savepoint(struct sink *, char **);
int	sink_payload_rollback(struct sink *, char **);

/*
 * Write the final status (and detail text, may be NULL) and COMMIT.  On
 * failure nothing of the message is kept (the transaction is rolled back).
 */
int	sink_msg_commit(struct sink *, enum sink_status, const char *detail,
	    char **);
/* ROLLBACK the message transaction (nothing of it is kept). */
void	sink_msg_rollback(struct sink *);

#endif
