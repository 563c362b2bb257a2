/*
 * ingest.h: the database writers of `dmarc-agent ingest`.
 *
 * The command's thread reads files (and the messages of mbox files and
 * Maildir folders) and hands each over with ingest_put; workers, threads
 * each with a PostgreSQL connection and a batch of its own, run them
 * through the pipeline, many messages a transaction (group commit, as a
 * poll's workers do).  A message's outcome is counted and logged once its
 * batch committed; a batch that lost a deadlock to another worker (two
 * copies of one report, or of one file) is run again from the messages it
 * kept.  Any other database failure stops every worker: ingest_put and
 * ingest_finish then return -1, and nothing of the uncommitted batches is
 * kept (their files are read again by the next ingest).
 */
#ifndef INGEST_H
#define INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "agent/pipeline.h"

struct conf;
struct ingest;

/*
 * Start n workers (at least one), each connecting to the database (the
 * schema must be current).  NULL (logged) when none could connect.
 */
struct ingest	*ingest_start(const struct conf *, size_t n);

/*
 * Hand one message over: label names it in the logs and the ledger (its
 * path, or path:N for the Nth message of an mbox file); data holds its
 * len bytes, or is NULL when the message is larger than the size cap
 * (size is its size then); sha256 is the digest of the whole message, its
 * ledger key.  The ingest takes label and data over (malloc'd; it frees
 * them).  Waits while the queue holds its share of memory.  -1 with
 * *cause when the workers stopped.
 */
int	ingest_put(struct ingest *, char *label, char *data, size_t len,
	    uint64_t size, const unsigned char sha256[32], char **);

/*
 * No more messages: let the workers commit and stop, and add what became
 * of the messages to counts.  -1 with *cause when the database failed.
 */
int	ingest_finish(struct ingest *, struct pipeline_counts *, char **);

/* Disconnect and free (after ingest_finish). */
void	ingest_free(struct ingest *);

#endif
