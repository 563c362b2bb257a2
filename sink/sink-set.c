/*
 * sink-set.c: the payloads of a batch written in one statement.
 *
 * With sink_set_sets on, inside a batch, a payload that would end in one
 * whole-payload statement (sink_sql_whole_payload[_raw]: its row, its
 * report, records and raw chunk) is not sent at sink_file_end: its
 * parameters are kept here, and sink_file_end answers SINK_OK as for a
 * new report.  Before the batch's rollup flush and COMMIT (or between two
 * messages, when the kept values pass SINK_SET_MAX bytes) they all go in
 * one statement (sink_sql_set), whose executor start-up, constraint and
 * trigger set-up and protocol are then paid once for the lot instead of
 * once a payload.
 *
 * A payload whose report is one kept already (the same natural key: the
 * same report twice in a message, or in two messages of the batch) is a
 * duplicate at once: sink_file_end answers SINK_DUP, its payload row is
 * still written by the statement (whose ON CONFLICT leaves its report
 * out), and its delivery is counted right after, as sink_report_dup does.
 *
 * Otherwise SINK_OK was a guess.  The statement answers how many reports
 * it inserted and how many records; when a report was a duplicate after
 * all (stored before, or by another writer meanwhile) or the database
 * refused a value, the batch fails (a transient failure, so the caller
 * replays it), and the sink writes payload by payload until a batch
 * commits, where duplicates and refusals get their usual answers.
 * So only callers that can replay a batch turn sets on (the poll's
 * writers, which keep copies of their batch's messages).
 *
 * A message rolled back drops the payloads it kept; a batch rolled back
 * drops them all.
 *
 * The ledger rows go the same way.  A poll claims its new messages'
 * rows before it fetches them, so a writer that knows a message's row
 * is claimed (sink_msg_info's claimed_pk) need not write it at
 * sink_msg_begin and wait for its answer, nor write its status at
 * sink_msg_commit: the message's facts and status are kept here
 * (sink_led_hold, sink_led_status) and go in one UPDATE for the batch,
 * sent before its set statement, which counts the rows it changed
 * among those still claimed.  A row that is not (another agent finished
 * the message meanwhile, or it was pruned) fails the batch, which goes
 * again message by message; there the ledger statement sees the row's
 * status and the message is skipped, as it always was.  Each row then
 * takes one update instead of two (the facts, then the status), and a
 * message no round trip of its own.
 *
 * The duplicate counts compare a message's Message-ID and SHA-256 with
 * those of the messages that delivered the report before, which may be
 * kept here still.  So a statement that reads them (SINK_LEDGER_READ in
 * the statement table) first writes the facts kept so far, not their
 * status (sink_led_facts).  Those writes belong to the savepoint open
 * at the time: when it is rolled back they are undone, and led_sent,
 * how many kept rows have their facts written, goes back with them.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "common/common.h"
#include "sink/sink.h"
#include "sink/sink_p.h"

/* sink_sql_set's parameters: sink_sql_whole_payload_raw's (and a 112th,
   whether each payload's report is new). */
#define SET_NPARAMS	111
/* Where they hold the payload row, its message and the report's key. */
#define SET_FILE	0
#define SET_REPORTER	49
#define SET_REPORT_ID	53
#define SET_BEGIN	54
#define SET_DOMAIN	59
#define SET_MESSAGE	88

/* One payload kept: its values, text (bytea as \x hex), NULL for NULL. */
struct sink_held {
	char	*val[SET_NPARAMS];
	size_t	 bytes;		/* of val */
	size_t	 records;
	int	 dup;		/* its report is an earlier one's */
};

/* A ledger row's values (sink_sql_ledger_set's parameters). */
enum {
	LED_ID, LED_PATH, LED_MID, LED_FROM, LED_SUBJECT, LED_DATE, LED_SIZE,
	LED_SHA, LED_AR,
	LED_STATUS, LED_DETAIL,		/* LED_STATUS: the facts before it */
	LED_N
};
/* A verdict's: sink_sql_auth_store's 29. */
#define AUTH_NPARAMS	29

/* A ledger row or a verdict kept: its values, text, NULL for NULL. */
struct sink_row {
	char	*val[AUTH_NPARAMS];
	size_t	 bytes;
};
struct sink_rows {
	struct sink_row	*v;
	size_t		 n, size;
};

struct sink_set {
	struct sink_held *v;
	size_t		  n, size;
	size_t		  bytes;	/* of the kept values: payloads,
					   ledger rows and verdicts */
	size_t		  records;	/* of the new reports */
	size_t		  dups;

	struct sink_rows  led;		/* ledger rows kept */
	int		  led_open;	/* the last is the open message's */
	size_t		  led_sent;	/* the first led_sent have their facts
					   written in the transaction */
	size_t		  led_msg;	/* led_sent when the open message
					   began */
	size_t		  led_payload;	/* ... and its open payload */

	struct sink_rows  auth;		/* verdicts kept */
	size_t		  auth_msg;	/* auth.n when the open message began */
	size_t		  auth_payload;	/* ... and its open payload */
};

static size_t	 set_size(const struct sink_params *);
static void	 vals_free(char **, int);
static void	 set_truncate(struct sink *, size_t);
static int	 set_check(struct sink *, PGresult *, size_t, size_t,
		    char **);
static int	 set_same(const struct sink_held *, const struct sink_held *);
static int	 set_dups(struct sink *, char **);
static int	 set_param(struct sink *, struct sink_params *, int, char **);
static int	 set_send(struct sink *, PGresult **, char **);
static struct sink_set *set_get(struct sink *);
static struct sink_row *rows_add(struct sink_rows *);
static void	 rows_truncate(struct sink_set *, struct sink_rows *, size_t);
static int	 rows_params(struct sink *, const struct sink_rows *, size_t,
		    int, struct sink_params *, char **);
static void	 led_truncate(struct sink_set *, size_t);
static int	 led_send(struct sink *, enum sink_stmt, size_t, int,
		    char **);
static int	 auth_send(struct sink *, char **);

void
sink_set_sets(struct sink *s, int on)
{
	s->sets_on = on;
}

/* Whether the payload ending now is to be kept (see sink_p.h). */
int
sink_set_active(struct sink *s, const struct sink_params *a,
    const struct sink_params *b)
{
	if (!s->sets_on || !s->in_batch || s->sets_off || s->reparse)
		return (0);
	return (sink_set_bytes(s) + set_size(a) + set_size(b) <=
	    SINK_SET_MAX);
}

/* The bytes a payload's values take once kept (bytea as hex). */
static size_t
set_size(const struct sink_params *p)
{
	size_t	size = 0;
	int	i;

	for (i = 0; i < p->n; i++)
		if (p->val[i] != NULL)
			size += p->fmt[i] == 1 ? 2 * (size_t)p->len[i] + 2 :
			    strlen(p->val[i]);
	return (size);
}

/*
 * Keep a payload: p holds sink_sql_whole_payload's 109 parameters, or the
 * raw variant's 111; records: how many records it stores.  1 when its
 * report is one kept already (a duplicate: its payload row is still
 * written, and its delivery counted after the statement, as
 * sink_report_dup does), else 0.
 */
int
sink_set_hold(struct sink *s, const struct sink_params *p, size_t records)
{
	struct sink_set		*set;
	struct sink_held	*h;
	int			 i;

	if (p->n != SET_NPARAMS && p->n != SET_NPARAMS - 2)
		fatalx("%s: %d parameters", __func__, p->n);
	set = set_get(s);
	if (set->n == set->size) {
		set->size = set->size == 0 ? 16 : set->size * 2;
		set->v = xreallocarray(set->v, set->size, sizeof *set->v);
	}
	h = &set->v[set->n++];
	memset(h, 0, sizeof *h);
	for (i = 0; i < p->n; i++) {
		if (p->val[i] == NULL)
			continue;
		if (p->fmt[i] == 1)
			h->val[i] = sink_bytea_text(p->val[i],
			    (size_t)p->len[i]);
		else
			h->val[i] = xstrdup(p->val[i]);
	}
	h->bytes = set_size(p);
	set->bytes += h->bytes;
	for (i = 0; (size_t)i < set->n - 1; i++)
		if (!set->v[i].dup && set_same(&set->v[i], h)) {
			h->dup = 1;
			set->dups++;
			return (1);
		}
	h->records = records;
	set->records += records;
	s->rollup_dirty = 1;
	return (0);
}

/* Do two kept payloads hold the same report (its natural key)? */
static int
set_same(const struct sink_held *a, const struct sink_held *b)
{
	static const int	 key[] = { SET_REPORTER, SET_REPORT_ID,
				    SET_DOMAIN, SET_BEGIN };
	size_t			 i;

	for (i = 0; i < sizeof key / sizeof key[0]; i++) {
		if (a->val[key[i]] == NULL || b->val[key[i]] == NULL)
			return (0);
		if (strcmp(a->val[key[i]], b->val[key[i]]) != 0)
			return (0);
	}
	return (1);
}

static struct sink_set *
set_get(struct sink *s)
{
	if (s->set == NULL)
		s->set = xcalloc(1, sizeof *s->set);
	return (s->set);
}

/* Bytes kept so far: payloads, ledger rows, verdicts (0: none). */
size_t
sink_set_bytes(struct sink *s)
{
	return (s->set != NULL ? s->set->bytes : 0);
}

/* Free n kept values. */
static void
vals_free(char **v, int n)
{
	int	i;

	for (i = 0; i < n; i++)
		free(v[i]);
}

/* Keep only the first n payloads. */
static void
set_truncate(struct sink *s, size_t n)
{
	struct sink_set	*set = s->set;
	size_t		 i;

	if (set == NULL)
		return;
	for (i = n; i < set->n; i++) {
		set->bytes -= set->v[i].bytes;
		set->records -= set->v[i].records;
		set->dups -= set->v[i].dup;
		vals_free(set->v[i].val, SET_NPARAMS);
	}
	if (n < set->n)
		set->n = n;
}

/* Mark where the open message's payloads and ledger writes begin. */
void
sink_set_msg_mark(struct sink *s)
{
	s->set_mark = s->set != NULL ? s->set->n : 0;
	if (s->set != NULL) {
		s->set->led_msg = s->set->led_payload = s->set->led_sent;
		s->set->auth_msg = s->set->auth_payload = s->set->auth.n;
	}
}

/* The open message was rolled back: drop what it kept. */
void
sink_set_msg_drop(struct sink *s)
{
	struct sink_set	*set = s->set;

	set_truncate(s, s->set_mark);
	if (set == NULL)
		return;
	if (set->led_open)
		led_truncate(set, set->led.n - 1);
	if (set->led_sent > set->led_msg)
		set->led_sent = set->led_msg;
	rows_truncate(set, &set->auth, set->auth_msg);
}

/* A payload savepoint: ledger writes from here on go with it. */
void
sink_set_payload_mark(struct sink *s)
{
	if (s->set != NULL) {
		s->set->led_payload = s->set->led_sent;
		s->set->auth_payload = s->set->auth.n;
	}
}

/* The payload was rolled back to its savepoint. */
void
sink_set_payload_drop(struct sink *s)
{
	if (s->set == NULL)
		return;
	if (s->set->led_sent > s->set->led_payload)
		s->set->led_sent = s->set->led_payload;
	rows_truncate(s->set, &s->set->auth, s->set->auth_payload);
}

void
sink_set_free(struct sink *s)
{
	if (s->set == NULL)
		return;
	set_truncate(s, 0);
	led_truncate(s->set, 0);
	rows_truncate(s->set, &s->set->auth, 0);
	free(s->set->v);
	free(s->set->led.v);
	free(s->set->auth.v);
	free(s->set);
	s->set = NULL;
	s->set_mark = 0;
}

/* A new row at the end of r, all NULL. */
static struct sink_row *
rows_add(struct sink_rows *r)
{
	struct sink_row	*row;

	if (r->n == r->size) {
		r->size = r->size == 0 ? 64 : r->size * 2;
		r->v = xreallocarray(r->v, r->size, sizeof *r->v);
	}
	row = &r->v[r->n++];
	memset(row, 0, sizeof *row);
	return (row);
}

/* Keep only the first n rows of r. */
static void
rows_truncate(struct sink_set *set, struct sink_rows *r, size_t n)
{
	size_t	i;

	for (i = n; i < r->n; i++) {
		set->bytes -= r->v[i].bytes;
		vals_free(r->v[i].val, AUTH_NPARAMS);
	}
	if (n < r->n)
		r->n = n;
}

/*
 * Parameters 1 .. ncols: value k of the rows of r from first on, as a
 * text[] literal each.
 */
static int
rows_params(struct sink *s, const struct sink_rows *r, size_t first,
    int ncols, struct sink_params *p, char **cause)
{
	struct sink_array	 a;
	char			*lit;
	size_t			 i;
	int			 k;

	for (k = 0; k < ncols; k++) {
		sink_array_init(&a);
		for (i = first; i < r->n; i++)
			sink_array_add(&a, r->v[i].val[k]);
		if ((lit = sink_array_end(&a, cause)) == NULL) {
			sink_fail_data(s);
			return (-1);
		}
		sink_param_own(p, lit);
	}
	return (0);
}

/* Keep only the first n ledger rows. */
static void
led_truncate(struct sink_set *set, size_t n)
{
	rows_truncate(set, &set->led, n);
	if (set->led_sent > set->led.n)
		set->led_sent = set->led.n;
	set->led_open = 0;
}

/*
 * Keep the ledger row of the message beginning (mi) for the batch: 1,
 * or 0 when it must be written now (the caller does not know the row is
 * claimed, or sets are off).
 */
int
sink_led_hold(struct sink *s, const struct sink_msg_info *mi)
{
	struct sink_set	*set;
	struct sink_row	*e;
	int		 i;

	if (mi->claimed_pk <= 0 || mi->uidvalidity == 0 || !s->sets_on ||
	    !s->in_batch || s->sets_off || s->reparse ||
	    s->batch_cause != NULL)
		return (0);
	set = set_get(s);
	if (set->led_open)
		fatalx("%s: a message's row is kept already", __func__);
	e = rows_add(&set->led);
	xasprintf(&e->val[LED_ID], "%lld", (long long)mi->claimed_pk);
	if (mi->path != NULL)
		e->val[LED_PATH] = xstrdup(mi->path);
	if (mi->message_id != NULL)
		e->val[LED_MID] = xstrdup(mi->message_id);
	if (mi->from != NULL)
		e->val[LED_FROM] = xstrdup(mi->from);
	if (mi->subject != NULL)
		e->val[LED_SUBJECT] = xstrdup(mi->subject);
	if (mi->date != SINK_NO_DATE)
		xasprintf(&e->val[LED_DATE], "%lld", (long long)mi->date);
	xasprintf(&e->val[LED_SIZE], "%lld", mi->size > INT64_MAX ?
	    (long long)INT64_MAX : (long long)mi->size);
	if (mi->sha256 != NULL)
		e->val[LED_SHA] = sink_bytea_text(mi->sha256, 32);
	if (mi->auth_results != NULL)
		e->val[LED_AR] = xstrdup(mi->auth_results);
	for (i = 0; i < LED_N; i++)
		if (e->val[i] != NULL)
			e->bytes += strlen(e->val[i]) + 3;
	set->bytes += e->bytes;
	set->led_open = 1;
	return (1);
}

/* Is the open message's row kept (sink_led_hold)? */
int
sink_led_open(struct sink *s)
{
	return (s->set != NULL && s->set->led_open);
}

/* The open message's final status; detail (malloc'd, or NULL) is taken. */
void
sink_led_status(struct sink *s, enum sink_status st, char *detail)
{
	struct sink_set	*set = s->set;
	struct sink_row	*e;
	size_t		 bytes;

	if (!sink_led_open(s))
		fatalx("%s: no message's row is kept", __func__);
	e = &set->led.v[set->led.n - 1];
	e->val[LED_STATUS] = xstrdup(sink_status_name(st));
	e->val[LED_DETAIL] = detail;
	bytes = strlen(e->val[LED_STATUS]) + 3 +
	    (detail != NULL ? strlen(detail) + 3 : 0);
	e->bytes += bytes;
	set->bytes += bytes;
	set->led_open = 0;
}

/*
 * Send (not waiting) statement st for the kept rows from first on: their
 * ncols first values, counted by the statement (SINK_CHK_COUNT).  Its
 * failure, a row no longer claimed among them, fails the batch.
 */
static int
led_send(struct sink *s, enum sink_stmt st, size_t first, int ncols,
    char **cause)
{
	struct sink_set		*set = s->set;
	struct sink_params	 p;
	int			 rc;

	sink_params_init(&p);
	rc = rows_params(s, &set->led, first, ncols, &p, cause);
	if (rc == 0)
		rc = sink_send(s, st, &p, SINK_CHK_COUNT,
		    (long long)(set->led.n - first), NULL, cause);
	if (rc == 0)
		s->pend[s->npend - 1].batch = 1;
	sink_params_free(&p);
	return (rc);
}

/*
 * Keep the open message's verdict (p: sink_sql_auth_store's parameters,
 * all text) for the batch's statement.
 */
void
sink_set_auth_hold(struct sink *s, const struct sink_params *p)
{
	struct sink_set		*set = set_get(s);
	struct sink_row		*k;
	int			 i;

	if (p->n != AUTH_NPARAMS || p->binary || !set->led_open)
		fatalx("%s: %d parameters, or no row kept", __func__, p->n);
	k = rows_add(&set->auth);
	for (i = 0; i < AUTH_NPARAMS; i++)
		if (p->val[i] != NULL) {
			k->val[i] = xstrdup(p->val[i]);
			k->bytes += strlen(p->val[i]) + 3;
		}
	set->bytes += k->bytes;
}

/*
 * Send (not waiting) the verdicts kept: the old ones of their messages
 * cleared, the new ones counted.  A failure fails the batch.
 */
static int
auth_send(struct sink *s, char **cause)
{
	struct sink_set		*set = s->set;
	struct sink_params	 p, c;
	int			 rc;

	sink_params_init(&p);
	rc = rows_params(s, &set->auth, 0, AUTH_NPARAMS, &p, cause);
	/* The messages' ids ($1) also say which verdicts to clear. */
	if (rc == 0) {
		sink_params_init(&c);
		sink_param_str(&c, p.val[0]);
		rc = sink_send(s, SINK_ST_AUTH_CLEAR_SET, &c, SINK_CHK_NONE, 0,
		    NULL, cause);
		sink_params_free(&c);
	}
	if (rc == 0)
		rc = sink_send(s, SINK_ST_AUTH_SET, &p, SINK_CHK_COUNT,
		    (long long)set->auth.n, NULL, cause);
	if (rc == 0)
		sink_batch_mark(s);
	sink_params_free(&p);
	return (rc);
}

/* Any kept row whose facts are not written yet? */
int
sink_led_unsent(struct sink *s)
{
	return (s->set != NULL && s->set->led_sent < s->set->led.n);
}

/*
 * Write the facts of the kept rows not written yet (not their status:
 * the rows stay claimed), before a statement that reads them.
 */
int
sink_led_facts(struct sink *s, char **cause)
{
	struct sink_set	*set = s->set;

	if (!sink_led_unsent(s))
		return (0);
	if (led_send(s, SINK_ST_LEDGER_FACTS, set->led_sent, LED_STATUS,
	    cause) != 0)
		return (-1);
	set->led_sent = set->led.n;
	return (0);
}

/* Did the statement store every report and record it was given? */
static int
set_check(struct sink *s, PGresult *res, size_t reports, size_t records,
    char **cause)
{
	long long	got_rep, got_rec;

	got_rep = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	got_rec = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	if (got_rep == (long long)reports && got_rec == (long long)records)
		return (0);
	xasprintf(cause, "held reports: %lld of %zu new, %lld of %zu"
	    " records stored; the batch goes again message by message",
	    got_rep, reports, got_rec, records);
	s->err = SINK_ERR_TRANSIENT;
	return (-1);
}

/*
 * The deliveries of the reports kept twice, in the order they came, now
 * that their first copy is stored: locked and counted as sink_report_dup
 * does (seen_count goes up when the message differs from every message
 * that delivered the report before).
 */
static int
set_dups(struct sink *s, char **cause)
{
	struct sink_set		*set = s->set;
	struct sink_held	*h;
	const char		*key[4];
	size_t			 i;
	int			 rc = 0;

	for (i = 0; i < set->n && rc == 0; i++) {
		h = &set->v[i];
		if (!h->dup)
			continue;
		key[0] = h->val[SET_REPORTER];
		key[1] = h->val[SET_REPORT_ID];
		key[2] = h->val[SET_DOMAIN];
		key[3] = h->val[SET_BEGIN];
		rc = sink_dup_send(s, key, h->val[SET_MESSAGE],
		    h->val[SET_FILE], cause);
		sink_batch_mark(s);
	}
	if (rc == 0)
		rc = sink_sync(s, cause);
	return (rc);
}

/*
 * The statement's parameter k + 1 (k from 0): the kept payloads' values
 * of sink_sql_whole_payload_raw's, or (k = SET_NPARAMS) whether each
 * payload's report is new, as a text[] literal.
 */
static int
set_param(struct sink *s, struct sink_params *p, int k, char **cause)
{
	struct sink_set		*set = s->set;
	struct sink_array	 a;
	char			*lit;
	size_t			 i;

	sink_array_init(&a);
	for (i = 0; i < set->n; i++)
		sink_array_add(&a, k < SET_NPARAMS ? set->v[i].val[k] :
		    set->v[i].dup ? "f" : "t");
	if ((lit = sink_array_end(&a, cause)) == NULL) {
		sink_fail_data(s);
		return (-1);
	}
	sink_param_own(p, lit);
	return (0);
}

/*
 * Send (not waiting) the set statement of the kept payloads; its result
 * goes to *res.  A failure fails the batch.
 */
static int
set_send(struct sink *s, PGresult **res, char **cause)
{
	struct sink_params	 p;
	int			 k, rc = 0;

	sink_params_init(&p);
	for (k = 0; k <= SET_NPARAMS && rc == 0; k++)
		rc = set_param(s, &p, k, cause);
	if (rc == 0) {
		rc = sink_send(s, SINK_ST_SET, &p, SINK_CHK_ROW, 0, res,
		    cause);
		sink_batch_mark(s);
	}
	sink_params_free(&p);
	return (rc);
}

/*
 * Write the payloads kept, between messages, and wait: 0, or -1 with
 * *cause.  Any failure fails the batch (the caller rolls it back) and
 * turns sets off until a batch commits.
 */
int
sink_set_flush(struct sink *s, char **cause)
{
	struct sink_set		*set = s->set;
	PGresult		*res = NULL;
	int			 rc = 0;

	if (set == NULL || (set->n == 0 && set->led.n == 0 &&
	    set->auth.n == 0))
		return (0);
	if (s->in_msg || set->led_open)
		fatalx("%s: a message is open", __func__);
	/* The ledger rows first: set_dups reads their facts. */
	if (set->led.n != 0) {
		rc = led_send(s, SINK_ST_LEDGER_SET, 0, LED_N, cause);
		led_truncate(set, 0);
	}
	if (rc == 0 && set->n != 0)
		rc = set_send(s, &res, cause);
	/* The verdicts after the reports, whose authenticity they set. */
	if (rc == 0 && set->auth.n != 0)
		rc = auth_send(s, cause);
	if (rc == 0)
		rc = sink_sync(s, cause);
	if (rc == 0 && set->n != 0)
		rc = set_check(s, res, set->n - set->dups, set->records,
		    cause);
	if (rc == 0 && set->dups != 0)
		rc = set_dups(s, cause);
	PQclear(res);
	sink_set_free(s);
	if (rc != 0) {
		s->sets_off = 1;
		s->err = SINK_ERR_TRANSIENT;
		if (s->batch_cause == NULL)
			s->batch_cause = xstrdup(*cause);
	}
	return (rc);
}
