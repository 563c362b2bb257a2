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

#include "agent/agent.h"
#include "sink/sink.h"
#include "sink/sink_p.h"

static const char *sink_status_names[] = {
	"none", "claimed", "stored", "duplicate", "ignored", "invalid",
	"too_large"
};
#define SINK_NSTATUS (sizeof sink_status_names / sizeof sink_status_names[0])

static char	*sink_clean_message(const char *);
static int	 sink_status_parse(const char *, enum sink_status *);
static int	 sink_uids_param(struct sink_params *, const uint32_t *,
		    size_t, char **);
static int	 sink_ledger_row(struct sink *, const struct sink_msg_info *,
		    enum sink_status *, char **);
static int	 sink_ledger_facts(struct sink *,
		    const struct sink_msg_info *, char **);
static void	 sink_msg_clear(struct sink *);
static enum sink_error sink_classify(struct sink *, PGresult *);
static int	 sink_prepare(struct sink *, enum sink_stmt, const char *,
		    const char *, char **);
static PGresult	*sink_send(struct sink *, int, const char *,
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
	PQfinish(s->conn);
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

	res = sink_send(s, -1, sql, p, 0);
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
sink_send(struct sink *s, int st, const char *sql,
    const struct sink_params *p, int resfmt)
{
	const int	*len = NULL, *fmt = NULL;
	char		 name[32];

	if (p != NULL && p->binary) {
		len = p->len;
		fmt = p->fmt;
	}
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

	if (sink_prepare(s, st, what, sql, cause) != 0)
		return (-1);
	res = sink_send(s, (int)st, sql, p, resfmt);
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

	if (s->in_msg)
		fatalx("%s: inside a message transaction", __func__);
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

	if (s->in_msg)
		fatalx("%s: inside a message transaction", __func__);
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
 * Find or create the message's ledger row and lock it; *prior is its
 * status before this run (SINK_NONE when we created it).
 */
static int
sink_ledger_row(struct sink *s, const struct sink_msg_info *mi,
    enum sink_status *prior, char **cause)
{
	struct sink_params	 p;
	PGresult		*res;
	const char		*ins, *sel;
	enum sink_stmt		 sti, sts;
	int			 file, rc;

	file = (mi->uidvalidity == 0 && mi->uid == 0);
	sink_params_init(&p);
	if (file) {
		if (mi->sha256 == NULL)
			fatalx("%s: a file needs its SHA-256", __func__);
		sink_param_sha(&p, mi->sha256);
		ins = "INSERT INTO dmarc.mail_message"
		    " (mailbox, uidvalidity, uid, sha256)"
		    " VALUES ('" SINK_FILE_MAILBOX "', 0, NULL, $1::bytea)"
		    " ON CONFLICT (sha256)"
		    " WHERE mailbox = '" SINK_FILE_MAILBOX "' AND uid IS NULL"
		    " DO NOTHING RETURNING id";
		sel = "SELECT id, status FROM dmarc.mail_message"
		    " WHERE mailbox = '" SINK_FILE_MAILBOX "' AND uid IS NULL"
		    " AND sha256 = $1::bytea FOR UPDATE";
		sti = SINK_ST_LEDGER_INS_FILE;
		sts = SINK_ST_LEDGER_SEL_FILE;
	} else {
		sink_param_str(&p, mi->mailbox);
		sink_param_int(&p, mi->uidvalidity);
		sink_param_int(&p, mi->uid);
		ins = "INSERT INTO dmarc.mail_message"
		    " (mailbox, uidvalidity, uid) VALUES ($1, $2, $3)"
		    " ON CONFLICT (mailbox, uidvalidity, uid) DO NOTHING"
		    " RETURNING id";
		sel = "SELECT id, status FROM dmarc.mail_message"
		    " WHERE mailbox = $1 AND uidvalidity = $2 AND uid = $3"
		    " FOR UPDATE";
		sti = SINK_ST_LEDGER_INS;
		sts = SINK_ST_LEDGER_SEL;
	}
	*prior = SINK_NONE;
	rc = sink_exec_prep(s, sti, "insert ledger row", ins, &p,
	    PGRES_TUPLES_OK, 0, &res, cause);
	if (rc == 0 && PQntuples(res) == 0) {
		PQclear(res);
		rc = sink_exec_prep(s, sts, "lock ledger row", sel, &p,
		    PGRES_TUPLES_OK, 0, &res, cause);
		if (rc == 0 && (PQntuples(res) != 1 ||
		    sink_status_parse(PQgetvalue(res, 0, 1), prior) != 0)) {
			xasprintf(cause, "lock ledger row: row vanished or has"
			    " an unknown status");
			sink_fail_data(s);
			PQclear(res);
			rc = -1;
		}
	}
	sink_params_free(&p);
	if (rc != 0)
		return (-1);
	snprintf(s->message_pk, sizeof s->message_pk, "%s",
	    PQgetvalue(res, 0, 0));
	PQclear(res);
	return (0);
}

/* Write what we know about the message into its (locked) row. */
static int
sink_ledger_facts(struct sink *s, const struct sink_msg_info *mi,
    char **cause)
{
	struct sink_params	p;
	int			rc;

	sink_params_init(&p);
	sink_param_str(&p, s->message_pk);
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
	rc = sink_exec_prep(s, SINK_ST_LEDGER_FACTS, "update ledger row",
	    "UPDATE dmarc.mail_message SET path = $2, message_id = $3,"
	    " from_addr = $4, subject = $5,"
	    " date_hdr = to_timestamp($6::double precision), size_bytes = $7,"
	    " sha256 = coalesce($8::bytea, sha256), auth_results = $9,"
	    " fetched_at = now() WHERE id = $1", &p, PGRES_COMMAND_OK, 0, NULL,
	    cause);
	sink_params_free(&p);
	return (rc);
}

/* Open the message transaction and lock its ledger row. */
int
sink_msg_begin(struct sink *s, const struct sink_msg_info *mi,
    enum sink_status *prior, char **cause)
{
	if (s->in_msg)
		fatalx("%s: already inside a message transaction", __func__);
	*prior = SINK_NONE;
	if (sink_cmd(s, "BEGIN", cause) != 0)
		return (-1);
	s->in_msg = 1;
	if (sink_ledger_row(s, mi, prior, cause) != 0 ||
	    sink_ledger_facts(s, mi, cause) != 0) {
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
}

/* Write the final status and commit; on failure nothing is kept. */
int
sink_msg_commit(struct sink *s, enum sink_status st, const char *detail,
    char **cause)
{
	struct sink_params	 p;
	PGresult		*res;
	int			 rc;

	if (!s->in_msg || s->reparse || st == SINK_NONE ||
	    (size_t)st >= SINK_NSTATUS)
		fatalx("%s: no message or bad status %d", __func__, (int)st);
	sink_params_init(&p);
	sink_param_str(&p, s->message_pk);
	sink_param_str(&p, sink_status_name(st));
	sink_param_str(&p, detail);
	rc = sink_exec_prep(s, SINK_ST_MSG_STATUS, "write message status",
	    "UPDATE dmarc.mail_message SET status = $2, status_detail = $3,"
	    " status_at = now() WHERE id = $1", &p, PGRES_COMMAND_OK, 0, NULL,
	    cause);
	sink_params_free(&p);
	if (rc != 0) {
		sink_msg_rollback(s);
		return (-1);
	}
	rc = sink_exec(s, "commit", "COMMIT", NULL, PGRES_COMMAND_OK, &res,
	    cause);
	if (rc == 0) {
		/* COMMIT of a failed transaction says ROLLBACK. */
		if (strcmp(PQcmdStatus(res), "COMMIT") != 0) {
			xasprintf(cause, "commit: transaction was rolled"
			    " back");
			if (s->err == SINK_ERR_NONE)
				sink_fail_data(s);
			rc = -1;
		}
		PQclear(res);
	}
	sink_msg_clear(s);
	return (rc);
}

/* Roll the message transaction back; harmless outside one. */
void
sink_msg_rollback(struct sink *s)
{
	if (!s->in_msg || s->reparse)
		return;
	PQclear(PQexec(s->conn, "ROLLBACK"));
	sink_msg_clear(s);
}

/* Mark the start of one payload inside the message transaction. */
int
sink_payload_savepoint(struct sink *s, char **cause)
{
	if (!s->in_msg)
		fatalx("%s: no message transaction", __func__);
	sink_rawout_discard(s);
	s->file_pk[0] = s->report_pk[0] = '\0';
	return (sink_cmd(s, "SAVEPOINT payload", cause));
}

/* Forget everything written since the last sink_payload_savepoint. */
int
sink_payload_rollback(struct sink *s, char **cause)
{
	if (!s->in_msg)
		fatalx("%s: no message transaction", __func__);
	sink_rawout_discard(s);
	s->file_pk[0] = s->report_pk[0] = '\0';
	return (sink_cmd(s, "ROLLBACK TO SAVEPOINT payload", cause));
}
