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

struct sink_set {
	struct sink_held *v;
	size_t		  n, size;
	size_t		  bytes;	/* of the kept values */
	size_t		  records;	/* of the new reports */
	size_t		  dups;
};

static size_t	 set_size(const struct sink_params *);
static void	 set_held_free(struct sink_held *);
static void	 set_truncate(struct sink *, size_t);
static int	 set_check(struct sink *, PGresult *, size_t, size_t,
		    char **);
static int	 set_same(const struct sink_held *, const struct sink_held *);
static int	 set_dups(struct sink *, char **);
static int	 set_param(struct sink *, struct sink_params *, int, char **);

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
	if ((set = s->set) == NULL)
		set = s->set = xcalloc(1, sizeof *set);
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

/* Bytes kept so far (0 when nothing is). */
size_t
sink_set_bytes(struct sink *s)
{
	return (s->set != NULL ? s->set->bytes : 0);
}

static void
set_held_free(struct sink_held *h)
{
	int	i;

	for (i = 0; i < SET_NPARAMS; i++)
		free(h->val[i]);
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
		set_held_free(&set->v[i]);
	}
	if (n < set->n)
		set->n = n;
}

/* Mark where the open message's payloads begin. */
void
sink_set_msg_mark(struct sink *s)
{
	s->set_mark = s->set != NULL ? s->set->n : 0;
}

/* The open message was rolled back: drop what it kept. */
void
sink_set_msg_drop(struct sink *s)
{
	set_truncate(s, s->set_mark);
}

void
sink_set_free(struct sink *s)
{
	if (s->set == NULL)
		return;
	set_truncate(s, 0);
	free(s->set->v);
	free(s->set);
	s->set = NULL;
	s->set_mark = 0;
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
 * Write the payloads kept, between messages, and wait: 0, or -1 with
 * *cause.  Any failure fails the batch (the caller rolls it back) and
 * turns sets off until a batch commits.
 */
int
sink_set_flush(struct sink *s, char **cause)
{
	struct sink_set		*set = s->set;
	struct sink_params	 p;
	PGresult		*res = NULL;
	int			 k, rc = 0;

	if (set == NULL || set->n == 0)
		return (0);
	if (s->in_msg)
		fatalx("%s: a message is open", __func__);
	sink_params_init(&p);
	for (k = 0; k <= SET_NPARAMS && rc == 0; k++)
		rc = set_param(s, &p, k, cause);
	if (rc == 0) {
		rc = sink_send(s, SINK_ST_SET, &p, SINK_CHK_ROW, 0, &res,
		    cause);
		sink_batch_mark(s);
	}
	sink_params_free(&p);
	if (rc == 0)
		rc = sink_sync(s, cause);
	if (rc == 0)
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
