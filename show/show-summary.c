/*
 * show-summary.c: the summary mail's schedule, dmarc.summary_sent.
 *
 * One row per period (every, period_start).  Claiming a summary inserts
 * its row when missing and locks it (FOR UPDATE SKIP LOCKED) when it is
 * due: not sent yet, its next attempt come, no other agent on it.  The
 * transaction stays open while the caller renders and sends it, and
 * show_summary_done records the outcome: sent, or tried again after a
 * backoff that doubles up to an hour.  So a restart neither skips a
 * period (its row says it was not sent) nor repeats one (it says it was).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "common/common.h"
#include "show/show.h"
#include "show/show_p.h"

/* $1 every, $2 period start, $3 first day, $4 last day, $5 recipients. */
static const char sql_summary_row[] =
    "INSERT INTO dmarc.summary_sent (every, period_start, first_day,"
    " last_day, recipients) VALUES ($1, $2::date, $3::date, $4::date,"
    " $5::text[]) ON CONFLICT DO NOTHING";

static const char sql_summary_claim[] =
    "SELECT 1 FROM dmarc.summary_sent WHERE every = $1"
    " AND period_start = $2::date AND sent_at IS NULL"
    " AND next_attempt <= now() FOR UPDATE SKIP LOCKED";

static const char sql_summary_sent[] =
    "UPDATE dmarc.summary_sent SET sent_at = now(), last_error = NULL"
    " WHERE every = $1 AND period_start = $2::date";

/* $3 why, $4 the first retry in seconds. */
static const char sql_summary_failed[] =
    "UPDATE dmarc.summary_sent SET attempts = attempts + 1,"
    " last_error = $3, next_attempt = now() + make_interval(secs =>"
    " least($4::float8 * 2 ^ attempts, 3600))"
    " WHERE every = $1 AND period_start = $2::date";

static const char sql_summary_next[] =
    "SELECT CASE WHEN sent_at IS NOT NULL THEN -1 ELSE greatest(0,"
    " ceil(extract(epoch FROM next_attempt - now())))::bigint END"
    " FROM dmarc.summary_sent WHERE every = $1 AND period_start = $2::date";

static int	summary_exec(struct show *, const char *, int,
		    const char *const *, PGresult **, char **);

/* One statement; *res (when not NULL) is the caller's. */
static int
summary_exec(struct show *s, const char *sql, int n, const char *const *p,
    PGresult **resp, char **cause)
{
	PGresult	*res;
	char		*m;

	res = PQexecParams(s->conn, sql, n, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK) {
		m = show_pq_cause(s->conn, res);
		xasprintf(cause, "summary: %s", m);
		free(m);
		PQclear(res);
		return (-1);
	}
	if (resp != NULL)
		*resp = res;
	else
		PQclear(res);
	return (0);
}

int
show_summary_claim(struct show *s, const char *every, const char *period,
    const char *first, const char *last, const char *const *to, size_t nto,
    int *due, char **cause)
{
	PGresult	*res;
	struct buf	 b;
	const char	*p[5];
	char		*tos;
	size_t		 i;
	int		 rc;

	*due = 0;
	if (!s->has_senders) {
		xasprintf(cause, "the database schema has no summaries yet:"
		    " run dmarc-agent migrate");
		return (-1);
	}
	/* A text[] literal: addresses hold no quote or backslash. */
	buf_init(&b, SIZE_MAX - 1);	/* bounded by the configuration */
	buf_add(&b, "{", 1);
	for (i = 0; i < nto; i++) {
		buf_add(&b, i > 0 ? ",\"" : "\"", i > 0 ? 2 : 1);
		buf_add(&b, to[i], strlen(to[i]));
		buf_add(&b, "\"", 1);
	}
	buf_add(&b, "}", 1);
	tos = buf_steal(&b, NULL);
	p[0] = every;
	p[1] = period;
	p[2] = first;
	p[3] = last;
	p[4] = tos;
	rc = show_exec(s, "BEGIN", NULL, cause);
	if (rc == 0)
		rc = summary_exec(s, sql_summary_row, 5, p, NULL, cause);
	if (rc == 0)
		rc = summary_exec(s, sql_summary_claim, 2, p, &res, cause);
	free(tos);
	if (rc != 0) {
		PQclear(PQexec(s->conn, "ROLLBACK"));
		return (-1);
	}
	*due = PQntuples(res) == 1;
	PQclear(res);
	/* Not due: keep the new row, if any, and end. */
	if (!*due)
		return (show_exec(s, "COMMIT", NULL, cause));
	return (0);
}

int
show_summary_done(struct show *s, const char *every, const char *period,
    const char *error, int retry, char **cause)
{
	const char	*p[4];
	char		 sec[16];
	int		 rc;

	p[0] = every;
	p[1] = period;
	if (error == NULL)
		rc = summary_exec(s, sql_summary_sent, 2, p, NULL, cause);
	else {
		snprintf(sec, sizeof sec, "%d", retry);
		p[2] = error;
		p[3] = sec;
		rc = summary_exec(s, sql_summary_failed, 4, p, NULL, cause);
	}
	if (rc == 0)
		rc = show_exec(s, "COMMIT", NULL, cause);
	else
		PQclear(PQexec(s->conn, "ROLLBACK"));
	return (rc);
}

int
show_summary_next(struct show *s, const char *every, const char *period,
    long *secs, char **cause)
{
	PGresult	*res;
	const char	*p[2] = { every, period };

	*secs = 0;	/* no row yet: due now */
	if (summary_exec(s, sql_summary_next, 2, p, &res, cause) != 0)
		return (-1);
	if (PQntuples(res) == 1)
		*secs = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return (0);
}
