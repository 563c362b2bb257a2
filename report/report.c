/*
 * report.c: the report model's small functions (names, freeing, default
 * limits) and the normalisation helpers the XML parser applies to every
 * value: trimming, enumerations with their raw text, domains, numbers and
 * IP addresses.  The rules are the ones written at the top of report.h.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "report/report.h"
#include "report/report_p.h"

const char *const report_words_disposition[] = {
	"none", "quarantine", "reject", "pass", NULL
};
const char *const report_words_policy[] = {
	"none", "quarantine", "reject", NULL
};
const char *const report_words_alignment[] = { "r", "s", NULL };
const char *const report_words_aligned[] = { "pass", "fail", NULL };
const char *const report_words_dkim_result[] = {
	"none", "pass", "fail", "policy", "neutral", "temperror", "permerror",
	NULL
};
const char *const report_words_spf_result[] = {
	"none", "neutral", "pass", "fail", "softfail", "policy", "temperror",
	"permerror", NULL
};
const char *const report_words_spf_scope[] = { "mfrom", "helo", NULL };
const char *const report_words_reason[] = {
	"forwarded", "sampled_out", "trusted_forwarder", "mailing_list",
	"local_policy", "other", "policy_test_mode", NULL
};
const char *const report_words_testing[] = { "y", "n", NULL };
const char *const report_words_discovery[] = { "psl", "treewalk", NULL };

static void	free_strings(char **, size_t);
static void	free_text(struct report_text *);
static int	is_space(int);
static void	lower(char *);

/* The short name of a report format. */
const char *
report_format_name(enum report_format fmt)
{
	switch (fmt) {
	case REPORT_FMT_RFC7489:
		return ("rfc7489");
	case REPORT_FMT_RFC9990:
		return ("rfc9990");
	case REPORT_FMT_DRAFT:
		return ("draft");
	case REPORT_FMT_UNKNOWN:
		break;
	}
	return ("unknown");
}

/* Fill in the default limits. */
void
report_limits_default(struct report_limits *lim)
{
	memset(lim, 0, sizeof *lim);
	lim->max_records = REPORT_MAX_RECORDS;
	lim->max_results = REPORT_MAX_RESULTS;
	lim->batch = REPORT_BATCH;
	lim->mode = REPORT_STRICT;
	lim->max_text = REPORT_MAX_TEXT;
	lim->max_recover = REPORT_MAX_RECOVER;
	lim->max_json = REPORT_MAX_JSON;
	lim->max_json_depth = REPORT_MAX_JSON_DEPTH;
}

static void
free_strings(char **v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
free_text(struct report_text *t)
{
	free(t->text);
	free(t->lang);
}

/* Free one extension element's strings. */
void
report_ext_free(struct report_ext *e)
{
	free(e->ns_uri);
	free(e->local_name);
	free(e->xml);
}

/* Free the contents of a report header; the structure is zeroed. */
void
report_head_free(struct report_head *h)
{
	size_t	i;

	free(h->xml_namespace);
	free(h->xml_version);
	free(h->org_name);
	free(h->reporter_key);
	free(h->org_email);
	free(h->extra_contact_info);
	free(h->extra_contact_info_lang);
	free(h->report_id);
	free(h->begin_raw);
	free(h->end_raw);
	free(h->generator);
	free(h->policy_domain);
	free(h->policy_p);
	free(h->policy_p_raw);
	free(h->policy_sp);
	free(h->policy_sp_raw);
	free(h->policy_np);
	free(h->policy_np_raw);
	free(h->policy_adkim);
	free(h->policy_adkim_raw);
	free(h->policy_aspf);
	free(h->policy_aspf_raw);
	free(h->policy_pct_raw);
	free(h->policy_fo);
	free(h->policy_testing);
	free(h->policy_testing_raw);
	free(h->discovery_method);
	free(h->discovery_method_raw);
	for (i = 0; i < h->nerrors; i++)
		free_text(&h->errors[i]);
	free(h->errors);
	for (i = 0; i < h->next; i++)
		report_ext_free(&h->ext[i]);
	free(h->ext);
	free_strings(h->warnings, h->nwarnings);
	memset(h, 0, sizeof *h);
}

/* Free the contents of a record; the structure is zeroed. */
void
report_record_free(struct report_record *r)
{
	size_t	i;

	free(r->source_ip);
	free(r->source_ip_raw);
	free(r->count_raw);
	free(r->disposition);
	free(r->disposition_raw);
	free(r->dkim_aligned);
	free(r->dkim_aligned_raw);
	free(r->spf_aligned);
	free(r->spf_aligned_raw);
	free(r->header_from);
	free(r->envelope_from);
	free(r->envelope_to);
	for (i = 0; i < r->nreasons; i++) {
		free(r->reasons[i].type);
		free(r->reasons[i].type_raw);
		free(r->reasons[i].comment);
		free(r->reasons[i].comment_lang);
	}
	free(r->reasons);
	for (i = 0; i < r->ndkim; i++) {
		free(r->dkim[i].domain);
		free(r->dkim[i].selector);
		free(r->dkim[i].result);
		free(r->dkim[i].result_raw);
		free(r->dkim[i].human_result);
		free(r->dkim[i].human_result_lang);
	}
	free(r->dkim);
	for (i = 0; i < r->nspf; i++) {
		free(r->spf[i].domain);
		free(r->spf[i].scope);
		free(r->spf[i].scope_raw);
		free(r->spf[i].result);
		free(r->spf[i].result_raw);
		free(r->spf[i].human_result);
		free(r->spf[i].human_result_lang);
	}
	free(r->spf);
	for (i = 0; i < r->next; i++)
		report_ext_free(&r->ext[i]);
	free(r->ext);
	free_strings(r->warnings, r->nwarnings);
	memset(r, 0, sizeof *r);
}

static int
is_space(int c)
{
	return (c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
	    c == '\f' || c == '\v');
}

static void
lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = tolower((unsigned char)*s);
}

/* A trimmed copy of s. */
char *
report_trim(const char *s)
{
	size_t	len;

	while (is_space((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len > 0 && is_space((unsigned char)s[len - 1]))
		len--;
	return (xstrndup(s, len));
}

/* A trimmed, lower-cased copy of a domain without one trailing dot. */
char *
report_domain(const char *s)
{
	char	*d;
	size_t	 len;

	d = report_trim(s);
	lower(d);
	len = strlen(d);
	if (len > 0 && d[len - 1] == '.')
		d[len - 1] = '\0';
	return (d);
}

/* Normalise an enumerated word into *val and *raw. */
int
report_enum(const char *text, const char *const *words, char **val,
    char **raw)
{
	char	*t;
	size_t	 i;

	*val = *raw = NULL;
	t = report_trim(text);
	lower(t);
	for (i = 0; words[i] != NULL; i++) {
		if (strcmp(t, words[i]) == 0)
			break;
	}
	if (words[i] == NULL) {
		free(t);
		*raw = xstrdup(text);
		return (-1);
	}
	*val = t;
	if (strcmp(t, text) != 0)
		*raw = xstrdup(text);
	return (0);
}

/* Parse an epoch; a fraction is truncated. */
int
report_epoch(const char *text, int64_t *out)
{
	const char	*p;
	uint64_t	 v = 0, max;
	int		 neg = 0, frac = 0;

	p = text;
	while (is_space((unsigned char)*p))
		p++;
	if (*p == '-' || *p == '+')
		neg = (*p++ == '-');
	if (!isdigit((unsigned char)*p))
		return (-1);
	max = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (max - (uint64_t)(*p - '0')) / 10)
			return (-1);
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return (-1);
		while (isdigit((unsigned char)*p))
			p++;
		frac = 1;
	}
	while (is_space((unsigned char)*p))
		p++;
	if (*p != '\0')
		return (-1);
	if (neg)
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	else
		*out = (int64_t)v;
	return (frac);
}

/* Parse a plain non-negative integer fitting int64. */
int
report_count(const char *text, int64_t *out)
{
	const char	*p;
	uint64_t	 v = 0;

	p = text;
	while (is_space((unsigned char)*p))
		p++;
	if (!isdigit((unsigned char)*p))
		return (-1);
	for (; isdigit((unsigned char)*p); p++) {
		if (v > ((uint64_t)INT64_MAX - (uint64_t)(*p - '0')) / 10)
			return (-1);
		v = v * 10 + (uint64_t)(*p - '0');
	}
	while (is_space((unsigned char)*p))
		p++;
	if (*p != '\0')
		return (-1);
	*out = (int64_t)v;
	return (0);
}

/* Parse pct: 0..100 or -1. */
int
report_pct(const char *text)
{
	int64_t	v;

	if (text == NULL || report_count(text, &v) != 0 || v > 100)
		return (-1);
	return ((int)v);
}

/* Normalise an IP address to its canonical text, or NULL. */
char *
report_ip(const char *text)
{
	struct in6_addr	 a6;
	struct in_addr	 a4;
	char		 out[INET6_ADDRSTRLEN], *t, *p;
	size_t		 len;

	t = report_trim(text);
	p = t;
	len = strlen(p);
	if (len >= 2 && p[0] == '[' && p[len - 1] == ']') {
		p[len - 1] = '\0';
		p++;
	}
	if (strchr(p, '%') != NULL) {
		free(t);
		return (NULL);
	}
	if (inet_pton(AF_INET, p, &a4) == 1) {
		if (inet_ntop(AF_INET, &a4, out, sizeof out) == NULL)
			fatal("inet_ntop");
	} else if (inet_pton(AF_INET6, p, &a6) == 1) {
		if (inet_ntop(AF_INET6, &a6, out, sizeof out) == NULL)
			fatal("inet_ntop");
	} else {
		free(t);
		return (NULL);
	}
	free(t);
	return (xstrdup(out));
}

/* The reporter key: lower(org_name), else the domain of email, else "". */
char *
report_reporter_key(const char *org_name, const char *email)
{
	const char	*at;
	char		*k, *t;
	size_t		 len;

	if (org_name != NULL) {
		k = report_trim(org_name);
		if (*k != '\0') {
			lower(k);
			return (k);
		}
		free(k);
	}
	if (email == NULL || (at = strrchr(email, '@')) == NULL)
		return (xstrdup(""));
	t = report_domain(at + 1);
	len = strlen(t);
	if (len > 0 && t[len - 1] == '>') {
		t[len - 1] = '\0';
		k = report_domain(t);
		free(t);
		t = k;
	}
	return (t);
}

/* Append a warning to a list; past the cap one last note is added. */
void
report_warn(char ***list, size_t *n, const char *fmt, ...)
{
	va_list	 ap;
	char	*w;

	if (*n > REPORT_MAX_WARNINGS)
		return;
	if (*n == REPORT_MAX_WARNINGS)
		w = xstrdup("further warnings omitted");
	else {
		va_start(ap, fmt);
		xvasprintf(&w, fmt, ap);
		va_end(ap);
	}
	*list = xreallocarray(*list, *n + 1, sizeof **list);
	(*list)[(*n)++] = w;
}
