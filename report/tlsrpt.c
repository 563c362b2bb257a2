/*
 * tlsrpt.c: SMTP TLS reports (RFC 8460) from JSON.
 *
 * The stream is fed to json-c's tokener piece by piece, so the only copy of
 * the report in memory is json-c's tree: at most max_json bytes are read
 * (the next byte makes the report invalid) and the tokener's nesting is
 * capped at max_json_depth (json_tokener_new_ex), which keeps deep nesting
 * from growing its stack.  The tree is then walked into a struct
 * tlsrpt_report that the callback receives whole.
 *
 * Tolerance (what real reporters send): mx-host and policy-string
 * as a string instead of a list, counts as strings, unknown policy and
 * result types (kept raw), start and end times without a time zone (read
 * as UTC, with a warning), a policies object instead of a list.  Members
 * the RFC does not define are kept as JSON text (extra), so nothing is
 * lost.  The JSON must be UTF-8 (json-c checks it).
 */
#include "config.h"

#include <sys/types.h>

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common/common.h"
#include "report/report.h"
#include "report/report_p.h"

#define TLS_CHUNK	65536

/* The canonical words. */
static const char *const tls_policy_types[] = {
	"sts", "tlsa", "no-policy-found", NULL
};
static const char *const tls_result_types[] = {
	"starttls-not-supported", "certificate-host-mismatch",
	"certificate-expired", "certificate-not-trusted",
	"validation-failure", "tlsa-invalid", "dnssec-invalid",
	"dane-required", "sts-policy-fetch-error", "sts-policy-invalid",
	"sts-webpki-invalid", NULL
};

/* The walk's state. */
struct tls_walk {
	const struct report_limits	*lim;
	struct tlsrpt_report		*r;
	size_t				 entries;	/* policies + details */
	char				*cause;	/* first fatal problem */
};

static json_object *tls_read(report_read_fn, void *,
		    const struct report_limits *, char **);
static int	tls_str(struct tls_walk *, json_object *, const char *,
		    char **);
static int	tls_count(struct tls_walk *, json_object *, const char *,
		    int64_t *, char **);
static int	tls_strings(struct tls_walk *, json_object *, const char *,
		    char ***, size_t *, int *);
static int	tls_time(struct tls_walk *, json_object *, const char *,
		    int64_t *, char **);
static int	tls_rfc3339(const char *, int64_t *, int *);
static int64_t	tls_days(int64_t, int, int);
static void	tls_extra(json_object **, const char *, const char *,
		    json_object *);
static char	*tls_extra_text(json_object *);
static int	tls_top(struct tls_walk *, json_object *);
static int	tls_dates(struct tls_walk *, json_object *, json_object **);
static int	tls_policies(struct tls_walk *, json_object *);
static int	tls_policy(struct tls_walk *, json_object *,
		    struct tlsrpt_policy *);
static int	tls_policy_inner(struct tls_walk *, json_object *,
		    struct tlsrpt_policy *, json_object **);
static int	tls_summary(struct tls_walk *, json_object *,
		    struct tlsrpt_policy *, json_object **);
static int	tls_details(struct tls_walk *, json_object *,
		    struct tlsrpt_policy *);
static int	tls_detail(struct tls_walk *, json_object *,
		    struct tlsrpt_failure *);
static int	tls_entry(struct tls_walk *);
static char	*tls_ip(const char *, char **);
static void	tls_failure_free(struct tlsrpt_failure *);
static void	tls_policy_free(struct tlsrpt_policy *);
static void	tls_free_strings(char **, size_t);
static int64_t	tls_add(int64_t, int64_t);

/* Free the contents of a TLS report; the structure is zeroed. */
void
tlsrpt_report_free(struct tlsrpt_report *r)
{
	size_t	i;

	free(r->organization_name);
	free(r->contact_info);
	free(r->report_id);
	free(r->begin_raw);
	free(r->end_raw);
	for (i = 0; i < r->npolicies; i++)
		tls_policy_free(&r->policies[i]);
	free(r->policies);
	free(r->extra);
	tls_free_strings(r->warnings, r->nwarnings);
	memset(r, 0, sizeof *r);
}

static void
tls_free_strings(char **v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
tls_policy_free(struct tlsrpt_policy *p)
{
	size_t	i;

	free(p->policy_type);
	free(p->policy_type_raw);
	tls_free_strings(p->policy_string, p->npolicy_string);
	free(p->policy_domain);
	tls_free_strings(p->mx_host, p->nmx_host);
	free(p->successful_raw);
	free(p->failed_raw);
	for (i = 0; i < p->nfailures; i++)
		tls_failure_free(&p->failures[i]);
	free(p->failures);
	free(p->extra);
}

static void
tls_failure_free(struct tlsrpt_failure *f)
{
	free(f->result_type);
	free(f->result_type_raw);
	free(f->sending_mta_ip);
	free(f->sending_mta_ip_raw);
	free(f->receiving_mx_hostname);
	free(f->receiving_mx_helo);
	free(f->receiving_ip);
	free(f->receiving_ip_raw);
	free(f->failed_session_count_raw);
	free(f->additional_information);
	free(f->failure_reason_code);
	free(f->extra);
}

/*
 * Feed the stream to the tokener; NULL with *cause when it is not one JSON
 * text within the limits.
 */
static json_object *
tls_read(report_read_fn readfn, void *stream,
    const struct report_limits *lim, char **cause)
{
	struct json_tokener	*tok;
	enum json_tokener_error	 jerr;
	json_object		*root = NULL;
	char			*chunk, *p;
	size_t			 max, total = 0, end;
	ssize_t			 n;
	int			 depth, first = 1;

	max = lim->max_json != 0 ? lim->max_json : REPORT_MAX_JSON;
	depth = lim->max_json_depth != 0 ? (int)lim->max_json_depth :
	    REPORT_MAX_JSON_DEPTH;
	if ((tok = json_tokener_new_ex(depth)) == NULL)
		fatalx("json_tokener_new_ex: out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_VALIDATE_UTF8);
	chunk = xmalloc(TLS_CHUNK);
	for (;;) {
		if ((n = readfn(stream, chunk, TLS_CHUNK, cause)) < 0)
			goto fail;
		if (n == 0) {
			if (root == NULL)
				xasprintf(cause, total == 0 ? "empty JSON" :
				    "JSON ends too early (after %zu bytes)",
				    total);
			break;
		}
		if ((size_t)n > max - total) {
			xasprintf(cause, "JSON over %zu bytes (max_json)",
			    max);
			goto fail;
		}
		total += (size_t)n;
		p = chunk;
		if (first && n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
			p += 3;		/* a UTF-8 byte order mark */
			n -= 3;
		}
		first = 0;
		if (root != NULL) {
			/* After the text: only white space. */
			for (end = 0; end < (size_t)n; end++)
				if (!isspace((unsigned char)p[end]))
					break;
			if (end < (size_t)n) {
				xasprintf(cause, "data after the JSON text");
				goto fail;
			}
			continue;
		}
		root = json_tokener_parse_ex(tok, p, (int)n);
		jerr = json_tokener_get_error(tok);
		if (root == NULL && jerr == json_tokener_continue)
			continue;
		if (root == NULL) {
			xasprintf(cause, "JSON: %s at byte %zu",
			    json_tokener_error_desc(jerr), total - (size_t)n +
			    json_tokener_get_parse_end(tok));
			goto fail;
		}
		for (end = json_tokener_get_parse_end(tok); end < (size_t)n;
		    end++)
			if (!isspace((unsigned char)p[end]))
				break;
		if (end < (size_t)n) {
			xasprintf(cause, "data after the JSON text");
			goto fail;
		}
	}
	if (root == NULL) {
		/* A number or literal at the very end, as in "1": ask
		   the tokener to finish it. */
		free(*cause);
		*cause = NULL;
		root = json_tokener_parse_ex(tok, "", 1);
		if (root == NULL)
			xasprintf(cause, total == 0 ? "empty JSON" :
			    "JSON ends too early (after %zu bytes)", total);
	}
	free(chunk);
	json_tokener_free(tok);
	return (root);
fail:
	json_object_put(root);
	free(chunk);
	json_tokener_free(tok);
	return (NULL);
}

/* Parse one SMTP TLS report (contract in report.h). */
enum report_status
report_parse_tlsrpt(report_read_fn readfn, void *stream,
    const struct report_limits *lim, const struct tlsrpt_callbacks *cb,
    void *arg, char **cause)
{
	struct tlsrpt_report	 r;
	struct tls_walk		 w;
	json_object		*root;
	enum report_status	 st;
	int			 rc;

	*cause = NULL;
	if ((root = tls_read(readfn, stream, lim, cause)) == NULL)
		return (REPORT_INVALID);
	if (!json_object_is_type(root, json_type_object) ||
	    (!json_object_object_get_ex(root, "policies", NULL) &&
	    !json_object_object_get_ex(root, "organization-name", NULL))) {
		xasprintf(cause, "JSON but not an SMTP TLS report (%s)",
		    json_object_is_type(root, json_type_object) ?
		    "no policies, no organization-name" :
		    "the root is not an object");
		json_object_put(root);
		return (REPORT_NOT_DMARC);
	}
	memset(&r, 0, sizeof r);
	memset(&w, 0, sizeof w);
	w.lim = lim;
	w.r = &r;
	rc = tls_top(&w, root);
	json_object_put(root);
	if (rc != 0) {
		*cause = w.cause != NULL ? w.cause :
		    xstrdup("unreadable TLS report");
		tlsrpt_report_free(&r);
		return (REPORT_INVALID);
	}
	rc = cb->report(&r, arg, cause);
	tlsrpt_report_free(&r);
	if (rc == -1) {
		if (*cause == NULL)
			*cause = xstrdup("the TLS report callback failed");
		st = REPORT_ABORTED;
	} else if (rc == 1) {
		free(*cause);
		*cause = NULL;
		st = REPORT_DUPLICATE;
	} else {
		free(*cause);
		*cause = NULL;
		st = REPORT_OK;
	}
	return (st);
}

/* The top-level members. */
static int
tls_top(struct tls_walk *w, json_object *root)
{
	struct json_object_iter	 it;
	json_object		*val;
	const char		*key;
	struct tlsrpt_report	*r = w->r;
	json_object		*extra = NULL;
	char			*t;
	int			 rc = 0, have_dates = 0;

	json_object_object_foreachC(root, it) {
		key = it.key;
		val = it.val;
		if (strcmp(key, "organization-name") == 0)
			rc = tls_str(w, val, key, &r->organization_name);
		else if (strcmp(key, "contact-info") == 0)
			rc = tls_str(w, val, key, &r->contact_info);
		else if (strcmp(key, "report-id") == 0)
			rc = tls_str(w, val, key, &r->report_id);
		else if (strcmp(key, "date-range") == 0) {
			rc = tls_dates(w, val, &extra);
			have_dates = 1;
		}
		else if (strcmp(key, "policies") == 0)
			rc = tls_policies(w, val);
		else
			tls_extra(&extra, NULL, key, val);
		if (rc != 0)
			break;
	}
	if (rc == 0 && !have_dates) {
		xasprintf(&w->cause, "no date-range");
		rc = -1;
	}
	if (rc == 0 && (r->report_id == NULL || *r->report_id == '\0')) {
		xasprintf(&w->cause, "no report-id");
		rc = -1;
	}
	r->extra = tls_extra_text(extra);
	json_object_put(extra);
	if (rc != 0)
		return (-1);
	if (r->organization_name == NULL) {
		r->organization_name = xstrdup("");
		report_warn(&r->warnings, &r->nwarnings,
		    "no organization-name");
	} else {
		t = report_trim(r->organization_name);
		free(r->organization_name);
		r->organization_name = t;
	}
	t = report_trim(r->report_id);
	free(r->report_id);
	r->report_id = t;
	if (r->npolicies == 0)
		report_warn(&r->warnings, &r->nwarnings, "no policies");
	if (r->date_end < r->date_begin)
		report_warn(&r->warnings, &r->nwarnings,
		    "date-range ends before it starts");
	return (0);
}

/* date-range: start-datetime and end-datetime, both required. */
static int
tls_dates(struct tls_walk *w, json_object *v, json_object **extra)
{
	struct json_object_iter	 it;
	json_object		*val;
	const char		*key;
	struct tlsrpt_report	*r = w->r;
	json_object		*s = NULL, *e = NULL;

	if (!json_object_is_type(v, json_type_object)) {
		xasprintf(&w->cause, "date-range is not an object");
		return (-1);
	}
	json_object_object_foreachC(v, it) {
		key = it.key;
		val = it.val;
		if (strcmp(key, "start-datetime") == 0)
			s = val;
		else if (strcmp(key, "end-datetime") == 0)
			e = val;
		else
			tls_extra(extra, "date-range", key, val);
	}
	if (s == NULL || e == NULL) {
		xasprintf(&w->cause, "date-range without %s",
		    s == NULL ? "start-datetime" : "end-datetime");
		return (-1);
	}
	if (tls_time(w, s, "start-datetime", &r->date_begin,
	    &r->begin_raw) != 0 ||
	    tls_time(w, e, "end-datetime", &r->date_end, &r->end_raw) != 0)
		return (-1);
	return (0);
}

/* policies: a list of policy items (or, tolerated, one item). */
static int
tls_policies(struct tls_walk *w, json_object *v)
{
	struct tlsrpt_report	*r = w->r;
	size_t			 i, n;

	if (json_object_is_type(v, json_type_object)) {
		report_warn(&r->warnings, &r->nwarnings,
		    "policies is an object, not a list");
		if (tls_entry(w) != 0)
			return (-1);
		r->policies = xcalloc(1, sizeof *r->policies);
		r->npolicies = 1;
		return (tls_policy(w, v, &r->policies[0]));
	}
	if (json_object_is_type(v, json_type_null))
		return (0);
	if (!json_object_is_type(v, json_type_array)) {
		xasprintf(&w->cause, "policies is not a list");
		return (-1);
	}
	n = json_object_array_length(v);
	for (i = 0; i < n; i++)
		if (tls_entry(w) != 0)
			return (-1);
	r->policies = xcalloc(n == 0 ? 1 : n, sizeof *r->policies);
	for (i = 0; i < n; i++) {
		r->npolicies = i + 1;
		if (tls_policy(w, json_object_array_get_idx(v, i),
		    &r->policies[i]) != 0)
			return (-1);
		r->successful_total = tls_add(r->successful_total,
		    r->policies[i].successful_sessions);
		r->failed_total = tls_add(r->failed_total,
		    r->policies[i].failed_sessions);
	}
	return (0);
}

/* One more policy or failure detail, within max_records. */
static int
tls_entry(struct tls_walk *w)
{
	uint32_t	max;

	max = w->lim->max_records != 0 ? w->lim->max_records :
	    REPORT_MAX_RECORDS;
	if (++w->entries > max) {
		xasprintf(&w->cause, "more than %u policies and failure "
		    "details (max_records)", max);
		return (-1);
	}
	return (0);
}

/* Saturating addition of two non-negative counts. */
static int64_t
tls_add(int64_t a, int64_t b)
{
	return (a > INT64_MAX - b ? INT64_MAX : a + b);
}

/* One policy item: policy, summary, failure-details. */
static int
tls_policy(struct tls_walk *w, json_object *v, struct tlsrpt_policy *p)
{
	struct json_object_iter	 it;
	json_object		*val;
	const char		*key;
	struct tlsrpt_report	*r = w->r;
	json_object		*extra = NULL;
	int			 rc = 0, have_summary = 0;

	if (!json_object_is_type(v, json_type_object)) {
		xasprintf(&w->cause, "a policies item is not an object");
		return (-1);
	}
	json_object_object_foreachC(v, it) {
		key = it.key;
		val = it.val;
		if (strcmp(key, "policy") == 0)
			rc = tls_policy_inner(w, val, p, &extra);
		else if (strcmp(key, "summary") == 0) {
			rc = tls_summary(w, val, p, &extra);
			have_summary = 1;
		} else if (strcmp(key, "failure-details") == 0)
			rc = tls_details(w, val, p);
		else
			tls_extra(&extra, NULL, key, val);
		if (rc != 0)
			break;
	}
	p->extra = tls_extra_text(extra);
	json_object_put(extra);
	if (rc != 0)
		return (-1);
	if (p->policy_domain == NULL) {
		p->policy_domain = xstrdup("");
		report_warn(&r->warnings, &r->nwarnings,
		    "a policy without policy-domain");
	}
	if (p->policy_type == NULL && p->policy_type_raw == NULL)
		report_warn(&r->warnings, &r->nwarnings,
		    "policy %s has no policy-type", p->policy_domain);
	if (!have_summary)
		report_warn(&r->warnings, &r->nwarnings,
		    "policy %s has no summary", p->policy_domain);
	return (0);
}

/* The policy object: type, strings, domain, mx-host. */
static int
tls_policy_inner(struct tls_walk *w, json_object *v, struct tlsrpt_policy *p,
    json_object **extra)
{
	struct json_object_iter	 it;
	json_object		*val;
	const char		*key;
	char	*t = NULL;
	int	 rc = 0, was_string;

	if (!json_object_is_type(v, json_type_object)) {
		xasprintf(&w->cause, "policy is not an object");
		return (-1);
	}
	json_object_object_foreachC(v, it) {
		key = it.key;
		val = it.val;
		if (strcmp(key, "policy-type") == 0) {
			if ((rc = tls_str(w, val, key, &t)) == 0 && t != NULL)
				(void)report_enum(t, tls_policy_types,
				    &p->policy_type, &p->policy_type_raw);
			free(t);
			t = NULL;
		} else if (strcmp(key, "policy-string") == 0) {
			rc = tls_strings(w, val, key, &p->policy_string,
			    &p->npolicy_string, &was_string);
			if (rc == 0 && was_string)
				report_warn(&w->r->warnings,
				    &w->r->nwarnings, "policy-string is a "
				    "string, not a list");
		} else if (strcmp(key, "policy-domain") == 0) {
			if ((rc = tls_str(w, val, key, &t)) == 0 &&
			    t != NULL) {
				free(p->policy_domain);
				p->policy_domain = report_domain(t);
			}
			free(t);
			t = NULL;
		} else if (strcmp(key, "mx-host") == 0)
			rc = tls_strings(w, val, key, &p->mx_host,
			    &p->nmx_host, &p->mx_host_string);
		else
			tls_extra(extra, "policy", key, val);
		if (rc != 0)
			return (-1);
	}
	return (0);
}

/* The summary: the two session counts. */
static int
tls_summary(struct tls_walk *w, json_object *v, struct tlsrpt_policy *p,
    json_object **extra)
{
	struct json_object_iter	 it;
	json_object		*val;
	const char		*key;
	if (!json_object_is_type(v, json_type_object)) {
		xasprintf(&w->cause, "summary is not an object");
		return (-1);
	}
	json_object_object_foreachC(v, it) {
		key = it.key;
		val = it.val;
		if (strcmp(key, "total-successful-session-count") == 0) {
			if (tls_count(w, val, key, &p->successful_sessions,
			    &p->successful_raw) != 0)
				return (-1);
		} else if (strcmp(key, "total-failure-session-count") == 0) {
			if (tls_count(w, val, key, &p->failed_sessions,
			    &p->failed_raw) != 0)
				return (-1);
		} else
			tls_extra(extra, "summary", key, val);
	}
	return (0);
}

/* failure-details: a list of failure objects. */
static int
tls_details(struct tls_walk *w, json_object *v, struct tlsrpt_policy *p)
{
	size_t	i, n;

	if (json_object_is_type(v, json_type_null))
		return (0);
	if (!json_object_is_type(v, json_type_array)) {
		xasprintf(&w->cause, "failure-details is not a list");
		return (-1);
	}
	n = json_object_array_length(v);
	for (i = 0; i < n; i++)
		if (tls_entry(w) != 0)
			return (-1);
	p->failures = xcalloc(n == 0 ? 1 : n, sizeof *p->failures);
	for (i = 0; i < n; i++) {
		p->nfailures = i + 1;
		if (tls_detail(w, json_object_array_get_idx(v, i),
		    &p->failures[i]) != 0)
			return (-1);
	}
	return (0);
}

/* One failure detail. */
static int
tls_detail(struct tls_walk *w, json_object *v, struct tlsrpt_failure *f)
{
	struct json_object_iter	 it;
	json_object		*val;
	const char		*key;
	json_object	*extra = NULL;
	char		*t = NULL;
	int		 rc = 0, have_count = 0;

	if (!json_object_is_type(v, json_type_object)) {
		xasprintf(&w->cause, "a failure-details item is not an "
		    "object");
		return (-1);
	}
	json_object_object_foreachC(v, it) {
		key = it.key;
		val = it.val;
		if (strcmp(key, "result-type") == 0) {
			if ((rc = tls_str(w, val, key, &t)) == 0 && t != NULL)
				(void)report_enum(t, tls_result_types,
				    &f->result_type, &f->result_type_raw);
		} else if (strcmp(key, "sending-mta-ip") == 0) {
			if ((rc = tls_str(w, val, key, &t)) == 0 && t != NULL)
				f->sending_mta_ip = tls_ip(t,
				    &f->sending_mta_ip_raw);
		} else if (strcmp(key, "receiving-ip") == 0) {
			if ((rc = tls_str(w, val, key, &t)) == 0 && t != NULL)
				f->receiving_ip = tls_ip(t,
				    &f->receiving_ip_raw);
		} else if (strcmp(key, "receiving-mx-hostname") == 0) {
			if ((rc = tls_str(w, val, key, &t)) == 0 && t != NULL)
				f->receiving_mx_hostname = report_domain(t);
		} else if (strcmp(key, "receiving-mx-helo") == 0) {
			if ((rc = tls_str(w, val, key, &t)) == 0 && t != NULL)
				f->receiving_mx_helo = report_trim(t);
		} else if (strcmp(key, "failed-session-count") == 0) {
			rc = tls_count(w, val, key, &f->failed_session_count,
			    &f->failed_session_count_raw);
			have_count = 1;
		} else if (strcmp(key, "additional-information") == 0) {
			rc = tls_str(w, val, key, &f->additional_information);
		} else if (strcmp(key, "failure-reason-code") == 0) {
			rc = tls_str(w, val, key, &f->failure_reason_code);
		} else
			tls_extra(&extra, NULL, key, val);
		free(t);
		t = NULL;
		if (rc != 0)
			break;
	}
	f->extra = tls_extra_text(extra);
	json_object_put(extra);
	if (rc != 0)
		return (-1);
	if (f->result_type == NULL && f->result_type_raw == NULL)
		report_warn(&w->r->warnings, &w->r->nwarnings,
		    "a failure detail without result-type");
	else if (f->result_type == NULL)
		report_warn(&w->r->warnings, &w->r->nwarnings,
		    "unknown result-type \"%s\" kept as is",
		    f->result_type_raw);
	if (!have_count)
		report_warn(&w->r->warnings, &w->r->nwarnings,
		    "a failure detail without failed-session-count");
	return (0);
}

/* An IP address: the canonical text, or NULL with the original in *raw. */
static char *
tls_ip(const char *t, char **raw)
{
	char	*ip;

	*raw = NULL;
	if ((ip = report_ip(t)) == NULL || strcmp(ip, t) != 0)
		*raw = xstrdup(t);
	return (ip);
}

/*
 * A string member: *out is a copy (NULL for JSON null).  A number or a
 * boolean is taken as its JSON text, with a warning.  Over max_text, or
 * a NUL inside, is fatal for the report.
 */
static int
tls_str(struct tls_walk *w, json_object *v, const char *name, char **out)
{
	const char	*s;
	size_t		 len, max;

	max = w->lim->max_text != 0 ? w->lim->max_text : REPORT_MAX_TEXT;
	free(*out);
	*out = NULL;
	if (v == NULL || json_object_is_type(v, json_type_null))
		return (0);
	if (json_object_is_type(v, json_type_string)) {
		s = json_object_get_string(v);
		len = (size_t)json_object_get_string_len(v);
	} else if (json_object_is_type(v, json_type_object) ||
	    json_object_is_type(v, json_type_array)) {
		xasprintf(&w->cause, "%s is not a string", name);
		return (-1);
	} else {
		s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
		len = strlen(s);
		report_warn(&w->r->warnings, &w->r->nwarnings,
		    "%s is not a string: %s", name, s);
	}
	if (len > max) {
		xasprintf(&w->cause, "%s longer than %zu bytes (max_text)",
		    name, max);
		return (-1);
	}
	if (memchr(s, '\0', len) != NULL) {
		xasprintf(&w->cause, "%s holds a NUL character", name);
		return (-1);
	}
	*out = xstrndup(s, len);
	return (0);
}

/*
 * A list of strings, or (tolerated) one string: *was_string is set then.
 */
static int
tls_strings(struct tls_walk *w, json_object *v, const char *name,
    char ***out, size_t *n, int *was_string)
{
	char	*s = NULL, *t;
	size_t	 i, len;

	*was_string = 0;
	if (json_object_is_type(v, json_type_null))
		return (0);
	if (!json_object_is_type(v, json_type_array)) {
		if (tls_str(w, v, name, &s) != 0)
			return (-1);
		*was_string = 1;
		*out = xcalloc(1, sizeof **out);
		(*out)[0] = report_trim(s);
		*n = 1;
		free(s);
		return (0);
	}
	len = json_object_array_length(v);
	if (len > (w->lim->max_results != 0 ? w->lim->max_results :
	    REPORT_MAX_RESULTS) * 10) {
		xasprintf(&w->cause, "%s has %zu entries", name, len);
		return (-1);
	}
	*out = xcalloc(len == 0 ? 1 : len, sizeof **out);
	for (i = 0; i < len; i++) {
		if (tls_str(w, json_object_array_get_idx(v, i), name,
		    &s) != 0)
			return (-1);
		t = s != NULL ? report_trim(s) : NULL;
		free(s);
		s = NULL;
		if (t == NULL)
			continue;
		(*out)[(*n)++] = t;
	}
	return (0);
}

/*
 * A session count: a JSON integer from 0 to INT64_MAX - 1.  A string of
 * digits is read, a number out of range or anything else counts 0; in
 * both cases the original JSON text is kept in *raw, with a warning.
 */
static int
tls_count(struct tls_walk *w, json_object *v, const char *name, int64_t *out,
    char **raw)
{
	const char	*text;
	int64_t		 n;
	double		 d;

	*out = 0;
	free(*raw);
	*raw = NULL;
	if (json_object_is_type(v, json_type_int)) {
		n = json_object_get_int64(v);
		if (n >= 0 && n < INT64_MAX) {
			*out = n;
			return (0);
		}
	}
	if (json_object_is_type(v, json_type_object) ||
	    json_object_is_type(v, json_type_array)) {
		xasprintf(&w->cause, "%s is not a number", name);
		return (-1);
	}
	text = json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) :
	    json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
	if (strlen(text) > 64) {
		xasprintf(&w->cause, "%s is not a count", name);
		return (-1);
	}
	*raw = xstrdup(text);
	if (json_object_is_type(v, json_type_string) &&
	    report_count(text, &n) == 0 && n < INT64_MAX) {
		*out = n;
		report_warn(&w->r->warnings, &w->r->nwarnings,
		    "%s is a string: \"%s\"", name, text);
		return (0);
	}
	if (json_object_is_type(v, json_type_double)) {
		d = json_object_get_double(v);
		if (d >= 0 && d < 9.2e18 && d == (double)(int64_t)d) {
			*out = (int64_t)d;
			report_warn(&w->r->warnings, &w->r->nwarnings,
			    "%s written as %s", name, text);
			return (0);
		}
	}
	report_warn(&w->r->warnings, &w->r->nwarnings,
	    "%s is not a count: %s (counted as 0)", name, text);
	return (0);
}

/*
 * An RFC 3339 time.  *raw keeps the text unless it is exactly
 * YYYY-MM-DDTHH:MM:SSZ.  A time without a zone is read as UTC with a
 * warning; one that cannot be read makes the report invalid.
 */
static int
tls_time(struct tls_walk *w, json_object *v, const char *name, int64_t *out,
    char **raw)
{
	char	*t = NULL;
	int	 zone;

	if (tls_str(w, v, name, &t) != 0)
		return (-1);
	if (t == NULL || tls_rfc3339(t, out, &zone) != 0) {
		xasprintf(&w->cause, "%s is not a date and time: %s", name,
		    t != NULL ? t : "null");
		free(t);
		return (-1);
	}
	if (!zone)
		report_warn(&w->r->warnings, &w->r->nwarnings,
		    "%s \"%s\" has no time zone: read as UTC", name, t);
	if (strlen(t) == 20 && t[10] == 'T' && t[19] == 'Z' && zone)
		free(t);
	else
		*raw = t;
	return (0);
}

/*
 * Parse YYYY-MM-DD[T ]HH:MM[:SS[.frac]][Z|+HH:MM|+HHMM], or a bare date.
 * *zone is 0 when the zone was missing.  0, or -1 when unreadable.
 */
static int
tls_rfc3339(const char *s, int64_t *out, int *zone)
{
	int	 y, mo, d, h = 0, mi = 0, sec = 0, zh, zm, sign, n = 0;
	int64_t	 t;

	*zone = 0;
	while (isspace((unsigned char)*s))
		s++;
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
		return (-1);
	s += n;
	if (*s == 'T' || *s == 't' || (*s == ' ' && isdigit((unsigned char)
	    s[1]))) {
		s++;
		n = 0;
		if (sscanf(s, "%2d:%2d%n", &h, &mi, &n) != 2 || n != 5)
			return (-1);
		s += n;
		if (*s == ':') {
			if (!isdigit((unsigned char)s[1]) ||
			    !isdigit((unsigned char)s[2]))
				return (-1);
			sec = (s[1] - '0') * 10 + (s[2] - '0');
			s += 3;
		}
		if (*s == '.' || *s == ',') {
			s++;
			if (!isdigit((unsigned char)*s))
				return (-1);
			while (isdigit((unsigned char)*s))
				s++;
		}
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60 || y < 1 || h < 0 || mi < 0)
		return (-1);
	t = tls_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	if (*s == 'Z' || *s == 'z') {
		*zone = 1;
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s++ == '-' ? -1 : 1;
		if (!isdigit((unsigned char)s[0]) ||
		    !isdigit((unsigned char)s[1]))
			return (-1);
		zh = (s[0] - '0') * 10 + (s[1] - '0');
		s += 2;
		if (*s == ':')
			s++;
		if (!isdigit((unsigned char)s[0]) ||
		    !isdigit((unsigned char)s[1]))
			return (-1);
		zm = (s[0] - '0') * 10 + (s[1] - '0');
		s += 2;
		if (zh > 23 || zm > 59)
			return (-1);
		t -= sign * (zh * 3600 + zm * 60);
		*zone = 1;
	}
	while (isspace((unsigned char)*s))
		s++;
	if (*s != '\0')
		return (-1);
	*out = t;
	return (0);
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t
tls_days(int64_t y, int m, int d)
{
	int64_t	era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + doe - 719468);
}

/* Keep an unknown member, named prefix.key when inside prefix. */
static void
tls_extra(json_object **extra, const char *prefix, const char *key,
    json_object *val)
{
	char	*name;

	if (*extra == NULL && (*extra = json_object_new_object()) == NULL)
		fatalx("json_object_new_object: out of memory");
	if (prefix != NULL)
		xasprintf(&name, "%s.%s", prefix, key);
	else
		name = xstrdup(key);
	json_object_object_add(*extra, name, json_object_get(val));
	free(name);
}

/*
 * The unknown members as JSON text (NULL when none).  PostgreSQL's jsonb
 * refuses \u0000, so it becomes \ufffd.
 */
static char *
tls_extra_text(json_object *extra)
{
	const char	*s;
	char		*out, *p;
	size_t		 bs;

	if (extra == NULL)
		return (NULL);
	s = json_object_to_json_string_ext(extra, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s == NULL)
		fatalx("json_object_to_json_string_ext: out of memory");
	out = xstrdup(s);
	bs = 0;
	for (p = out; *p != '\0'; p++) {
		if (*p == '\\') {
			bs++;
			continue;
		}
		if (bs % 2 == 1 && strncmp(p, "u0000", 5) == 0)
			memcpy(p, "ufffd", 5);
		bs = 0;
	}
	return (out);
}
