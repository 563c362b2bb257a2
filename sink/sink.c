/*
 * sink.c: the PostgreSQL connection, the statement helpers and the ledger.
 *
 * The ledger (dmarc.mail_message) is what makes processing exactly-once:
 * sink_msg_begin opens a transaction and locks the message's row, everything
 * the message produces is written inside that transaction, and
 * sink_msg_commit writes the final status and commits.  A crash or a lost
 * connection before the COMMIT leaves the row as it was ('claimed' or
 * absent), so the message is processed again and nothing is counted twice.
 *
 * An IMAP message's row is keyed by its mailbox's row (table mailbox,
 * sink_mailbox_claim in sink-health.c: the mailbox's identity, not its
 * name), UIDVALIDITY and UID.  Files given to the ingest command have no
 * IMAP identity: their ledger row has mailbox 'file', no mailbox row,
 * uidvalidity 0, uid NULL and is found by the content SHA-256 (a partial
 * unique index).
 *
 * Every statement is sent with parameters (PQexecParams, or a statement
 * prepared once per connection and run with PQexecPrepared); nothing read
 * from a message or a report is ever pasted into SQL text.  All of them,
 * with their texts, are in one table at the end of this file (sink_stmts).
 * The search path is emptied at connect time, so every name is
 * schema-qualified.  Failures are classified by SQLSTATE (sink_classify,
 * enum sink_error).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "common/common.h"
#include "sink/sink.h"
#include "sink/sink_p.h"

static const char *sink_status_names[] = {
	"none", "claimed", "stored", "duplicate", "ignored", "invalid",
	"too_large", "pruned"
};
#define SINK_NSTATUS (sizeof sink_status_names / sizeof sink_status_names[0])

/* uids a ledger query takes at a time. */
#define SINK_LEDGER_CHUNK	10000

static char	*sink_clean_message(const char *);
static char	*sink_utf8(const char *);
static int	 sink_status_parse(const char *, enum sink_status *);
static int	 sink_uids_param(struct sink_params *, const uint32_t *,
		    size_t, char **);
static int	 sink_ledger_rows(struct sink *, PGresult *,
		    struct sink_ledger_entry **, size_t *, size_t *, char **);
static int	 ledger_uid_cmp(const void *, const void *);
static int	 sink_ledger_query(struct sink *, int64_t, uint32_t,
		    const uint32_t *, size_t, struct sink_ledger_entry **,
		    size_t *, size_t *, char **);
static int	 sink_ledger_send(struct sink *, const struct sink_msg_info *,
		    PGresult **, char **);
static int	 sink_ledger_read(struct sink *, PGresult *,
		    enum sink_status *, char **);
static int	 sink_pool_send(struct sink *, PGresult **, char **);
static void	 sink_pool_add(struct sink *, PGresult *);
static void	 sink_msg_clear(struct sink *);
static int	 sink_batch_failed(struct sink *, char **);
static int	 sink_pipe_enter(struct sink *, char **);
static int	 sink_pipe_leave(struct sink *, char **);
static void	 sink_pipe_reset(struct sink *);
static int	 sink_pend_stmts(struct sink *);
static struct sink_pending *sink_pend_add(struct sink *, const char *,
		    ExecStatusType);
static int	 sink_read_one(struct sink *, int *, char **);
static void	 sink_fail_note(struct sink *, int, int, PGresult *);
static int	 sink_commit_fate(struct sink *, int, PGresult *);
static int	 sink_check_result(struct sink *, const struct sink_pending *,
		    PGresult *, char **);
static enum sink_error sink_classify(struct sink *, PGresult *);
static const struct sink_stmt_def *sink_stmt_get(enum sink_stmt,
		    const struct sink_params *);
static void	 sink_stmt_name(enum sink_stmt, char *, size_t);
static int	 sink_prepare(struct sink *, enum sink_stmt, char **);
static PGresult	*sink_send_sync(struct sink *, enum sink_stmt,
		    const struct sink_params *);
static void	 sink_notice(void *, const char *);

/* Connect with a libpq conninfo string or URI. */
struct sink *
sink_open(const char *conninfo, char **cause)
{
	const char	*keys[] = { "dbname", "fallback_application_name",
			    "client_encoding", NULL };
	const char	*vals[] = { conninfo, "dmarc-agent", "UTF8", NULL };
	struct sink	*s;
	PGconn		*conn;
	PGresult	*res;

	conn = PQconnectdbParams(keys, vals, 1);
	if (conn == NULL)
		fatalx("%s: out of memory", __func__);
	if (PQstatus(conn) != CONNECTION_OK) {
		*cause = sink_clean_message(PQerrorMessage(conn));
		PQfinish(conn);
		return (NULL);
	}
	s = xcalloc(1, sizeof *s);
	s->conn = conn;
	s->store_raw = 1;
	s->last_records = -1;
	PQsetNoticeProcessor(conn, sink_notice, NULL);

	/* Pin the search path, as PostgreSQL's own client tools do. */
	if (sink_exec(s, SINK_ST_SEARCH_PATH, NULL, &res, cause) != 0) {
		sink_close(s);
		return (NULL);
	}
	PQclear(res);
	return (s);
}

/* Server notices (CREATE ... IF NOT EXISTS skipping ...) are debug output. */
static void
sink_notice(void *arg, const char *msg)
{
	char	*clean, *esc;

	(void)arg;
	clean = sink_clean_message(msg);
	esc = log_escape(clean, strlen(clean), 512);
	log_debug("postgresql: %s", esc);
	free(esc);
	free(clean);
}

/* Disconnect (an open message transaction is rolled back by the server). */
int
sink_server_version(struct sink *s)
{
	return (PQserverVersion(s->conn));
}

void
sink_close(struct sink *s)
{
	if (s == NULL)
		return;
	sink_rawout_discard(s);
	sink_defer_free(s);
	sink_set_free(s);
	PQfinish(s->conn);
	free(s->batch_cause);
	free(s);
}

/* Tell whether the connection is gone (as opposed to a data error). */
int
sink_is_broken(struct sink *s)
{
	return (PQstatus(s->conn) == CONNECTION_BAD);
}

/* The class of the last failure (enum sink_error in sink.h). */
enum sink_error
sink_last_error(struct sink *s)
{
	return (s->err);
}

/* A failure the sink found itself: the values are at fault. */
void
sink_fail_data(struct sink *s)
{
	s->err = SINK_ERR_DATA;
}

/*
 * Transient unless the server blamed the values (classes 21, 22, 23, 54)
 * and the connection is still good.
 */
static enum sink_error
sink_classify(struct sink *s, PGresult *res)
{
	const char	*st;

	if (PQstatus(s->conn) == CONNECTION_BAD || res == NULL)
		return (SINK_ERR_TRANSIENT);
	st = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (st == NULL || strlen(st) != 5)
		return (SINK_ERR_TRANSIENT);
	if (strncmp(st, "21", 2) == 0 || strncmp(st, "22", 2) == 0 ||
	    strncmp(st, "23", 2) == 0 || strncmp(st, "54", 2) == 0)
		return (SINK_ERR_DATA);
	return (SINK_ERR_TRANSIENT);
}

/* The ledger's word for a status. */
const char *
sink_status_name(enum sink_status st)
{
	if ((size_t)st >= SINK_NSTATUS)
		return ("unknown");
	return (sink_status_names[st]);
}

static int
sink_status_parse(const char *name, enum sink_status *st)
{
	size_t	i;

	for (i = 1; i < SINK_NSTATUS; i++) {
		if (strcmp(name, sink_status_names[i]) == 0) {
			*st = (enum sink_status)i;
			return (0);
		}
	}
	return (-1);
}

/*
 * A libpq message on one line: newlines and tabs become spaces, runs of
 * spaces one space, no leading or trailing space.
 */
static char *
sink_clean_message(const char *msg)
{
	char	*out, *p;
	int	 space = 0;

	if (msg == NULL || *msg == '\0')
		return (xstrdup("unknown error"));
	out = p = xmalloc(strlen(msg) + 1);
	for (; *msg != '\0'; msg++) {
		if (*msg == '\n' || *msg == '\t' || *msg == '\r' ||
		    *msg == ' ') {
			space = (p != out);
			continue;
		}
		if (space)
			*p++ = ' ';
		space = 0;
		*p++ = *msg;
	}
	*p = '\0';
	if (*out == '\0') {
		free(out);
		return (xstrdup("unknown error"));
	}
	return (out);
}

/*
 * A copy of s that the database takes as text: every byte that does not
 * start a valid UTF-8 sequence becomes '?'.  For the texts dmarc-agent
 * writes itself (a message's status detail quotes parser errors, which
 * may quote the report), so that they can never fail a statement.
 */
static char *
sink_utf8(const char *s)
{
	const unsigned char	*p;
	char			*out, *o;
	size_t			 n;
	uint32_t		 cp;

	if (s == NULL)
		return (NULL);
	out = o = xmalloc(strlen(s) + 1);
	for (p = (const unsigned char *)s; *p != '\0'; ) {
		if ((n = utf8_decode(p, 4, &cp)) == 0) {
			*o++ = '?';
			p++;
			continue;
		}
		memcpy(o, p, n);
		o += n;
		p += n;
	}
	*o = '\0';
	return (out);
}

/*
 * Build *cause from a failed result: the server's primary message and
 * detail when there are any, else libpq's message.
 */
void
sink_error(struct sink *s, PGresult *res, const char *what, char **cause)
{
	const char	*primary = NULL, *detail = NULL;
	char		*msg, *det = NULL;

	if (res != NULL) {
		primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	}
	if (primary != NULL)
		msg = sink_clean_message(primary);
	else if (res != NULL && *PQresultErrorMessage(res) != '\0')
		msg = sink_clean_message(PQresultErrorMessage(res));
	else
		msg = sink_clean_message(PQerrorMessage(s->conn));
	if (primary != NULL && detail != NULL)
		det = sink_clean_message(detail);
	s->err = sink_classify(s, res);
	xasprintf(cause, "%s: %s%s%s%s", what, msg, det ? " (" : "",
	    det ? det : "", det ? ")" : "");
	/* A transient failure inside a batch loses the whole batch. */
	if (s->in_batch && s->err == SINK_ERR_TRANSIENT &&
	    s->batch_cause == NULL)
		s->batch_cause = xstrdup(*cause);
	free(det);
	free(msg);
}

/*
 * Statement st's entry in sink_stmts.  A statement missing from the table
 * or given the wrong number of parameters is a bug.
 */
static const struct sink_stmt_def *
sink_stmt_get(enum sink_stmt st, const struct sink_params *p)
{
	const struct sink_stmt_def	*d;
	int				 n = p != NULL ? p->n : 0;

	if ((unsigned)st >= SINK_NSTMT || sink_stmts[st].sql == NULL)
		fatalx("%s: bad statement %d", __func__, (int)st);
	d = &sink_stmts[st];
	if (n != d->nparams)
		fatalx("%s: %s: %d parameters, not %d", __func__, d->what, n,
		    d->nparams);
	return (d);
}

/* The server's name of a prepared statement. */
static void
sink_stmt_name(enum sink_stmt st, char *name, size_t len)
{
	snprintf(name, len, "dmarc_%d", (int)st);
}

/* Run one statement and wait for its result (contract in sink_p.h). */
int
sink_exec(struct sink *s, enum sink_stmt st, const struct sink_params *p,
    PGresult **out, char **cause)
{
	const struct sink_stmt_def	*d;
	PGresult			*res;

	d = sink_stmt_get(st, p);
	if (sink_pipe_leave(s, cause) != 0)
		return (-1);
	if ((d->flags & SINK_PREP) && sink_prepare(s, st, cause) != 0)
		return (-1);
	res = sink_send_sync(s, st, p);
	if (res == NULL || PQresultStatus(res) != d->want) {
		sink_error(s, res, d->what, cause);
		PQclear(res);
		return (-1);
	}
	if (out != NULL)
		*out = res;
	else
		PQclear(res);
	return (0);
}

/* Send statement st and wait: its text, or its prepared name. */
static PGresult *
sink_send_sync(struct sink *s, enum sink_stmt st, const struct sink_params *p)
{
	const struct sink_stmt_def	*d = &sink_stmts[st];
	const int			*len = NULL, *fmt = NULL;
	int				 resfmt;
	char				 name[32];

	if (p != NULL && p->binary) {
		len = p->len;
		fmt = p->fmt;
	}
	resfmt = (d->flags & SINK_BINARY) ? 1 : 0;
	s->waits++;
	if (!(d->flags & SINK_PREP))
		return (PQexecParams(s->conn, d->sql, p ? p->n : 0, NULL,
		    p ? p->val : NULL, len, fmt, resfmt));
	sink_stmt_name(st, name, sizeof name);
	return (PQexecPrepared(s->conn, name, p ? p->n : 0,
	    p ? p->val : NULL, len, fmt, resfmt));
}

/*
 * Prepare statement st unless done on this connection.  Prepared
 * statements belong to the session: a ROLLBACK does not undo them.
 */
static int
sink_prepare(struct sink *s, enum sink_stmt st, char **cause)
{
	const struct sink_stmt_def	*d = &sink_stmts[st];
	PGresult			*res;
	char				 name[32];

	if (s->prepared[st])
		return (0);
	sink_stmt_name(st, name, sizeof name);
	s->waits++;
	res = PQprepare(s->conn, name, d->sql, 0, NULL);
	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
		sink_error(s, res, d->what, cause);
		PQclear(res);
		return (-1);
	}
	PQclear(res);
	s->prepared[st] = 1;
	return (0);
}

/* Run a command such as BEGIN. */
int
sink_cmd(struct sink *s, enum sink_stmt st, char **cause)
{
	return (sink_exec(s, st, NULL, NULL, cause));
}

/* Run a command and ignore what comes of it (contract in sink_p.h). */
void
sink_cmd_quiet(struct sink *s, enum sink_stmt st)
{
	const struct sink_stmt_def	*d;

	d = sink_stmt_get(st, NULL);
	PQclear(PQexec(s->conn, d->sql));
}

/*
 * Pipeline mode (contract in sink_p.h).  Statements are sent at once and
 * their results read at the next sync point, so that a message costs a
 * round trip only where the caller needs an answer.  Outside pending
 * work the connection leaves pipeline mode, so that the synchronous
 * functions (sink_exec, PQexec) work as before.
 */
static int
sink_pipe_enter(struct sink *s, char **cause)
{
	if (s->pipeline)
		return (0);
	if (PQenterPipelineMode(s->conn) != 1) {
		sink_error(s, NULL, "enter pipeline mode", cause);
		return (-1);
	}
	s->pipeline = 1;
	return (0);
}

/* Read what is pending and leave pipeline mode. */
static int
sink_pipe_leave(struct sink *s, char **cause)
{
	if (!s->pipeline)
		return (0);
	if (sink_sync(s, cause) != 0)
		return (-1);
	if (s->pipeline && PQexitPipelineMode(s->conn) == 1)
		s->pipeline = 0;
	return (0);
}

/* Forget the pending statements (all read, or the connection is gone). */
static void
sink_pipe_reset(struct sink *s)
{
	s->npend = s->nread = 0;
	s->last_records = -1;
}

static struct sink_pending *
sink_pend_add(struct sink *s, const char *what, ExecStatusType want)
{
	struct sink_pending	*e;

	if (s->npend >= SINK_PIPE_MAX)
		fatalx("%s: pipeline full", __func__);
	e = &s->pend[s->npend++];
	memset(e, 0, sizeof *e);
	e->what = what;
	e->want = want;
	e->check = SINK_CHK_NONE;
	e->prep = -1;
	return (e);
}

/* Send a statement without waiting for its result. */
int
sink_send(struct sink *s, enum sink_stmt st, const struct sink_params *p,
    enum sink_check check, long long expect, PGresult **out, char **cause)
{
	const struct sink_stmt_def	*d;
	struct sink_pending		*e;
	const int			*len = NULL, *fmt = NULL;
	char				 name[32];
	int				 ok, resfmt;

	d = sink_stmt_get(st, p);
	if (out != NULL)
		*out = NULL;
	if ((d->flags & SINK_LEDGER_READ) && sink_led_unsent(s) &&
	    sink_led_facts(s, cause) != 0)
		return (-1);
	if (s->npend + 2 > SINK_PIPE_MAX && sink_sync(s, cause) != 0)
		return (-1);
	if (sink_pipe_enter(s, cause) != 0)
		return (-1);
	if (p != NULL && p->binary) {
		len = p->len;
		fmt = p->fmt;
	}
	resfmt = (d->flags & SINK_BINARY) ? 1 : 0;
	if (!(d->flags & SINK_PREP))
		ok = PQsendQueryParams(s->conn, d->sql, p ? p->n : 0, NULL,
		    p ? p->val : NULL, len, fmt, resfmt);
	else {
		sink_stmt_name(st, name, sizeof name);
		if (!s->prepared[st]) {
			ok = PQsendPrepare(s->conn, name, d->sql, 0, NULL);
			if (ok != 1) {
				sink_error(s, NULL, d->what, cause);
				return (-1);
			}
			e = sink_pend_add(s, d->what, PGRES_COMMAND_OK);
			e->prep = (int)st;
			s->prepared[st] = 1;
		}
		ok = PQsendQueryPrepared(s->conn, name, p ? p->n : 0,
		    p ? p->val : NULL, len, fmt, resfmt);
	}
	if (ok != 1) {
		sink_error(s, NULL, d->what, cause);
		return (-1);
	}
	e = sink_pend_add(s, d->what, d->want);
	e->check = check;
	e->expect = expect;
	e->out = out;
	return (0);
}

/* Send a command without waiting. */
int
sink_send_cmd(struct sink *s, enum sink_stmt st, char **cause)
{
	if (sink_send(s, st, NULL, SINK_CHK_NONE, 0, NULL, cause) != 0)
		return (-1);
	s->pend[s->npend - 1].cmd = 1;
	return (0);
}

/* Is a statement other than sink_send_cmd's waiting for its result? */
static int
sink_pend_stmts(struct sink *s)
{
	int	i;

	for (i = s->nread; i < s->npend; i++)
		if (!s->pend[i].cmd)
			return (1);
	return (0);
}

/* Mark the statements pending now: their failure fails the batch. */
void
sink_batch_mark(struct sink *s)
{
	int	i;

	for (i = s->nread; i < s->npend; i++)
		s->pend[i].batch = 1;
}

/* The checks beyond the result status (enum sink_check). */
static int
sink_check_result(struct sink *s, const struct sink_pending *e,
    PGresult *res, char **cause)
{
	switch (e->check) {
	case SINK_CHK_NONE:
		return (0);
	case SINK_CHK_ROW:
		if (PQntuples(res) == 1)
			return (0);
		xasprintf(cause, "%s: %d rows instead of one", e->what,
		    PQntuples(res));
		break;
	case SINK_CHK_COUNT:
		if (PQntuples(res) == 1 && PQnfields(res) >= 1 &&
		    strtoll(PQgetvalue(res, 0, 0), NULL, 10) == e->expect)
			return (0);
		xasprintf(cause, "%s: %s of %lld rows written", e->what,
		    PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "none",
		    e->expect);
		break;
	}
	sink_fail_data(s);
	return (-1);
}

/*
 * Read the result of the next pending statement (one result, then the
 * NULL that ends it).  *failed: a failure was already recorded (the first
 * one is the cause).  -1 when nothing can be read any more (connection).
 */
static int
sink_read_one(struct sink *s, int *failed, char **cause)
{
	struct sink_pending	*e = &s->pend[s->nread];
	PGresult		*res, *more;
	ExecStatusType		 rs;
	char			*c = NULL, *c2;
	int			 bad = 0;

	if ((res = PQgetResult(s->conn)) == NULL) {
		if (!*failed) {
			sink_error(s, NULL, e->what, cause);
			*failed = 1;
			sink_fail_note(s, s->nread, 1, NULL);
		}
		return (-1);
	}
	while ((more = PQgetResult(s->conn)) != NULL)
		PQclear(more);
	s->nread++;
	rs = PQresultStatus(res);
	if (rs != e->want) {
		if (e->prep >= 0)
			s->prepared[e->prep] = 0;
		if (rs != PGRES_PIPELINE_ABORTED) {
			sink_error(s, res, e->what, &c);
			bad = 1;
		}
	} else if (sink_check_result(s, e, res, &c) != 0)
		bad = 1;
	if (!bad || *failed) {
		if (!bad && e->out != NULL)
			*e->out = res;
		else
			PQclear(res);
		free(c);
		return (0);
	}
	sink_fail_note(s, s->nread - 1, 0, res);
	PQclear(res);
	*failed = 1;
	if (e->batch && s->in_batch) {
		xasprintf(&c2, "an earlier message of the batch: %s", c);
		free(c);
		c = c2;
		s->err = SINK_ERR_TRANSIENT;
		if (s->batch_cause == NULL)
			s->batch_cause = xstrdup(c);
	}
	*cause = c;
	return (0);
}

/*
 * Remember where sink_sync first failed (pend index at) and how: lost, no
 * reply (no result, or one libpq made up, without a SQLSTATE); or a reply
 * (res) that says the connection is going (SQLSTATE class 08, or 57P: the
 * server shutting down), for sink_batch_commit to tell a COMMIT that
 * failed from one that may have committed.
 */
static void
sink_fail_note(struct sink *s, int at, int lost, PGresult *res)
{
	const char	*st;

	if (s->fail_at != INT_MAX)
		return;
	st = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (st == NULL)
		lost = 1;
	s->fail_at = at;
	s->fail_lost = lost;
	s->fail_conn = lost || (st != NULL && (strncmp(st, "08", 2) == 0 ||
	    strncmp(st, "57P", 3) == 0));
}

/* Send a sync point and read every pending result. */
int
sink_sync(struct sink *s, char **cause)
{
	PGresult	*res;
	int		 failed = 0, lost = 0;

	if (!s->pipeline)
		return (0);
	if (s->npend == 0) {
		if (PQexitPipelineMode(s->conn) == 1)
			s->pipeline = 0;
		return (0);
	}
	s->waits++;
	s->fail_at = INT_MAX;
	if (PQpipelineSync(s->conn) != 1) {
		sink_error(s, NULL, "send sync", cause);
		sink_fail_note(s, s->nread, 1, NULL);
		sink_pipe_reset(s);
		return (-1);
	}
	while (s->nread < s->npend && !lost)
		lost = sink_read_one(s, &failed, cause) != 0;
	if (!lost) {
		res = PQgetResult(s->conn);
		if (res == NULL || PQresultStatus(res) != PGRES_PIPELINE_SYNC) {
			if (!failed) {
				sink_error(s, res, "sync", cause);
				sink_fail_note(s, s->npend, res == NULL, res);
			}
			failed = 1;
		}
		PQclear(res);
	}
	sink_pipe_reset(s);
	if (PQexitPipelineMode(s->conn) == 1)
		s->pipeline = 0;
	return (failed || lost ? -1 : 0);
}

/* Read the results before pend index upto, without a sync point. */
int
sink_wait(struct sink *s, int upto, char **cause)
{
	enum sink_error	 err;
	char		*c = NULL;
	int		 failed = 0;

	if (upto > s->npend)
		upto = s->npend;
	if (s->nread >= upto)
		return (0);
	s->waits++;
	if (PQsendFlushRequest(s->conn) != 1 || PQflush(s->conn) != 0) {
		sink_error(s, NULL, "send flush", cause);
		sink_pipe_reset(s);
		return (-1);
	}
	while (s->nread < upto && !failed) {
		if (sink_read_one(s, &failed, cause) != 0) {
			sink_pipe_reset(s);
			return (-1);
		}
	}
	if (!failed)
		return (0);
	err = s->err;
	sink_sync(s, &c);
	free(c);
	s->err = err;
	return (-1);
}

/* Start an empty parameter list. */
void
sink_params_init(struct sink_params *p)
{
	memset(p, 0, sizeof *p);
}

/* Free the values the list owns. */
void
sink_params_free(struct sink_params *p)
{
	int	i;

	for (i = 0; i < p->n; i++)
		free(p->own[i]);
	p->n = 0;
	p->binary = 0;
}

/* Add a borrowed text value (NULL for SQL NULL). */
void
sink_param_str(struct sink_params *p, const char *v)
{
	if (p->n >= SINK_MAXPARAMS)
		fatalx("%s: too many parameters", __func__);
	p->own[p->n] = NULL;
	p->len[p->n] = 0;
	p->fmt[p->n] = 0;
	p->val[p->n++] = v;
}

/* Add a borrowed binary value (a bytea parameter). */
void
sink_param_bin(struct sink_params *p, const void *v, size_t len)
{
	if (len > INT32_MAX)
		fatalx("%s: value too long", __func__);
	sink_param_str(p, v);
	p->len[p->n - 1] = (int)len;
	p->fmt[p->n - 1] = 1;
	p->binary = 1;
}

/* Add a malloc'd text value the list frees. */
void
sink_param_own(struct sink_params *p, char *v)
{
	sink_param_str(p, v);
	p->own[p->n - 1] = v;
}

/* Add an integer value. */
void
sink_param_int(struct sink_params *p, long long v)
{
	char	*s;

	xasprintf(&s, "%lld", v);
	sink_param_own(p, s);
}

/* A 32-byte digest as a bytea hex literal, or NULL. */
void
sink_param_sha(struct sink_params *p, const unsigned char *sha)
{
	if (sha == NULL)
		sink_param_str(p, NULL);
	else
		sink_param_own(p, sink_bytea_text(sha, 32));
}

/* len bytes as bytea's text form: \x and hex digits (malloc'd). */
char *
sink_bytea_text(const void *v, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*b = v;
	char			*out;
	size_t			 i;

	if (len > (SIZE_MAX - 3) / 2)
		fatalx("%s: value too large", __func__);
	out = xmalloc(2 * len + 3);
	out[0] = '\\';
	out[1] = 'x';
	for (i = 0; i < len; i++) {
		out[2 + 2 * i] = hex[b[i] >> 4];
		out[3 + 2 * i] = hex[b[i] & 0xf];
	}
	out[2 + 2 * len] = '\0';
	return (out);
}

/* Add uids as a bigint[] literal. */
static int
sink_uids_param(struct sink_params *p, const uint32_t *uids, size_t n,
    char **cause)
{
	struct sink_array	 a;
	char			*lit;
	size_t			 i;

	sink_array_init(&a);
	for (i = 0; i < n; i++)
		sink_array_addint(&a, uids[i]);
	if ((lit = sink_array_end(&a, cause)) == NULL)
		return (-1);
	sink_param_own(p, lit);
	return (0);
}

/* List the ledger rows of one mailbox incarnation, by uid. */
int
sink_ledger_list(struct sink *s, int64_t mailbox, uint32_t uidvalidity,
    struct sink_ledger_entry **out, size_t *n, char **cause)
{
	struct sink_params	 p;
	struct sink_ledger_entry *e;
	PGresult		*res;
	int			 i, rows, rc;

	*out = NULL;
	*n = 0;
	sink_params_init(&p);
	sink_param_int(&p, (long long)mailbox);
	sink_param_int(&p, uidvalidity);
	rc = sink_exec(s, SINK_ST_LEDGER_LIST, &p, &res, cause);
	sink_params_free(&p);
	if (rc != 0)
		return (-1);
	rows = PQntuples(res);
	e = rows > 0 ? xcalloc(rows, sizeof *e) : NULL;
	for (i = 0; i < rows; i++) {
		e[i].uid = (uint32_t)strtoul(PQgetvalue(res, i, 0), NULL, 10);
		if (sink_status_parse(PQgetvalue(res, i, 1),
		    &e[i].status) != 0) {
			xasprintf(cause, "list ledger: unknown status \"%s\"",
			    PQgetvalue(res, i, 1));
			sink_fail_data(s);
			free(e);
			PQclear(res);
			return (-1);
		}
		e[i].after_done = *PQgetvalue(res, i, 2) == 't';
	}
	PQclear(res);
	*out = e;
	*n = rows;
	return (0);
}

/* Insert 'claimed' rows for uids not in the ledger yet. */
int
sink_claim(struct sink *s, int64_t mailbox, uint32_t uidvalidity,
    const uint32_t *uids, size_t n, char **cause)
{
	struct sink_params	p;
	int			rc = -1;

	if (s->in_msg || s->in_batch)
		fatalx("%s: inside a message transaction or a batch", __func__);
	if (n == 0)
		return (0);
	sink_params_init(&p);
	sink_param_int(&p, (long long)mailbox);
	sink_param_int(&p, uidvalidity);
	if (sink_uids_param(&p, uids, n, cause) == 0)
		rc = sink_exec(s, SINK_ST_CLAIM, &p, NULL, cause);
	sink_params_free(&p);
	return (rc);
}

/* The ids of the claimed rows among uids, SINK_LEDGER_CHUNK at a time. */
int
sink_claimed_ids(struct sink *s, int64_t mailbox, uint32_t uidvalidity,
    const uint32_t *uids, size_t n, int64_t *ids, char **cause)
{
	struct sink_params	 p;
	PGresult		*res;
	size_t			 i, k, at;
	int			 j, rc = 0;

	memset(ids, 0, n * sizeof *ids);
	for (i = 0; i < n && rc == 0; i += k) {
		k = n - i < SINK_LEDGER_CHUNK ? n - i : SINK_LEDGER_CHUNK;
		sink_params_init(&p);
		sink_param_int(&p, (long long)mailbox);
		sink_param_int(&p, uidvalidity);
		res = NULL;
		rc = sink_uids_param(&p, uids + i, k, cause);
		if (rc == 0)
			rc = sink_exec(s, SINK_ST_CLAIMED_IDS, &p, &res, cause);
		sink_params_free(&p);
		/* Each row: the uid's place in the chunk (from 1), the id. */
		for (j = 0; rc == 0 && j < PQntuples(res); j++) {
			at = strtoull(PQgetvalue(res, j, 0), NULL, 10);
			if (at >= 1 && at <= k)
				ids[i + at - 1] = strtoll(PQgetvalue(res, j, 1),
				    NULL, 10);
		}
		PQclear(res);
	}
	return (rc);
}

/* Record that the after-action was done on the server. */
int
sink_after_done(struct sink *s, int64_t mailbox, uint32_t uidvalidity,
    const uint32_t *uids, size_t n, char **cause)
{
	struct sink_params	p;
	int			rc = -1;

	if (s->in_msg || s->in_batch)
		fatalx("%s: inside a message transaction or a batch", __func__);
	if (n == 0)
		return (0);
	sink_params_init(&p);
	sink_param_int(&p, (long long)mailbox);
	sink_param_int(&p, uidvalidity);
	if (sink_uids_param(&p, uids, n, cause) == 0)
		rc = sink_exec(s, SINK_ST_AFTER_DONE, &p, NULL, cause);
	sink_params_free(&p);
	return (rc);
}

/* Rows of a ledger query (uid, status, after_action done) onto v. */
static int
sink_ledger_rows(struct sink *s, PGresult *res, struct sink_ledger_entry **v,
    size_t *n, size_t *size, char **cause)
{
	struct sink_ledger_entry	*e;
	int				 i, rows = PQntuples(res);

	for (i = 0; i < rows; i++) {
		if (*n == *size) {
			*size = *size == 0 ? 64 : *size * 2;
			*v = xreallocarray(*v, *size, sizeof **v);
		}
		e = &(*v)[*n];
		e->uid = (uint32_t)strtoul(PQgetvalue(res, i, 0), NULL, 10);
		if (sink_status_parse(PQgetvalue(res, i, 1), &e->status) != 0) {
			xasprintf(cause, "find ledger rows: unknown status "
			    "\"%s\"", PQgetvalue(res, i, 1));
			sink_fail_data(s);
			return (-1);
		}
		e->after_done = *PQgetvalue(res, i, 2) == 't';
		(*n)++;
	}
	return (0);
}

static int
ledger_uid_cmp(const void *a, const void *b)
{
	const struct sink_ledger_entry	*x = a, *y = b;

	return (x->uid < y->uid ? -1 : x->uid > y->uid);
}

/* One statement of sink_ledger_find: uids (NULL: the unfinished rows). */
static int
sink_ledger_query(struct sink *s, int64_t mailbox, uint32_t uidvalidity,
    const uint32_t *uids, size_t n, struct sink_ledger_entry **v,
    size_t *nv, size_t *size, char **cause)
{
	struct sink_params	 p;
	PGresult		*res = NULL;
	int			 rc = -1;

	sink_params_init(&p);
	sink_param_int(&p, (long long)mailbox);
	sink_param_int(&p, uidvalidity);
	if (uids == NULL)
		rc = sink_exec(s, SINK_ST_LEDGER_UNFINISHED, &p, &res, cause);
	else if (sink_uids_param(&p, uids, n, cause) == 0)
		rc = sink_exec(s, SINK_ST_LEDGER_FIND, &p, &res, cause);
	sink_params_free(&p);
	if (rc == 0)
		rc = sink_ledger_rows(s, res, v, nv, size, cause);
	if (res != NULL)
		PQclear(res);
	return (rc);
}

/*
 * The rows a poll needs (see sink.h): the unfinished ones, then those of
 * the uids, SINK_LEDGER_CHUNK at a time; sorted, an unfinished row also
 * found by its uid kept once.
 */
int
sink_ledger_find(struct sink *s, int64_t mailbox, uint32_t uidvalidity,
    const uint32_t *uids, size_t n, struct sink_ledger_entry **out,
    size_t *nout, char **cause)
{
	struct sink_ledger_entry	*v = NULL;
	size_t				 nv = 0, size = 0, off, k, i, j;

	*out = NULL;
	*nout = 0;
	if (sink_ledger_query(s, mailbox, uidvalidity, NULL, 0, &v, &nv,
	    &size, cause) != 0)
		goto fail;
	for (off = 0; off < n; off += k) {
		k = n - off < SINK_LEDGER_CHUNK ? n - off : SINK_LEDGER_CHUNK;
		if (sink_ledger_query(s, mailbox, uidvalidity, uids + off, k,
		    &v, &nv, &size, cause) != 0)
			goto fail;
	}
	if (nv > 1)
		qsort(v, nv, sizeof *v, ledger_uid_cmp);
	for (i = j = 0; i < nv; i++)
		if (j == 0 || v[j - 1].uid != v[i].uid)
			v[j++] = v[i];
	*out = v;
	*nout = j;
	return (0);
fail:
	free(v);
	return (-1);
}

int
sink_mark_read(struct sink *s, int64_t mailbox, struct sink_search_mark *m,
    char **cause)
{
	struct sink_params	 p;
	PGresult		*res;
	int			 rc;

	memset(m, 0, sizeof *m);
	sink_params_init(&p);
	sink_param_int(&p, (long long)mailbox);
	rc = sink_exec(s, SINK_ST_MARK_READ, &p, &res, cause);
	sink_params_free(&p);
	if (rc != 0)
		return (-1);
	if (PQntuples(res) == 1) {
		m->uidvalidity = (uint32_t)strtoul(PQgetvalue(res, 0, 0),
		    NULL, 10);
		snprintf(m->criteria, sizeof m->criteria, "%s",
		    PQgetvalue(res, 0, 1));
		m->uidnext = (uint32_t)strtoul(PQgetvalue(res, 0, 2), NULL,
		    10);
		m->highestmodseq = strtoull(PQgetvalue(res, 0, 3), NULL, 10);
		m->full_at = (time_t)strtoll(PQgetvalue(res, 0, 4), NULL, 10);
	}
	PQclear(res);
	return (0);
}

int
sink_mark_write(struct sink *s, int64_t mailbox,
    const struct sink_search_mark *m, char **cause)
{
	struct sink_params	p;
	int			rc;

	if (s->in_msg || s->in_batch)
		fatalx("%s: inside a message transaction or a batch", __func__);
	sink_params_init(&p);
	sink_param_int(&p, (long long)mailbox);
	sink_param_int(&p, m->uidvalidity);
	sink_param_str(&p, m->criteria);
	sink_param_int(&p, m->uidnext);
	sink_param_int(&p, m->highestmodseq > INT64_MAX ? 0 :
	    (long long)m->highestmodseq);
	sink_param_int(&p, (long long)m->full_at);
	rc = sink_exec(s, SINK_ST_MARK_WRITE, &p, NULL, cause);
	sink_params_free(&p);
	return (rc);
}

/* Send the ledger statement for the message (see sink_sql_ledger). */
static int
sink_ledger_send(struct sink *s, const struct sink_msg_info *mi,
    PGresult **res, char **cause)
{
	struct sink_params	 p;
	int			 file, rc;

	file = (mi->uidvalidity == 0 && mi->uid == 0);
	if (file && mi->sha256 == NULL)
		fatalx("%s: a file needs its SHA-256", __func__);
	if (!file && (mi->mailbox_pk <= 0 || mi->mailbox == NULL))
		fatalx("%s: an IMAP message needs its mailbox", __func__);
	sink_params_init(&p);
	if (!file) {
		sink_param_int(&p, (long long)mi->mailbox_pk);
		sink_param_str(&p, mi->mailbox);
		sink_param_int(&p, mi->uidvalidity);
		sink_param_int(&p, mi->uid);
	}
	sink_param_str(&p, mi->path);
	sink_param_str(&p, mi->message_id);
	sink_param_str(&p, mi->from);
	sink_param_str(&p, mi->subject);
	if (mi->date == SINK_NO_DATE)
		sink_param_str(&p, NULL);
	else
		sink_param_int(&p, (long long)mi->date);
	sink_param_int(&p, mi->size > INT64_MAX ? INT64_MAX :
	    (long long)mi->size);
	sink_param_sha(&p, mi->sha256);
	sink_param_str(&p, mi->auth_results);
	rc = sink_send(s, file ? SINK_ST_LEDGER_FILE : SINK_ST_LEDGER, &p,
	    SINK_CHK_ROW, 0, res, cause);
	sink_params_free(&p);
	return (rc);
}

/* The ledger statement's answer: the row's id and its prior status. */
static int
sink_ledger_read(struct sink *s, PGresult *res, enum sink_status *prior,
    char **cause)
{
	if (*PQgetvalue(res, 0, 2) == 't')
		*prior = SINK_NONE;
	else if (sink_status_parse(PQgetvalue(res, 0, 1), prior) != 0) {
		xasprintf(cause, "write ledger row: unknown status \"%s\"",
		    PQgetvalue(res, 0, 1));
		sink_fail_data(s);
		return (-1);
	}
	snprintf(s->message_pk, sizeof s->message_pk, "%s",
	    PQgetvalue(res, 0, 0));
	return (0);
}

/* Ask for SINK_POOL more report_file ids. */
static int
sink_pool_send(struct sink *s, PGresult **res, char **cause)
{
	struct sink_params	p;
	int			rc;

	sink_params_init(&p);
	sink_param_int(&p, SINK_POOL);
	rc = sink_send(s, SINK_ST_POOL, &p, SINK_CHK_NONE, 0, res, cause);
	sink_params_free(&p);
	return (rc);
}

/* Add the ids of a sink_pool_send answer to the pool. */
static void
sink_pool_add(struct sink *s, PGresult *res)
{
	int	i;

	for (i = 0; i < PQntuples(res) && s->npool < SINK_POOL; i++)
		s->pool[s->npool++] = strtoll(PQgetvalue(res, i, 0), NULL, 10);
}

/*
 * A report_file id that no row has: taken from the pool, which is filled
 * along with sink_msg_begin's statements (or here, one round trip, when a
 * message has many payloads).  Sequence values are never handed out
 * twice, whether or not the transaction that took them commits.
 */
int
sink_pool_take(struct sink *s, char *buf, size_t len, char **cause)
{
	PGresult	*res = NULL;
	int		 rc;

	if (s->npool == 0) {
		rc = sink_pool_send(s, &res, cause);
		if (rc == 0)
			rc = sink_sync(s, cause);
		if (rc == 0)
			sink_pool_add(s, res);
		PQclear(res);
		if (rc != 0)
			return (-1);
		if (s->npool == 0) {
			xasprintf(cause, "reserve report_file ids: none");
			sink_fail_data(s);
			return (-1);
		}
	}
	snprintf(buf, len, "%lld", s->pool[0]);
	memmove(s->pool, s->pool + 1, --s->npool * sizeof s->pool[0]);
	return (0);
}

/*
 * Open the message transaction (BEGIN, or SAVEPOINT msg inside a batch)
 * and write its ledger row: one round trip.
 */
int
sink_msg_begin(struct sink *s, const struct sink_msg_info *mi,
    enum sink_status *prior, char **cause)
{
	PGresult	*res = NULL, *pool = NULL;
	int		 rc;

	if (s->in_msg)
		fatalx("%s: already inside a message transaction", __func__);
	*prior = SINK_NONE;
	/* Kept payloads past half the cap go now, between two messages, so
	   that the next ones find room. */
	if (s->in_batch && s->batch_cause == NULL &&
	    sink_set_bytes(s) > SINK_SET_MAX / 2 &&
	    sink_set_flush(s, cause) != 0)
		return (-1);
	if (s->in_batch && s->batch_cause != NULL)
		return (sink_batch_failed(s, cause));
	sink_set_msg_mark(s);
	if (sink_led_hold(s, mi)) {
		/* Claimed: the row goes with the batch's (sink-set.c). */
		snprintf(s->message_pk, sizeof s->message_pk, "%lld",
		    (long long)mi->claimed_pk);
		*prior = SINK_CLAIMED;
		s->in_msg = 1;
		if (sink_send_cmd(s, SINK_ST_SAVEPOINT_MSG, cause) != 0) {
			sink_msg_rollback(s);
			return (-1);
		}
		return (0);
	}
	rc = sink_send_cmd(s, s->in_batch ? SINK_ST_SAVEPOINT_MSG :
	    SINK_ST_BEGIN, cause);
	if (rc == 0 && s->npool < SINK_POOL / 4)
		rc = sink_pool_send(s, &pool, cause);
	if (rc == 0)
		rc = sink_ledger_send(s, mi, &res, cause);
	if (rc == 0)
		rc = sink_sync(s, cause);
	if (pool != NULL)
		sink_pool_add(s, pool);
	if (rc == 0)
		rc = sink_ledger_read(s, res, prior, cause);
	PQclear(pool);
	PQclear(res);
	s->in_msg = 1;
	if (rc != 0) {
		sink_msg_rollback(s);
		return (-1);
	}
	return (0);
}

static void
sink_msg_clear(struct sink *s)
{
	sink_rawout_discard(s);
	s->in_msg = s->reparse = 0;
	s->message_pk[0] = s->file_pk[0] = s->report_pk[0] = '\0';
	sink_defer_free(s);
}

/*
 * Write the final status.  Outside a batch: COMMIT, one round trip.
 * Inside one: RELEASE SAVEPOINT msg, sent without waiting; a failure of
 * these statements fails the batch.
 */
int
sink_msg_commit(struct sink *s, enum sink_status st, const char *detail,
    char **cause)
{
	struct sink_params	 p;
	PGresult		*res = NULL;
	int			 rc;

	if (!s->in_msg || s->reparse || st == SINK_NONE ||
	    (size_t)st >= SINK_NSTATUS)
		fatalx("%s: no message or bad status %d", __func__, (int)st);
	sink_payload_closed(s, __func__);
	if (s->in_batch && s->batch_cause != NULL) {
		sink_msg_clear(s);
		sink_set_msg_drop(s);
		return (sink_batch_failed(s, cause));
	}
	if (sink_led_open(s)) {
		/* Written with the batch's rows (sink-set.c). */
		sink_led_status(s, st, sink_utf8(detail));
		rc = 0;
	} else {
		sink_params_init(&p);
		sink_param_str(&p, s->message_pk);
		sink_param_str(&p, sink_status_name(st));
		sink_param_own(&p, sink_utf8(detail));
		rc = sink_send(s, SINK_ST_MSG_STATUS, &p, SINK_CHK_NONE, 0,
		    NULL, cause);
		sink_params_free(&p);
	}
	if (rc == 0 && s->in_batch) {
		rc = sink_send_cmd(s, SINK_ST_RELEASE_MSG, cause);
		if (rc == 0) {
			sink_batch_mark(s);
			sink_msg_clear(s);
			return (0);
		}
	}
	if (rc == 0)
		rc = sink_rollup_send(s, cause);
	if (rc == 0)
		rc = sink_send(s, SINK_ST_COMMIT, NULL, SINK_CHK_NONE, 0, &res,
		    cause);
	if (rc == 0)
		rc = sink_sync(s, cause);
	if (rc == 0 && strcmp(PQcmdStatus(res), "COMMIT") != 0) {
		/* COMMIT of a failed transaction says ROLLBACK. */
		xasprintf(cause, "commit: transaction was rolled back");
		if (s->err == SINK_ERR_NONE)
			sink_fail_data(s);
		rc = -1;
	}
	PQclear(res);
	if (rc != 0) {
		sink_msg_rollback(s);
		return (-1);
	}
	sink_msg_clear(s);
	return (0);
}

/*
 * Roll back what was sent since a savepoint, or the whole transaction (st
 * is the ROLLBACK statement).  Results still pending are read first and
 * their failures ignored: they were skipped by the server, the command
 * must not be.
 */
int
sink_rollback(struct sink *s, enum sink_stmt st, char **cause)
{
	char	*c = NULL;
	int	 rc;

	if (s->npend > 0) {
		sink_sync(s, &c);
		free(c);
	}
	if (st == SINK_ST_ROLLBACK)
		s->rollup_dirty = 0;
	rc = sink_send_cmd(s, st, cause);
	if (rc == 0)
		rc = sink_sync(s, cause);
	return (rc);
}

/*
 * Roll the message back; harmless outside one.  Inside a batch only the
 * message goes (ROLLBACK TO SAVEPOINT msg, sent without waiting; its
 * failure fails the batch).
 */
void
sink_msg_rollback(struct sink *s)
{
	enum sink_error	 err = s->err;
	char		*c = NULL;

	if (!s->in_msg || s->reparse)
		return;
	sink_msg_clear(s);
	sink_set_msg_drop(s);
	if (!s->in_batch)
		sink_rollback(s, SINK_ST_ROLLBACK, &c);
	else if (s->batch_cause == NULL && !sink_is_broken(s)) {
		if (s->npend > 0)
			sink_sync(s, &c);
		free(c);
		c = NULL;
		if (s->batch_cause == NULL &&
		    sink_send_cmd(s, SINK_ST_ROLLBACK_MSG, &c) == 0 &&
		    sink_send_cmd(s, SINK_ST_RELEASE_MSG, &c) == 0)
			sink_batch_mark(s);
	}
	free(c);
	s->err = err;
}

/* The error of every call in a failed batch. */
static int
sink_batch_failed(struct sink *s, char **cause)
{
	xasprintf(cause, "the batch failed: %s", s->batch_cause);
	s->err = SINK_ERR_TRANSIENT;
	return (-1);
}

/* Open a batch: BEGIN, sent without waiting. */
int
sink_batch_begin(struct sink *s, char **cause)
{
	if (s->in_batch || s->in_msg)
		fatalx("%s: inside a batch or a transaction", __func__);
	if (s->npend > 0 && sink_sync(s, cause) != 0)
		return (-1);
	if (sink_send_cmd(s, SINK_ST_BEGIN, cause) != 0)
		return (-1);
	s->in_batch = 1;
	free(s->batch_cause);
	s->batch_cause = NULL;
	sink_batch_mark(s);
	return (0);
}

/* Commit the batch: every message committed in it becomes durable. */
int
sink_batch_commit(struct sink *s, char **cause)
{
	PGresult	*res = NULL;
	int		 rc = 0, at;

	if (!s->in_batch || s->in_msg)
		fatalx("%s: no batch, or a message is open", __func__);
	s->commit_unknown = 0;
	if (s->batch_cause == NULL && sink_set_flush(s, cause) != 0)
		rc = -1;
	else if (s->batch_cause == NULL) {
		rc = sink_rollup_send(s, cause);
		if (rc == 0)
			rc = sink_send(s, SINK_ST_COMMIT, NULL, SINK_CHK_NONE,
			    0, &res, cause);
		at = s->npend - 1;
		if (rc == 0 && s->commit_hook != NULL) {
			/*
			 * Out to the server (a flush, not a Flush message: the
			 * server keeps the reply until the sync point).
			 */
			(void)PQflush(s->conn);
			s->commit_hook(s->commit_arg);
		}
		if (rc == 0 && sink_sync(s, cause) != 0 &&
		    (rc = sink_commit_fate(s, at, res)) == 0) {
			/* Committed; the next call finds the lost link. */
			free(*cause);
			*cause = NULL;
		}
		if (rc == 0 && strcmp(PQcmdStatus(res), "COMMIT") != 0) {
			xasprintf(cause, "commit: transaction was rolled"
			    " back");
			if (s->err == SINK_ERR_NONE)
				sink_fail_data(s);
			rc = -1;
		}
		PQclear(res);
	} else
		rc = sink_batch_failed(s, cause);
	if (rc != 0) {
		sink_batch_rollback(s);
		s->err = SINK_ERR_TRANSIENT;
		return (-1);
	}
	s->in_batch = 0;
	s->sets_off = 0;
	return (0);
}

/*
 * The batch's COMMIT (pend index at, its result res if one came) failed
 * in sink_sync: 0 when it committed all the same (the failure came after
 * its reply, at the sync point), else -1 with commit_unknown set when the
 * server may have committed: no reply came for the COMMIT or a statement
 * before it (replies wait in the server's buffer until the sync point,
 * so a server that died may have run more than it answered), or the
 * COMMIT's reply was a connection error.  An error the server answered
 * before the COMMIT means it never committed.
 */
static int
sink_commit_fate(struct sink *s, int at, PGresult *res)
{
	if (s->fail_at > at && res != NULL &&
	    strcmp(PQcmdStatus(res), "COMMIT") == 0)
		return (0);
	s->commit_unknown = (s->fail_at < at && s->fail_lost) ||
	    (s->fail_at == at && s->fail_conn);
	return (-1);
}

int
sink_commit_unknown(struct sink *s)
{
	return (s->commit_unknown);
}

void
sink_set_commit_hook(struct sink *s, void (*fn)(void *), void *arg)
{
	s->commit_hook = fn;
	s->commit_arg = arg;
}

/* Roll the whole batch back (an open message included). */
void
sink_batch_rollback(struct sink *s)
{
	char	*c = NULL;

	if (!s->in_batch)
		return;
	if (s->in_msg)
		sink_msg_clear(s);
	sink_set_free(s);
	s->in_batch = 0;
	if (!sink_is_broken(s))
		sink_rollback(s, SINK_ST_ROLLBACK, &c);
	free(c);
	free(s->batch_cause);
	s->batch_cause = NULL;
}

/*
 * Mark the start of one payload inside the message transaction.  What the
 * previous payload sent is read first, so that its failure is not taken
 * for this payload's; savepoints alone are not waited for (they fail only
 * after a failure of their own transaction or connection, which would
 * already be known).
 */
int
sink_payload_savepoint(struct sink *s, char **cause)
{
	if (!s->in_msg)
		fatalx("%s: no message transaction", __func__);
	sink_payload_closed(s, __func__);
	sink_rawout_discard(s);
	s->file_pk[0] = s->report_pk[0] = '\0';
	if (sink_pend_stmts(s) && sink_sync(s, cause) != 0)
		return (-1);
	sink_set_payload_mark(s);
	return (sink_send_cmd(s, SINK_ST_SAVEPOINT_PAYLOAD, cause));
}

/* Forget everything written since the last sink_payload_savepoint. */
int
sink_payload_rollback(struct sink *s, char **cause)
{
	if (!s->in_msg)
		fatalx("%s: no message transaction", __func__);
	sink_rawout_discard(s);
	sink_defer_free(s);
	s->file_pk[0] = s->report_pk[0] = '\0';
	sink_set_payload_drop(s);
	return (sink_rollback(s, SINK_ST_ROLLBACK_PAYLOAD, cause));
}

/*
 * The statements (enum sink_stmt in sink_p.h).  Every SQL text the sink
 * sends is here, in one table with the name a failure's cause gives it,
 * the status its result must have, its number of parameters and whether
 * it is prepared, so that a caller names one statement and nothing else.
 * Texts that share a part are put together from macros at compile time;
 * none is built at run time.  The only SQL elsewhere is the migrations:
 * whole files of sink/migrations, embedded at build time
 * (sink-migrations.c) and run as they are by sink_migrate_step.
 */

/* --- The connection and the ledger (sink.c) --- */

static const char sink_sql_search_path[] =
	"SELECT pg_catalog.set_config('search_path', '', false)";

static const char sink_sql_ledger_list[] =
	"SELECT uid, status, after_action = 'done'"
	" FROM dmarc.mail_message"
	" WHERE mailbox_pk = $1 AND uidvalidity = $2 AND uid IS NOT NULL"
	" ORDER BY uid";

static const char sink_sql_claim[] =
	"INSERT INTO dmarc.mail_message (mailbox_pk, mailbox, uidvalidity, uid)"
	" SELECT b.id, b.name, $2, u"
	" FROM dmarc.mailbox b, unnest($3::bigint[]) AS u WHERE b.id = $1"
	" ON CONFLICT (mailbox_pk, uidvalidity, uid) DO NOTHING";

static const char sink_sql_after_done[] =
	"UPDATE dmarc.mail_message SET after_action = 'done'"
	" WHERE mailbox_pk = $1 AND uidvalidity = $2"
	" AND uid = ANY ($3::bigint[])";

/*
 * The ledger row in one statement: insert it with the message's facts, or
 * (ON CONFLICT DO UPDATE, which locks the row) write the facts into the
 * existing one.  RETURNING gives the id, the status and whether the row is
 * new: a row version made by INSERT has no xmax, while DO UPDATE carries
 * the lock it took over to the new version (xmax set).  Parameters: the
 * key and the mailbox's name ($1-$4, IMAP only), then the facts.
 */
static const char sink_sql_ledger[] =
	"INSERT INTO dmarc.mail_message AS m (mailbox_pk, mailbox, uidvalidity,"
	" uid, path, message_id, from_addr, subject, date_hdr, size_bytes,"
	" sha256, auth_results, fetched_at)"
	" VALUES ($1, $2, $3, $4, $5, $6, $7, $8,"
	" to_timestamp($9::double precision), $10, $11::bytea, $12, now())"
	" ON CONFLICT (mailbox_pk, uidvalidity, uid) DO UPDATE SET"
	" path = EXCLUDED.path, message_id = EXCLUDED.message_id,"
	" from_addr = EXCLUDED.from_addr, subject = EXCLUDED.subject,"
	" date_hdr = EXCLUDED.date_hdr, size_bytes = EXCLUDED.size_bytes,"
	" sha256 = coalesce(EXCLUDED.sha256, m.sha256),"
	" auth_results = EXCLUDED.auth_results, fetched_at = now()"
	" RETURNING id, status, xmax = 0";

static const char sink_sql_ledger_file[] =
	"INSERT INTO dmarc.mail_message AS m (mailbox, uidvalidity, uid,"
	" path, message_id, from_addr, subject, date_hdr, size_bytes, sha256,"
	" auth_results, fetched_at)"
	" VALUES ('" SINK_FILE_MAILBOX "', 0, NULL, $1, $2, $3, $4,"
	" to_timestamp($5::double precision), $6, $7::bytea, $8, now())"
	" ON CONFLICT (sha256)"
	" WHERE mailbox = '" SINK_FILE_MAILBOX "' AND uid IS NULL"
	" DO UPDATE SET"
	" path = EXCLUDED.path, message_id = EXCLUDED.message_id,"
	" from_addr = EXCLUDED.from_addr, subject = EXCLUDED.subject,"
	" date_hdr = EXCLUDED.date_hdr, size_bytes = EXCLUDED.size_bytes,"
	" auth_results = EXCLUDED.auth_results, fetched_at = now()"
	" RETURNING id, status, xmax = 0";

/* report_file ids for the pool ($1 of them). */
static const char sink_sql_pool[] =
	"SELECT pg_catalog.nextval(pg_catalog.pg_get_serial_sequence("
	"'dmarc.report_file', 'id')) FROM pg_catalog.generate_series(1, $1)";

static const char sink_sql_msg_status[] =
	"UPDATE dmarc.mail_message SET status = $2, status_detail = $3,"
	" status_at = now() WHERE id = $1";

/*
 * The ledger rows of a batch (sink-set.c): $1 their ids, $2 .. $9 the
 * facts as sink_sql_ledger writes them, $10 $11 the status and its
 * detail; only rows still claimed, counted.
 */
#define SINK_SQL_LEDGER_FACTS \
	"WITH w AS (UPDATE dmarc.mail_message AS m SET path = u.path,"	\
	" message_id = u.mid, from_addr = u.frm, subject = u.subj,"	\
	" date_hdr = to_timestamp(u.d), size_bytes = u.sz,"		\
	" sha256 = coalesce(u.sha::bytea, m.sha256), auth_results = u.ar," \
	" fetched_at = now()"
#define SINK_SQL_LEDGER_UNNEST \
	" FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[],"	\
	" $5::text[], $6::double precision[], $7::bigint[], $8::text[],"	\
	" $9::text[]"
#define SINK_SQL_LEDGER_END \
	" WHERE m.id = u.id AND m.status = 'claimed' RETURNING 1)"	\
	" SELECT count(*) FROM w"

static const char sink_sql_ledger_set[] =
	SINK_SQL_LEDGER_FACTS ", status = u.st, status_detail = u.det,"
	" status_at = now()"
	SINK_SQL_LEDGER_UNNEST ", $10::text[], $11::text[])"
	" AS u(id, path, mid, frm, subj, d, sz, sha, ar, st, det)"
	SINK_SQL_LEDGER_END;

/* The facts alone ($1 .. $9): the rows stay claimed. */
static const char sink_sql_ledger_facts[] =
	SINK_SQL_LEDGER_FACTS
	SINK_SQL_LEDGER_UNNEST ") AS u(id, path, mid, frm, subj, d, sz, sha, ar)"
	SINK_SQL_LEDGER_END;

/* --- The schema (sink-schema.c) --- */

static const char sink_sql_schema_exists[] =
	"SELECT pg_catalog.to_regclass('dmarc.schema_version') IS NOT NULL";

static const char sink_sql_schema_version[] =
	"SELECT coalesce(max(version), 0) FROM dmarc.schema_version";

static const char sink_sql_schema_record[] =
	"INSERT INTO dmarc.schema_version (version, name, applied_by)"
	" VALUES ($1, $2, $3)";

static const char sink_sql_migrate_lock[] =
	"SELECT pg_catalog.pg_advisory_lock(" SINK_MIGRATE_LOCK ")";

static const char sink_sql_migrate_unlock[] =
	"SELECT pg_catalog.pg_advisory_unlock(" SINK_MIGRATE_LOCK ")";

/* --- Payloads and aggregate reports (sink-report.c) --- */

#define SINK_FILE_COLS \
	"id, message_pk, mime_path, filename, content_type,"		\
	" transfer_encoding, container, zip_member, kind, encoded_bytes,"	\
	" fn_receiver, fn_policy_domain, fn_begin, fn_end, fn_unique_id,"	\
	" subj_domain, subj_submitter, subj_report_id"

/* The 18 parameters of sink_file_begin, in SINK_FILE_COLS order. */
static const char sink_sql_file[] =
	"INSERT INTO dmarc.report_file (" SINK_FILE_COLS ")"
	" VALUES ($10, $1, $2, $3, $4, $5, $6, $7, $8, $9, $11, $12, $13, $14,"
	" $15, $16, $17, $18) RETURNING id";

/*
 * A payload's end: $1 the row, $2 size, $3 SHA-256, $4 error; with the
 * last raw chunk, $5 $6 its number and bytes.
 */
#define SINK_SQL_FILE_END \
	"UPDATE dmarc.report_file SET payload_bytes = $2,"		\
	" payload_sha256 = $3::bytea, error = $4 WHERE id = $1"
static const char sink_sql_file_end[] = SINK_SQL_FILE_END;
static const char sink_sql_file_end_raw[] =
	"WITH w AS (INSERT INTO dmarc.report_raw (file_pk, seq, data)"
	" VALUES ($1, $5, $6::bytea)) " SINK_SQL_FILE_END;

/*
 * A payload held back to its end (sink_set_defer) that nothing referred
 * to: its row inserted whole.  sink_file_begin's 18 parameters, then $19
 * size, $20 SHA-256, $21 error; with the last raw chunk, $22 $23.
 */
#define SINK_SQL_FILE_ONCE \
	"INSERT INTO dmarc.report_file (" SINK_FILE_COLS ", payload_bytes,"	\
	" payload_sha256, error)"						\
	" VALUES ($10, $1, $2, $3, $4, $5, $6, $7, $8, $9, $11, $12, $13,"	\
	" $14, $15, $16, $17, $18, $19, $20::bytea, $21)"
static const char sink_sql_file_once[] = SINK_SQL_FILE_ONCE;
static const char sink_sql_file_once_raw[] =
	"WITH w AS (INSERT INTO dmarc.report_raw (file_pk, seq, data)"
	" VALUES ($10, $22, $23::bytea)) " SINK_SQL_FILE_ONCE;

/*
 * The report row's insert, up to its parse warnings: the columns every
 * statement that inserts a report writes (then the ones it adds).
 */
#define SINK_SQL_REPORT_INSERT \
	"INSERT INTO dmarc.report (file_pk, format, xml_namespace," \
	" xml_version, org_name, reporter_key, org_email, extra_contact_info," \
	" extra_contact_info_lang, report_id, date_begin, date_end," \
	" begin_raw, end_raw, generator, policy_domain," \
	" policy_p, policy_p_raw, policy_sp, policy_sp_raw," \
	" policy_np, policy_np_raw, policy_adkim, policy_adkim_raw," \
	" policy_aspf, policy_aspf_raw, policy_pct, policy_pct_raw," \
	" policy_fo, policy_testing, policy_testing_raw," \
	" discovery_method, discovery_method_raw, policy_published_count," \
	" parse_warnings,"

static const char sink_sql_head[] =
	"WITH ins AS (" SINK_SQL_REPORT_INSERT " authenticity)"
	" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
	" to_timestamp($11::double precision),"
	" to_timestamp($12::double precision), $13, $14, $15, $16,"
	" $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28,"
	" $29, $30, $31, $32, $33, $34, $35::text[], $41)"
	" ON CONFLICT (reporter_key, report_id, policy_domain, date_begin)"
	" DO NOTHING RETURNING id),"
	" err AS (INSERT INTO dmarc.report_error (report_pk, ord, message,"
	" lang) SELECT ins.id, e.ord, coalesce(e.message, ''), e.lang"
	" FROM ins, unnest($36::text[], $37::text[]) WITH ORDINALITY"
	" AS e(message, lang, ord)),"
	" ext AS (INSERT INTO dmarc.report_extension (report_pk, ord, ns_uri,"
	" local_name, xml) SELECT ins.id, x.ord, x.ns_uri,"
	" coalesce(x.local_name, ''), coalesce(x.xml, '')"
	" FROM ins, unnest($38::text[], $39::text[], $40::text[])"
	" WITH ORDINALITY AS x(ns_uri, local_name, xml, ord)),"
	" dlv AS (INSERT INTO dmarc.report_delivery (report_pk, file_pk,"
	" counted) SELECT ins.id, $1, true FROM ins)"
	" SELECT id FROM ins";

static const char sink_sql_dup_lock[] =
	"SELECT id FROM dmarc.report WHERE reporter_key = $1"
	" AND report_id = $2 AND policy_domain = $3"
	" AND date_begin = to_timestamp($4::double precision) FOR UPDATE";

/*
 * $1-$4 the report's natural key, $5 current message, $6 current payload.
 * Sent after sink_sql_dup_lock, in its own statement, so its snapshot
 * sees every delivery committed before the lock was granted.
 */
static const char sink_sql_dup[] =
	"WITH rp AS (SELECT id FROM dmarc.report WHERE reporter_key = $1"
	" AND report_id = $2 AND policy_domain = $3"
	" AND date_begin = to_timestamp($4::double precision)),"
	" same AS (SELECT EXISTS (SELECT 1 FROM dmarc.report_delivery d"
	" JOIN dmarc.report_file f ON f.id = d.file_pk"
	" JOIN dmarc.mail_message m ON m.id = f.message_pk"
	" JOIN dmarc.mail_message c ON c.id = $5"
	" WHERE d.report_pk = (SELECT id FROM rp) AND (m.id = c.id"
	" OR m.sha256 = c.sha256"
	" OR (m.message_id <> '' AND m.message_id = c.message_id))) AS v),"
	" upd AS (UPDATE dmarc.report SET seen_count = seen_count + 1,"
	" last_seen = now() WHERE id = (SELECT id FROM rp)"
	" AND NOT (SELECT v FROM same) RETURNING id)"
	" INSERT INTO dmarc.report_delivery (report_pk, file_pk, counted)"
	" SELECT rp.id, $6, EXISTS (SELECT 1 FROM upd) FROM rp"
	" ON CONFLICT (report_pk, file_pk) DO NOTHING RETURNING counted";

/* The record row's insert: its columns (every statement that writes records). */
#define SINK_SQL_RECORD_INSERT \
	"INSERT INTO dmarc.record (report_pk, ord, policy_domain, date_begin," \
	" source_ip, source_ip_raw, message_count, count_raw, disposition," \
	" disposition_raw, dkim_aligned, dkim_aligned_raw, spf_aligned," \
	" spf_aligned_raw, header_from, envelope_from, envelope_to," \
	" identifiers_tag, parse_warnings)"

/*
 * What the records of a batch add to the rollup tables (migration 014),
 * into rollup_pending, computed from the rows the statement inserts (the
 * CTEs ins, r, d, s and x of SINK_SQL_RECORDS) as v_record_rollup
 * computes it from the tables; rollup_flush() adds them up before COMMIT
 * (sink_rollup_send).
 */
#define SINK_SQL_PENDING(ins_r) \
	" pend AS (INSERT INTO dmarc.rollup_pending (day, policy_domain," \
	" report_pk, source_ip, header_from, envelope_from, disposition," \
	" dkim_aligned, spf_aligned, dkim_results, spf_results, reasons," \
	" forwarded, authenticity, messages, records)" \
	" SELECT r.report_day, r.policy_domain, ins.id, r.source_ip," \
	" r.header_from, r.envelope_from, r.disposition, r.dkim_aligned," \
	" r.spf_aligned, dk.v, sp.v, xr.v, coalesce(xr.f, false)," \
	" ins.authenticity, r.message_count, 1 FROM " ins_r \
	" LEFT JOIN (SELECT d.record_pk, string_agg(coalesce(d.domain, '?')" \
	" || '/' || coalesce(d.selector, '-') || '=' ||" \
	" coalesce(d.result, d.result_raw, '?'), ' ' ORDER BY d.ord) AS v" \
	" FROM d GROUP BY 1) dk ON dk.record_pk = r.id" \
	" LEFT JOIN (SELECT s.record_pk, string_agg(coalesce(s.domain, '?')" \
	" || '(' || coalesce(s.scope, s.scope_raw, 'mfrom') || ')=' ||" \
	" coalesce(s.result, s.result_raw, '?'), ' ' ORDER BY s.ord) AS v" \
	" FROM s GROUP BY 1) sp ON sp.record_pk = r.id" \
	" LEFT JOIN (SELECT x.record_pk, array_agg(coalesce(x.type," \
	" x.type_raw, '?') || coalesce(': ' || x.comment, '')" \
	" ORDER BY x.ord) AS v, bool_or(x.type IN ('forwarded'," \
	" 'mailing_list', 'trusted_forwarder')) AS f FROM x GROUP BY 1) xr" \
	" ON xr.record_pk = r.id)"

/*
 * The records of one batch and their DKIM, SPF, reason and extension rows,
 * as CTEs after a CTE "ins" that gives the report (id, policy_domain,
 * date_begin, authenticity): $2-$45 are the parallel arrays of sink_records_lits, the
 * children joined to the new record ids through the record's ord, and
 * what they add to the rollup tables into rollup_pending (SINK_SQL_PENDING).
 * Shared by sink_sql_records and sink_sql_whole.
 */
#define SINK_SQL_RECORDS \
	"r AS (" SINK_SQL_RECORD_INSERT \
	" SELECT ins.id, t.ord, ins.policy_domain, ins.date_begin, t.ip," \
	" t.ip_raw, t.n, t.n_raw, t.disp, t.disp_raw, t.dkim, t.dkim_raw, t.spf," \
	" t.spf_raw, t.hfrom, t.efrom, t.eto," \
	" coalesce(t.tag, 'identifiers'), coalesce(t.warn::text[], '{}')" \
	" FROM ins, unnest($2::integer[], $3::inet[], $4::text[]," \
	" $5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[]," \
	" $10::text[], $11::text[], $12::text[], $13::text[], $14::text[]," \
	" $15::text[], $16::text[], $17::text[])" \
	" AS t(ord, ip, ip_raw, n, n_raw, disp, disp_raw, dkim, dkim_raw, spf," \
	" spf_raw, hfrom, efrom, eto, tag, warn)" \
	" RETURNING id, ord, report_day, policy_domain, source_ip, header_from," \
	" envelope_from, disposition, dkim_aligned, spf_aligned," \
	" message_count)," \
	" d AS (INSERT INTO dmarc.record_dkim (record_pk, ord, domain," \
	" selector, result, result_raw, human_result, human_result_lang)" \
	" SELECT r.id, t.ord, t.domain, t.sel, t.res, t.res_raw, t.human," \
	" t.lang FROM unnest($18::integer[], $19::integer[], $20::text[]," \
	" $21::text[], $22::text[], $23::text[], $24::text[], $25::text[])" \
	" AS t(rec, ord, domain, sel, res, res_raw, human, lang)" \
	" JOIN r ON r.ord = t.rec" \
	" RETURNING record_pk, ord, domain, selector, result, result_raw)," \
	" s AS (INSERT INTO dmarc.record_spf (record_pk, ord, domain, scope," \
	" scope_raw, result, result_raw, human_result, human_result_lang)" \
	" SELECT r.id, t.ord, t.domain, t.scope, t.scope_raw, t.res," \
	" t.res_raw, t.human, t.lang FROM unnest($26::integer[]," \
	" $27::integer[], $28::text[], $29::text[], $30::text[], $31::text[]," \
	" $32::text[], $33::text[], $34::text[])" \
	" AS t(rec, ord, domain, scope, scope_raw, res, res_raw, human, lang)" \
	" JOIN r ON r.ord = t.rec" \
	" RETURNING record_pk, ord, domain, scope, scope_raw, result," \
	" result_raw)," \
	" x AS (INSERT INTO dmarc.record_reason (record_pk, ord, type," \
	" type_raw, comment, comment_lang)" \
	" SELECT r.id, t.ord, t.type, t.type_raw, t.comment, t.lang" \
	" FROM unnest($35::integer[], $36::integer[], $37::text[]," \
	" $38::text[], $39::text[], $40::text[])" \
	" AS t(rec, ord, type, type_raw, comment, lang)" \
	" JOIN r ON r.ord = t.rec" \
	" RETURNING record_pk, ord, type, type_raw, comment)," \
	" e AS (INSERT INTO dmarc.record_extension (record_pk, ord, ns_uri," \
	" local_name, xml)" \
	" SELECT r.id, t.ord, t.ns, coalesce(t.name, ''), coalesce(t.xml, '')" \
	" FROM unnest($41::integer[], $42::integer[], $43::text[]," \
	" $44::text[], $45::text[]) AS t(rec, ord, ns, name, xml)" \
	" JOIN r ON r.ord = t.rec)," \
	SINK_SQL_PENDING("ins, r")

/* $1 the report, $2-$45 the batch. */
static const char sink_sql_records[] =
	"WITH ins AS (SELECT id, policy_domain, date_begin, authenticity"
	" FROM dmarc.report"
	" WHERE id = $1), " SINK_SQL_RECORDS
	" SELECT count(*) FROM r";

/*
 * $1 report, $2 records skipped, $3 warnings, $4 $5 errors, $6 $7 $8
 * extensions: the end header may hold more of them than the head had.
 */
static const char sink_sql_end[] =
	"WITH c AS (SELECT count(*) AS n,"
	" coalesce(sum(message_count), 0) AS total"
	" FROM dmarc.record WHERE report_pk = $1),"
	" u AS (UPDATE dmarc.report r SET record_count = c.n,"
	" message_total = c.total, records_skipped = $2,"
	" parse_warnings = $3::text[] FROM c WHERE r.id = $1 RETURNING r.id),"
	" err AS (INSERT INTO dmarc.report_error (report_pk, ord, message,"
	" lang) SELECT $1, e.ord, coalesce(e.message, ''), e.lang"
	" FROM unnest($4::text[], $5::text[]) WITH ORDINALITY"
	" AS e(message, lang, ord)"
	" ON CONFLICT (report_pk, ord) DO UPDATE SET"
	" message = EXCLUDED.message, lang = EXCLUDED.lang),"
	" ext AS (INSERT INTO dmarc.report_extension (report_pk, ord, ns_uri,"
	" local_name, xml) SELECT $1, x.ord, x.ns_uri,"
	" coalesce(x.local_name, ''), coalesce(x.xml, '')"
	" FROM unnest($6::text[], $7::text[], $8::text[])"
	" WITH ORDINALITY AS x(ns_uri, local_name, xml, ord)"
	" ON CONFLICT (report_pk, ord) DO UPDATE SET"
	" ns_uri = EXCLUDED.ns_uri, local_name = EXCLUDED.local_name,"
	" xml = EXCLUDED.xml)"
	" SELECT count(*) FROM u";

/*
 * A whole report in one statement (sink_set_defer): $1 the payload row,
 * $2-$45 one batch of records (SINK_SQL_RECORDS), $46-$85 the rest of
 * sink_head_params's 41 (the lists from the end header; $85 the
 * authenticity), $86 records skipped, $87 record count, $88 message
 * total.  Answers the new report's id (NULL when the report is a
 * duplicate: then nothing was written) and the number of records stored.
 */
#define SINK_SQL_WHOLE \
	"ins AS (" SINK_SQL_REPORT_INSERT " records_skipped, record_count," \
	" message_total, authenticity)" \
	" VALUES ($1, $46, $47, $48, $49, $50, $51, $52, $53, $54," \
	" to_timestamp($55::double precision)," \
	" to_timestamp($56::double precision), $57, $58, $59, $60," \
	" $61, $62, $63, $64, $65, $66, $67, $68, $69, $70, $71, $72," \
	" $73, $74, $75, $76, $77, $78, $79::text[], $86, $87, $88," \
	" $85)" \
	" ON CONFLICT (reporter_key, report_id, policy_domain, date_begin)" \
	" DO NOTHING RETURNING id, policy_domain, date_begin, authenticity)," \
	" err AS (INSERT INTO dmarc.report_error (report_pk, ord, message," \
	" lang) SELECT ins.id, e.ord, coalesce(e.message, ''), e.lang" \
	" FROM ins, unnest($80::text[], $81::text[]) WITH ORDINALITY" \
	" AS e(message, lang, ord))," \
	" ext AS (INSERT INTO dmarc.report_extension (report_pk, ord, ns_uri," \
	" local_name, xml) SELECT ins.id, x.ord, x.ns_uri," \
	" coalesce(x.local_name, ''), coalesce(x.xml, '')" \
	" FROM ins, unnest($82::text[], $83::text[], $84::text[])" \
	" WITH ORDINALITY AS x(ns_uri, local_name, xml, ord))," \
	" dlv AS (INSERT INTO dmarc.report_delivery (report_pk, file_pk," \
	" counted) SELECT ins.id, $1, true FROM ins)," \
	SINK_SQL_RECORDS \
	" SELECT (SELECT id FROM ins), (SELECT count(*) FROM r)"

static const char sink_sql_whole[] = "WITH " SINK_SQL_WHOLE;

/*
 * The same with the whole payload row first: sink_file_begin's 18
 * parameters ($89-$106), size, SHA-256 and error ($107-$109), and in the
 * second variant the last raw chunk ($110 $111).
 */
#define SINK_SQL_WHOLE_FILE \
	"WITH f AS (INSERT INTO dmarc.report_file (" SINK_FILE_COLS ","	\
	" payload_bytes, payload_sha256, error)"				\
	" VALUES ($98, $89, $90, $91, $92, $93, $94, $95, $96, $97, $99,"	\
	" $100, $101, $102, $103, $104, $105, $106, $107, $108::bytea,"	\
	" $109)), "
static const char sink_sql_whole_payload[] =
	SINK_SQL_WHOLE_FILE SINK_SQL_WHOLE;
static const char sink_sql_whole_payload_raw[] =
	SINK_SQL_WHOLE_FILE "w AS (INSERT INTO dmarc.report_raw (file_pk, seq,"
	" data) VALUES ($98, $110, $111::bytea)), " SINK_SQL_WHOLE;

/*
 * The payloads held for the batch (sink_set_sets, sink-set.c) in one
 * statement: $k is a text[] of the held payloads' values of
 * sink_sql_whole_payload_raw's $k (NULL $110 $111 without a raw chunk),
 * and $112 says whether the payload's report is to be inserted (false:
 * the same report as an earlier payload's), unnested into p, one row a
 * payload; the CTEs are that statement's, each over every payload (a
 * report's children found through its payload row, file_pk).  Reports
 * in natural key order, so that two writers take their locks in one
 * order.  Answers the reports inserted (one already stored is left out,
 * so fewer than given) and the records.
 */
/* a1z,a2z ... a29z: the columns of a set statement (also the verdicts'). */
#define SINK_SQL_COLS_29(a, z) \
	a "1" z "," a "2" z "," a "3" z "," a "4" z "," a "5" z "," \
	a "6" z "," a "7" z "," a "8" z "," a "9" z "," a "10" z "," \
	a "11" z "," a "12" z "," a "13" z "," a "14" z "," a "15" z "," \
	a "16" z "," a "17" z "," a "18" z "," a "19" z "," a "20" z "," \
	a "21" z "," a "22" z "," a "23" z "," a "24" z "," a "25" z "," \
	a "26" z "," a "27" z "," a "28" z "," a "29" z
#define SINK_SQL_SET_COLS(a, z) \
	SINK_SQL_COLS_29(a, z) "," a "30" z "," \
	a "31" z "," a "32" z "," a "33" z "," a "34" z "," a "35" z "," \
	a "36" z "," a "37" z "," a "38" z "," a "39" z "," a "40" z "," \
	a "41" z "," a "42" z "," a "43" z "," a "44" z "," a "45" z "," \
	a "46" z "," a "47" z "," a "48" z "," a "49" z "," a "50" z "," \
	a "51" z "," a "52" z "," a "53" z "," a "54" z "," a "55" z "," \
	a "56" z "," a "57" z "," a "58" z "," a "59" z "," a "60" z "," \
	a "61" z "," a "62" z "," a "63" z "," a "64" z "," a "65" z "," \
	a "66" z "," a "67" z "," a "68" z "," a "69" z "," a "70" z "," \
	a "71" z "," a "72" z "," a "73" z "," a "74" z "," a "75" z "," \
	a "76" z "," a "77" z "," a "78" z "," a "79" z "," a "80" z "," \
	a "81" z "," a "82" z "," a "83" z "," a "84" z "," a "85" z "," \
	a "86" z "," a "87" z "," a "88" z "," a "89" z "," a "90" z "," \
	a "91" z "," a "92" z "," a "93" z "," a "94" z "," a "95" z "," \
	a "96" z "," a "97" z "," a "98" z "," a "99" z "," a "100" z "," \
	a "101" z "," a "102" z "," a "103" z "," a "104" z "," \
	a "105" z "," a "106" z "," a "107" z "," a "108" z "," \
	a "109" z "," a "110" z "," a "111" z "," a "112" z
#define SINK_SQL_SET_JOIN \
	" FROM ins JOIN p ON p.c1::bigint = ins.file_pk,"
/*
 * A payload's child rows (the arrays, unnested as t(rec, cols...): its
 * record's ord, then the row's columns), each joined to its record: the
 * arrays are unnested once a payload behind the OFFSET 0 (unfenced, the
 * planner unnested them again for every record), then hashed.
 */
#define SINK_SQL_SET_CHILD(arrays, cols) \
	" FROM (SELECT p.c1::bigint AS fpk, u.* FROM p, unnest(" arrays ")" \
	" AS u(rec, " cols ") OFFSET 0) t" \
	" JOIN ins ON ins.file_pk = t.fpk" \
	" JOIN r ON r.report_pk = ins.id AND r.ord = t.rec"
static const char sink_sql_set[] =
	"WITH p AS (SELECT * FROM unnest("
	SINK_SQL_SET_COLS("$", "::text[]")
	") AS p(" SINK_SQL_SET_COLS("c", "") ")),"
	" f AS (INSERT INTO dmarc.report_file (" SINK_FILE_COLS ","
	" payload_bytes, payload_sha256, error)"
	" SELECT p.c98::bigint, p.c89::bigint, p.c90, p.c91, p.c92, p.c93,"
	" p.c94, p.c95, p.c96, p.c97::bigint, p.c99, p.c100, p.c101::bigint,"
	" p.c102::bigint, p.c103, p.c104, p.c105, p.c106, p.c107::bigint,"
	" p.c108::bytea, p.c109 FROM p),"
	" w AS (INSERT INTO dmarc.report_raw (file_pk, seq, data)"
	" SELECT p.c98::bigint, p.c110::integer, p.c111::bytea FROM p"
	" WHERE p.c111 IS NOT NULL),"
	" ins AS (" SINK_SQL_REPORT_INSERT " records_skipped, record_count,"
	" message_total, authenticity)"
	" SELECT p.c1::bigint, p.c46, p.c47, p.c48, p.c49, p.c50, p.c51,"
	" p.c52, p.c53, p.c54, to_timestamp(p.c55::double precision),"
	" to_timestamp(p.c56::double precision), p.c57, p.c58, p.c59,"
	" p.c60, p.c61, p.c62, p.c63, p.c64, p.c65, p.c66, p.c67, p.c68,"
	" p.c69, p.c70, p.c71::smallint, p.c72, p.c73, p.c74, p.c75, p.c76,"
	" p.c77, p.c78::smallint, p.c79::text[], p.c86::integer,"
	" p.c87::integer, p.c88::bigint, p.c85 FROM p WHERE p.c112::boolean"
	" ORDER BY p.c50, p.c54, p.c60, p.c55::double precision"
	" ON CONFLICT (reporter_key, report_id, policy_domain, date_begin)"
	" DO NOTHING RETURNING id, file_pk, policy_domain, date_begin,"
	" authenticity),"
	" err AS (INSERT INTO dmarc.report_error (report_pk, ord, message,"
	" lang) SELECT ins.id, e.ord, coalesce(e.message, ''), e.lang"
	SINK_SQL_SET_JOIN " unnest(p.c80::text[], p.c81::text[])"
	" WITH ORDINALITY AS e(message, lang, ord)),"
	" ext AS (INSERT INTO dmarc.report_extension (report_pk, ord, ns_uri,"
	" local_name, xml) SELECT ins.id, x.ord, x.ns_uri,"
	" coalesce(x.local_name, ''), coalesce(x.xml, '')"
	SINK_SQL_SET_JOIN " unnest(p.c82::text[], p.c83::text[],"
	" p.c84::text[]) WITH ORDINALITY AS x(ns_uri, local_name, xml, ord)),"
	" dlv AS (INSERT INTO dmarc.report_delivery (report_pk, file_pk,"
	" counted) SELECT ins.id, ins.file_pk, true FROM ins),"
	" r AS (" SINK_SQL_RECORD_INSERT
	" SELECT ins.id, t.ord, ins.policy_domain, ins.date_begin, t.ip,"
	" t.ip_raw, t.n, t.n_raw, t.disp, t.disp_raw, t.dkim, t.dkim_raw, t.spf,"
	" t.spf_raw, t.hfrom, t.efrom, t.eto,"
	" coalesce(t.tag, 'identifiers'), coalesce(t.warn::text[], '{}')"
	SINK_SQL_SET_JOIN " unnest(p.c2::integer[], p.c3::inet[],"
	" p.c4::text[], p.c5::bigint[], p.c6::text[], p.c7::text[],"
	" p.c8::text[], p.c9::text[], p.c10::text[], p.c11::text[],"
	" p.c12::text[], p.c13::text[], p.c14::text[], p.c15::text[],"
	" p.c16::text[], p.c17::text[])"
	" AS t(ord, ip, ip_raw, n, n_raw, disp, disp_raw, dkim, dkim_raw, spf,"
	" spf_raw, hfrom, efrom, eto, tag, warn)"
	" RETURNING id, report_pk, ord, report_day, policy_domain, source_ip,"
	" header_from, envelope_from, disposition, dkim_aligned, spf_aligned,"
	" message_count),"
	" d AS (INSERT INTO dmarc.record_dkim (record_pk, ord, domain,"
	" selector, result, result_raw, human_result, human_result_lang)"
	" SELECT r.id, t.ord, t.domain, t.sel, t.res, t.res_raw, t.human,"
	" t.lang" SINK_SQL_SET_CHILD("p.c18::integer[], p.c19::integer[],"
	" p.c20::text[], p.c21::text[], p.c22::text[], p.c23::text[],"
	" p.c24::text[], p.c25::text[]",
	"ord, domain, sel, res, res_raw, human, lang")
	" RETURNING record_pk, ord, domain, selector, result, result_raw),"
	" s AS (INSERT INTO dmarc.record_spf (record_pk, ord, domain, scope,"
	" scope_raw, result, result_raw, human_result, human_result_lang)"
	" SELECT r.id, t.ord, t.domain, t.scope, t.scope_raw, t.res,"
	" t.res_raw, t.human, t.lang"
	SINK_SQL_SET_CHILD("p.c26::integer[], p.c27::integer[], p.c28::text[],"
	" p.c29::text[], p.c30::text[], p.c31::text[], p.c32::text[],"
	" p.c33::text[], p.c34::text[]",
	"ord, domain, scope, scope_raw, res, res_raw, human, lang")
	" RETURNING record_pk, ord, domain, scope, scope_raw, result,"
	" result_raw),"
	" x AS (INSERT INTO dmarc.record_reason (record_pk, ord, type,"
	" type_raw, comment, comment_lang)"
	" SELECT r.id, t.ord, t.type, t.type_raw, t.comment, t.lang"
	SINK_SQL_SET_CHILD("p.c35::integer[], p.c36::integer[],"
	" p.c37::text[], p.c38::text[], p.c39::text[], p.c40::text[]",
	"ord, type, type_raw, comment, lang")
	" RETURNING record_pk, ord, type, type_raw, comment),"
	" e AS (INSERT INTO dmarc.record_extension (record_pk, ord, ns_uri,"
	" local_name, xml)"
	" SELECT r.id, t.ord, t.ns, coalesce(t.name, ''), coalesce(t.xml, '')"
	SINK_SQL_SET_CHILD("p.c41::integer[], p.c42::integer[],"
	" p.c43::text[], p.c44::text[], p.c45::text[]",
	"ord, ns, name, xml") "),"
	SINK_SQL_PENDING("ins JOIN r ON r.report_pk = ins.id")
	" SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM r)";

/*
 * Reparse: the report stored from payload $1, locked.  A payload stores at
 * most one report, but be safe: the first.
 */
static const char sink_sql_reparse_lock[] =
	"SELECT id FROM dmarc.report WHERE file_pk = $1"
	" ORDER BY id LIMIT 1 FOR UPDATE";

/* Reparse: forget what was derived from report $1. */
static const char sink_sql_reparse_clear[] =
	"WITH a AS (DELETE FROM dmarc.record WHERE report_pk = $1),"
	" b AS (DELETE FROM dmarc.report_error WHERE report_pk = $1)"
	" DELETE FROM dmarc.report_extension WHERE report_pk = $1";

/*
 * Reparse: the head's columns into report $1, in the parameter order of
 * sink_sql_head; the natural key ($6 $10 $11 $16), id, first_seen,
 * last_seen and seen_count are kept (k only gives the unused parameters
 * their types).
 */
static const char sink_sql_reparse_head[] =
	"WITH k AS (SELECT $6::text, $10::text, $11::double precision,"
	" $16::text, $41::text),"
	" upd AS (UPDATE dmarc.report SET format = $2, xml_namespace = $3,"
	" xml_version = $4, org_name = $5, org_email = $7,"
	" extra_contact_info = $8, extra_contact_info_lang = $9,"
	" date_end = to_timestamp($12::double precision),"
	" begin_raw = $13, end_raw = $14, generator = $15,"
	" policy_p = $17, policy_p_raw = $18, policy_sp = $19,"
	" policy_sp_raw = $20, policy_np = $21, policy_np_raw = $22,"
	" policy_adkim = $23, policy_adkim_raw = $24, policy_aspf = $25,"
	" policy_aspf_raw = $26, policy_pct = $27, policy_pct_raw = $28,"
	" policy_fo = $29, policy_testing = $30, policy_testing_raw = $31,"
	" discovery_method = $32, discovery_method_raw = $33,"
	" policy_published_count = $34, parse_warnings = $35::text[],"
	" record_count = 0, message_total = 0, records_skipped = 0"
	" WHERE id = $1 RETURNING id),"
	" err AS (INSERT INTO dmarc.report_error (report_pk, ord, message,"
	" lang) SELECT upd.id, e.ord, coalesce(e.message, ''), e.lang"
	" FROM upd, unnest($36::text[], $37::text[]) WITH ORDINALITY"
	" AS e(message, lang, ord)),"
	" ext AS (INSERT INTO dmarc.report_extension (report_pk, ord, ns_uri,"
	" local_name, xml) SELECT upd.id, x.ord, x.ns_uri,"
	" coalesce(x.local_name, ''), coalesce(x.xml, '')"
	" FROM upd, unnest($38::text[], $39::text[], $40::text[])"
	" WITH ORDINALITY AS x(ns_uri, local_name, xml, ord))"
	" SELECT count(*) FROM upd";

/*
 * Reparse of a payload that stored nothing, whose report another payload
 * stored: link it, uncounted ($1 report key, $5 payload).
 */
static const char sink_sql_reparse_link[] =
	"INSERT INTO dmarc.report_delivery (report_pk, file_pk, counted)"
	" SELECT id, $5, false FROM dmarc.report WHERE reporter_key = $1"
	" AND report_id = $2 AND policy_domain = $3"
	" AND date_begin = to_timestamp($4::double precision)"
	" ON CONFLICT (report_pk, file_pk) DO NOTHING";

/*
 * The rollup tables (migration 014): add up what this transaction's
 * records wrote into rollup_pending, before COMMIT; write there that a
 * reparsed report's old records ($1) go, before they are deleted; compare
 * with the records ($1 the most differences to list).
 */
static const char sink_sql_rollup_flush[] =
	"SELECT dmarc.rollup_flush()";
static const char sink_sql_rollup_sub[] =
	"SELECT dmarc.rollup_stage(ARRAY[$1::bigint], -1)";
static const char sink_sql_rollup_check[] =
	"SELECT relation, side, row_text, count(*) OVER ()"
	" FROM dmarc.rollup_check() LIMIT $1";

/* Reparse: whether payload $1 delivered a report it did not store. */
static const char sink_sql_reparse_deliveries[] =
	"SELECT count(*) FROM dmarc.report_delivery WHERE file_pk = $1";

/* --- Raw payloads and reparse transactions (sink-raw.c) --- */

static const char sink_sql_raw_chunk[] =
	"INSERT INTO dmarc.report_raw (file_pk, seq, data)"
	" VALUES ($1, $2, $3::bytea)";

static const char sink_sql_raw_read[] =
	"SELECT data FROM dmarc.report_raw WHERE file_pk = $1 AND seq = $2";

/*
 * The payloads to reparse ($1 all, $2 since as epoch or NULL, $3 report
 * ids or NULL): see sink_raw_list in sink.h.  A failure report has no
 * report ID, and its date is when the failed message arrived (or when
 * the report was first stored).
 */
#define SINK_SQL_SINCE(col) \
	" AND ($2::double precision IS NULL" \
	" OR " col " >= to_timestamp($2::double precision))"
static const char sink_sql_raw_list[] =
	"SELECT f.id FROM dmarc.report_file f"
	" WHERE EXISTS (SELECT 1 FROM dmarc.report_raw w"
	" WHERE w.file_pk = f.id AND w.seq = 0)"
	" AND coalesce(f.kind, 'xml') IN ('xml', 'json', 'arf')"
	" AND CASE WHEN $1::boolean THEN NOT EXISTS (SELECT 1"
	" FROM dmarc.report_delivery d JOIN dmarc.report r"
	" ON r.id = d.report_pk WHERE d.file_pk = f.id"
	" AND r.file_pk IS DISTINCT FROM f.id)"
	" AND NOT EXISTS (SELECT 1 FROM dmarc.tlsrpt_delivery d"
	" JOIN dmarc.tlsrpt_report r ON r.id = d.report_pk"
	" WHERE d.file_pk = f.id AND r.file_pk IS DISTINCT FROM f.id)"
	" AND NOT EXISTS (SELECT 1 FROM dmarc.failure_delivery d"
	" JOIN dmarc.failure_report r ON r.id = d.failure_pk"
	" WHERE d.file_pk = f.id AND r.file_pk IS DISTINCT FROM f.id)"
	" ELSE EXISTS (SELECT 1 FROM dmarc.report r WHERE r.file_pk = f.id"
	SINK_SQL_SINCE("r.date_begin")
	" AND ($3::text[] IS NULL OR r.report_id = ANY ($3::text[])))"
	" OR EXISTS (SELECT 1 FROM dmarc.tlsrpt_report r"
	" WHERE r.file_pk = f.id" SINK_SQL_SINCE("r.date_begin")
	" AND ($3::text[] IS NULL OR r.report_id = ANY ($3::text[])))"
	" OR EXISTS (SELECT 1 FROM dmarc.failure_report r"
	" WHERE r.file_pk = f.id"
	SINK_SQL_SINCE("coalesce(r.arrival_date, r.first_seen)")
	" AND $3::text[] IS NULL) END"
	" ORDER BY f.id";

/*
 * How many chunks payload $1 has, the last one's seq, the size the copy
 * may have (NULL: no limit from the row), its kind and its SHA-256 (hex).
 * The copy of a failure report holds more than the payload (see
 * sink_raw_open in sink.h).
 */
static const char sink_sql_raw_check[] =
	"SELECT count(w.seq), coalesce(max(w.seq), -1),"
	" (SELECT CASE WHEN kind = 'arf' THEN NULL ELSE payload_bytes END"
	" FROM dmarc.report_file WHERE id = $1),"
	" (SELECT coalesce(kind, 'xml') FROM dmarc.report_file WHERE id = $1),"
	" (SELECT encode(payload_sha256, 'hex') FROM dmarc.report_file"
	" WHERE id = $1)"
	" FROM dmarc.report_raw w WHERE w.file_pk = $1";

/* Reparse: payload $1, locked, and its message. */
static const char sink_sql_reparse_file[] =
	"SELECT id, coalesce(message_pk::text, '') FROM dmarc.report_file"
	" WHERE id = $1 FOR UPDATE";

/* Reparse: payload $1's error text ($2, NULL when it parsed). */
static const char sink_sql_file_error[] =
	"UPDATE dmarc.report_file SET error = $2 WHERE id = $1";

/* --- TLS and failure reports (sink-tlsrpt.c) --- */

static const char sink_sql_tls_head[] =
	"WITH ins AS (INSERT INTO dmarc.tlsrpt_report (file_pk,"
	" organization_name, contact_info, report_id, date_begin, date_end,"
	" begin_raw, end_raw, policy_count, successful_total, failed_total,"
	" extra, parse_warnings)"
	" VALUES ($1, $2, $3, $4, to_timestamp($5::double precision),"
	" to_timestamp($6::double precision), $7, $8, $9, $10, $11,"
	" $12::jsonb, $13::text[])"
	" ON CONFLICT (organization_name, report_id) DO NOTHING"
	" RETURNING id),"
	" dlv AS (INSERT INTO dmarc.tlsrpt_delivery (report_pk, file_pk,"
	" counted) SELECT id, $1, true FROM ins)"
	" SELECT id FROM ins";

static const char sink_sql_tls_body[] =
	"WITH p AS (INSERT INTO dmarc.tlsrpt_policy (report_pk, ord,"
	" policy_type, policy_type_raw, policy_domain, policy_string, mx_host,"
	" mx_host_was_string, successful_sessions, successful_raw,"
	" failed_sessions, failed_raw, extra)"
	" SELECT $1, t.ord, t.type, t.type_raw, t.domain, t.strings::text[],"
	" t.mx::text[], t.mxs, t.ok, t.ok_raw, t.fail, t.fail_raw,"
	" t.extra::jsonb"
	" FROM unnest($2::integer[], $3::text[], $4::text[], $5::text[],"
	" $6::text[], $7::text[], $8::boolean[], $9::bigint[], $10::text[],"
	" $11::bigint[], $12::text[], $13::text[])"
	" AS t(ord, type, type_raw, domain, strings, mx, mxs, ok, ok_raw, fail,"
	" fail_raw, extra) RETURNING id, ord),"
	" f AS (INSERT INTO dmarc.tlsrpt_failure (policy_pk, ord, result_type,"
	" result_type_raw, sending_mta_ip, sending_mta_ip_raw,"
	" receiving_mx_hostname, receiving_mx_helo, receiving_ip,"
	" receiving_ip_raw, failed_session_count, failed_session_count_raw,"
	" additional_information, failure_reason_code, extra)"
	" SELECT p.id, t.ord, t.type, t.type_raw, t.mta, t.mta_raw, t.mx,"
	" t.helo, t.ip, t.ip_raw, t.n, t.n_raw, t.info, t.code, t.extra::jsonb"
	" FROM unnest($14::integer[], $15::integer[], $16::text[], $17::text[],"
	" $18::inet[], $19::text[], $20::text[], $21::text[], $22::inet[],"
	" $23::text[], $24::bigint[], $25::text[], $26::text[], $27::text[],"
	" $28::text[])"
	" AS t(pol, ord, type, type_raw, mta, mta_raw, mx, helo, ip, ip_raw, n,"
	" n_raw, info, code, extra) JOIN p ON p.ord = t.pol RETURNING 1)"
	" SELECT (SELECT count(*) FROM p), (SELECT count(*) FROM f)";

static const char sink_sql_tls_lock[] =
	"SELECT id FROM dmarc.tlsrpt_report WHERE organization_name = $1"
	" AND report_id = $2 FOR UPDATE";

/* $1 report, $2 current message, $3 current payload (see sink_sql_dup). */
static const char sink_sql_tls_dup[] =
	"WITH same AS (SELECT EXISTS (SELECT 1 FROM dmarc.tlsrpt_delivery d"
	" JOIN dmarc.report_file f ON f.id = d.file_pk"
	" JOIN dmarc.mail_message m ON m.id = f.message_pk"
	" JOIN dmarc.mail_message c ON c.id = $2"
	" WHERE d.report_pk = $1 AND (m.id = c.id OR m.sha256 = c.sha256"
	" OR (m.message_id <> '' AND m.message_id = c.message_id))) AS v),"
	" upd AS (UPDATE dmarc.tlsrpt_report SET seen_count = seen_count + 1,"
	" last_seen = now() WHERE id = $1 AND NOT (SELECT v FROM same)"
	" RETURNING id)"
	" INSERT INTO dmarc.tlsrpt_delivery (report_pk, file_pk, counted)"
	" SELECT $1, $3, EXISTS (SELECT 1 FROM upd)"
	" ON CONFLICT (report_pk, file_pk) DO NOTHING";

static const char sink_sql_failure[] =
	"WITH ins AS (INSERT INTO dmarc.failure_report (file_pk, message_pk,"
	" feedback_sha256, format, reason, feedback_type, feedback_type_raw,"
	" version, user_agent, auth_failure, auth_failure_raw,"
	" identity_alignment, identity_alignment_raw, delivery_result,"
	" delivery_result_raw, arrival_date, arrival_date_raw, source_ip,"
	" source_ip_raw, source_port, reported_domain, reported_uri,"
	" original_mail_from, original_rcpt_to, original_envelope_id,"
	" authentication_results, dkim_domain, dkim_identity, dkim_selector,"
	" dkim_canonicalized_header, dkim_canonicalized_body, spf_dns,"
	" incidents, raw_fields, feedback_raw, sample_headers,"
	" sample_is_headers_only, sample_body, original_from,"
	" original_subject, original_message_id, parse_warnings)"
	" VALUES ($1, $2, sha256(convert_to($3, 'UTF8')), $4, $5, $6, $7, $8,"
	" $9, $10::text[], $11, $12::text[], $13, $14, $15,"
	" to_timestamp($16::double precision), $17, $18::inet, $19,"
	" $20::integer, $21::text[], $22::text[], $23, $24::text[], $25, $26,"
	" $27, $28, $29, $30, $31, $32, $33, $34::jsonb, $3, $35,"
	" $36::boolean, $37, $38, $39, $40, $41::text[])"
	" ON CONFLICT (feedback_sha256) DO NOTHING RETURNING id),"
	" dlv AS (INSERT INTO dmarc.failure_delivery (failure_pk, file_pk,"
	" counted) SELECT id, $1, true FROM ins)"
	" SELECT id FROM ins";

static const char sink_sql_failure_lock[] =
	"SELECT id FROM dmarc.failure_report"
	" WHERE feedback_sha256 = sha256(convert_to($1, 'UTF8')) FOR UPDATE";

static const char sink_sql_failure_dup[] =
	"WITH same AS (SELECT EXISTS (SELECT 1 FROM dmarc.failure_delivery d"
	" JOIN dmarc.report_file f ON f.id = d.file_pk"
	" JOIN dmarc.mail_message m ON m.id = f.message_pk"
	" JOIN dmarc.mail_message c ON c.id = $2"
	" WHERE d.failure_pk = $1 AND (m.id = c.id OR m.sha256 = c.sha256"
	" OR (m.message_id <> '' AND m.message_id = c.message_id))) AS v),"
	" upd AS (UPDATE dmarc.failure_report SET seen_count = seen_count + 1,"
	" last_seen = now() WHERE id = $1 AND NOT (SELECT v FROM same)"
	" RETURNING id)"
	" INSERT INTO dmarc.failure_delivery (failure_pk, file_pk, counted)"
	" SELECT $1, $3, EXISTS (SELECT 1 FROM upd)"
	" ON CONFLICT (failure_pk, file_pk) DO NOTHING";

/*
 * Reparse of TLS and failure reports (sink-tlsrpt.c): the report stored
 * from payload $1, locked; whether the payload delivered one stored from
 * another; linking it to such a one, uncounted.
 */
static const char sink_sql_tls_reparse_lock[] =
	"SELECT id FROM dmarc.tlsrpt_report WHERE file_pk = $1"
	" ORDER BY id LIMIT 1 FOR UPDATE";

/*
 * Report $1 from the new parse: its policies go (their failure details
 * with them) and the columns are written again but for the natural key
 * (organization_name, report_id), file_pk, first_seen, last_seen and
 * seen_count; $2 .. $11 as $3, $5 .. $13 of sink_sql_tls_head.
 */
static const char sink_sql_tls_reparse_head[] =
	"WITH del AS (DELETE FROM dmarc.tlsrpt_policy WHERE report_pk = $1)"
	" UPDATE dmarc.tlsrpt_report SET contact_info = $2,"
	" date_begin = to_timestamp($3::double precision),"
	" date_end = to_timestamp($4::double precision), begin_raw = $5,"
	" end_raw = $6, policy_count = $7, successful_total = $8,"
	" failed_total = $9, extra = $10::jsonb, parse_warnings = $11::text[]"
	" WHERE id = $1 RETURNING id";

static const char sink_sql_tls_reparse_deliveries[] =
	"SELECT count(*) FROM dmarc.tlsrpt_delivery WHERE file_pk = $1";

static const char sink_sql_tls_reparse_link[] =
	"INSERT INTO dmarc.tlsrpt_delivery (report_pk, file_pk, counted)"
	" SELECT id, $3, false FROM dmarc.tlsrpt_report"
	" WHERE organization_name = $1 AND report_id = $2"
	" ON CONFLICT (report_pk, file_pk) DO NOTHING";

static const char sink_sql_failure_reparse_lock[] =
	"SELECT id FROM dmarc.failure_report WHERE file_pk = $1"
	" ORDER BY id LIMIT 1 FOR UPDATE";

/*
 * Failure report $1 from the new parse, in the parameter order of
 * sink_sql_failure: every column but the natural key (feedback_raw and
 * its digest, $3), file_pk, message_pk ($2), first_seen, last_seen and
 * seen_count (k only gives the unused parameters their types).
 */
static const char sink_sql_failure_reparse[] =
	"WITH k AS (SELECT $2::text, $3::text)"
	" UPDATE dmarc.failure_report SET format = $4, reason = $5,"
	" feedback_type = $6, feedback_type_raw = $7, version = $8,"
	" user_agent = $9, auth_failure = $10::text[], auth_failure_raw = $11,"
	" identity_alignment = $12::text[], identity_alignment_raw = $13,"
	" delivery_result = $14, delivery_result_raw = $15,"
	" arrival_date = to_timestamp($16::double precision),"
	" arrival_date_raw = $17, source_ip = $18::inet, source_ip_raw = $19,"
	" source_port = $20::integer, reported_domain = $21::text[],"
	" reported_uri = $22::text[], original_mail_from = $23,"
	" original_rcpt_to = $24::text[], original_envelope_id = $25,"
	" authentication_results = $26, dkim_domain = $27,"
	" dkim_identity = $28, dkim_selector = $29,"
	" dkim_canonicalized_header = $30, dkim_canonicalized_body = $31,"
	" spf_dns = $32, incidents = $33, raw_fields = $34::jsonb,"
	" sample_headers = $35, sample_is_headers_only = $36::boolean,"
	" sample_body = $37, original_from = $38, original_subject = $39,"
	" original_message_id = $40, parse_warnings = $41::text[]"
	" WHERE id = $1::bigint RETURNING id";

static const char sink_sql_failure_reparse_deliveries[] =
	"SELECT count(*) FROM dmarc.failure_delivery WHERE file_pk = $1";

static const char sink_sql_failure_reparse_link[] =
	"INSERT INTO dmarc.failure_delivery (failure_pk, file_pk, counted)"
	" SELECT id, $2, false FROM dmarc.failure_report"
	" WHERE feedback_sha256 = sha256(convert_to($1, 'UTF8'))"
	" ON CONFLICT (failure_pk, file_pk) DO NOTHING";

/* --- Poll runs and mailbox locks (sink-health.c) --- */

static const char sink_sql_run_begin[] =
	"INSERT INTO dmarc.ingest_run (mailbox, mailbox_pk, host, pid)"
	" VALUES ($1, $2, $3, $4) RETURNING id";

static const char sink_sql_run_end[] =
	"UPDATE dmarc.ingest_run SET ended_at = now(), fetched = $2,"
	" stored = $3, duplicates = $4, invalid = $5, ignored = $6,"
	" bytes = $7, ok = ($8::text IS NULL), error = $8 WHERE id = $1";

static const char sink_sql_mailbox_lock[] =
	"SELECT pg_try_advisory_lock(" SINK_LOCK_CLASS ", hashtext($1))";

static const char sink_sql_mailbox_claim_lock[] =
	"SELECT pg_advisory_xact_lock(" SINK_CLAIM_LOCK ")";

/*
 * The mailbox's row, in this order: the row with this identity (its name
 * set to $2), an old ledger of this name not claimed yet (its identity
 * set to $1), a new row.  Under SINK_CLAIM_LOCK, taken by an earlier
 * statement so that this one's snapshot sees every earlier claim.
 */
static const char sink_sql_mailbox_claim[] =
	"WITH known AS (UPDATE dmarc.mailbox SET name = $2, last_seen = now()"
	" WHERE identity = $1 RETURNING id),"
	" old AS (UPDATE dmarc.mailbox SET identity = $1, last_seen = now()"
	" WHERE identity IS NULL AND name = $2"
	" AND NOT EXISTS (SELECT 1 FROM known) RETURNING id),"
	" made AS (INSERT INTO dmarc.mailbox (identity, name) SELECT $1, $2"
	" WHERE NOT EXISTS (SELECT 1 FROM known)"
	" AND NOT EXISTS (SELECT 1 FROM old) RETURNING id)"
	" SELECT id FROM known UNION ALL SELECT id FROM old"
	" UNION ALL SELECT id FROM made";

/* --- A poll's history (sink.c) --- */

/*
 * The ledger rows of the uids in $3 (the search result), and those of
 * pruned rows from the UID ranges they left (the range with the greatest
 * start at or below the uid is the only one that can hold it).
 */
static const char sink_sql_ledger_find[] =
	"SELECT m.uid, m.status, m.after_action = 'done'"
	" FROM dmarc.mail_message m"
	" WHERE m.mailbox_pk = $1 AND m.uidvalidity = $2"
	" AND m.uid = ANY ($3::bigint[])"
	" UNION ALL"
	" SELECT u.u, 'pruned', true FROM unnest($3::bigint[]) AS u(u)"
	" WHERE (SELECT s.uid_hi FROM dmarc.mail_settled s"
	" WHERE s.mailbox_pk = $1 AND s.uidvalidity = $2 AND s.uid_lo <= u.u"
	" ORDER BY s.uid_lo DESC LIMIT 1) >= u.u";

/* The predicate of mail_message_unfinished_idx (migration 013), as is. */
static const char sink_sql_ledger_unfinished[] =
	"SELECT uid, status, after_action = 'done' FROM dmarc.mail_message"
	" WHERE mailbox_pk = $1 AND uidvalidity = $2 AND uid IS NOT NULL"
	" AND (status = 'claimed' OR after_action = 'pending')";

/* The claimed rows among uids $3: each uid's place in $3 (from 1), id. */
static const char sink_sql_claimed_ids[] =
	"SELECT u.i, m.id FROM unnest($3::bigint[]) WITH ORDINALITY AS u(uid, i)"
	" JOIN dmarc.mail_message m ON m.mailbox_pk = $1"
	" AND m.uidvalidity = $2 AND m.uid = u.uid WHERE m.status = 'claimed'";

static const char sink_sql_mark_read[] =
	"SELECT uidvalidity, criteria, coalesce(uidnext, 0),"
	" coalesce(highestmodseq, 0), extract(epoch FROM full_at)::bigint"
	" FROM dmarc.mailbox_search WHERE mailbox_pk = $1";

static const char sink_sql_mark_write[] =
	"INSERT INTO dmarc.mailbox_search AS k (mailbox_pk, uidvalidity,"
	" criteria, uidnext, highestmodseq, full_at)"
	" VALUES ($1, $2, $3, nullif($4::bigint, 0), nullif($5::bigint, 0),"
	" to_timestamp($6::double precision))"
	" ON CONFLICT (mailbox_pk) DO UPDATE SET"
	" uidvalidity = EXCLUDED.uidvalidity, criteria = EXCLUDED.criteria,"
	" uidnext = EXCLUDED.uidnext, highestmodseq = EXCLUDED.highestmodseq,"
	" full_at = EXCLUDED.full_at, searched_at = now()";

/* --- Retention (sink-prune.c) --- */

/*
 * Each prune statement deletes one batch and answers rows, items, files
 * (see enum sink_prune in sink.h); those that walk a table by id also
 * answer where the next batch starts and whether it may find more.  $1
 * is the cutoff (epoch seconds), $2 the batch size, $3 the cursor.  The
 * payload rows of a pruned report go with it (and their raw copies by
 * cascade), so that reparse cannot bring the report back.
 */
#define SINK_CUTOFF	"to_timestamp($1::double precision)"

#define SINK_SQL_PRUNE_DELIVERED(table, delivery, key, items) \
	"WITH r AS (SELECT id FROM dmarc." table " WHERE date_end < " \
	SINK_CUTOFF " ORDER BY date_end LIMIT $2)," \
	" f AS (SELECT DISTINCT d.file_pk FROM dmarc." delivery " d" \
	" JOIN r ON r.id = d." key ")," \
	" dr AS (DELETE FROM dmarc." table " x USING r WHERE x.id = r.id" \
	" RETURNING x." items " AS n)," \
	" df AS (DELETE FROM dmarc.report_file x USING f" \
	" WHERE x.id = f.file_pk RETURNING x.id)" \
	" SELECT (SELECT count(*) FROM dr)," \
	" (SELECT coalesce(sum(n), 0) FROM dr), (SELECT count(*) FROM df)"

#define SINK_SQL_COUNT_DELIVERED(table, delivery, key, items) \
	"SELECT count(*), coalesce(sum(r." items "), 0)," \
	" (SELECT count(DISTINCT d.file_pk) FROM dmarc." delivery " d" \
	" JOIN dmarc." table " x ON x.id = d." key \
	" WHERE x.date_end < " SINK_CUTOFF ")" \
	" FROM dmarc." table " r WHERE r.date_end < " SINK_CUTOFF

/* The rollup (schema 14) loses what the records added, in the same
   transaction: dmarc.prune_reports. */
static const char sink_sql_prune_reports[] =
	"SELECT reports, records, files FROM dmarc.prune_reports("
	SINK_CUTOFF ", $2::integer)";
static const char sink_sql_count_reports[] =
	SINK_SQL_COUNT_DELIVERED("report", "report_delivery", "report_pk",
	    "record_count");
static const char sink_sql_prune_tls[] =
	SINK_SQL_PRUNE_DELIVERED("tlsrpt_report", "tlsrpt_delivery",
	    "report_pk", "policy_count");
static const char sink_sql_count_tls[] =
	SINK_SQL_COUNT_DELIVERED("tlsrpt_report", "tlsrpt_delivery",
	    "report_pk", "policy_count");

/* A failure report's age: its failed message's arrival, or when it was
   stored when that is earlier or unknown (least ignores NULL). */
#define SINK_FAILURE_OLD \
	"least(arrival_date, first_seen) < " SINK_CUTOFF

/*
 * With a failure report go its payloads and the whole mail that delivered
 * it, kept gzip'd for verify (message_raw, schema 12): that copy holds the
 * same personal data, and the ledger row it hangs on may stay for years.
 */
static const char sink_sql_prune_failure[] =
	"WITH r AS (SELECT id FROM dmarc.failure_report"
	" WHERE " SINK_FAILURE_OLD " ORDER BY id LIMIT $2),"
	" f AS (SELECT DISTINCT d.file_pk FROM dmarc.failure_delivery d"
	" JOIN r ON r.id = d.failure_pk),"
	" dm AS (DELETE FROM dmarc.message_raw x USING dmarc.report_file p, f"
	" WHERE p.id = f.file_pk AND x.message_pk = p.message_pk RETURNING 1),"
	" dr AS (DELETE FROM dmarc.failure_report x USING r WHERE x.id = r.id"
	" RETURNING x.id),"
	" df AS (DELETE FROM dmarc.report_file x USING f"
	" WHERE x.id = f.file_pk RETURNING x.id)"
	" SELECT (SELECT count(*) FROM dr), (SELECT count(*) FROM dm),"
	" (SELECT count(*) FROM df)";
static const char sink_sql_count_failure[] =
	"WITH f AS (SELECT DISTINCT d.file_pk FROM dmarc.failure_delivery d"
	" WHERE d.failure_pk IN (SELECT id FROM dmarc.failure_report"
	" WHERE " SINK_FAILURE_OLD "))"
	" SELECT count(*), (SELECT count(*) FROM dmarc.message_raw x"
	" WHERE x.message_pk IN (SELECT p.message_pk FROM dmarc.report_file p"
	" JOIN f ON f.file_pk = p.id)), (SELECT count(*) FROM f)"
	" FROM dmarc.failure_report WHERE " SINK_FAILURE_OLD;

/*
 * Raw copies, walking report_raw by payload id: a window of $2 payloads
 * after the cursor, to the end (ids grow with time only roughly: a
 * connection reserves them ahead).
 */
static const char sink_sql_prune_raw[] =
	"WITH w AS (SELECT DISTINCT file_pk FROM dmarc.report_raw"
	" WHERE file_pk > $3 ORDER BY file_pk LIMIT $2),"
	" o AS (SELECT w.file_pk FROM w JOIN dmarc.report_file f"
	" ON f.id = w.file_pk WHERE f.created_at < " SINK_CUTOFF "),"
	" d AS (DELETE FROM dmarc.report_raw x USING o"
	" WHERE x.file_pk = o.file_pk RETURNING x.file_pk)"
	" SELECT (SELECT count(*) FROM o), (SELECT count(*) FROM d), 0,"
	" coalesce((SELECT max(file_pk) FROM w), 0),"
	" (SELECT count(*) FROM w) >= $2";
/*
 * The dry run counts what the real run would delete, where the kinds
 * before have already gone: $2, $3 and $4 are the cutoffs of reports, TLS
 * reports and failure reports (NULL: kept forever).  A payload f goes
 * with a report that would be pruned (SINK_PAYLOAD_GOES), or keeps one
 * (SINK_PAYLOAD_KEPT).
 */
#define SINK_DELIVERS(delivery, table, key, old, cutoff, yes) \
	"EXISTS (SELECT 1 FROM dmarc." delivery " d JOIN dmarc." table " r" \
	" ON r.id = d." key " WHERE d.file_pk = f.id AND " yes \
	" coalesce(" old " < to_timestamp(" cutoff "::double precision)," \
	" false))"
#define SINK_PAYLOAD(yes, or) \
	"(" SINK_DELIVERS("report_delivery", "report", "report_pk", \
	"r.date_end", "$2", yes) " " or " " \
	SINK_DELIVERS("tlsrpt_delivery", "tlsrpt_report", "report_pk", \
	"r.date_end", "$3", yes) " " or " " \
	SINK_DELIVERS("failure_delivery", "failure_report", "failure_pk", \
	"least(r.arrival_date, r.first_seen)", "$4", yes) ")"
#define SINK_PAYLOAD_GOES	SINK_PAYLOAD("", "OR")
#define SINK_PAYLOAD_KEPT	SINK_PAYLOAD("NOT", "OR")

static const char sink_sql_count_raw[] =
	"SELECT count(DISTINCT x.file_pk), count(*), 0"
	" FROM dmarc.report_raw x JOIN dmarc.report_file f ON f.id = x.file_pk"
	" WHERE f.created_at < " SINK_CUTOFF " AND NOT " SINK_PAYLOAD_GOES;

/*
 * A poll x that may go: started before the cutoff, and a later poll of
 * the same mailbox succeeded (so the last success, and every poll after
 * it, stay).
 */
#define SINK_RUN_OLD \
	"x.started_at < " SINK_CUTOFF " AND EXISTS (SELECT 1" \
	" FROM dmarc.ingest_run y WHERE y.ok AND y.started_at > x.started_at" \
	" AND (y.mailbox_pk = x.mailbox_pk OR (x.mailbox_pk IS NULL" \
	" AND y.mailbox_pk IS NULL AND y.mailbox = x.mailbox)))"
static const char sink_sql_prune_runs[] =
	"WITH r AS (SELECT x.id FROM dmarc.ingest_run x WHERE " SINK_RUN_OLD
	" ORDER BY x.id LIMIT $2),"
	" d AS (DELETE FROM dmarc.ingest_run z USING r WHERE z.id = r.id"
	" RETURNING 1)"
	" SELECT (SELECT count(*) FROM d), 0, 0";
static const char sink_sql_count_runs[] =
	"SELECT count(*), 0, 0 FROM dmarc.ingest_run x WHERE " SINK_RUN_OLD;

/*
 * Whole report mails kept for verify, walking message_raw by message id
 * like the raw copies above; the age is when the message was fetched.
 */
static const char sink_sql_prune_mail_raw[] =
	"WITH w AS (SELECT DISTINCT message_pk FROM dmarc.message_raw"
	" WHERE message_pk > $3 ORDER BY message_pk LIMIT $2),"
	" o AS (SELECT w.message_pk FROM w JOIN dmarc.mail_message m"
	" ON m.id = w.message_pk WHERE m.fetched_at < " SINK_CUTOFF "),"
	" d AS (DELETE FROM dmarc.message_raw x USING o"
	" WHERE x.message_pk = o.message_pk RETURNING 1)"
	" SELECT (SELECT count(*) FROM o), (SELECT count(*) FROM d), 0,"
	" coalesce((SELECT max(message_pk) FROM w), 0),"
	" (SELECT count(*) FROM w) >= $2";
/* $2: the failure reports' cutoff (NULL: kept); their mail went first. */
static const char sink_sql_count_mail_raw[] =
	"SELECT count(DISTINCT x.message_pk), count(*), 0"
	" FROM dmarc.message_raw x JOIN dmarc.mail_message m"
	" ON m.id = x.message_pk WHERE m.fetched_at < " SINK_CUTOFF
	" AND NOT EXISTS (SELECT 1 FROM dmarc.report_file f"
	" JOIN dmarc.failure_delivery d ON d.file_pk = f.id"
	" JOIN dmarc.failure_report r ON r.id = d.failure_pk"
	" WHERE f.message_pk = m.id AND coalesce(least(r.arrival_date,"
	" r.first_seen) < to_timestamp($2::double precision), false))";

/*
 * A ledger row c that may go: an IMAP message settled before the cutoff
 * (final status, after-action done) none of whose payloads delivers a
 * report still stored.  Its UID is kept in mail_settled (see sink.h).
 */
#define SINK_LEDGER_OLD \
	"c.uid IS NOT NULL AND c.status <> 'claimed'" \
	" AND c.after_action = 'done' AND c.status_at < " SINK_CUTOFF \
	" AND NOT EXISTS (SELECT 1 FROM dmarc.report_file f" \
	" WHERE f.message_pk = c.id AND (" \
	"EXISTS (SELECT 1 FROM dmarc.report_delivery d WHERE d.file_pk = f.id)" \
	" OR EXISTS (SELECT 1 FROM dmarc.tlsrpt_delivery d" \
	" WHERE d.file_pk = f.id)" \
	" OR EXISTS (SELECT 1 FROM dmarc.failure_delivery d" \
	" WHERE d.file_pk = f.id)))"

/*
 * A window of $2 ledger rows after the cursor, by id, to the end of the
 * table (a row's status_at is when it became final, which need not follow
 * the ids); those that may go are deleted, with their payload rows, and
 * their UIDs, in runs of consecutive UIDs (uid - row_number() is constant
 * along a run), become ranges, or lengthen the range that ends just below
 * (the windows go up the ids, so mostly up the UIDs).
 */
static const char sink_sql_prune_ledger[] =
	"WITH c AS (SELECT id, uid, status, after_action, status_at"
	" FROM dmarc.mail_message WHERE id > $3 ORDER BY id LIMIT $2),"
	" m AS (SELECT c.id FROM c WHERE " SINK_LEDGER_OLD "),"
	" df AS (DELETE FROM dmarc.report_file x USING m"
	" WHERE x.message_pk = m.id RETURNING x.id),"
	" d AS (DELETE FROM dmarc.mail_message x USING m WHERE x.id = m.id"
	" RETURNING x.mailbox_pk, x.uidvalidity, x.uid),"
	" g AS (SELECT mailbox_pk, uidvalidity, uid, uid - row_number() OVER"
	" (PARTITION BY mailbox_pk, uidvalidity ORDER BY uid) AS run FROM d),"
	" runs AS (SELECT mailbox_pk, uidvalidity, min(uid) AS lo,"
	" max(uid) AS hi FROM g GROUP BY mailbox_pk, uidvalidity, run),"
	" ext AS (UPDATE dmarc.mail_settled s SET uid_hi = r.hi, pruned_at ="
	" now() FROM runs r WHERE s.mailbox_pk = r.mailbox_pk"
	" AND s.uidvalidity = r.uidvalidity AND s.uid_hi = r.lo - 1"
	" RETURNING r.mailbox_pk, r.uidvalidity, r.lo),"
	" ins AS (INSERT INTO dmarc.mail_settled AS s (mailbox_pk,"
	" uidvalidity, uid_lo, uid_hi) SELECT r.mailbox_pk, r.uidvalidity,"
	" r.lo, r.hi FROM runs r WHERE NOT EXISTS (SELECT 1 FROM ext e"
	" WHERE e.mailbox_pk = r.mailbox_pk AND e.uidvalidity = r.uidvalidity"
	" AND e.lo = r.lo)"
	" ON CONFLICT (mailbox_pk, uidvalidity, uid_lo) DO UPDATE"
	" SET uid_hi = greatest(s.uid_hi, EXCLUDED.uid_hi) RETURNING 1)"
	" SELECT (SELECT count(*) FROM d), (SELECT count(*) FROM ins),"
	" (SELECT count(*) FROM df), coalesce((SELECT max(id) FROM c), 0),"
	" (SELECT count(*) FROM c) >= $2";
#define SINK_LEDGER_OLD_DRY \
	"c.uid IS NOT NULL AND c.status <> 'claimed'" \
	" AND c.after_action = 'done' AND c.status_at < " SINK_CUTOFF \
	" AND NOT EXISTS (SELECT 1 FROM dmarc.report_file f" \
	" WHERE f.message_pk = c.id AND " SINK_PAYLOAD_KEPT ")"
static const char sink_sql_count_ledger[] =
	"SELECT count(*), 0, (SELECT count(*) FROM dmarc.report_file f"
	" JOIN dmarc.mail_message c ON c.id = f.message_pk"
	" WHERE " SINK_LEDGER_OLD_DRY " AND NOT " SINK_PAYLOAD_GOES ")"
	" FROM dmarc.mail_message c WHERE " SINK_LEDGER_OLD_DRY;

/* --- Enrichment (sink-enrich.c) --- */

static const char sink_sql_discover[] =
	"WITH st AS (SELECT safe_watermark AS safe,"
	" candidate_watermark AS cand,"
	" coalesce(candidate_at < now() - interval '1 hour', true) AS ripe"
	" FROM dmarc.enrich_state),"
	" hi AS (SELECT coalesce(max(id), 0) AS m FROM dmarc.record),"
	" ins AS (INSERT INTO dmarc.ip_info (ip)"
	" SELECT DISTINCT r.source_ip FROM dmarc.record r, st"
	" WHERE r.id > st.safe AND r.source_ip IS NOT NULL"
	" ORDER BY 1 ON CONFLICT (ip) DO NOTHING RETURNING 1),"
	" upd AS (UPDATE dmarc.enrich_state e SET"
	" safe_watermark = CASE WHEN st.ripe AND st.cand IS NOT NULL"
	" THEN greatest(e.safe_watermark, st.cand) ELSE e.safe_watermark END,"
	" candidate_watermark = CASE WHEN st.ripe THEN hi.m"
	" ELSE e.candidate_watermark END,"
	" candidate_at = CASE WHEN st.ripe THEN now() ELSE e.candidate_at END,"
	" discovered_at = now() FROM st, hi RETURNING 1)"
	" SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM upd),"
	" (extract(epoch FROM now()) * 1000000)::bigint";

/*
 * $1 pass start (microseconds since the epoch, compared exactly), $2 ttl
 * and $3 retry (seconds), $4 limit.  The backoff after n failures is
 * retry * 2^(n-1), at most ttl.
 */
static const char sink_sql_due[] =
	"SELECT host(ip) FROM dmarc.ip_info"
	" WHERE (looked_up_at IS NULL"
	" OR looked_up_at < to_timestamp(0)"
	" + $1::bigint * interval '1 microsecond')"
	" AND (status = 'pending' OR looked_up_at IS NULL"
	" OR (status IN ('ok', 'nxdomain', 'no_ptr')"
	" AND looked_up_at <= now() - make_interval(secs => $2::bigint))"
	" OR (status NOT IN ('pending', 'ok', 'nxdomain', 'no_ptr')"
	" AND looked_up_at <= now() - make_interval(secs =>"
	" least($2::double precision, $3::double precision"
	" * power(2, least(greatest(attempts, 1), 40) - 1)))))"
	" ORDER BY looked_up_at NULLS FIRST, ip LIMIT $4";

static const char sink_sql_store[] =
	"WITH d AS (SELECT t.*, t.status IN ('ok', 'nxdomain', 'no_ptr') AS def"
	" FROM unnest($1::inet[], $2::text[], $3::text[], $4::boolean[],"
	" $5::text[], $6::boolean[], $7::bigint[], $8::text[], $9::text[],"
	" $10::text[])"
	" AS t(ip, status, ptr, conf, base, geo, asn, org, cc, detail)),"
	" upd AS (UPDATE dmarc.ip_info i SET status = d.status,"
	" ptr = CASE WHEN d.def OR d.ptr IS NOT NULL THEN d.ptr ELSE i.ptr END,"
	" ptr_confirmed = CASE WHEN d.def OR (d.ptr IS NOT NULL"
	" AND d.ptr IS DISTINCT FROM i.ptr) THEN d.conf"
	" ELSE coalesce(d.conf, i.ptr_confirmed) END,"
	" base_domain = CASE WHEN d.def OR d.ptr IS NOT NULL THEN d.base"
	" ELSE i.base_domain END,"
	" asn = CASE WHEN d.geo THEN d.asn ELSE i.asn END,"
	" as_org = CASE WHEN d.geo THEN d.org ELSE i.as_org END,"
	" country = CASE WHEN d.geo THEN d.cc ELSE i.country END,"
	" detail = d.detail, looked_up_at = now(),"
	" resolved_at = CASE WHEN d.def THEN now() ELSE i.resolved_at END,"
	" attempts = CASE WHEN d.def THEN 0 ELSE i.attempts + 1 END"
	" FROM d WHERE i.ip = d.ip RETURNING i.ip),"
	" ins AS (INSERT INTO dmarc.ip_info (ip, status, ptr, ptr_confirmed,"
	" base_domain, asn, as_org, country, detail, looked_up_at,"
	" resolved_at, attempts)"
	" SELECT d.ip, d.status, d.ptr, d.conf, d.base, d.asn, d.org, d.cc,"
	" d.detail, now(), CASE WHEN d.def THEN now() END,"
	" CASE WHEN d.def THEN 0 ELSE 1 END"
	" FROM d WHERE d.ip NOT IN (SELECT ip FROM upd)"
	" ON CONFLICT (ip) DO NOTHING RETURNING ip)"
	" SELECT (SELECT count(*) FROM upd) + (SELECT count(*) FROM ins)";

/*
 * The table: what names a statement in a cause, its text, the status its
 * result must have, its number of parameters ($1 .. $n) and its flags.
 */
/* --- Who sent a report mail (sink-auth.c) --- */

static const char sink_sql_auth_clear[] =
	"DELETE FROM dmarc.message_auth WHERE message_pk = $1";

/*
 * A message's verdict ($1 .. $18, $16 the authenticated domains), its
 * signatures ($19 .. $26, arrays in header order) and its reports'
 * authenticity by report_id ($27, $28), for the reports whose rows came
 * from this message.  A report the poll wrote with its verdict already
 * (sink_set_authenticity) is not updated: an update of authenticity moves
 * the report's records in the rollup (a trigger of 014), a second pass
 * over them.
 */
static const char sink_sql_auth_store[] =
	"WITH a AS (INSERT INTO dmarc.message_auth (message_pk, checked_at,"
	" from_domain, from_count, signatures_seen, dmarc, dmarc_via,"
	" dkim_alignment, authres_id, authres_dkim, authres_dkim_domain,"
	" authres_spf, authres_dmarc, authres_dmarc_from, auth_domains,"
	" reporter_domain, reporter_matched, authenticity, detail)"
	" VALUES ($1, to_timestamp($2), $3, $4, $5, $6, $7, $8, $9, $10, $11,"
	" $12, $13, $14, $15::text[], $16, $17::boolean, $18, $19)"
	" RETURNING message_pk),"
	" s AS (INSERT INTO dmarc.message_signature (message_pk, ord, domain,"
	" selector, algorithm, result, error, body_length, key_sha256, aligned)"
	" SELECT a.message_pk, x.ord, x.d, x.s, x.a, x.r, x.e, x.l, x.k, x.al"
	" FROM a, unnest($20::text[], $21::text[], $22::text[], $23::text[],"
	" $24::text[], $25::bigint[], $26::text[], $27::text[])"
	" WITH ORDINALITY AS x(d, s, a, r, e, l, k, al, ord))"
	" UPDATE dmarc.report r SET authenticity = u.v"
	" FROM unnest($28::text[], $29::text[]) AS u(id, v)"
	" WHERE r.report_id = u.id AND r.authenticity IS DISTINCT FROM u.v"
	" AND r.file_pk IN (SELECT f.id"
	" FROM dmarc.report_file f WHERE f.message_pk = $1)";

/* The verdicts of the messages $1 (a batch's), cleared. */
static const char sink_sql_auth_clear_set[] =
	"DELETE FROM dmarc.message_auth WHERE message_pk = ANY ($1::bigint[])";

/*
 * A batch's verdicts (sink-set.c): sink_sql_auth_store's parameters, an
 * array of each, the signatures' and reports' arrays as array literals;
 * counted.
 */
static const char sink_sql_auth_set[] =
	"WITH u AS (SELECT * FROM unnest(" SINK_SQL_COLS_29("$", "::text[]")
	") AS u(" SINK_SQL_COLS_29("c", "") ")),"
	" a AS (INSERT INTO dmarc.message_auth (message_pk, checked_at,"
	" from_domain, from_count, signatures_seen, dmarc, dmarc_via,"
	" dkim_alignment, authres_id, authres_dkim, authres_dkim_domain,"
	" authres_spf, authres_dmarc, authres_dmarc_from, auth_domains,"
	" reporter_domain, reporter_matched, authenticity, detail)"
	" SELECT u.c1::bigint, to_timestamp(u.c2::double precision), u.c3,"
	" u.c4::smallint, u.c5::integer, u.c6, u.c7, u.c8, u.c9, u.c10,"
	" u.c11, u.c12, u.c13, u.c14, u.c15::text[], u.c16, u.c17::boolean,"
	" u.c18, u.c19 FROM u RETURNING 1),"
	" s AS (INSERT INTO dmarc.message_signature (message_pk, ord, domain,"
	" selector, algorithm, result, error, body_length, key_sha256, aligned)"
	" SELECT u.c1::bigint, x.ord, x.d, x.s, x.a, x.r, x.e, x.l, x.k, x.al"
	" FROM u, unnest(u.c20::text[], u.c21::text[], u.c22::text[],"
	" u.c23::text[], u.c24::text[], u.c25::bigint[], u.c26::text[],"
	" u.c27::text[]) WITH ORDINALITY AS x(d, s, a, r, e, l, k, al, ord)),"
	" v AS (UPDATE dmarc.report r SET authenticity = v.v"
	" FROM u, unnest(u.c28::text[], u.c29::text[]) AS v(id, v)"
	" WHERE r.report_id = v.id AND r.authenticity IS DISTINCT FROM v.v"
	" AND r.file_pk IN (SELECT f.id FROM dmarc.report_file f"
	" WHERE f.message_pk = u.c1::bigint))"
	" SELECT count(*) FROM a";

static const char sink_sql_msgraw_chunk[] =
	"INSERT INTO dmarc.message_raw (message_pk, seq, data)"
	" VALUES ($1, $2, $3::bytea)";

static const char sink_sql_msgraw_read[] =
	"SELECT data FROM dmarc.message_raw WHERE message_pk = $1 ORDER BY seq";

/* Messages kept whole: dated since $1 (epoch, or NULL), or the one that
   delivered payload $2. */
static const char sink_sql_auth_list[] =
	"SELECT m.id FROM dmarc.mail_message m"
	" WHERE EXISTS (SELECT 1 FROM dmarc.message_raw w"
	" WHERE w.message_pk = m.id AND w.seq = 0)"
	" AND ($1::bigint IS NULL OR coalesce(m.date_hdr, m.fetched_at)"
	" >= to_timestamp($1::bigint))"
	" AND ($2::bigint IS NULL OR m.id = (SELECT f.message_pk"
	" FROM dmarc.report_file f WHERE f.id = $2::bigint))"
	" ORDER BY m.id";

/* The reports whose rows came from message $1. */
static const char sink_sql_auth_reports[] =
	"SELECT r.report_id, r.org_email, r.org_name, r.authenticity"
	" FROM dmarc.report r JOIN dmarc.report_file f ON f.id = r.file_pk"
	" WHERE f.message_pk = $1 ORDER BY r.id";

const struct sink_stmt_def sink_stmts[SINK_NSTMT] = {
	/* Transactions. */
	[SINK_ST_BEGIN] = { "BEGIN",
	    "BEGIN", PGRES_COMMAND_OK, 0, 0 },
	[SINK_ST_COMMIT] = { "commit",
	    "COMMIT", PGRES_COMMAND_OK, 0, 0 },
	[SINK_ST_ROLLBACK] = { "ROLLBACK",
	    "ROLLBACK", PGRES_COMMAND_OK, 0, 0 },
	[SINK_ST_SAVEPOINT_MSG] = { "SAVEPOINT msg",
	    "SAVEPOINT msg", PGRES_COMMAND_OK, 0, 0 },
	[SINK_ST_RELEASE_MSG] = { "RELEASE SAVEPOINT msg",
	    "RELEASE SAVEPOINT msg", PGRES_COMMAND_OK, 0, 0 },
	[SINK_ST_ROLLBACK_MSG] = { "ROLLBACK TO SAVEPOINT msg",
	    "ROLLBACK TO SAVEPOINT msg", PGRES_COMMAND_OK, 0, 0 },
	[SINK_ST_SAVEPOINT_PAYLOAD] = { "SAVEPOINT payload",
	    "SAVEPOINT payload", PGRES_COMMAND_OK, 0, 0 },
	[SINK_ST_ROLLBACK_PAYLOAD] = { "ROLLBACK TO SAVEPOINT payload",
	    "ROLLBACK TO SAVEPOINT payload", PGRES_COMMAND_OK, 0, 0 },

	/* The connection and the ledger. */
	[SINK_ST_SEARCH_PATH] = { "set search_path",
	    sink_sql_search_path, PGRES_TUPLES_OK, 0, 0 },
	[SINK_ST_LEDGER_LIST] = { "list ledger",
	    sink_sql_ledger_list, PGRES_TUPLES_OK, 2, 0 },
	[SINK_ST_CLAIM] = { "claim messages",
	    sink_sql_claim, PGRES_COMMAND_OK, 3, 0 },
	[SINK_ST_AFTER_DONE] = { "mark after-action done",
	    sink_sql_after_done, PGRES_COMMAND_OK, 3, 0 },
	[SINK_ST_LEDGER] = { "write ledger row",
	    sink_sql_ledger, PGRES_TUPLES_OK, 12, SINK_PREP },
	[SINK_ST_LEDGER_FILE] = { "write ledger row",
	    sink_sql_ledger_file, PGRES_TUPLES_OK, 8, SINK_PREP },
	[SINK_ST_POOL] = { "reserve report_file ids",
	    sink_sql_pool, PGRES_TUPLES_OK, 1, SINK_PREP },
	[SINK_ST_MSG_STATUS] = { "write message status",
	    sink_sql_msg_status, PGRES_COMMAND_OK, 3, SINK_PREP },
	[SINK_ST_LEDGER_SET] = { "write the batch's ledger rows (still claimed)",
	    sink_sql_ledger_set, PGRES_TUPLES_OK, 11, SINK_PREP },
	[SINK_ST_LEDGER_FACTS] = { "write the batch's message facts (still claimed)",
	    sink_sql_ledger_facts, PGRES_TUPLES_OK, 9, SINK_PREP },

	/* The schema. */
	[SINK_ST_SCHEMA_EXISTS] = { "look for schema_version",
	    sink_sql_schema_exists, PGRES_TUPLES_OK, 0, 0 },
	[SINK_ST_SCHEMA_VERSION] = { "read schema version",
	    sink_sql_schema_version, PGRES_TUPLES_OK, 0, 0 },
	[SINK_ST_SCHEMA_RECORD] = { "record schema version",
	    sink_sql_schema_record, PGRES_COMMAND_OK, 3, 0 },
	[SINK_ST_MIGRATE_LOCK] = { "take migration lock",
	    sink_sql_migrate_lock, PGRES_TUPLES_OK, 0, 0 },
	[SINK_ST_MIGRATE_UNLOCK] = { "release migration lock",
	    sink_sql_migrate_unlock, PGRES_TUPLES_OK, 0, 0 },

	/* Payloads and aggregate reports. */
	[SINK_ST_FILE] = { "insert report_file",
	    sink_sql_file, PGRES_TUPLES_OK, 18, SINK_PREP },
	[SINK_ST_FILE_END] = { "update report_file",
	    sink_sql_file_end, PGRES_COMMAND_OK, 4, SINK_PREP },
	[SINK_ST_FILE_END_RAW] = { "update report_file",
	    sink_sql_file_end_raw, PGRES_COMMAND_OK, 6, SINK_PREP },
	[SINK_ST_FILE_ONCE] = { "insert report_file",
	    sink_sql_file_once, PGRES_COMMAND_OK, 21, SINK_PREP },
	[SINK_ST_FILE_ONCE_RAW] = { "insert report_file",
	    sink_sql_file_once_raw, PGRES_COMMAND_OK, 23, SINK_PREP },
	[SINK_ST_HEAD] = { "insert report",
	    sink_sql_head, PGRES_TUPLES_OK, 41, SINK_PREP },
	[SINK_ST_DUP_LOCK] = { "lock duplicate report",
	    sink_sql_dup_lock, PGRES_TUPLES_OK, 4, SINK_PREP },
	[SINK_ST_DUP] = { "count duplicate report",
	    sink_sql_dup, PGRES_TUPLES_OK, 6, SINK_PREP | SINK_LEDGER_READ },
	[SINK_ST_RECORDS] = { "insert records",
	    sink_sql_records, PGRES_TUPLES_OK, 45, SINK_PREP },
	[SINK_ST_END] = { "update report totals",
	    sink_sql_end, PGRES_TUPLES_OK, 8, SINK_PREP },
	[SINK_ST_WHOLE] = { "insert report",
	    sink_sql_whole, PGRES_TUPLES_OK, 88, SINK_PREP },
	[SINK_ST_WHOLE_PAYLOAD] = { "insert report",
	    sink_sql_whole_payload, PGRES_TUPLES_OK, 109, SINK_PREP },
	[SINK_ST_WHOLE_PAYLOAD_RAW] = { "insert report",
	    sink_sql_whole_payload_raw, PGRES_TUPLES_OK, 111, SINK_PREP },
	[SINK_ST_SET] = { "insert held reports",
	    sink_sql_set, PGRES_TUPLES_OK, 112, SINK_PREP },
	[SINK_ST_REPARSE_LOCK] = { "lock reparsed report",
	    sink_sql_reparse_lock, PGRES_TUPLES_OK, 1, SINK_PREP },
	[SINK_ST_REPARSE_DELIVERIES] = { "look for deliveries",
	    sink_sql_reparse_deliveries, PGRES_TUPLES_OK, 1, 0 },
	[SINK_ST_REPARSE_CLEAR] = { "clear reparsed report",
	    sink_sql_reparse_clear, PGRES_COMMAND_OK, 1, SINK_PREP },
	[SINK_ST_REPARSE_HEAD] = { "update reparsed report",
	    sink_sql_reparse_head, PGRES_TUPLES_OK, 41, SINK_PREP },
	[SINK_ST_REPARSE_LINK] = { "link reparsed payload",
	    sink_sql_reparse_link, PGRES_COMMAND_OK, 5, SINK_PREP },

	/* The rollup tables. */
	[SINK_ST_ROLLUP_FLUSH] = { "add records to the rollup",
	    sink_sql_rollup_flush, PGRES_TUPLES_OK, 0, SINK_PREP },
	[SINK_ST_ROLLUP_SUB] = { "take reparsed records from the rollup",
	    sink_sql_rollup_sub, PGRES_TUPLES_OK, 1, 0 },
	[SINK_ST_ROLLUP_CHECK] = { "compare rollup and records",
	    sink_sql_rollup_check, PGRES_TUPLES_OK, 1, 0 },

	/* Raw payloads and reparse transactions. */
	[SINK_ST_RAW_CHUNK] = { "store raw payload",
	    sink_sql_raw_chunk, PGRES_COMMAND_OK, 3, SINK_PREP },
	[SINK_ST_RAW_READ] = { "read raw payload",
	    sink_sql_raw_read, PGRES_TUPLES_OK, 2, SINK_PREP | SINK_BINARY },
	[SINK_ST_RAW_LIST] = { "list raw payloads",
	    sink_sql_raw_list, PGRES_TUPLES_OK, 3, 0 },
	[SINK_ST_RAW_CHECK] = { "open raw payload",
	    sink_sql_raw_check, PGRES_TUPLES_OK, 1, 0 },
	[SINK_ST_REPARSE_FILE] = { "lock reparsed payload",
	    sink_sql_reparse_file, PGRES_TUPLES_OK, 1, 0 },
	[SINK_ST_FILE_ERROR] = { "write payload error",
	    sink_sql_file_error, PGRES_COMMAND_OK, 2, 0 },

	/* TLS and failure reports. */
	[SINK_ST_TLS_HEAD] = { "insert tlsrpt_report",
	    sink_sql_tls_head, PGRES_TUPLES_OK, 13, 0 },
	[SINK_ST_TLS_BODY] = { "insert TLS policies",
	    sink_sql_tls_body, PGRES_TUPLES_OK, 28, 0 },
	[SINK_ST_TLS_LOCK] = { "lock duplicate report",
	    sink_sql_tls_lock, PGRES_TUPLES_OK, 2, 0 },
	[SINK_ST_TLS_DUP] = { "count duplicate report",
	    sink_sql_tls_dup, PGRES_COMMAND_OK, 3, SINK_LEDGER_READ },
	[SINK_ST_FAILURE] = { "insert failure_report",
	    sink_sql_failure, PGRES_TUPLES_OK, 41, 0 },
	[SINK_ST_FAILURE_LOCK] = { "lock duplicate report",
	    sink_sql_failure_lock, PGRES_TUPLES_OK, 1, 0 },
	[SINK_ST_FAILURE_DUP] = { "count duplicate report",
	    sink_sql_failure_dup, PGRES_COMMAND_OK, 3, SINK_LEDGER_READ },
	[SINK_ST_TLS_REPARSE_LOCK] = { "lock reparsed report",
	    sink_sql_tls_reparse_lock, PGRES_TUPLES_OK, 1, 0 },
	[SINK_ST_TLS_REPARSE_HEAD] = { "update reparsed report",
	    sink_sql_tls_reparse_head, PGRES_TUPLES_OK, 11, 0 },
	[SINK_ST_TLS_REPARSE_DELIVERIES] = { "look for deliveries",
	    sink_sql_tls_reparse_deliveries, PGRES_TUPLES_OK, 1, 0 },
	[SINK_ST_TLS_REPARSE_LINK] = { "link reparsed payload",
	    sink_sql_tls_reparse_link, PGRES_COMMAND_OK, 3, 0 },
	[SINK_ST_FAILURE_REPARSE_LOCK] = { "lock reparsed report",
	    sink_sql_failure_reparse_lock, PGRES_TUPLES_OK, 1, 0 },
	[SINK_ST_FAILURE_REPARSE] = { "update reparsed report",
	    sink_sql_failure_reparse, PGRES_TUPLES_OK, 41, 0 },
	[SINK_ST_FAILURE_REPARSE_DELIVERIES] = { "look for deliveries",
	    sink_sql_failure_reparse_deliveries, PGRES_TUPLES_OK, 1, 0 },
	[SINK_ST_FAILURE_REPARSE_LINK] = { "link reparsed payload",
	    sink_sql_failure_reparse_link, PGRES_COMMAND_OK, 2, 0 },

	/* Poll runs and mailbox locks. */
	[SINK_ST_RUN_BEGIN] = { "start poll record",
	    sink_sql_run_begin, PGRES_TUPLES_OK, 4, 0 },
	[SINK_ST_RUN_END] = { "finish poll record",
	    sink_sql_run_end, PGRES_COMMAND_OK, 8, 0 },
	[SINK_ST_MAILBOX_LOCK] = { "lock mailbox",
	    sink_sql_mailbox_lock, PGRES_TUPLES_OK, 1, 0 },
	[SINK_ST_MAILBOX_CLAIM_LOCK] = { "lock mailbox claims",
	    sink_sql_mailbox_claim_lock, PGRES_TUPLES_OK, 0, 0 },
	[SINK_ST_MAILBOX_CLAIM] = { "claim mailbox",
	    sink_sql_mailbox_claim, PGRES_TUPLES_OK, 2, 0 },

	/* A poll's history and retention. */
	[SINK_ST_LEDGER_FIND] = { "find ledger rows",
	    sink_sql_ledger_find, PGRES_TUPLES_OK, 3, 0 },
	[SINK_ST_LEDGER_UNFINISHED] = { "list unfinished ledger rows",
	    sink_sql_ledger_unfinished, PGRES_TUPLES_OK, 2, 0 },
	[SINK_ST_CLAIMED_IDS] = { "find claimed ledger rows",
	    sink_sql_claimed_ids, PGRES_TUPLES_OK, 3, 0 },
	[SINK_ST_MARK_READ] = { "read search mark",
	    sink_sql_mark_read, PGRES_TUPLES_OK, 1, 0 },
	[SINK_ST_MARK_WRITE] = { "write search mark",
	    sink_sql_mark_write, PGRES_COMMAND_OK, 6, 0 },
	[SINK_ST_PRUNE_REPORTS] = { "prune reports",
	    sink_sql_prune_reports, PGRES_TUPLES_OK, 2, 0 },
	[SINK_ST_PRUNE_TLS] = { "prune TLS reports",
	    sink_sql_prune_tls, PGRES_TUPLES_OK, 2, 0 },
	[SINK_ST_PRUNE_FAILURE] = { "prune failure reports",
	    sink_sql_prune_failure, PGRES_TUPLES_OK, 2, 0 },
	[SINK_ST_PRUNE_RAW] = { "prune raw payloads",
	    sink_sql_prune_raw, PGRES_TUPLES_OK, 3, 0 },
	[SINK_ST_PRUNE_MAIL_RAW] = { "prune kept report mails",
	    sink_sql_prune_mail_raw, PGRES_TUPLES_OK, 3, 0 },
	[SINK_ST_PRUNE_LEDGER] = { "prune ledger",
	    sink_sql_prune_ledger, PGRES_TUPLES_OK, 3, 0 },
	[SINK_ST_COUNT_REPORTS] = { "count old reports",
	    sink_sql_count_reports, PGRES_TUPLES_OK, 1, 0 },
	[SINK_ST_COUNT_TLS] = { "count old TLS reports",
	    sink_sql_count_tls, PGRES_TUPLES_OK, 1, 0 },
	[SINK_ST_COUNT_FAILURE] = { "count old failure reports",
	    sink_sql_count_failure, PGRES_TUPLES_OK, 1, 0 },
	[SINK_ST_COUNT_RAW] = { "count old raw payloads",
	    sink_sql_count_raw, PGRES_TUPLES_OK, 4, 0 },
	[SINK_ST_PRUNE_RUNS] = { "prune polls",
	    sink_sql_prune_runs, PGRES_TUPLES_OK, 2, 0 },
	[SINK_ST_COUNT_RUNS] = { "count old polls",
	    sink_sql_count_runs, PGRES_TUPLES_OK, 1, 0 },
	[SINK_ST_COUNT_MAIL_RAW] = { "count old kept report mails",
	    sink_sql_count_mail_raw, PGRES_TUPLES_OK, 2, 0 },
	[SINK_ST_COUNT_LEDGER] = { "count old ledger rows",
	    sink_sql_count_ledger, PGRES_TUPLES_OK, 4, 0 },

	/* Enrichment. */
	[SINK_ST_ENRICH_DISCOVER] = { "discover source addresses",
	    sink_sql_discover, PGRES_TUPLES_OK, 0, 0 },
	[SINK_ST_ENRICH_DUE] = { "list addresses to look up",
	    sink_sql_due, PGRES_TUPLES_OK, 4, 0 },
	[SINK_ST_ENRICH_STORE] = { "store address information",
	    sink_sql_store, PGRES_TUPLES_OK, 10, 0 },

	/* Who sent a report mail. */
	[SINK_ST_AUTH_CLEAR] = { "clear message verdict",
	    sink_sql_auth_clear, PGRES_COMMAND_OK, 1, SINK_PREP },
	[SINK_ST_AUTH_STORE] = { "store message verdict",
	    sink_sql_auth_store, PGRES_COMMAND_OK, 29, SINK_PREP },
	[SINK_ST_AUTH_CLEAR_SET] = { "clear the batch's verdicts",
	    sink_sql_auth_clear_set, PGRES_COMMAND_OK, 1, SINK_PREP },
	[SINK_ST_AUTH_SET] = { "write the batch's verdicts",
	    sink_sql_auth_set, PGRES_TUPLES_OK, 29, SINK_PREP },
	[SINK_ST_MSGRAW_CHUNK] = { "keep message",
	    sink_sql_msgraw_chunk, PGRES_COMMAND_OK, 3, SINK_PREP },
	[SINK_ST_MSGRAW_READ] = { "read kept message",
	    sink_sql_msgraw_read, PGRES_TUPLES_OK, 1, SINK_BINARY },
	[SINK_ST_AUTH_LIST] = { "list kept messages",
	    sink_sql_auth_list, PGRES_TUPLES_OK, 2, 0 },
	[SINK_ST_AUTH_REPORTS] = { "list message reports",
	    sink_sql_auth_reports, PGRES_TUPLES_OK, 1, 0 },
};
