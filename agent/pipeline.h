/*
 * pipeline.h: one message (or file) through mime/ -> report/ -> sink/.
 *
 * The message's rows and its final ledger status are written in one
 * transaction; a payload that fails is rolled back to its savepoint and
 * recorded as a report_file row with its error, without spoiling the
 * message's other payloads.
 */
#ifndef PIPELINE_H
#define PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "sink/sink.h"

struct sink;
struct sink_msg_info;
struct conf_limits;

struct pipeline_counts {
	unsigned	fetched;	/* messages examined */
	unsigned	stored;
	unsigned	duplicate;
	unsigned	ignored;
	unsigned	invalid;	/* invalid and too_large */
	uint64_t	bytes;		/* of the messages fetched */
};

/*
 * What became of a message; but for PIPE_FAILED it mirrors the final
 * ledger status.
 */
enum pipeline_outcome {
	PIPE_FAILED = -1,	/* the database failed: nothing of the message
				   was committed; retry later */
	PIPE_STORED = 1,
	PIPE_DUPLICATE,
	PIPE_IGNORED,
	PIPE_INVALID,
	PIPE_TOO_LARGE,
	PIPE_ALREADY		/* content already in the ledger (files) */
};

struct report_limits;

void	pipeline_init(void);
/* The report parser's limits from the configuration. */
void	pipeline_report_limits(const struct conf_limits *,
	    struct report_limits *);
void	pipeline_shutdown(void);
/*
 * Verify report mail as the configuration says (the verification group):
 * (re)creates the process's verifier; call it after pipeline_init and
 * after a reload, when no message is in hand.  A verifier that cannot
 * start is logged, and mail is then stored without a verdict.
 */
struct conf;
void	pipeline_verify_setup(const struct conf *);
/* The verifier, or NULL (verification off or failed to start). */
struct verify;
struct verify	*pipeline_verifier(void);
/*
 * verify/'s result in the sink's terms: strings borrowed from the result;
 * the signature array is allocated (pipeline_auth_info_free).
 */
struct verify_result;
struct sink_auth_info;
void	pipeline_auth_info(const struct verify_result *,
	    struct sink_auth_info *);
void	pipeline_auth_info_free(struct sink_auth_info *);

/*
 * Process one message held in buf.  info carries the ledger key and the
 * message SHA-256 (the pipeline fills the header facts).  Returns the
 * outcome with *cause (malloc'd, may be NULL): for PIPE_FAILED why the
 * database failed, for the others why the message is not a clean store.
 * Counts are added to counts.
 */
struct conf;
enum pipeline_outcome pipeline_message(struct sink *, const struct conf *,
	    struct sink_msg_info *, const char *buf, size_t len,
	    struct pipeline_counts *, char **cause);

/*
 * Record a message that was not fetched because it is over the size cap
 * (PIPE_TOO_LARGE, or PIPE_ALREADY, or PIPE_FAILED with *cause).
 */
enum pipeline_outcome pipeline_too_large(struct sink *,
	    struct sink_msg_info *, uint64_t size, uint64_t cap,
	    struct pipeline_counts *, char **);

/* The ledger status for an outcome. */
enum sink_status pipeline_status(enum pipeline_outcome);

/*
 * Log what became of a message (the uid, or path for a file): problems are
 * warnings, the rest info; detail (untrusted text) is escaped.
 */
void	pipeline_log_outcome(const char *where, uint32_t uid, const char *path,
	    enum pipeline_outcome, const char *detail);

/* "N fetched, N stored, N duplicate, N invalid[, N ignored]" into buf. */
void	pipeline_counts_format(const struct pipeline_counts *, char *, size_t);

#endif
