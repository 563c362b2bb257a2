/*
 * arf.c: failure reports (RFC 6591 ARF, updated by RFC 9991).
 *
 * mime/ finds the parts of a failure report mail and GMime decodes them;
 * this file only reads text.  The message/feedback-report part comes as a
 * stream (capped by max_json) and is a block of "Name: value" fields in
 * header syntax: each field is kept verbatim in raw_fields (a JSON array
 * of [name, value] pairs, order and repeats kept) and the known ones are
 * unfolded and normalised into the model.  The returned message (or its
 * text/rfc822-headers) gives the sample headers, and its body when the
 * configuration asks for it (privacy: off by default).
 *
 * A report without a feedback part (Exim's "A message claiming to be from
 * you has failed the published DMARC policy" mail) is read by pattern:
 * the "Name: value" lines of its text, and the header copy that follows
 * them, with format "plain" and a reason.  Everything stored is made
 * valid UTF-8 (bytes that are not become U+FFFD) with LF line ends, since
 * PostgreSQL text holds neither NUL nor invalid sequences.
 */
#include "config.h"

#include <sys/types.h>

#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "common/common.h"
#include "report/report.h"
#include "report/report_p.h"

#define ARF_CHUNK	16384
#define ARF_MAX_FIELDS	(REPORT_MAX_RESULTS * 10)

static const char *const arf_feedback_types[] = {
	"auth-failure", "abuse", "fraud", "virus", "not-spam", "other", NULL
};
static const char *const arf_auth_failures[] = {
	"adsp", "bodyhash", "revoked", "signature", "spf", "dmarc", NULL
};
static const char *const arf_delivery_results[] = {
	"delivered", "spam", "policy", "reject", "other", NULL
};
static const char *const arf_alignments[] = {
	"dkim", "spf", "none", NULL
};

/* One field: its name and its value as written (folding kept). */
struct arf_field {
	char	*name;
	char	*value;
};

struct arf_fields {
	struct arf_field	*f;
	size_t			 n;
};

static char	*arf_read(report_read_fn, void *, size_t, char **);
static char	*arf_clean(const char *, size_t);
static int	 arf_split(const char *, size_t, size_t, int,
		    struct arf_fields *, char **, struct failure_report *);
static void	 arf_fields_free(struct arf_fields *);
static char	*arf_unfold(const char *);
static char	*arf_json(const struct arf_fields *);
static void	 arf_apply(struct failure_report *, const struct arf_fields *);
static void	 arf_apply_plain(struct failure_report *,
		    const struct arf_fields *);
static void	 arf_set(char **, const char *);
static void	 arf_add(char ***, size_t *, char *);
static void	 arf_words(const char *, const char *const *, char ***,
		    size_t *, char **);
static void	 arf_source_ip(struct failure_report *, const char *);
static void	 arf_date(struct failure_report *, const char *);
static int	 arf_rfc5322_date(const char *, int64_t *);
static void	 arf_original(struct failure_report *, const char *, size_t,
		    int, int);
static char	*arf_header(const char *, const char *);
static int	 arf_plain_is_failure(const char *);
static const char *arf_plain_headers(const char *, char **);

/* Free the contents of a failure report; the structure is zeroed. */
void
failure_report_free(struct failure_report *r)
{
	size_t	i;

	free(r->reason);
	free(r->feedback);
	free(r->raw_fields);
	free(r->feedback_type);
	free(r->feedback_type_raw);
	free(r->version);
	free(r->user_agent);
	free(r->original_mail_from);
	for (i = 0; i < r->noriginal_rcpt_to; i++)
		free(r->original_rcpt_to[i]);
	free(r->original_rcpt_to);
	free(r->original_envelope_id);
	free(r->arrival_date_raw);
	free(r->source_ip);
	free(r->source_ip_raw);
	for (i = 0; i < r->nreported_domain; i++)
		free(r->reported_domain[i]);
	free(r->reported_domain);
	for (i = 0; i < r->nreported_uri; i++)
		free(r->reported_uri[i]);
	free(r->reported_uri);
	free(r->authentication_results);
	for (i = 0; i < r->nauth_failure; i++)
		free(r->auth_failure[i]);
	free(r->auth_failure);
	free(r->auth_failure_raw);
	free(r->delivery_result);
	free(r->delivery_result_raw);
	free(r->dkim_domain);
	free(r->dkim_identity);
	free(r->dkim_selector);
	free(r->dkim_canonicalized_header);
	free(r->dkim_canonicalized_body);
	free(r->spf_dns);
	for (i = 0; i < r->nidentity_alignment; i++)
		free(r->identity_alignment[i]);
	free(r->identity_alignment);
	free(r->identity_alignment_raw);
	free(r->incidents);
	free(r->sample_headers);
	free(r->sample_body);
	free(r->original_from);
	free(r->original_subject);
	free(r->original_message_id);
	for (i = 0; i < r->nwarnings; i++)
		free(r->warnings[i]);
	free(r->warnings);
	memset(r, 0, sizeof *r);
}

/* Parse one failure report (contract in report.h). */
enum report_status
report_parse_arf(report_read_fn readfn, void *stream,
    const struct arf_input *in, const struct report_limits *lim,
    const struct arf_callbacks *cb, void *arg, char **cause)
{
	struct failure_report	 r;
	struct arf_fields	 fl;
	const char		*hdrs;
	char			*raw, *hcopy = NULL;
	size_t			 max, max_text, len;
	int			 rc;

	*cause = NULL;
	max = lim->max_json != 0 ? lim->max_json : REPORT_MAX_JSON;
	max_text = lim->max_text != 0 ? lim->max_text : REPORT_MAX_TEXT;
	if ((raw = arf_read(readfn, stream, max, cause)) == NULL)
		return (REPORT_INVALID);
	memset(&r, 0, sizeof r);
	memset(&fl, 0, sizeof fl);
	r.arrival_date = INT64_MIN;
	r.source_port = -1;
	r.format = in->plain ? "plain" : "arf";
	r.feedback = arf_clean(raw, strlen(raw));
	free(raw);
	len = strlen(r.feedback);
	if (in->plain) {
		if (!arf_plain_is_failure(r.feedback)) {
			xasprintf(cause, "text is not a DMARC failure report");
			failure_report_free(&r);
			return (REPORT_NOT_DMARC);
		}
		hdrs = arf_plain_headers(r.feedback, &hcopy);
		rc = arf_split(r.feedback, hdrs != NULL ?
		    (size_t)(hdrs - r.feedback) : len, max_text, 1, &fl,
		    cause, &r);
		xasprintf(&r.reason, "no message/feedback-report part%s%s%s:"
		    " fields read from the text", in->report_type != NULL ?
		    " (multipart/report; report-type=" : "",
		    in->report_type != NULL ? in->report_type : "",
		    in->report_type != NULL ? ")" : "");
	} else
		rc = arf_split(r.feedback, len, max_text, 0, &fl, cause, &r);
	if (rc != 0) {
		free(hcopy);
		arf_fields_free(&fl);
		failure_report_free(&r);
		return (REPORT_INVALID);
	}
	if (fl.n == 0 && !in->plain) {
		xasprintf(cause, "the feedback part has no field");
		arf_fields_free(&fl);
		failure_report_free(&r);
		return (REPORT_NOT_DMARC);
	}
	r.raw_fields = arf_json(&fl);
	if (in->plain)
		arf_apply_plain(&r, &fl);
	else
		arf_apply(&r, &fl);
	arf_fields_free(&fl);
	if (in->original != NULL)
		arf_original(&r, in->original, in->original_len,
		    in->headers_only, in->store_body);
	else if (hcopy != NULL)
		arf_original(&r, hcopy, strlen(hcopy), 1, 0);
	free(hcopy);
	if (in->original == NULL && r.sample_headers == NULL)
		report_warn(&r.warnings, &r.nwarnings,
		    "no copy of the original message");
	if (!in->plain && r.feedback_type == NULL)
		report_warn(&r.warnings, &r.nwarnings, "%s",
		    r.feedback_type_raw != NULL ?
		    "unknown Feedback-Type" : "no Feedback-Type");
	if (!in->plain && in->report_type != NULL &&
	    strcasecmp(in->report_type, "feedback-report") != 0)
		report_warn(&r.warnings, &r.nwarnings, "multipart/report "
		    "with report-type=%s", in->report_type);

	rc = cb->report(&r, arg, cause);
	failure_report_free(&r);
	if (rc == -1) {
		if (*cause == NULL)
			*cause = xstrdup("the failure report callback failed");
		return (REPORT_ABORTED);
	}
	free(*cause);
	*cause = NULL;
	return (rc == 1 ? REPORT_DUPLICATE : REPORT_OK);
}

/* The whole stream, NUL-terminated, at most max bytes. */
static char *
arf_read(report_read_fn readfn, void *stream, size_t max, char **cause)
{
	struct buf	 b;
	char		*chunk;
	ssize_t		 n;

	buf_init(&b, max);
	chunk = xmalloc(ARF_CHUNK);
	while ((n = readfn(stream, chunk, ARF_CHUNK, cause)) > 0) {
		if (buf_add(&b, chunk, (size_t)n) != 0) {
			xasprintf(cause, "failure report over %zu bytes "
			    "(max_json)", max);
			n = -1;
			break;
		}
	}
	free(chunk);
	if (n < 0) {
		buf_free(&b);
		return (NULL);
	}
	return (buf_steal(&b, NULL));
}

/*
 * A copy that is valid UTF-8 with LF line ends: CR LF and lone CR become
 * LF, NUL and bytes that do not form UTF-8 become U+FFFD.
 */
static char *
arf_clean(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	char			*out, *o;
	size_t			 i, n;
	uint32_t		 cp;

	out = o = xmalloc(len * 3 + 1);
	for (i = 0; i < len; ) {
		if (p[i] == '\r') {
			*o++ = '\n';
			i += (i + 1 < len && p[i + 1] == '\n') ? 2 : 1;
			continue;
		}
		n = utf8_decode(p + i, len - i, &cp);
		if (n == 0 || cp == 0) {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(o, p + i, n);
		o += n;
		i += n;
	}
	*o = '\0';
	return (out);
}

/*
 * Split text[0, len) into fields in header syntax.  In plain mode lines
 * that are not fields are skipped silently, and a field's name may
 * follow white space; otherwise they give a warning.
 */
static int
arf_split(const char *text, size_t len, size_t max_text, int plain,
    struct arf_fields *fl, char **cause, struct failure_report *r)
{
	const char	*p = text, *end = text + len, *eol, *colon, *v;
	struct arf_field *cur = NULL;
	char		*tmp;
	size_t		 vlen;

	for (; p < end; p = eol + 1) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		if (eol == p)
			continue;
		if ((*p == ' ' || *p == '\t') && cur != NULL && !plain) {
			/* A folded continuation. */
			vlen = strlen(cur->value);
			if (vlen + (size_t)(eol - p) + 1 > max_text)
				goto toolong;
			tmp = xmalloc(vlen + (size_t)(eol - p) + 2);
			memcpy(tmp, cur->value, vlen);
			tmp[vlen] = '\n';
			memcpy(tmp + vlen + 1, p, (size_t)(eol - p));
			tmp[vlen + 1 + (eol - p)] = '\0';
			free(cur->value);
			cur->value = tmp;
			continue;
		}
		cur = NULL;
		if (plain)
			while (p < eol && (*p == ' ' || *p == '\t'))
				p++;
		for (colon = p; colon < eol && *colon != ':'; colon++)
			;
		if (colon == eol)
			colon = NULL;
		if (colon == NULL || colon == p || (plain ? colon - p > 40 :
		    memchr(p, ' ', (size_t)(colon - p)) != NULL)) {
			if (!plain)
				report_warn(&r->warnings, &r->nwarnings,
				    "not a field: %.60s", p);
			continue;
		}
		if (fl->n >= ARF_MAX_FIELDS) {
			xasprintf(cause, "more than %d fields",
			    ARF_MAX_FIELDS);
			return (-1);
		}
		if ((size_t)(eol - p) > max_text)
			goto toolong;
		fl->f = xreallocarray(fl->f, fl->n + 1, sizeof *fl->f);
		cur = &fl->f[fl->n++];
		vlen = (size_t)(colon - p);
		while (vlen > 0 && (p[vlen - 1] == ' ' || p[vlen - 1] == '\t'))
			vlen--;
		cur->name = xstrndup(p, vlen);
		for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
			;
		cur->value = xstrndup(v, (size_t)(eol - v));
	}
	return (0);
toolong:
	xasprintf(cause, "a field longer than %zu bytes (max_text)",
	    max_text);
	return (-1);
}

static void
arf_fields_free(struct arf_fields *fl)
{
	size_t	i;

	for (i = 0; i < fl->n; i++) {
		free(fl->f[i].name);
		free(fl->f[i].value);
	}
	free(fl->f);
	memset(fl, 0, sizeof *fl);
}

/* A value unfolded (line breaks and the white space after them become one
   space) and trimmed. */
static char *
arf_unfold(const char *v)
{
	char	*out, *o, *t;

	out = o = xmalloc(strlen(v) + 1);
	for (; *v != '\0'; v++) {
		if (*v == '\n') {
			while (v[1] == ' ' || v[1] == '\t')
				v++;
			*o++ = ' ';
			continue;
		}
		*o++ = *v;
	}
	*o = '\0';
	t = report_trim(out);
	free(out);
	return (t);
}

/* raw_fields: [[name, value], ...] as JSON text. */
static char *
arf_json(const struct arf_fields *fl)
{
	json_object	*a, *pair;
	const char	*s;
	char		*out;
	size_t		 i;

	if ((a = json_object_new_array()) == NULL)
		fatalx("json_object_new_array: out of memory");
	for (i = 0; i < fl->n; i++) {
		if ((pair = json_object_new_array()) == NULL)
			fatalx("json_object_new_array: out of memory");
		json_object_array_add(pair,
		    json_object_new_string(fl->f[i].name));
		json_object_array_add(pair,
		    json_object_new_string(fl->f[i].value));
		json_object_array_add(a, pair);
	}
	s = json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s == NULL)
		fatalx("json_object_to_json_string_ext: out of memory");
	out = xstrdup(s);
	json_object_put(a);
	return (out);
}

/* Set a single-valued field; a repeat keeps the first, with a warning. */
static void
arf_set(char **dst, const char *v)
{
	if (*dst == NULL)
		*dst = arf_unfold(v);
}

static void
arf_add(char ***list, size_t *n, char *v)
{
	*list = xreallocarray(*list, *n + 1, sizeof **list);
	(*list)[(*n)++] = v;
}

/* The typed fields of an ARF feedback part. */
static void
arf_apply(struct failure_report *r, const struct arf_fields *fl)
{
	const char	*n;
	char		*v;
	size_t		 i;
	int		 seen_type = 0;

	for (i = 0; i < fl->n; i++) {
		n = fl->f[i].name;
		v = arf_unfold(fl->f[i].value);
		if (strcasecmp(n, "Feedback-Type") == 0 && !seen_type) {
			(void)report_enum(v, arf_feedback_types,
			    &r->feedback_type, &r->feedback_type_raw);
			seen_type = 1;
		} else if (strcasecmp(n, "Version") == 0)
			arf_set(&r->version, v);
		else if (strcasecmp(n, "User-Agent") == 0)
			arf_set(&r->user_agent, v);
		else if (strcasecmp(n, "Original-Mail-From") == 0)
			arf_set(&r->original_mail_from, v);
		else if (strcasecmp(n, "Original-Rcpt-To") == 0) {
			arf_add(&r->original_rcpt_to, &r->noriginal_rcpt_to,
			    v);
			v = NULL;
		} else if (strcasecmp(n, "Original-Envelope-Id") == 0)
			arf_set(&r->original_envelope_id, v);
		else if (strcasecmp(n, "Arrival-Date") == 0 ||
		    (strcasecmp(n, "Received-Date") == 0 &&
		    r->arrival_date_raw == NULL))
			arf_date(r, v);
		else if (strcasecmp(n, "Source-IP") == 0)
			arf_source_ip(r, v);
		else if (strcasecmp(n, "Source-Port") == 0) {
			if (r->source_port == -1 && strspn(v, "0123456789") ==
			    strlen(v) && *v != '\0' && strlen(v) <= 5 &&
			    atoi(v) <= 65535)
				r->source_port = atoi(v);
			else
				report_warn(&r->warnings, &r->nwarnings,
				    "Source-Port not kept: %.40s", v);
		} else if (strcasecmp(n, "Reported-Domain") == 0)
			arf_add(&r->reported_domain, &r->nreported_domain,
			    report_domain(v));
		else if (strcasecmp(n, "Reported-URI") == 0) {
			arf_add(&r->reported_uri, &r->nreported_uri, v);
			v = NULL;
		} else if (strcasecmp(n, "Authentication-Results") == 0)
			arf_set(&r->authentication_results, v);
		else if (strcasecmp(n, "Auth-Failure") == 0)
			arf_words(v, arf_auth_failures, &r->auth_failure,
			    &r->nauth_failure, &r->auth_failure_raw);
		else if (strcasecmp(n, "Delivery-Result") == 0 &&
		    r->delivery_result == NULL &&
		    r->delivery_result_raw == NULL)
			(void)report_enum(v, arf_delivery_results,
			    &r->delivery_result, &r->delivery_result_raw);
		else if (strcasecmp(n, "DKIM-Domain") == 0) {
			if (r->dkim_domain == NULL)
				r->dkim_domain = report_domain(v);
		} else if (strcasecmp(n, "DKIM-Identity") == 0)
			arf_set(&r->dkim_identity, v);
		else if (strcasecmp(n, "DKIM-Selector") == 0)
			arf_set(&r->dkim_selector, v);
		else if (strcasecmp(n, "DKIM-Canonicalized-Header") == 0)
			arf_set(&r->dkim_canonicalized_header, v);
		else if (strcasecmp(n, "DKIM-Canonicalized-Body") == 0)
			arf_set(&r->dkim_canonicalized_body, v);
		else if (strcasecmp(n, "SPF-DNS") == 0)
			arf_set(&r->spf_dns, v);
		else if (strcasecmp(n, "Identity-Alignment") == 0)
			arf_words(v, arf_alignments, &r->identity_alignment,
			    &r->nidentity_alignment,
			    &r->identity_alignment_raw);
		else if (strcasecmp(n, "Incidents") == 0)
			arf_set(&r->incidents, v);
		free(v);
	}
}

/*
 * The fields of a plain-text report (Exim): Sender Domain, Sender IP
 * Address, Received date, SPF and DKIM Alignment, DMARC Results.
 */
static void
arf_apply_plain(struct failure_report *r, const struct arf_fields *fl)
{
	const char	*n;
	char		*v;
	size_t		 i;

	for (i = 0; i < fl->n; i++) {
		n = fl->f[i].name;
		v = arf_unfold(fl->f[i].value);
		if (strcasecmp(n, "Sender Domain") == 0 ||
		    strcasecmp(n, "Reported-Domain") == 0)
			arf_add(&r->reported_domain, &r->nreported_domain,
			    report_domain(v));
		else if (strcasecmp(n, "Sender IP Address") == 0 ||
		    strcasecmp(n, "Source-IP") == 0)
			arf_source_ip(r, v);
		else if (strcasecmp(n, "Received date") == 0 ||
		    strcasecmp(n, "Arrival-Date") == 0)
			arf_date(r, v);
		free(v);
	}
}

/*
 * A list of words separated by commas or white space: the canonical ones
 * in *list; *raw keeps the whole field when any word was not canonical.
 */
static void
arf_words(const char *v, const char *const *words, char ***list, size_t *n,
    char **raw)
{
	char	*copy, *w, *next, *val, *wraw;
	int	 odd = 0;

	copy = xstrdup(v);
	for (w = copy; w != NULL; w = next) {
		next = w + strcspn(w, ", \t");
		if (*next == '\0')
			next = NULL;
		else
			*next++ = '\0';
		if (*w == '\0')
			continue;
		if (report_enum(w, words, &val, &wraw) != 0 || wraw != NULL)
			odd = 1;
		free(wraw);
		if (val != NULL)
			arf_add(list, n, val);
	}
	free(copy);
	if ((odd || *n == 0) && *raw == NULL)
		*raw = xstrdup(v);
}

/* Source-IP: an address, maybe followed by a comment (a host name). */
static void
arf_source_ip(struct failure_report *r, const char *v)
{
	char	*first;

	if (r->source_ip != NULL || r->source_ip_raw != NULL)
		return;
	first = xstrndup(v, strcspn(v, " \t("));
	r->source_ip = report_ip(first);
	if (r->source_ip == NULL || strcmp(r->source_ip, v) != 0)
		r->source_ip_raw = xstrdup(v);
	free(first);
}

/* Arrival-Date: an RFC 5322 date. */
static void
arf_date(struct failure_report *r, const char *v)
{
	if (r->arrival_date_raw != NULL)
		return;
	r->arrival_date_raw = xstrdup(v);
	if (arf_rfc5322_date(v, &r->arrival_date) != 0) {
		r->arrival_date = INT64_MIN;
		report_warn(&r->warnings, &r->nwarnings,
		    "Arrival-Date not understood: %.60s", v);
	}
}

/*
 * [Day,] DD Mon YYYY HH:MM[:SS] [+-HHMM | UT | GMT | EST ...]; a missing
 * zone is UTC.  0 or -1.
 */
static int
arf_rfc5322_date(const char *s, int64_t *out)
{
	static const char *const months[] = { "jan", "feb", "mar", "apr",
	    "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec" };
	static const struct { const char *name; int off; } zones[] = {
		{ "UT", 0 }, { "UTC", 0 }, { "GMT", 0 }, { "Z", 0 },
		{ "EST", -500 }, { "EDT", -400 }, { "CST", -600 },
		{ "CDT", -500 }, { "MST", -700 }, { "MDT", -600 },
		{ "PST", -800 }, { "PDT", -700 }
	};
	char	 mon[4], zone[8];
	int	 d, y, h, mi, sec = 0, n = 0, m, off = 0, i, k;
	int64_t	 days, yy;

	if (strchr(s, ',') != NULL && strchr(s, ',') - s < 12)
		s = strchr(s, ',') + 1;
	while (isspace((unsigned char)*s))
		s++;
	if (sscanf(s, "%d %3s %d %d:%d%n", &d, mon, &y, &h, &mi, &n) != 5)
		return (-1);
	s += n;
	if (*s == ':' && sscanf(s, ":%d%n", &sec, &n) == 1)
		s += n;
	for (m = 0; m < 12; m++)
		if (strcasecmp(mon, months[m]) == 0)
			break;
	if (m == 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 ||
	    mi > 59 || sec < 0 || sec > 60 || y < 0 || y > 9999)
		return (-1);
	if (y < 50)
		y += 2000;
	else if (y < 1000)
		y += 1900;
	while (isspace((unsigned char)*s))
		s++;
	if (*s == '+' || *s == '-') {
		if (strspn(s + 1, "0123456789") < 4)
			return (-1);
		k = (s[1] - '0') * 1000 + (s[2] - '0') * 100 +
		    (s[3] - '0') * 10 + (s[4] - '0');
		off = *s == '-' ? -k : k;
	} else if (*s != '\0' && *s != '(') {
		if (sscanf(s, "%7[A-Za-z]", zone) != 1)
			return (-1);
		for (i = 0; i < (int)(sizeof zones / sizeof zones[0]); i++)
			if (strcasecmp(zone, zones[i].name) == 0)
				break;
		if (i < (int)(sizeof zones / sizeof zones[0]))
			off = zones[i].off;
	}
	/* Days from civil (proleptic Gregorian). */
	yy = y - (m + 1 <= 2);
	days = (yy >= 0 ? yy : yy - 399) / 400;
	days = days * 146097 + ((yy - days * 400) * 365 +
	    (yy - days * 400) / 4 - (yy - days * 400) / 100 +
	    (153 * (m + 1 + (m + 1 > 2 ? -3 : 9)) + 2) / 5 + d - 1) - 719468;
	*out = days * 86400 + h * 3600 + mi * 60 + sec -
	    (off / 100 * 3600 + (off % 100) * 60);
	return (0);
}

/*
 * The returned message: its header block, From, Subject and Message-ID,
 * and its body when asked for.
 */
static void
arf_original(struct failure_report *r, const char *orig, size_t len,
    int headers_only, int store_body)
{
	char		*clean, *sep = NULL, *body = NULL;
	size_t		 hlen;

	clean = arf_clean(orig, len);
	hlen = strlen(clean);
	if (!headers_only) {
		if (strncmp(clean, "\n", 1) == 0)
			sep = clean;
		else if ((sep = strstr(clean, "\n\n")) != NULL)
			sep++;
		if (sep != NULL) {
			hlen = (size_t)(sep - clean);
			body = sep + 1;
		}
	}
	r->sample_headers_only = headers_only;
	r->sample_headers = xstrndup(clean, hlen);
	if (store_body && body != NULL)
		r->sample_body = xstrdup(body);
	r->original_from = arf_header(r->sample_headers, "From");
	r->original_subject = arf_header(r->sample_headers, "Subject");
	r->original_message_id = arf_header(r->sample_headers, "Message-ID");
	free(clean);
}

/* The first header field called name in a header block, unfolded. */
static char *
arf_header(const char *h, const char *name)
{
	const char	*p, *e;
	char		*v, *u;
	size_t		 nlen = strlen(name);

	for (p = h; *p != '\0'; p = *e == '\0' ? e : e + 1) {
		e = p + strcspn(p, "\n");
		if (strncasecmp(p, name, nlen) != 0 || p[nlen] != ':')
			continue;
		/* Take continuation lines too. */
		while (*e == '\n' && (e[1] == ' ' || e[1] == '\t'))
			e += 1 + strcspn(e + 1, "\n");
		v = xstrndup(p + nlen + 1, (size_t)(e - p - (ptrdiff_t)nlen -
		    1));
		u = arf_unfold(v);
		free(v);
		return (u);
	}
	return (NULL);
}

/* Does a text read like a DMARC failure report? */
static int
arf_plain_is_failure(const char *t)
{
	return (strcasestr(t, "DMARC") != NULL &&
	    (strcasestr(t, "fail") != NULL ||
	    strcasestr(t, "forensic") != NULL));
}

/*
 * Where the copy of the original headers begins in a plain report (the
 * line after "... copy of the headers ..."), or NULL; *copy gets them.
 */
static const char *
arf_plain_headers(const char *t, char **copy)
{
	const char	*p, *eol;

	*copy = NULL;
	if ((p = strcasestr(t, "copy of the headers")) == NULL &&
	    (p = strcasestr(t, "copy of the message")) == NULL)
		return (NULL);
	while (p > t && p[-1] != '\n')
		p--;
	if ((eol = strchr(p, '\n')) == NULL)
		return (NULL);
	eol++;
	while (*eol == '\n')
		eol++;
	*copy = xstrdup(eol);
	return (p);
}
