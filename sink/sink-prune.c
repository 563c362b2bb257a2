/*
 * sink-prune.c: retention, what `dmarc-agent prune` deletes (see enum
 * sink_prune in sink.h and the statements in sink.c).
 *
 * Every batch is one statement in its own transaction, so the locks it
 * takes (the rows it deletes, and their children by cascade) are held
 * for one batch only: a poll that meanwhile stores a report never waits
 * on more than that.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "common/common.h"
#include "sink/sink.h"
#include "sink/sink_p.h"

enum { PRUNE_NONE, PRUNE_ALL, PRUNE_FAILURE };

/* The statements of each kind: the batch, the count. */
static const struct {
	enum sink_stmt	 batch;
	enum sink_stmt	 count;
	int		 walks;		/* takes a cursor, answers where next */
	int		 counts_after;	/* count: the cutoffs of the kinds
					   before it (PRUNE_ALL), or of the
					   failure reports (PRUNE_FAILURE) */
} prune_stmts[] = {
	[SINK_PRUNE_REPORTS] = { SINK_ST_PRUNE_REPORTS, SINK_ST_COUNT_REPORTS,
	    0 },
	[SINK_PRUNE_TLS] = { SINK_ST_PRUNE_TLS, SINK_ST_COUNT_TLS, 0 },
	[SINK_PRUNE_FAILURE] = { SINK_ST_PRUNE_FAILURE, SINK_ST_COUNT_FAILURE,
	    0 },
	[SINK_PRUNE_RAW] = { SINK_ST_PRUNE_RAW, SINK_ST_COUNT_RAW, 1,
	    PRUNE_ALL },
	[SINK_PRUNE_MAIL_RAW] = { SINK_ST_PRUNE_MAIL_RAW,
	    SINK_ST_COUNT_MAIL_RAW, 1, PRUNE_FAILURE },
	[SINK_PRUNE_LEDGER] = { SINK_ST_PRUNE_LEDGER, SINK_ST_COUNT_LEDGER,
	    1, PRUNE_ALL },
	[SINK_PRUNE_RUNS] = { SINK_ST_PRUNE_RUNS, SINK_ST_COUNT_RUNS, 0,
	    PRUNE_NONE },
};

static uint64_t	prune_u64(PGresult *, int);
static void	prune_add(PGresult *, struct sink_prune_count *);

static uint64_t
prune_u64(PGresult *res, int col)
{
	return (strtoull(PQgetvalue(res, 0, col), NULL, 10));
}

/* Add the first three columns (rows, items, files) to c. */
static void
prune_add(PGresult *res, struct sink_prune_count *c)
{
	c->rows += prune_u64(res, 0);
	c->items += prune_u64(res, 1);
	c->files += prune_u64(res, 2);
}

int
sink_prune_batch(struct sink *s, enum sink_prune what, time_t before,
    size_t limit, int64_t *cursor, struct sink_prune_count *c, int *more,
    char **cause)
{
	struct sink_params	 p;
	PGresult		*res;
	uint64_t		 rows;
	int			 rc;

	if (s->in_msg || s->in_batch)
		fatalx("%s: inside a message transaction or a batch", __func__);
	if ((size_t)what >= sizeof prune_stmts / sizeof prune_stmts[0])
		fatalx("%s: no such kind %d", __func__, (int)what);
	sink_params_init(&p);
	sink_param_int(&p, (long long)before);
	sink_param_int(&p, (long long)limit);
	if (prune_stmts[what].walks)
		sink_param_int(&p, (long long)*cursor);
	rc = sink_exec(s, prune_stmts[what].batch, &p, &res, cause);
	sink_params_free(&p);
	if (rc != 0)
		return (-1);
	prune_add(res, c);
	rows = prune_u64(res, 0);
	if (prune_stmts[what].walks) {
		*cursor = (int64_t)prune_u64(res, 3);
		*more = *PQgetvalue(res, 0, 4) == 't';
	} else
		*more = rows >= limit;
	PQclear(res);
	return (0);
}

int
sink_prune_count(struct sink *s, enum sink_prune what,
    const time_t cutoffs[SINK_NPRUNE], struct sink_prune_count *c,
    char **cause)
{
	struct sink_params	 p;
	PGresult		*res;
	int			 rc, k;

	if ((size_t)what >= sizeof prune_stmts / sizeof prune_stmts[0])
		fatalx("%s: no such kind %d", __func__, (int)what);
	sink_params_init(&p);
	sink_param_int(&p, (long long)cutoffs[what]);
	/* What goes before a payload's raw copy or its ledger row. */
	for (k = SINK_PRUNE_REPORTS; k <= SINK_PRUNE_FAILURE; k++) {
		if (prune_stmts[what].counts_after == PRUNE_NONE ||
		    (prune_stmts[what].counts_after == PRUNE_FAILURE &&
		    k != SINK_PRUNE_FAILURE))
			continue;
		if (cutoffs[k] != 0)
			sink_param_int(&p, (long long)cutoffs[k]);
		else
			sink_param_str(&p, NULL);
	}
	rc = sink_exec(s, prune_stmts[what].count, &p, &res, cause);
	sink_params_free(&p);
	if (rc != 0)
		return (-1);
	prune_add(res, c);
	PQclear(res);
	return (0);
}
