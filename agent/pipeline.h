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
	unsigned	unsure;		/* processed, but the database failed
					   during their commit: maybe stored,
					   counted in none of the above */
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
 * Log what became of a message (the uid, or path for a file): problems
 * (invalid, too large) are warnings, the rest info, shown with -v; detail
 * (untrusted text) is escaped.  Mail that holds no report is info too: a
 * folder of 50,000 of them must not write 50,000 warnings; the caller sums
 * them up once with pipeline_log_ignored.
 */
void	pipeline_log_outcome(const char *where, uint32_t uid, const char *path,
	    enum pipeline_outcome, const char *detail);
/*
 * The raw copy of a failure report.  The payload alone (the feedback
 * part, or a plain report's text) lacks what report_parse_arf reads
 * beside it (struct arf_input): the report-type, the returned message
 * and whether it is only its headers, the text part, whether the report
 * is plain.  So the copy of a payload of kind arf starts with them, each
 * value "NAME: LENGTH\n", its bytes and "\n":
 *
 *   DMARC-AGENT-ARF 1\n
 *   [report-type: N\n...\n] [plain\n] [headers-only\n]
 *   [text: N\n...\n] [original: N\n...\n]
 *   report:\n  then the payload, to the end
 *
 * Copies stored before schema version 10 hold the payload alone:
 * report_file.payload_sha256 is then the digest of the whole copy.
 * pipeline_arf_raw_read reads raw (len bytes, modified: each value gets
 * a NUL) into in (its pointers into raw) and the payload's place: 0, or
 * -1 when raw is not in this form.
 */
struct arf_input;
int	pipeline_arf_raw_read(char *raw, size_t len, struct arf_input *in,
	    const char **payload, size_t *plen);

/* One warning for n messages ignored (no report in them); none for 0. */
void	pipeline_log_ignored(const char *where, unsigned n);

/* Room for pipeline_counts_format's line, whatever the counts. */
#define PIPELINE_LINE	256
/*
 * "N fetched, N stored, N duplicate, N invalid[, N ignored]" into buf,
 * and when some are unsure " (uncertain: the database failed during a
 * commit; N more may have been stored)".
 */
void	pipeline_counts_format(const struct pipeline_counts *, char *, size_t);

#endif
