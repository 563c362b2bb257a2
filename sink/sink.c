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
 * Files given to the ingest command have no IMAP identity: their ledger row
 * has mailbox 'file', uidvalidity 0, uid NULL and is found by the content
 * SHA-256 (a partial unique index).
 *
 * Every statement is sent with parameters (PQexecParams, or a statement
 * prepared once per connection and run with PQexecPrepared); nothing read
 * from a message or a report is ever pasted into SQL text.  The search
 * path is emptied at connect time, so every name is schema-qualified.
 * Failures are classified by SQLSTATE (sink_classify, enum sink_error).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "common/common.h"
#include "sink/sink.h"
#include "sink/sink_p.h"

static const char *sink_status_names[] = {
	"none", "claimed", "stored", "duplicate", "ignored", "invalid",
	"too_large"
};
#define SINK_NSTATUS (sizeof sink_status_names / sizeof sink_status_names[0])

static char	*sink_clean_message(const char *);
static char	*sink_utf8(const char *);
static int	 sink_status_parse(const char *, enum sink_status *);
static int	 sink_uids_param(struct sink_params *, const uint32_t *,
		    size_t, char **);
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
static struct sink_pending *sink_pend_add(struct sink *, const char *,
		    ExecStatusType);
static int	 sink_read_one(struct sink *, int *, char **);
static int	 sink_check_result(struct sink *, const struct sink_pending *,
		    PGresult *, char **);
static enum sink_error sink_classify(struct sink *, PGresult *);
static int	 sink_prepare(struct sink *, enum sink_stmt, const char *,
		    const char *, char **);
static PGresult	*sink_send_sync(struct sink *, int, const char *,
		    const struct sink_params *, int);
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
	if (sink_exec(s, "set search_path",
	    "SELECT pg_catalog.set_config('search_path', '', false)", NULL,
	    PGRES_TUPLES_OK, &res, cause) != 0) {
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
void
sink_close(struct sink *s)
{
	if (s == NULL)
		return;
	sink_rawout_discard(s);
	sink_defer_free(s);
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

/* Run one parameterised statement (contract in sink_p.h). */
int
sink_exec(struct sink *s, const char *what, const char *sql,
    const struct sink_params *p, ExecStatusType want, PGresult **out,
    char **cause)
{
	PGresult	*res;

	if (sink_pipe_leave(s, cause) != 0)
		return (-1);
	res = sink_send_sync(s, -1, sql, p, 0);
	if (res == NULL || PQresultStatus(res) != want) {
		sink_error(s, res, what, cause);
		PQclear(res);
		return (-1);
	}
	if (out != NULL)
		*out = res;
	else
		PQclear(res);
	return (0);
}

/*
 * Send a statement: sql itself when st is -1, else the prepared statement
 * st.
 */
static PGresult *
sink_send_sync(struct sink *s, int st, const char *sql,
    const struct sink_params *p, int resfmt)
{
	const int	*len = NULL, *fmt = NULL;
	char		 name[32];

	if (p != NULL && p->binary) {
		len = p->len;
		fmt = p->fmt;
	}
	s->waits++;
	if (st < 0)
		return (PQexecParams(s->conn, sql, p ? p->n : 0, NULL,
		    p ? p->val : NULL, len, fmt, resfmt));
	snprintf(name, sizeof name, "dmarc_%d", st);
	return (PQexecPrepared(s->conn, name, p ? p->n : 0,
	    p ? p->val : NULL, len, fmt, resfmt));
}

/*
 * Prepare statement st unless done on this connection.  Prepared
 * statements belong to the session: a ROLLBACK does not undo them.
 */
static int
sink_prepare(struct sink *s, enum sink_stmt st, const char *what,
    const char *sql, char **cause)
{
	PGresult	*res;
	char		 name[32];

	if ((unsigned)st >= SINK_NSTMT || SINK_NSTMT > 32)
		fatalx("%s: bad statement %d", __func__, (int)st);
	if (s->prepared & (1U << st))
		return (0);
	snprintf(name, sizeof name, "dmarc_%d", (int)st);
	s->waits++;
	res = PQprepare(s->conn, name, sql, 0, NULL);
	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
		sink_error(s, res, what, cause);
		PQclear(res);
		return (-1);
	}
	PQclear(res);
	s->prepared |= 1U << st;
	return (0);
}

/* Run a prepared statement (contract in sink_p.h). */
int
sink_exec_prep(struct sink *s, enum sink_stmt st, const char *what,
    const char *sql, const struct sink_params *p, ExecStatusType want,
    int resfmt, PGresult **out, char **cause)
{
	PGresult	*res;

	if (sink_pipe_leave(s, cause) != 0 ||
	    sink_prepare(s, st, what, sql, cause) != 0)
		return (-1);
	res = sink_send_sync(s, (int)st, sql, p, resfmt);
	if (res == NULL || PQresultStatus(res) != want) {
		sink_error(s, res, what, cause);
		PQclear(res);
		return (-1);
	}
	if (out != NULL)
		*out = res;
	else
		PQclear(res);
	return (0);
}

/* Run a fixed command such as BEGIN. */
int
sink_cmd(struct sink *s, const char *sql, char **cause)
{
	return (sink_exec(s, sql, sql, NULL, PGRES_COMMAND_OK, NULL, cause));
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
sink_send(struct sink *s, enum sink_stmt st, const char *what,
    const char *sql, const struct sink_params *p, ExecStatusType want,
    enum sink_check check, long long expect, PGresult **out, char **cause)
{
	struct sink_pending	*e;
	const int		*len = NULL, *fmt = NULL;
	char			 name[32];
	int			 ok;

	if ((int)st >= (int)SINK_NSTMT || SINK_NSTMT > 32)
		fatalx("%s: bad statement %d", __func__, (int)st);
	if (out != NULL)
		*out = NULL;
	if (s->npend + 2 > SINK_PIPE_MAX && sink_sync(s, cause) != 0)
		return (-1);
	if (sink_pipe_enter(s, cause) != 0)
		return (-1);
	if (p != NULL && p->binary) {
		len = p->len;
		fmt = p->fmt;
	}
	if ((int)st < 0)
		ok = PQsendQueryParams(s->conn, sql, p ? p->n : 0, NULL,
		    p ? p->val : NULL, len, fmt, 0);
	else {
		snprintf(name, sizeof name, "dmarc_%d", (int)st);
		if (!(s->prepared & (1U << st))) {
			if (PQsendPrepare(s->conn, name, sql, 0, NULL) != 1) {
				sink_error(s, NULL, what, cause);
				return (-1);
			}
			e = sink_pend_add(s, what, PGRES_COMMAND_OK);
			e->prep = (int)st;
			s->prepared |= 1U << st;
		}
		ok = PQsendQueryPrepared(s->conn, name, p ? p->n : 0,
		    p ? p->val : NULL, len, fmt, 0);
	}
	if (ok != 1) {
		sink_error(s, NULL, what, cause);
		return (-1);
	}
	e = sink_pend_add(s, what, want);
	e->check = check;
	e->expect = expect;
	e->out = out;
	return (0);
}

/* Send a fixed command without waiting. */
int
sink_send_cmd(struct sink *s, const char *sql, char **cause)
{
	return (sink_send(s, (enum sink_stmt)-1, sql, sql, NULL,
	    PGRES_COMMAND_OK, SINK_CHK_NONE, 0, NULL, cause));
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
		}
		return (-1);
	}
	while ((more = PQgetResult(s->conn)) != NULL)
		PQclear(more);
	s->nread++;
	rs = PQresultStatus(res);
	if (rs != e->want) {
		if (e->prep >= 0)
			s->prepared &= ~(1U << e->prep);
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
	if (PQpipelineSync(s->conn) != 1) {
		sink_error(s, NULL, "send sync", cause);
		sink_pipe_reset(s);
		return (-1);
	}
	while (s->nread < s->npend && !lost)
		lost = sink_read_one(s, &failed, cause) != 0;
	if (!lost) {
		res = PQgetResult(s->conn);
		if (res == NULL || PQresultStatus(res) != PGRES_PIPELINE_SYNC) {
			if (!failed)
				sink_error(s, res, "sync", cause);
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
	static const char hex[] = "0123456789abcdef";
	char	*s;
	size_t	 i;

	if (sha == NULL) {
		sink_param_str(p, NULL);
		return;
	}
	s = xmalloc(2 + 64 + 1);
	s[0] = '\\';
	s[1] = 'x';
	for (i = 0; i < 32; i++) {
		s[2 + 2 * i] = hex[sha[i] >> 4];
		s[3 + 2 * i] = hex[sha[i] & 0xf];
	}
	s[66] = '\0';
	sink_param_own(p, s);
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
sink_ledger_list(struct sink *s, const char *mailbox, uint32_t uidvalidity,
    struct sink_ledger_entry **out, size_t *n, char **cause)
{
	struct sink_params	 p;
	struct sink_ledger_entry *e;
	PGresult		*res;
	int			 i, rows, rc;

	*out = NULL;
	*n = 0;
	sink_params_init(&p);
	sink_param_str(&p, mailbox);
	sink_param_int(&p, uidvalidity);
	rc = sink_exec(s, "list ledger",
	    "SELECT uid, status, after_action = 'done'"
	    " FROM dmarc.mail_message"
	    " WHERE mailbox = $1 AND uidvalidity = $2 AND uid IS NOT NULL"
	    " ORDER BY uid", &p, PGRES_TUPLES_OK, &res, cause);
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
sink_claim(struct sink *s, const char *mailbox, uint32_t uidvalidity,
    const uint32_t *uids, size_t n, char **cause)
{
	struct sink_params	p;
	int			rc = -1;

	if (s->in_msg || s->in_batch)
		fatalx("%s: inside a message transaction or a batch", __func__);
	if (n == 0)
		return (0);
	sink_params_init(&p);
	sink_param_str(&p, mailbox);
	sink_param_int(&p, uidvalidity);
	if (sink_uids_param(&p, uids, n, cause) == 0)
		rc = sink_exec(s, "claim messages",
		    "INSERT INTO dmarc.mail_message (mailbox, uidvalidity, uid)"
		    " SELECT $1, $2, u FROM unnest($3::bigint[]) AS u"
		    " ON CONFLICT (mailbox, uidvalidity, uid) DO NOTHING", &p,
		    PGRES_COMMAND_OK, NULL, cause);
	sink_params_free(&p);
	return (rc);
}

/* Record that the after-action was done on the server. */
int
sink_after_done(struct sink *s, const char *mailbox, uint32_t uidvalidity,
    const uint32_t *uids, size_t n, char **cause)
{
	struct sink_params	p;
	int			rc = -1;

	if (s->in_msg || s->in_batch)
		fatalx("%s: inside a message transaction or a batch", __func__);
	if (n == 0)
		return (0);
	sink_params_init(&p);
	sink_param_str(&p, mailbox);
	sink_param_int(&p, uidvalidity);
	if (sink_uids_param(&p, uids, n, cause) == 0)
		rc = sink_exec(s, "mark after-action done",
		    "UPDATE dmarc.mail_message SET after_action = 'done'"
		    " WHERE mailbox = $1 AND uidvalidity = $2"
		    " AND uid = ANY ($3::bigint[])", &p, PGRES_COMMAND_OK,
		    NULL, cause);
	sink_params_free(&p);
	return (rc);
}

/*
 * The ledger row in one statement: insert it with the message's facts, or
 * (ON CONFLICT DO UPDATE, which locks the row) write the facts into the
 * existing one.  RETURNING gives the id, the status and whether the row is
 * new: a row version made by INSERT has no xmax, while DO UPDATE carries
 * the lock it took over to the new version (xmax set).  Parameters: the
 * key ($1-$3, IMAP only), then the facts.
 */
static const char sink_sql_ledger[] =
	"INSERT INTO dmarc.mail_message AS m (mailbox, uidvalidity, uid,"
	" path, message_id, from_addr, subject, date_hdr, size_bytes, sha256,"
	" auth_results, fetched_at)"
	" VALUES ($1, $2, $3, $4, $5, $6, $7,"
	" to_timestamp($8::double precision), $9, $10::bytea, $11, now())"
	" ON CONFLICT (mailbox, uidvalidity, uid) DO UPDATE SET"
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
	sink_params_init(&p);
	if (!file) {
		sink_param_str(&p, mi->mailbox);
		sink_param_int(&p, mi->uidvalidity);
		sink_param_int(&p, mi->uid);
	}
	sink_param_str(&p, mi->path);
	sink_param_str(&p, mi->message_id);
	sink_param_str(&p, mi->from);
	sink_param_str(&p, mi->subject);
	if (mi->date == (time_t)-1)
		sink_param_str(&p, NULL);
	else
		sink_param_int(&p, (long long)mi->date);
	sink_param_int(&p, mi->size > INT64_MAX ? INT64_MAX :
	    (long long)mi->size);
	sink_param_sha(&p, mi->sha256);
	sink_param_str(&p, mi->auth_results);
	rc = sink_send(s, file ? SINK_ST_LEDGER_FILE : SINK_ST_LEDGER,
	    "write ledger row", file ? sink_sql_ledger_file : sink_sql_ledger,
	    &p, PGRES_TUPLES_OK, SINK_CHK_ROW, 0, res, cause);
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
	rc = sink_send(s, SINK_ST_POOL, "reserve report_file ids",
	    sink_sql_pool, &p, PGRES_TUPLES_OK, SINK_CHK_NONE, 0, res, cause);
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
	if (s->in_batch && s->batch_cause != NULL)
		return (sink_batch_failed(s, cause));
	rc = sink_send_cmd(s, s->in_batch ? "SAVEPOINT msg" : "BEGIN", cause);
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
		return (sink_batch_failed(s, cause));
	}
	sink_params_init(&p);
	sink_param_str(&p, s->message_pk);
	sink_param_str(&p, sink_status_name(st));
	sink_param_own(&p, sink_utf8(detail));
	rc = sink_send(s, SINK_ST_MSG_STATUS, "write message status",
	    "UPDATE dmarc.mail_message SET status = $2, status_detail = $3,"
	    " status_at = now() WHERE id = $1", &p, PGRES_COMMAND_OK,
	    SINK_CHK_NONE, 0, NULL, cause);
	sink_params_free(&p);
	if (rc == 0 && s->in_batch) {
		rc = sink_send_cmd(s, "RELEASE SAVEPOINT msg", cause);
		if (rc == 0) {
			sink_batch_mark(s);
			sink_msg_clear(s);
			return (0);
		}
	}
	if (rc == 0)
		rc = sink_send(s, (enum sink_stmt)-1, "commit", "COMMIT", NULL,
		    PGRES_COMMAND_OK, SINK_CHK_NONE, 0, &res, cause);
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
 * Roll back what was sent since savepoint (NULL: the whole transaction).
 * Results still pending are read first and their failures ignored: they
 * were skipped by the server, the command must not be.
 */
int
sink_rollback(struct sink *s, const char *savepoint, char **cause)
{
	char	*c = NULL, sql[64];
	int	 rc;

	if (s->npend > 0) {
		sink_sync(s, &c);
		free(c);
	}
	if (savepoint == NULL)
		snprintf(sql, sizeof sql, "ROLLBACK");
	else
		snprintf(sql, sizeof sql, "ROLLBACK TO SAVEPOINT %s",
		    savepoint);
	rc = sink_send_cmd(s, sql, cause);
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
	if (!s->in_batch)
		sink_rollback(s, NULL, &c);
	else if (s->batch_cause == NULL && !sink_is_broken(s)) {
		if (s->npend > 0)
			sink_sync(s, &c);
		free(c);
		c = NULL;
		if (s->batch_cause == NULL &&
		    sink_send_cmd(s, "ROLLBACK TO SAVEPOINT msg", &c) == 0 &&
		    sink_send_cmd(s, "RELEASE SAVEPOINT msg", &c) == 0)
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
	if (sink_send_cmd(s, "BEGIN", cause) != 0)
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
	int		 rc = 0;

	if (!s->in_batch || s->in_msg)
		fatalx("%s: no batch, or a message is open", __func__);
	if (s->batch_cause == NULL) {
		rc = sink_send(s, (enum sink_stmt)-1, "commit", "COMMIT", NULL,
		    PGRES_COMMAND_OK, SINK_CHK_NONE, 0, &res, cause);
		if (rc == 0)
			rc = sink_sync(s, cause);
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
	return (0);
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
	s->in_batch = 0;
	if (!sink_is_broken(s))
		sink_rollback(s, NULL, &c);
	free(c);
	free(s->batch_cause);
	s->batch_cause = NULL;
}

/*
 * Mark the start of one payload inside the message transaction.  What the
 * previous payload sent is read first, so that its failure is not taken
 * for this payload's.
 */
int
sink_payload_savepoint(struct sink *s, char **cause)
{
	if (!s->in_msg)
		fatalx("%s: no message transaction", __func__);
	sink_payload_closed(s, __func__);
	sink_rawout_discard(s);
	s->file_pk[0] = s->report_pk[0] = '\0';
	if (s->npend > 0 && sink_sync(s, cause) != 0)
		return (-1);
	return (sink_send_cmd(s, "SAVEPOINT payload", cause));
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
	return (sink_rollback(s, "payload", cause));
}
