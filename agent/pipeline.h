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

/* Returned by pipeline_message; mirrors the final ledger status. */
enum pipeline_outcome {
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
 * Process one message held in buf.  info carries the ledger key and the
 * message SHA-256 (the pipeline fills the header facts).  Returns the
 * outcome, with *detail (malloc'd, may be NULL) saying why for anything but
 * a clean store, or -1 with *cause when the database failed (nothing of the
 * message was committed; retry later).  Counts are added to counts.
 */
struct conf;
int	pipeline_message(struct sink *, const struct conf *,
	    struct sink_msg_info *, const char *buf, size_t len,
	    struct pipeline_counts *, char **detail, char **cause);

/* Record a message that was not fetched because it is over the size cap. */
int	pipeline_too_large(struct sink *, struct sink_msg_info *,
	    uint64_t size, uint64_t cap, struct pipeline_counts *, char **);

/* "N fetched, N stored, N duplicate, N invalid[, N ignored]" into buf. */
void	pipeline_counts_format(const struct pipeline_counts *, char *, size_t);

#endif
