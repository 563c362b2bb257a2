/*
 * sink-report.c: payloads, reports and records, inside the message
 * transaction that sink_msg_begin opened.
 *
 * A payload is one report_file row (sink_file_begin .. sink_file_end).  Its
 * report is inserted with ON CONFLICT DO NOTHING on the natural key
 * (reporter_key, report_id, policy_domain, date_begin); when the key exists
 * the report is a duplicate: the payload is linked to it in report_delivery
 * and seen_count goes up only when the message differs from every message
 * that delivered the report before (another ledger row, Message-ID and
 * SHA-256), so re-reading a message after a UIDVALIDITY change counts
 * nothing twice.
 *
 * A reparse (sink_reparse_begin, sink-raw.c) goes through the same
 * functions; only the head differs: it updates the report stored from the
 * payload in place instead of inserting one (sink_reparse_head).
 *
 * The statements are in the table of sink.c, with their texts; those of
 * the message path are prepared once per connection.  Records arrive in
 * batches and each batch is one statement, whatever its size: the record
 * rows and all their DKIM, SPF, reason and extension rows are passed as
 * parallel arrays and unnested by data-modifying CTEs, the children joined
 * to the new record ids through the record's ord.  Arrays travel as text
 * array literals (parameter values, never SQL text).
 *
 * With sink_set_defer (the agent's poll and ingest) nothing of a payload
 * is sent before it is needed: the report_file row waits for the
 * payload's end or the first statement that refers to it (a raw chunk, a
 * TLS or failure report), the report for the payload's end or its second
 * record batch.  Most payloads then cost one statement, waited for: the
 * payload row with its final values, the last chunk of its raw copy, the
 * report, its records and totals (sink_sql_whole_payload_raw).  The
 * server's fixed cost per statement (executor start-up, CHECK constraints
 * read again, the protocol) was as large as the rows' own, and updating
 * the payload row at its end left a dead tuple and three index entries.
 * With sink_set_sets as well (the poll's writers), that statement is not
 * sent either: the batch's payloads go in one (sink-set.c).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "common/common.h"
#include "report/report.h"
#include "sink/sink.h"
#include "sink/sink_p.h"

/* The columns of one record batch, in parameter order ($2 ...). */
enum {
	R_ORD, R_IP, R_IPRAW, R_COUNT, R_COUNTRAW, R_DISP, R_DISPRAW,
	R_DKIM, R_DKIMRAW, R_SPF, R_SPFRAW, R_HFROM, R_EFROM, R_ETO, R_TAG,
	R_WARN,
	D_REC, D_ORD, D_DOMAIN, D_SEL, D_RES, D_RESRAW, D_HUMAN, D_LANG,
	S_REC, S_ORD, S_DOMAIN, S_SCOPE, S_SCOPERAW, S_RES, S_RESRAW, S_HUMAN,
	S_LANG,
	X_REC, X_ORD, X_TYPE, X_TYPERAW, X_COMMENT, X_LANG,
	E_REC, E_ORD, E_NS, E_NAME, E_XML,
	SINK_NCOLS
};

/* What sink_reparse_head found. */
enum sink_reparse {
	SINK_REPARSE_ERROR = -1,
	SINK_REPARSE_UPDATED,	/* the payload's report, updated in place */
	SINK_REPARSE_DUP,	/* the payload only delivered a duplicate */
	SINK_REPARSE_NONE	/* it stored no report: store it as new */
};

/* Where sink_head_params puts the natural key. */
#define HP_REPORTER	5
#define HP_REPORT_ID	9
#define HP_BEGIN	10
#define HP_DOMAIN	15
#define HP_AUTH		40	/* the last: sink_set_authenticity's */

/*
 * A report held back (sink_set_defer): the head's parameters and at most
 * one batch of records, as array literals.  Sent as one statement by
 * sink_report_end, or the old way when a second batch comes.
 */
struct sink_defer {
	struct sink_params	 head;		/* sink_head_params, owned */
	char			*lit[SINK_NCOLS];	/* a batch, or NULLs */
	size_t			 n;		/* records in it */
	long long		 total;		/* their message_count sum */
	int			 ended;		/* sink_report_end came: */
	struct sink_params	 end;		/* sink_sql_whole's 88, owned */
};

static char	*sink_strings(char **, size_t, char **);
static int	 sink_head_params(struct sink_params *, const char *,
		    const struct report_head *, const char *, char **);
static int	 sink_head_lists(struct sink_params *,
		    const struct report_head *, char **);
static int	 sink_report_dup(struct sink *, const struct sink_params *,
		    char **);
static void	 sink_params_keep(struct sink_params *);
static void	 sink_report_drop(struct sink *);
static void	 sink_file_drop(struct sink *);
static int	 sink_records_lits(const struct report_record *, size_t,
		    char **, long long *, char **);
static int	 sink_records_send(struct sink *, char **, size_t, char **);
static enum sink_result sink_defer_flush(struct sink *, char **);
static int	 sink_defer_end(struct sink *, const struct report_head *,
		    char **);
static void	 sink_params_append(struct sink_params *,
		    const struct sink_params *);
static int	 sink_set_kept(struct sink *, const struct sink_params *);
static enum sink_result sink_report_send(struct sink *,
		    const struct sink_params *, enum sink_stmt, char **);
static enum sink_reparse sink_reparse_head(struct sink *,
		    const struct report_head *, char **);
static int	 sink_reparse_link(struct sink *, const struct report_head *,
		    char **);
static void	 sink_batch_record(struct sink_array *,
		    const struct report_record *);
static void	 sink_batch_children(struct sink_array *,
		    const struct report_record *);

/* Start an empty array literal. */
void
sink_array_init(struct sink_array *a)
{
	buf_init(&a->b, SINK_ARRAY_MAX);
	a->n = 0;
	a->overflow = 0;
	if (buf_add(&a->b, "{", 1) != 0)
		a->overflow = 1;
}

/* Append one element, double-quoted, or NULL. */
void
sink_array_add(struct sink_array *a, const char *v)
{
	const char	*p;
	size_t		 len;

	if (a->overflow)
		return;
	if (a->n++ > 0 && buf_add(&a->b, ",", 1) != 0)
		goto overflow;
	if (v == NULL) {
		if (buf_add(&a->b, "NULL", 4) != 0)
			goto overflow;
		return;
	}
	if (buf_add(&a->b, "\"", 1) != 0)
		goto overflow;
	while (*v != '\0') {
		len = strcspn(v, "\"\\");
		if (len > 0 && buf_add(&a->b, v, len) != 0)
			goto overflow;
		p = v + len;
		if (*p == '\0')
			break;
		if (buf_add(&a->b, "\\", 1) != 0 || buf_add(&a->b, p, 1) != 0)
			goto overflow;
		v = p + 1;
	}
	if (buf_add(&a->b, "\"", 1) != 0)
		goto overflow;
	return;
overflow:
	a->overflow = 1;
}

/* Append an integer element. */
void
sink_array_addint(struct sink_array *a, long long v)
{
	char	tmp[32];

	snprintf(tmp, sizeof tmp, "%lld", v);
	sink_array_add(a, tmp);
}

/* Close the literal and hand it over; NULL with *cause past the cap. */
char *
sink_array_end(struct sink_array *a, char **cause)
{
	if (a->overflow || buf_add(&a->b, "}", 1) != 0) {
		xasprintf(cause, "array parameter larger than %lu bytes",
		    (unsigned long)SINK_ARRAY_MAX);
		buf_free(&a->b);
		return (NULL);
	}
	return (buf_steal(&a->b, NULL));
}

/* Drop an unfinished literal. */
void
sink_array_free(struct sink_array *a)
{
	buf_free(&a->b);
}

/* A text[] literal of n strings. */
static char *
sink_strings(char **v, size_t n, char **cause)
{
	struct sink_array	a;
	size_t			i;

	sink_array_init(&a);
	for (i = 0; i < n; i++)
		sink_array_add(&a, v[i]);
	return (sink_array_end(&a, cause));
}

/*
 * Open a payload: its report_file row, with an id from the pool, sent
 * without waiting (a failure shows at the next call that waits).
 */
int
sink_file_begin(struct sink *s, const struct sink_file_info *fi,
    char **cause)
{
	struct sink_params	 p;
	char			 id[24];
	int			 rc;

	if (!s->in_msg)
		fatalx("%s: no message transaction", __func__);
	if (s->reparse)
		fatalx("%s: inside a reparse", __func__);
	sink_payload_closed(s, __func__);
	sink_rawout_discard(s);
	s->file_pk[0] = s->report_pk[0] = '\0';
	if (sink_pool_take(s, id, sizeof id, cause) != 0)
		return (-1);
	sink_params_init(&p);
	sink_param_str(&p, s->message_pk);
	sink_param_str(&p, fi->mime_path);
	sink_param_str(&p, fi->filename);
	sink_param_str(&p, fi->content_type);
	sink_param_str(&p, fi->transfer_encoding);
	sink_param_str(&p, fi->container);
	sink_param_str(&p, fi->zip_member);
	sink_param_str(&p, fi->kind);
	sink_param_int(&p, fi->encoded_bytes > INT64_MAX ? INT64_MAX :
	    (long long)fi->encoded_bytes);
	sink_param_str(&p, id);
	sink_param_str(&p, fi->fn_receiver);
	sink_param_str(&p, fi->fn_policy_domain);
	if (fi->fn_receiver != NULL && fi->fn_begin >= 0)
		sink_param_int(&p, fi->fn_begin);
	else
		sink_param_str(&p, NULL);
	if (fi->fn_receiver != NULL && fi->fn_end >= 0)
		sink_param_int(&p, fi->fn_end);
	else
		sink_param_str(&p, NULL);
	sink_param_str(&p, fi->fn_unique_id);
	sink_param_str(&p, fi->subj_domain);
	sink_param_str(&p, fi->subj_submitter);
	sink_param_str(&p, fi->subj_report_id);
	if (s->defer_on) {
		/* Sent with the report, or at the end, or when first
		   referred to (sink_file_flush). */
		sink_params_keep(&p);
		s->file_held = xmalloc(sizeof *s->file_held);
		*s->file_held = p;
		snprintf(s->file_pk, sizeof s->file_pk, "%s", id);
		return (0);
	}
	rc = sink_send(s, SINK_ST_FILE, &p, SINK_CHK_ROW, 0, NULL, cause);
	sink_params_free(&p);
	if (rc != 0)
		return (-1);
	snprintf(s->file_pk, sizeof s->file_pk, "%s", id);
	return (0);
}

/* Send the report_file row held back, if it is (contract in sink_p.h). */
int
sink_file_flush(struct sink *s, char **cause)
{
	int	rc;

	if (s->file_held == NULL)
		return (0);
	rc = sink_send(s, SINK_ST_FILE, s->file_held, SINK_CHK_ROW, 0, NULL,
	    cause);
	sink_file_drop(s);
	return (rc);
}

/*
 * Close the payload: its size, digest and error text, with the last chunk
 * of its raw copy (not waiting).  A row still held back is inserted whole,
 * and a report held back that has ended is stored with it, in one
 * statement (waiting for it: SINK_DUP when it was a duplicate,
 * SINK_REFUSED when the database refused it).
 */
enum sink_result
sink_file_end(struct sink *s, uint64_t payload_bytes,
    const unsigned char sha256[32], const char *error, char **cause)
{
	struct sink_params	 p;
	const unsigned char	*chunk;
	size_t			 len;
	long long		 seq;
	enum sink_result	 rc = SINK_OK, rep = SINK_OK;
	int			 once, raw;

	if (s->file_pk[0] == '\0' || s->reparse)
		fatalx("%s: no payload open", __func__);
	if (s->defer != NULL && !s->defer->ended)
		fatalx("%s: a report held back was never ended", __func__);
	if (sink_rawout_finish(s, cause) != 0)
		rc = SINK_FAILED;
	once = rc == SINK_OK && s->file_held != NULL;
	sink_params_init(&p);
	if (once)
		sink_params_append(&p, s->file_held);
	else
		sink_param_str(&p, s->file_pk);
	sink_param_int(&p, payload_bytes > INT64_MAX ? INT64_MAX :
	    (long long)payload_bytes);
	sink_param_sha(&p, sha256);
	sink_param_str(&p, error);
	raw = sink_rawout_last(s, &chunk, &len, &seq);
	if (raw) {
		sink_param_int(&p, seq);
		sink_param_bin(&p, chunk, len);
	}
	if (rc == SINK_OK && once && s->defer != NULL &&
	    sink_set_active(s, &s->defer->end, &p)) {
		/* Kept for the batch's set statement (sink-set.c). */
		if (sink_set_kept(s, &p))
			rc = SINK_DUP;
	} else if (rc == SINK_OK && once && s->defer != NULL)
		rc = rep = sink_report_send(s, &p, raw ?
		    SINK_ST_WHOLE_PAYLOAD_RAW : SINK_ST_WHOLE_PAYLOAD, cause);
	else if (rc == SINK_OK && once) {
		if (sink_send(s, raw ? SINK_ST_FILE_ONCE_RAW :
		    SINK_ST_FILE_ONCE, &p, SINK_CHK_NONE, 0, NULL, cause) != 0)
			rc = SINK_FAILED;
	} else if (rc == SINK_OK) {
		/* The row went out early (a raw chunk referred to it). */
		if (s->defer != NULL)
			rc = rep = sink_report_send(s, NULL, SINK_ST_WHOLE,
			    cause);
		if (rc != SINK_FAILED && sink_send(s, raw ?
		    SINK_ST_FILE_END_RAW : SINK_ST_FILE_END, &p, SINK_CHK_NONE,
		    0, NULL, cause) != 0)
			rc = SINK_FAILED;
	}
	/* The database refused the report held back (see sink.h). */
	if (rc == SINK_FAILED && s->defer != NULL && rep == SINK_FAILED &&
	    s->err == SINK_ERR_DATA)
		rc = SINK_REFUSED;
	sink_params_free(&p);
	sink_rawout_discard(s);
	sink_defer_free(s);
	s->file_pk[0] = s->report_pk[0] = '\0';
	return (rc);
}

/*
 * The 41 parameters of sink_sql_head: 34 columns, the lists, then the
 * authenticity (NULL: "unverified").
 */
static int
sink_head_params(struct sink_params *p, const char *file_pk,
    const struct report_head *h, const char *auth, char **cause)
{
	sink_param_str(p, file_pk);
	sink_param_str(p, report_format_name(h->format));
	sink_param_str(p, h->xml_namespace);
	sink_param_str(p, h->xml_version);
	sink_param_str(p, h->org_name);
	sink_param_str(p, h->reporter_key);
	sink_param_str(p, h->org_email);
	sink_param_str(p, h->extra_contact_info);
	sink_param_str(p, h->extra_contact_info_lang);
	sink_param_str(p, h->report_id);
	sink_param_int(p, h->date_begin);
	sink_param_int(p, h->date_end);
	sink_param_str(p, h->begin_raw);
	sink_param_str(p, h->end_raw);
	sink_param_str(p, h->generator);
	sink_param_str(p, h->policy_domain);
	sink_param_str(p, h->policy_p);
	sink_param_str(p, h->policy_p_raw);
	sink_param_str(p, h->policy_sp);
	sink_param_str(p, h->policy_sp_raw);
	sink_param_str(p, h->policy_np);
	sink_param_str(p, h->policy_np_raw);
	sink_param_str(p, h->policy_adkim);
	sink_param_str(p, h->policy_adkim_raw);
	sink_param_str(p, h->policy_aspf);
	sink_param_str(p, h->policy_aspf_raw);
	if (h->policy_pct >= 0 && h->policy_pct <= 100)
		sink_param_int(p, h->policy_pct);
	else
		sink_param_str(p, NULL);
	sink_param_str(p, h->policy_pct_raw);
	sink_param_str(p, h->policy_fo);
	sink_param_str(p, h->policy_testing);
	sink_param_str(p, h->policy_testing_raw);
	sink_param_str(p, h->discovery_method);
	sink_param_str(p, h->discovery_method_raw);
	sink_param_int(p, h->policy_published_count > INT16_MAX ? INT16_MAX :
	    h->policy_published_count);
	if (sink_head_lists(p, h, cause) != 0)
		return (-1);
	sink_param_str(p, auth != NULL ? auth : "unverified");
	return (0);
}

/* Six parameters: warnings, errors (text, lang), extensions (ns, name, xml). */
static int
sink_head_lists(struct sink_params *p, const struct report_head *h,
    char **cause)
{
	struct sink_array	 e[5];
	char			*lit;
	size_t			 i;
	int			 j;

	if ((lit = sink_strings(h->warnings, h->nwarnings, cause)) == NULL)
		return (-1);
	sink_param_own(p, lit);
	for (j = 0; j < 5; j++)
		sink_array_init(&e[j]);
	for (i = 0; i < h->nerrors; i++) {
		sink_array_add(&e[0], h->errors[i].text);
		sink_array_add(&e[1], h->errors[i].lang);
	}
	for (i = 0; i < h->next; i++) {
		sink_array_add(&e[2], h->ext[i].ns_uri);
		sink_array_add(&e[3], h->ext[i].local_name);
		sink_array_add(&e[4], h->ext[i].xml);
	}
	for (j = 0; j < 5; j++) {
		if ((lit = sink_array_end(&e[j], cause)) == NULL) {
			while (++j < 5)
				sink_array_free(&e[j]);
			return (-1);
		}
		sink_param_own(p, lit);
	}
	return (0);
}

/*
 * Store a report's header.  SINK_OK: new, its records follow; SINK_DUP: a
 * duplicate (see sink_report_dup); SINK_FAILED on error.  With
 * sink_set_defer (and not in a reparse) nothing is sent yet: SINK_OK, and
 * sink_report_records or sink_report_end tell a duplicate later.
 */
enum sink_result
sink_report_head(struct sink *s, const struct report_head *h, char **cause)
{
	struct sink_params	 p;
	PGresult		*res = NULL;
	enum sink_reparse	 found;
	const char		*auth;
	int			 rc;

	if (s->file_pk[0] == '\0')
		fatalx("%s: no payload open", __func__);
	s->report_pk[0] = '\0';
	auth = s->next_auth;
	s->next_auth = NULL;
	sink_report_drop(s);
	if (s->reparse) {
		found = sink_reparse_head(s, h, cause);
		if (found == SINK_REPARSE_ERROR)
			return (SINK_FAILED);
		if (found == SINK_REPARSE_UPDATED)
			return (SINK_OK);
		if (found == SINK_REPARSE_DUP)
			return (SINK_DUP);
	}
	sink_params_init(&p);
	if (sink_head_params(&p, s->file_pk, h, auth, cause) != 0) {
		sink_fail_data(s);
		sink_params_free(&p);
		return (SINK_FAILED);
	}
	if (s->defer_on && !s->reparse) {
		sink_params_keep(&p);
		s->defer = xcalloc(1, sizeof *s->defer);
		s->defer->head = p;
		return (SINK_OK);
	}
	rc = sink_file_flush(s, cause);
	if (rc == 0)
		rc = sink_send(s, SINK_ST_HEAD, &p, SINK_CHK_NONE, 0, &res,
		    cause);
	if (rc == 0)
		rc = sink_sync(s, cause);
	if (rc != 0) {
		sink_params_free(&p);
		PQclear(res);
		return (SINK_FAILED);
	}
	if (PQntuples(res) == 1) {
		snprintf(s->report_pk, sizeof s->report_pk, "%s",
		    PQgetvalue(res, 0, 0));
		sink_params_free(&p);
		PQclear(res);
		return (SINK_OK);
	}
	PQclear(res);
	if (s->reparse)
		rc = sink_reparse_link(s, h, cause);
	else
		rc = sink_report_dup(s, &p, cause);
	sink_params_free(&p);
	return (rc == 0 ? SINK_DUP : SINK_FAILED);
}

/* Make every text value of p its own copy (binary ones are not kept). */
static void
sink_params_keep(struct sink_params *p)
{
	int	i;

	for (i = 0; i < p->n; i++) {
		if (p->fmt[i] != 0)
			fatalx("%s: binary parameter", __func__);
		if (p->own[i] == NULL && p->val[i] != NULL) {
			p->own[i] = xstrdup(p->val[i]);
			p->val[i] = p->own[i];
		}
	}
}

/* Drop the report held back (not the report_file row). */
static void
sink_report_drop(struct sink *s)
{
	int	j;

	if (s->defer == NULL)
		return;
	sink_params_free(&s->defer->head);
	sink_params_free(&s->defer->end);
	for (j = 0; j < SINK_NCOLS; j++)
		free(s->defer->lit[j]);
	free(s->defer);
	s->defer = NULL;
}

/* Held rows of a payload never ended would be lost: a bug in fn's caller. */
void
sink_payload_closed(struct sink *s, const char *fn)
{
	if (s->defer != NULL || s->file_held != NULL)
		fatalx("%s: a payload was never ended", fn);
}

/* Drop the report_file row held back, if any. */
static void
sink_file_drop(struct sink *s)
{
	if (s->file_held == NULL)
		return;
	sink_params_free(s->file_held);
	free(s->file_held);
	s->file_held = NULL;
}

void
sink_defer_free(struct sink *s)
{
	sink_report_drop(s);
	sink_file_drop(s);
}

/* The head of a reparse (enum sink_reparse). */
static enum sink_reparse
sink_reparse_head(struct sink *s, const struct report_head *h, char **cause)
{
	struct sink_params	 p;
	PGresult		*res;
	char			 report_pk[24];
	int			 rc, found, deliveries;

	sink_params_init(&p);
	sink_param_str(&p, s->file_pk);
	rc = sink_exec(s, SINK_ST_REPARSE_LOCK, &p, &res, cause);
	sink_params_free(&p);
	if (rc != 0)
		return (SINK_REPARSE_ERROR);
	found = PQntuples(res) == 1;
	if (found)
		snprintf(report_pk, sizeof report_pk, "%s",
		    PQgetvalue(res, 0, 0));
	PQclear(res);
	if (!found) {
		/* No report of its own: a duplicate, or nothing stored. */
		sink_params_init(&p);
		sink_param_str(&p, s->file_pk);
		rc = sink_exec(s, SINK_ST_REPARSE_DELIVERIES, &p, &res, cause);
		sink_params_free(&p);
		if (rc != 0)
			return (SINK_REPARSE_ERROR);
		deliveries = atoi(PQgetvalue(res, 0, 0));
		PQclear(res);
		return (deliveries > 0 ? SINK_REPARSE_DUP : SINK_REPARSE_NONE);
	}

	/* Its old records leave the rollup tables (at COMMIT, with the new). */
	sink_params_init(&p);
	sink_param_str(&p, report_pk);
	s->rollup_dirty = 1;
	rc = sink_exec(s, SINK_ST_ROLLUP_SUB, &p, NULL, cause);
	if (rc == 0)
		rc = sink_exec(s, SINK_ST_REPARSE_CLEAR, &p, NULL, cause);
	sink_params_free(&p);
	if (rc != 0)
		return (SINK_REPARSE_ERROR);

	sink_params_init(&p);
	rc = sink_head_params(&p, report_pk, h, NULL, cause);
	if (rc != 0)
		sink_fail_data(s);
	else
		rc = sink_exec(s, SINK_ST_REPARSE_HEAD, &p, &res, cause);
	sink_params_free(&p);
	if (rc != 0)
		return (SINK_REPARSE_ERROR);
	if (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 0), "1") != 0) {
		xasprintf(cause, "update reparsed report: report vanished");
		sink_fail_data(s);
		PQclear(res);
		return (SINK_REPARSE_ERROR);
	}
	PQclear(res);
	snprintf(s->report_pk, sizeof s->report_pk, "%s", report_pk);
	return (SINK_REPARSE_UPDATED);
}

/* Reparse: the report came from another payload; link this one to it. */
static int
sink_reparse_link(struct sink *s, const struct report_head *h, char **cause)
{
	struct sink_params	p;
	int			rc;

	sink_params_init(&p);
	sink_param_str(&p, h->reporter_key);
	sink_param_str(&p, h->report_id);
	sink_param_str(&p, h->policy_domain);
	sink_param_int(&p, h->date_begin);
	sink_param_str(&p, s->file_pk);
	rc = sink_exec(s, SINK_ST_REPARSE_LINK, &p, NULL, cause);
	sink_params_free(&p);
	return (rc);
}

/*
 * The report exists: lock it, link this payload to it and count the
 * delivery when the message is a new one (two statements, one round
 * trip).  hp: the report's sink_head_params, for its natural key.
 */
static int
sink_report_dup(struct sink *s, const struct sink_params *hp, char **cause)
{
	const char	*key[4];

	key[0] = hp->val[HP_REPORTER];
	key[1] = hp->val[HP_REPORT_ID];
	key[2] = hp->val[HP_DOMAIN];
	key[3] = hp->val[HP_BEGIN];
	if (sink_dup_send(s, key, s->message_pk, s->file_pk, cause) != 0)
		return (-1);
	return (sink_sync(s, cause));
}

/* Contract in sink_p.h. */
int
sink_dup_send(struct sink *s, const char *const key[4],
    const char *message_pk, const char *file_pk, char **cause)
{
	struct sink_params	p;
	int			i, rc;

	sink_params_init(&p);
	for (i = 0; i < 4; i++)
		sink_param_str(&p, key[i]);
	rc = sink_send(s, SINK_ST_DUP_LOCK, &p, SINK_CHK_ROW, 0, NULL, cause);
	sink_param_str(&p, message_pk);
	sink_param_str(&p, file_pk);
	if (rc == 0)
		rc = sink_send(s, SINK_ST_DUP, &p, SINK_CHK_NONE, 0, NULL,
		    cause);
	sink_params_free(&p);
	return (rc);
}

/* Add one record's own columns to the batch arrays. */
static void
sink_batch_record(struct sink_array *a, const struct report_record *r)
{
	struct sink_array	 w;
	char			*lit, *cause = NULL;
	size_t			 i;

	sink_array_addint(&a[R_ORD], r->ord);
	sink_array_add(&a[R_IP], r->source_ip);
	sink_array_add(&a[R_IPRAW], r->source_ip_raw);
	sink_array_addint(&a[R_COUNT], r->message_count);
	sink_array_add(&a[R_COUNTRAW], r->count_raw);
	sink_array_add(&a[R_DISP], r->disposition);
	sink_array_add(&a[R_DISPRAW], r->disposition_raw);
	sink_array_add(&a[R_DKIM], r->dkim_aligned);
	sink_array_add(&a[R_DKIMRAW], r->dkim_aligned_raw);
	sink_array_add(&a[R_SPF], r->spf_aligned);
	sink_array_add(&a[R_SPFRAW], r->spf_aligned_raw);
	sink_array_add(&a[R_HFROM], r->header_from);
	sink_array_add(&a[R_EFROM], r->envelope_from);
	sink_array_add(&a[R_ETO], r->envelope_to);
	sink_array_add(&a[R_TAG], r->identifiers_tag);

	/* The warnings: a text[] literal, itself one element of R_WARN. */
	sink_array_init(&w);
	for (i = 0; i < r->nwarnings; i++)
		sink_array_add(&w, r->warnings[i]);
	if ((lit = sink_array_end(&w, &cause)) == NULL) {
		free(cause);
		a[R_WARN].overflow = 1;
		return;
	}
	sink_array_add(&a[R_WARN], lit);
	free(lit);
}

/* Add one record's DKIM, SPF, reason and extension rows. */
static void
sink_batch_children(struct sink_array *a, const struct report_record *r)
{
	size_t	i;

	for (i = 0; i < r->ndkim; i++) {
		sink_array_addint(&a[D_REC], r->ord);
		sink_array_addint(&a[D_ORD], (long long)i + 1);
		sink_array_add(&a[D_DOMAIN], r->dkim[i].domain);
		sink_array_add(&a[D_SEL], r->dkim[i].selector);
		sink_array_add(&a[D_RES], r->dkim[i].result);
		sink_array_add(&a[D_RESRAW], r->dkim[i].result_raw);
		sink_array_add(&a[D_HUMAN], r->dkim[i].human_result);
		sink_array_add(&a[D_LANG], r->dkim[i].human_result_lang);
	}
	for (i = 0; i < r->nspf; i++) {
		sink_array_addint(&a[S_REC], r->ord);
		sink_array_addint(&a[S_ORD], (long long)i + 1);
		sink_array_add(&a[S_DOMAIN], r->spf[i].domain);
		sink_array_add(&a[S_SCOPE], r->spf[i].scope);
		sink_array_add(&a[S_SCOPERAW], r->spf[i].scope_raw);
		sink_array_add(&a[S_RES], r->spf[i].result);
		sink_array_add(&a[S_RESRAW], r->spf[i].result_raw);
		sink_array_add(&a[S_HUMAN], r->spf[i].human_result);
		sink_array_add(&a[S_LANG], r->spf[i].human_result_lang);
	}
	for (i = 0; i < r->nreasons; i++) {
		sink_array_addint(&a[X_REC], r->ord);
		sink_array_addint(&a[X_ORD], (long long)i + 1);
		sink_array_add(&a[X_TYPE], r->reasons[i].type);
		sink_array_add(&a[X_TYPERAW], r->reasons[i].type_raw);
		sink_array_add(&a[X_COMMENT], r->reasons[i].comment);
		sink_array_add(&a[X_LANG], r->reasons[i].comment_lang);
	}
	for (i = 0; i < r->next; i++) {
		sink_array_addint(&a[E_REC], r->ord);
		sink_array_addint(&a[E_ORD], (long long)i + 1);
		sink_array_add(&a[E_NS], r->ext[i].ns_uri);
		sink_array_add(&a[E_NAME], r->ext[i].local_name);
		sink_array_add(&a[E_XML], r->ext[i].xml);
	}
}

/*
 * The array literals of a batch of records (SINK_NCOLS of them, in lit),
 * and the sum of their message counts.  -1 with *cause past the cap.
 */
static int
sink_records_lits(const struct report_record *recs, size_t n, char **lit,
    long long *total, char **cause)
{
	struct sink_array	 a[SINK_NCOLS];
	size_t			 i;
	int			 j, rc = 0;

	*total = 0;
	for (j = 0; j < SINK_NCOLS; j++)
		sink_array_init(&a[j]);
	for (i = 0; i < n; i++) {
		sink_batch_record(a, &recs[i]);
		sink_batch_children(a, &recs[i]);
		*total += recs[i].message_count;
	}
	for (j = 0; j < SINK_NCOLS; j++) {
		lit[j] = NULL;
		if (rc != 0)
			sink_array_free(&a[j]);
		else if ((lit[j] = sink_array_end(&a[j], cause)) == NULL)
			rc = -1;
	}
	if (rc != 0) {
		for (j = 0; j < SINK_NCOLS; j++) {
			free(lit[j]);
			lit[j] = NULL;
		}
	}
	return (rc);
}

/*
 * Send a batch of n records of the current report (its literals, which
 * this takes) without waiting; the result of the batch before is read
 * now, so the server stores one batch while the parser reads the next.
 */
static int
sink_records_send(struct sink *s, char **lit, size_t n, char **cause)
{
	struct sink_params	 p;
	int			 j, prev, rc;

	sink_params_init(&p);
	sink_param_str(&p, s->report_pk);
	for (j = 0; j < SINK_NCOLS; j++) {
		sink_param_own(&p, lit[j]);
		lit[j] = NULL;
	}
	prev = s->last_records;
	s->rollup_dirty = 1;
	rc = sink_send(s, SINK_ST_RECORDS, &p, SINK_CHK_COUNT, (long long)n,
	    NULL, cause);
	sink_params_free(&p);
	if (rc != 0)
		return (-1);
	if (prev >= 0 && prev < s->npend - 1)
		rc = sink_wait(s, prev + 1, cause);
	s->last_records = rc == 0 ? s->npend - 1 : -1;
	return (rc);
}

/*
 * A second batch came for a report held back: send its head (one round
 * trip) and the batch held.  SINK_OK when the report is new, SINK_DUP when
 * it is a duplicate (counted as such, nothing more to send), SINK_FAILED
 * on error.
 */
static enum sink_result
sink_defer_flush(struct sink *s, char **cause)
{
	struct sink_defer	*d = s->defer;
	PGresult		*res = NULL;
	enum sink_result	 r = SINK_OK;
	int			 rc;

	rc = sink_file_flush(s, cause);
	if (rc == 0)
		rc = sink_send(s, SINK_ST_HEAD, &d->head, SINK_CHK_NONE, 0,
		    &res, cause);
	if (rc == 0)
		rc = sink_sync(s, cause);
	if (rc != 0)
		r = SINK_FAILED;
	else if (PQntuples(res) == 1)
		snprintf(s->report_pk, sizeof s->report_pk, "%s",
		    PQgetvalue(res, 0, 0));
	else if (sink_report_dup(s, &d->head, cause) == 0)
		r = SINK_DUP;
	else
		r = SINK_FAILED;
	PQclear(res);
	if (r == SINK_OK && d->lit[0] != NULL &&
	    sink_records_send(s, d->lit, d->n, cause) != 0)
		r = SINK_FAILED;
	sink_report_drop(s);
	return (r);
}

/*
 * Store a batch of records of the current (new) report: one statement,
 * sent without waiting; its result is read when the next batch has been
 * sent, or by sink_report_end.  A report held back keeps its first batch;
 * the second sends the head and both.
 */
enum sink_result
sink_report_records(struct sink *s, const struct report_record *recs,
    size_t n, char **cause)
{
	char			*lit[SINK_NCOLS];
	long long		 total;
	enum sink_result	 rc;

	if (s->report_pk[0] == '\0' && s->defer == NULL)
		fatalx("%s: no new report open", __func__);
	if (n == 0)
		return (SINK_OK);
	if (sink_records_lits(recs, n, lit, &total, cause) != 0) {
		sink_fail_data(s);
		return (SINK_FAILED);
	}
	if (s->defer != NULL && s->defer->lit[0] == NULL) {
		memcpy(s->defer->lit, lit, sizeof lit);
		s->defer->n = n;
		s->defer->total = total;
		return (SINK_OK);
	}
	if (s->defer != NULL && (rc = sink_defer_flush(s, cause)) != SINK_OK) {
		for (n = 0; n < SINK_NCOLS; n++)
			free(lit[n]);
		return (rc);
	}
	if (sink_records_send(s, lit, n, cause) != 0)
		return (SINK_FAILED);
	return (SINK_OK);
}

/*
 * A report held back has ended: the 88 parameters of sink_sql_whole (the
 * head from the end header with the authenticity the head was given, the
 * batch held, the totals) into d->end.
 */
static int
sink_defer_end(struct sink *s, const struct report_head *h, char **cause)
{
	struct sink_defer	*d = s->defer;
	struct sink_params	 hp;
	int			 i, j;

	if (d->lit[0] == NULL && sink_records_lits(NULL, 0, d->lit,
	    &d->total, cause) != 0)
		return (-1);
	sink_params_init(&hp);
	if (sink_head_params(&hp, s->file_pk, h, d->head.val[HP_AUTH],
	    cause) != 0) {
		sink_params_free(&hp);
		return (-1);
	}
	sink_params_init(&d->end);
	for (i = 0; i < hp.n; i++) {
		if (hp.own[i] != NULL) {
			sink_param_own(&d->end, hp.own[i]);
			hp.own[i] = NULL;
		} else
			sink_param_str(&d->end, hp.val[i]);
		for (j = 0; i == 0 && j < SINK_NCOLS; j++) {
			sink_param_own(&d->end, d->lit[j]);
			d->lit[j] = NULL;
		}
	}
	sink_params_free(&hp);
	sink_param_int(&d->end, h->records_skipped);
	sink_param_int(&d->end, (long long)d->n);
	sink_param_int(&d->end, d->total);
	sink_params_keep(&d->end);
	d->ended = 1;
	return (0);
}

/*
 * Keep the ended report held back with its payload row (tail: the row's
 * parameters) for the batch's set statement (sink-set.c), instead of
 * sending sink_sql_whole_payload[_raw] now.
 */
static int
sink_set_kept(struct sink *s, const struct sink_params *tail)
{
	struct sink_params	p;
	int			dup;

	sink_params_init(&p);
	sink_params_append(&p, &s->defer->end);
	sink_params_append(&p, tail);
	dup = sink_set_hold(s, &p, s->defer->n);
	sink_params_free(&p);
	return (dup);
}

/* Add src's values to dst, borrowed. */
static void
sink_params_append(struct sink_params *dst, const struct sink_params *src)
{
	int	i;

	for (i = 0; i < src->n; i++) {
		sink_param_str(dst, src->val[i]);
		dst->len[dst->n - 1] = src->len[i];
		dst->fmt[dst->n - 1] = src->fmt[i];
	}
	dst->binary |= src->binary;
}

/*
 * Store the ended report held back: statement st (SINK_ST_WHOLE, or a
 * variant that also writes the payload row from tail's parameters), one
 * round trip.  SINK_OK stored, SINK_DUP a duplicate, SINK_FAILED on error.
 */
static enum sink_result
sink_report_send(struct sink *s, const struct sink_params *tail,
    enum sink_stmt st, char **cause)
{
	struct sink_defer	*d = s->defer;
	struct sink_params	 p;
	PGresult		*res = NULL;
	long long		 got;
	enum sink_result	 r = SINK_OK;
	int			 rc;

	sink_params_init(&p);
	sink_params_append(&p, &d->end);
	if (tail != NULL)
		sink_params_append(&p, tail);
	s->rollup_dirty = 1;
	rc = sink_send(s, st, &p, SINK_CHK_ROW, 0, &res, cause);
	sink_params_free(&p);
	if (rc == 0)
		rc = sink_sync(s, cause);
	if (rc != 0)
		r = SINK_FAILED;
	else if (PQgetisnull(res, 0, 0))
		r = sink_report_dup(s, &d->head, cause) == 0 ? SINK_DUP :
		    SINK_FAILED;
	else if ((got = strtoll(PQgetvalue(res, 0, 1), NULL, 10)) !=
	    (long long)d->n) {
		xasprintf(cause, "insert records: %lld rows stored, not %zu",
		    got, d->n);
		sink_fail_data(s);
		r = SINK_FAILED;
	}
	PQclear(res);
	return (r);
}

/*
 * Close the report: its totals, counted from the stored records, and the
 * warnings, errors and extensions of the end header (a superset of the
 * head's).  Waits for every pending statement, so that a record batch the
 * server refused is reported here, for this payload, at the latest.  A
 * report still held back is stored whole here: SINK_DUP when it is a
 * duplicate.
 */
enum sink_result
sink_report_end(struct sink *s, const struct report_head *h, char **cause)
{
	struct sink_params	 p;
	enum sink_result	 r;
	int			 rc;

	if (s->defer != NULL) {
		if (sink_defer_end(s, h, cause) != 0) {
			sink_fail_data(s);
			sink_report_drop(s);
			return (SINK_FAILED);
		}
		/* With its payload row, at the payload's end. */
		if (s->file_held != NULL)
			return (SINK_OK);
		r = sink_report_send(s, NULL, SINK_ST_WHOLE, cause);
		sink_report_drop(s);
		return (r);
	}
	if (s->report_pk[0] == '\0')
		fatalx("%s: no new report open", __func__);
	sink_params_init(&p);
	sink_param_str(&p, s->report_pk);
	sink_param_int(&p, h->records_skipped);
	rc = sink_head_lists(&p, h, cause);
	if (rc != 0)
		sink_fail_data(s);
	else
		rc = sink_send(s, SINK_ST_END, &p, SINK_CHK_COUNT, 1, NULL,
		    cause);
	sink_params_free(&p);
	s->report_pk[0] = '\0';
	if (rc == 0)
		rc = sink_sync(s, cause);
	return (rc == 0 ? SINK_OK : SINK_FAILED);
}

/*
 * The records of this transaction into the rollup tables, sent just
 * before COMMIT so that their row locks are held for as short a time as
 * possible (contract in sink_p.h).
 */
int
sink_rollup_send(struct sink *s, char **cause)
{
	if (!s->rollup_dirty)
		return (0);
	s->rollup_dirty = 0;
	return (sink_send(s, SINK_ST_ROLLUP_FLUSH, NULL, SINK_CHK_ROW, 0,
	    NULL, cause));
}

/* Hold reports back and store each whole (contract in sink.h). */
void
sink_set_defer(struct sink *s, int on)
{
	s->defer_on = on != 0;
}

void
sink_set_authenticity(struct sink *s, const char *auth)
{
	s->next_auth = auth;
}
