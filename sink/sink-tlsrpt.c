/*
 * sink-tlsrpt.c: SMTP TLS reports and failure reports, inside the message
 * transaction, within an open payload (sink_file_begin .. sink_file_end).
 *
 * A TLS report is inserted with ON CONFLICT DO NOTHING on (organization_name,
 * report_id); its policies and all their failure details then go in one
 * statement (parallel arrays unnested by data-modifying CTEs, the failures
 * joined to the new policy ids through the policy's ord), so a report is
 * two round trips whatever its size.  A failure report is one row, keyed
 * by the SHA-256 of its feedback part (computed by the server from the
 * text it stores).  Duplicates follow the rule of the aggregate reports
 * (sink-report.c): the payload is linked in tlsrpt_delivery or
 * failure_delivery, and seen_count goes up only when the message differs
 * from every message that delivered the report before (another ledger
 * row, Message-ID and SHA-256).
 *
 * A reparse (sink_reparse_begin) goes through the same two functions: the
 * report stored from the payload is updated in place (a TLS report's
 * policies and failure details replaced), keeping its id, natural key
 * and seen_count bookkeeping; a payload that stored none stores its
 * report as new, or links to the one another payload stored.
 *
 * These reports come a few a day, so their statements are not prepared
 * (see the table in sink.c): each is sent with its text.
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

/* What a reparse found stored from its payload (sink_reparse_find). */
enum sink_reparse_found {
	SINK_FOUND_ERROR = -1,
	SINK_FOUND_OWN,		/* the report the payload stored */
	SINK_FOUND_DUP,		/* it only delivered another's */
	SINK_FOUND_NONE		/* nothing: store the report as new */
};

/* The columns of the policy and failure arrays, in parameter order ($2 ...). */
enum {
	P_ORD, P_TYPE, P_TYPERAW, P_DOMAIN, P_STRINGS, P_MX, P_MXSTR, P_OK,
	P_OKRAW, P_FAIL, P_FAILRAW, P_EXTRA,
	F_POL, F_ORD, F_TYPE, F_TYPERAW, F_MTA, F_MTARAW, F_MXNAME, F_HELO,
	F_IP, F_IPRAW, F_COUNT, F_COUNTRAW, F_INFO, F_CODE, F_EXTRA,
	TLS_NCOLS
};

static int	 sink_tls_body(struct sink *, const char *,
		    const struct tlsrpt_report *, char **);
static void	 sink_tls_policy(struct sink_array *, size_t,
		    const struct tlsrpt_policy *);
static void	 sink_tls_failures(struct sink_array *, size_t,
		    const struct tlsrpt_policy *);
static char	*sink_tls_list(char **, size_t);
static int	 sink_list_param(struct sink_params *, char **, size_t,
		    char **);
static int	 sink_dup(struct sink *, enum sink_stmt, enum sink_stmt,
		    const char *, const char *, const char *, char **);
static void	 sink_param_time(struct sink_params *, int64_t);
static void	 sink_open_payload(struct sink *, const char *);
static int	 sink_tls_columns(struct sink_params *,
		    const struct tlsrpt_report *, char **);
static enum sink_reparse_found sink_reparse_find(struct sink *,
		    enum sink_stmt, enum sink_stmt, char *, size_t, char **);
static enum sink_result sink_tls_reparse(struct sink *,
		    const struct tlsrpt_report *, char **);
static enum sink_result sink_tls_insert(struct sink *,
		    const struct tlsrpt_report *, char **);
static int	 sink_link(struct sink *, enum sink_stmt, const char *,
		    const char *, char **);
static enum sink_result sink_failure_insert(struct sink *,
		    const struct failure_report *, char **);
static int	 sink_failure_params(struct sink_params *, const char *,
		    const char *, const struct failure_report *, char **);
static enum sink_result sink_failure_reparse(struct sink *,
		    const struct failure_report *, char **);

/* A payload must be open (in a message, or in a reparse). */
static void
sink_open_payload(struct sink *s, const char *fn)
{
	if (!s->in_msg || s->file_pk[0] == '\0')
		fatalx("%s: no payload open", fn);
}

/*
 * A TLS report's columns after its natural key: contact_info, the dates,
 * policy count, totals, extra and warnings ($3, $5 .. $13 of
 * sink_sql_tls_head; $2 .. $11 of sink_sql_tls_reparse_head).
 */
static int
sink_tls_columns(struct sink_params *p, const struct tlsrpt_report *r,
    char **cause)
{
	sink_param_int(p, r->date_begin);
	sink_param_int(p, r->date_end);
	sink_param_str(p, r->begin_raw);
	sink_param_str(p, r->end_raw);
	sink_param_int(p, (long long)r->npolicies);
	sink_param_int(p, r->successful_total);
	sink_param_int(p, r->failed_total);
	sink_param_str(p, r->extra);
	return (sink_list_param(p, r->warnings, r->nwarnings, cause));
}

/* Store a TLS report (contract in sink.h). */
enum sink_result
sink_tlsrpt_store(struct sink *s, const struct tlsrpt_report *r,
    char **cause)
{
	sink_open_payload(s, __func__);
	if (sink_file_flush(s, cause) != 0)
		return (SINK_FAILED);
	if (s->reparse)
		return (sink_tls_reparse(s, r, cause));
	return (sink_tls_insert(s, r, cause));
}

/*
 * Insert a TLS report, or count the payload's delivery of one stored
 * before; in a reparse, link the payload to it uncounted instead.
 */
static enum sink_result
sink_tls_insert(struct sink *s, const struct tlsrpt_report *r, char **cause)
{
	struct sink_params	 p;
	PGresult		*res;
	char			 pk[24];
	int			 rc, isnew;

	sink_params_init(&p);
	sink_param_str(&p, s->file_pk);
	sink_param_str(&p, r->organization_name);
	sink_param_str(&p, r->contact_info);
	sink_param_str(&p, r->report_id);
	rc = sink_tls_columns(&p, r, cause);
	if (rc == 0)
		rc = sink_exec(s, SINK_ST_TLS_HEAD, &p, &res, cause);
	else
		sink_fail_data(s);
	sink_params_free(&p);
	if (rc != 0)
		return (SINK_FAILED);
	isnew = PQntuples(res) == 1;
	if (isnew)
		snprintf(pk, sizeof pk, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	if (isnew)
		rc = sink_tls_body(s, pk, r, cause);
	else if (s->reparse)
		rc = sink_link(s, SINK_ST_TLS_REPARSE_LINK,
		    r->organization_name, r->report_id, cause);
	else
		rc = sink_dup(s, SINK_ST_TLS_LOCK, SINK_ST_TLS_DUP,
		    r->organization_name, r->report_id, "TLS report", cause);
	if (rc != 0)
		return (SINK_FAILED);
	return (isnew ? SINK_OK : SINK_DUP);
}

/*
 * Reparse: link the open payload, uncounted, to the report of key k1
 * (and k2) that another payload stored (statement st: k1, [k2,] file).
 */
static int
sink_link(struct sink *s, enum sink_stmt st, const char *k1, const char *k2,
    char **cause)
{
	struct sink_params	p;
	int			rc;

	sink_params_init(&p);
	sink_param_str(&p, k1);
	if (k2 != NULL)
		sink_param_str(&p, k2);
	sink_param_str(&p, s->file_pk);
	rc = sink_exec(s, st, &p, NULL, cause);
	sink_params_free(&p);
	return (rc);
}

/*
 * Reparse: the report stored from the open payload, locked (its id into
 * pk), or whether the payload only delivered one stored from another.
 */
static enum sink_reparse_found
sink_reparse_find(struct sink *s, enum sink_stmt lock, enum sink_stmt dlv,
    char *pk, size_t pksize, char **cause)
{
	struct sink_params	 p;
	PGresult		*res;
	int			 rc, n;

	sink_params_init(&p);
	sink_param_str(&p, s->file_pk);
	rc = sink_exec(s, lock, &p, &res, cause);
	if (rc == 0 && PQntuples(res) == 1) {
		snprintf(pk, pksize, "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
		sink_params_free(&p);
		return (SINK_FOUND_OWN);
	}
	if (rc == 0) {
		PQclear(res);
		rc = sink_exec(s, dlv, &p, &res, cause);
	}
	sink_params_free(&p);
	if (rc != 0)
		return (SINK_FOUND_ERROR);
	n = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return (n > 0 ? SINK_FOUND_DUP : SINK_FOUND_NONE);
}

/*
 * Reparse of a TLS report (sink.h, sink_reparse_begin): the report the
 * payload stored, in place; nothing when it delivered another's; else
 * stored as new.
 */
static enum sink_result
sink_tls_reparse(struct sink *s, const struct tlsrpt_report *r, char **cause)
{
	struct sink_params	 p;
	PGresult		*res;
	char			 pk[24];
	int			 rc;

	switch (sink_reparse_find(s, SINK_ST_TLS_REPARSE_LOCK,
	    SINK_ST_TLS_REPARSE_DELIVERIES, pk, sizeof pk, cause)) {
	case SINK_FOUND_ERROR:
		return (SINK_FAILED);
	case SINK_FOUND_DUP:
		return (SINK_DUP);
	case SINK_FOUND_NONE:
		return (sink_tls_insert(s, r, cause));
	case SINK_FOUND_OWN:
		break;
	}
	sink_params_init(&p);
	sink_param_str(&p, pk);
	sink_param_str(&p, r->contact_info);
	rc = sink_tls_columns(&p, r, cause);
	if (rc == 0)
		rc = sink_exec(s, SINK_ST_TLS_REPARSE_HEAD, &p, &res, cause);
	else
		sink_fail_data(s);
	sink_params_free(&p);
	if (rc != 0)
		return (SINK_FAILED);
	if (PQntuples(res) != 1) {
		xasprintf(cause, "update reparsed TLS report: report vanished");
		sink_fail_data(s);
		rc = -1;
	}
	PQclear(res);
	if (rc == 0)
		rc = sink_tls_body(s, pk, r, cause);
	return (rc == 0 ? SINK_OK : SINK_FAILED);
}

/*
 * Lock the stored report (statement lock with k1, k2), link this payload
 * to it and count the delivery when the message is a new one (statement
 * dup).
 */
static int
sink_dup(struct sink *s, enum sink_stmt lock, enum sink_stmt dup,
    const char *k1, const char *k2, const char *what, char **cause)
{
	struct sink_params	 p;
	PGresult		*res;
	char			 pk[24];
	int			 rc;

	sink_params_init(&p);
	sink_param_str(&p, k1);
	if (k2 != NULL)
		sink_param_str(&p, k2);
	rc = sink_exec(s, lock, &p, &res, cause);
	sink_params_free(&p);
	if (rc != 0)
		return (-1);
	if (PQntuples(res) != 1) {
		xasprintf(cause, "lock duplicate %s: report vanished", what);
		sink_fail_data(s);
		PQclear(res);
		return (-1);
	}
	snprintf(pk, sizeof pk, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	sink_params_init(&p);
	sink_param_str(&p, pk);
	sink_param_str(&p, s->message_pk);
	sink_param_str(&p, s->file_pk);
	rc = sink_exec(s, dup, &p, NULL, cause);
	sink_params_free(&p);
	return (rc);
}

/* A text[] literal of n strings as an owned parameter. */
static int
sink_list_param(struct sink_params *p, char **v, size_t n, char **cause)
{
	struct sink_array	 a;
	char			*lit;
	size_t			 i;

	sink_array_init(&a);
	for (i = 0; i < n; i++)
		sink_array_add(&a, v[i]);
	if ((lit = sink_array_end(&a, cause)) == NULL)
		return (-1);
	sink_param_own(p, lit);
	return (0);
}

/* A text[] literal of n strings, or NULL when v is NULL (absent). */
static char *
sink_tls_list(char **v, size_t n)
{
	struct sink_array	 a;
	char			*lit, *cause = NULL;
	size_t			 i;

	if (v == NULL)
		return (NULL);
	sink_array_init(&a);
	for (i = 0; i < n; i++)
		sink_array_add(&a, v[i]);
	if ((lit = sink_array_end(&a, &cause)) == NULL)
		free(cause);
	return (lit);
}

/* One policy's columns. */
static void
sink_tls_policy(struct sink_array *a, size_t ord,
    const struct tlsrpt_policy *p)
{
	char	*lit;

	sink_array_addint(&a[P_ORD], (long long)ord);
	sink_array_add(&a[P_TYPE], p->policy_type);
	sink_array_add(&a[P_TYPERAW], p->policy_type_raw);
	sink_array_add(&a[P_DOMAIN], p->policy_domain);
	lit = sink_tls_list(p->policy_string, p->npolicy_string);
	if (p->policy_string != NULL && lit == NULL)
		a[P_STRINGS].overflow = 1;
	sink_array_add(&a[P_STRINGS], lit);
	free(lit);
	lit = sink_tls_list(p->mx_host, p->nmx_host);
	if (p->mx_host != NULL && lit == NULL)
		a[P_MX].overflow = 1;
	sink_array_add(&a[P_MX], lit);
	free(lit);
	sink_array_add(&a[P_MXSTR], p->mx_host_string ? "t" : "f");
	sink_array_addint(&a[P_OK], p->successful_sessions);
	sink_array_add(&a[P_OKRAW], p->successful_raw);
	sink_array_addint(&a[P_FAIL], p->failed_sessions);
	sink_array_add(&a[P_FAILRAW], p->failed_raw);
	sink_array_add(&a[P_EXTRA], p->extra);
}

/* One policy's failure details. */
static void
sink_tls_failures(struct sink_array *a, size_t ord,
    const struct tlsrpt_policy *p)
{
	const struct tlsrpt_failure	*f;
	size_t				 i;

	for (i = 0; i < p->nfailures; i++) {
		f = &p->failures[i];
		sink_array_addint(&a[F_POL], (long long)ord);
		sink_array_addint(&a[F_ORD], (long long)i + 1);
		sink_array_add(&a[F_TYPE], f->result_type);
		sink_array_add(&a[F_TYPERAW], f->result_type_raw);
		sink_array_add(&a[F_MTA], f->sending_mta_ip);
		sink_array_add(&a[F_MTARAW], f->sending_mta_ip_raw);
		sink_array_add(&a[F_MXNAME], f->receiving_mx_hostname);
		sink_array_add(&a[F_HELO], f->receiving_mx_helo);
		sink_array_add(&a[F_IP], f->receiving_ip);
		sink_array_add(&a[F_IPRAW], f->receiving_ip_raw);
		sink_array_addint(&a[F_COUNT], f->failed_session_count);
		sink_array_add(&a[F_COUNTRAW], f->failed_session_count_raw);
		sink_array_add(&a[F_INFO], f->additional_information);
		sink_array_add(&a[F_CODE], f->failure_reason_code);
		sink_array_add(&a[F_EXTRA], f->extra);
	}
}

/* The policies and failure details of a new report: one statement. */
static int
sink_tls_body(struct sink *s, const char *pk, const struct tlsrpt_report *r,
    char **cause)
{
	struct sink_array	 a[TLS_NCOLS];
	struct sink_params	 p;
	PGresult		*res;
	char			*lit;
	size_t			 i, nfail = 0;
	int			 j, rc = 0;

	if (r->npolicies == 0)
		return (0);
	for (j = 0; j < TLS_NCOLS; j++)
		sink_array_init(&a[j]);
	for (i = 0; i < r->npolicies; i++) {
		sink_tls_policy(a, i + 1, &r->policies[i]);
		sink_tls_failures(a, i + 1, &r->policies[i]);
		nfail += r->policies[i].nfailures;
	}
	sink_params_init(&p);
	sink_param_str(&p, pk);
	for (j = 0; j < TLS_NCOLS; j++) {
		if (rc != 0) {
			sink_array_free(&a[j]);
			continue;
		}
		if ((lit = sink_array_end(&a[j], cause)) == NULL)
			rc = -1;
		else
			sink_param_own(&p, lit);
	}
	if (rc != 0)
		sink_fail_data(s);
	else
		rc = sink_exec(s, SINK_ST_TLS_BODY, &p, &res, cause);
	sink_params_free(&p);
	if (rc != 0)
		return (-1);
	if (PQntuples(res) != 1 ||
	    strtoull(PQgetvalue(res, 0, 0), NULL, 10) != r->npolicies ||
	    strtoull(PQgetvalue(res, 0, 1), NULL, 10) != nfail) {
		xasprintf(cause, "insert TLS policies: %s of %zu policies, "
		    "%s of %zu failure details stored", PQntuples(res) == 1 ?
		    PQgetvalue(res, 0, 0) : "none", r->npolicies,
		    PQntuples(res) == 1 ? PQgetvalue(res, 0, 1) : "none",
		    nfail);
		sink_fail_data(s);
		rc = -1;
	}
	PQclear(res);
	return (rc);
}

/* An epoch as a parameter, or NULL for INT64_MIN (unknown). */
static void
sink_param_time(struct sink_params *p, int64_t t)
{
	if (t == INT64_MIN)
		sink_param_str(p, NULL);
	else
		sink_param_int(p, t);
}

/*
 * A failure report's parameters, in the order of sink_sql_failure: first
 * ($1: the payload, or the report in a reparse), the message ($2, NULL
 * when none), then the report's columns.
 */
static int
sink_failure_params(struct sink_params *p, const char *first,
    const char *msg, const struct failure_report *r, char **cause)
{
	sink_param_str(p, first);
	sink_param_str(p, msg != NULL && *msg != '\0' ? msg : NULL);
	sink_param_str(p, r->feedback);
	sink_param_str(p, r->format);
	sink_param_str(p, r->reason);
	sink_param_str(p, r->feedback_type);
	sink_param_str(p, r->feedback_type_raw);
	sink_param_str(p, r->version);
	sink_param_str(p, r->user_agent);
	sink_param_own(p, sink_tls_list(r->auth_failure, r->nauth_failure));
	sink_param_str(p, r->auth_failure_raw);
	sink_param_own(p, sink_tls_list(r->identity_alignment,
	    r->nidentity_alignment));
	sink_param_str(p, r->identity_alignment_raw);
	sink_param_str(p, r->delivery_result);
	sink_param_str(p, r->delivery_result_raw);
	sink_param_time(p, r->arrival_date);
	sink_param_str(p, r->arrival_date_raw);
	sink_param_str(p, r->source_ip);
	sink_param_str(p, r->source_ip_raw);
	if (r->source_port >= 0 && r->source_port <= 65535)
		sink_param_int(p, r->source_port);
	else
		sink_param_str(p, NULL);
	sink_param_own(p, sink_tls_list(r->reported_domain,
	    r->nreported_domain));
	sink_param_own(p, sink_tls_list(r->reported_uri, r->nreported_uri));
	sink_param_str(p, r->original_mail_from);
	sink_param_own(p, sink_tls_list(r->original_rcpt_to,
	    r->noriginal_rcpt_to));
	sink_param_str(p, r->original_envelope_id);
	sink_param_str(p, r->authentication_results);
	sink_param_str(p, r->dkim_domain);
	sink_param_str(p, r->dkim_identity);
	sink_param_str(p, r->dkim_selector);
	sink_param_str(p, r->dkim_canonicalized_header);
	sink_param_str(p, r->dkim_canonicalized_body);
	sink_param_str(p, r->spf_dns);
	sink_param_str(p, r->incidents);
	sink_param_str(p, r->raw_fields != NULL ? r->raw_fields : "[]");
	sink_param_str(p, r->sample_headers);
	sink_param_str(p, r->sample_headers == NULL ? NULL :
	    r->sample_headers_only ? "t" : "f");
	sink_param_str(p, r->sample_body);
	sink_param_str(p, r->original_from);
	sink_param_str(p, r->original_subject);
	sink_param_str(p, r->original_message_id);
	return (sink_list_param(p, r->warnings, r->nwarnings, cause));
}

/* Store a failure report (contract in sink.h). */
enum sink_result
sink_failure_store(struct sink *s, const struct failure_report *r,
    char **cause)
{
	sink_open_payload(s, __func__);
	if (sink_file_flush(s, cause) != 0)
		return (SINK_FAILED);
	if (s->reparse)
		return (sink_failure_reparse(s, r, cause));
	return (sink_failure_insert(s, r, cause));
}

/*
 * Insert a failure report, or count the payload's delivery of one stored
 * before; in a reparse, link the payload to it uncounted instead.
 */
static enum sink_result
sink_failure_insert(struct sink *s, const struct failure_report *r,
    char **cause)
{
	struct sink_params	 p;
	PGresult		*res;
	int			 rc, isnew;

	sink_params_init(&p);
	rc = sink_failure_params(&p, s->file_pk, s->message_pk, r, cause);
	if (rc == 0)
		rc = sink_exec(s, SINK_ST_FAILURE, &p, &res, cause);
	else
		sink_fail_data(s);
	sink_params_free(&p);
	if (rc != 0)
		return (SINK_FAILED);
	isnew = PQntuples(res) == 1;
	PQclear(res);
	if (isnew)
		return (SINK_OK);
	if (s->reparse)
		rc = sink_link(s, SINK_ST_FAILURE_REPARSE_LINK, r->feedback,
		    NULL, cause);
	else
		rc = sink_dup(s, SINK_ST_FAILURE_LOCK, SINK_ST_FAILURE_DUP,
		    r->feedback, NULL, "failure report", cause);
	return (rc == 0 ? SINK_DUP : SINK_FAILED);
}

/* Reparse of a failure report: as sink_tls_reparse. */
static enum sink_result
sink_failure_reparse(struct sink *s, const struct failure_report *r,
    char **cause)
{
	struct sink_params	 p;
	PGresult		*res;
	char			 pk[24];
	int			 rc;

	switch (sink_reparse_find(s, SINK_ST_FAILURE_REPARSE_LOCK,
	    SINK_ST_FAILURE_REPARSE_DELIVERIES, pk, sizeof pk, cause)) {
	case SINK_FOUND_ERROR:
		return (SINK_FAILED);
	case SINK_FOUND_DUP:
		return (SINK_DUP);
	case SINK_FOUND_NONE:
		return (sink_failure_insert(s, r, cause));
	case SINK_FOUND_OWN:
		break;
	}
	sink_params_init(&p);
	rc = sink_failure_params(&p, pk, NULL, r, cause);
	if (rc == 0)
		rc = sink_exec(s, SINK_ST_FAILURE_REPARSE, &p, &res, cause);
	else
		sink_fail_data(s);
	sink_params_free(&p);
	if (rc != 0)
		return (SINK_FAILED);
	if (PQntuples(res) != 1) {
		xasprintf(cause, "update reparsed failure report: report "
		    "vanished");
		sink_fail_data(s);
		rc = -1;
	}
	PQclear(res);
	return (rc == 0 ? SINK_OK : SINK_FAILED);
}
