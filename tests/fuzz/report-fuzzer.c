/*
 * report-fuzzer.c: a libFuzzer target for the XML report parser.
 *
 * Each input is parsed in the three modes (strict, windows-1252, recover),
 * read in pieces of a size taken from the first byte, with small limits so
 * that the limit paths are reached too.  The callbacks read every byte of
 * every string and every number handed out, so that ASan sees a dangling
 * or unterminated pointer, and check the invariants report.h promises.
 */
#include "config.h"

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "report/report.h"

struct input {
	const uint8_t	*data;
	size_t		 len;
	size_t		 off;
	size_t		 chunk;
};

struct seen {
	uint64_t	 sum;
	uint32_t	 last_ord;
	size_t		 records;
};

int		LLVMFuzzerTestOneInput(const uint8_t *, size_t);
static ssize_t	in_read(void *, char *, size_t, char **);
static void	touch(struct seen *, const char *);
static void	touch_ext(struct seen *, const struct report_ext *, size_t);
static void	touch_warn(struct seen *, char **, size_t);
static int	on_head(const struct report_head *, void *, char **);
static int	on_records(const struct report_record *, size_t, void *,
		    char **);
static int	on_end(const struct report_head *, void *, char **);

static const struct report_callbacks callbacks = {
	on_head, on_records, on_end
};

static ssize_t
in_read(void *arg, char *buf, size_t len, char **cause)
{
	struct input	*in = arg;
	size_t		 n;

	(void)cause;
	n = in->len - in->off;
	if (n > len)
		n = len;
	if (n > in->chunk)
		n = in->chunk;
	memcpy(buf, in->data + in->off, n);
	in->off += n;
	return ((ssize_t)n);
}

/* Read every byte of a string (NULL is fine). */
static void
touch(struct seen *s, const char *v)
{
	if (v == NULL)
		return;
	for (; *v != '\0'; v++)
		s->sum += (unsigned char)*v;
}

static void
touch_ext(struct seen *s, const struct report_ext *e, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		touch(s, e[i].ns_uri);
		if (e[i].local_name == NULL || e[i].xml == NULL)
			abort();
		touch(s, e[i].local_name);
		touch(s, e[i].xml);
	}
}

static void
touch_warn(struct seen *s, char **w, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (w[i] == NULL)
			abort();
		touch(s, w[i]);
	}
}

static int
on_head(const struct report_head *h, void *arg, char **cause)
{
	struct seen	*s = arg;
	size_t		 i;

	(void)cause;
	if (h->reporter_key == NULL || h->report_id == NULL ||
	    h->policy_domain == NULL || *h->report_id == '\0' ||
	    *h->policy_domain == '\0' || h->date_end < h->date_begin ||
	    h->policy_pct < -1 || h->policy_pct > 100 ||
	    h->message_total < 0)
		abort();
	touch(s, report_format_name(h->format));
	touch(s, h->xml_namespace);
	touch(s, h->xml_version);
	touch(s, h->org_name);
	touch(s, h->reporter_key);
	touch(s, h->org_email);
	touch(s, h->extra_contact_info);
	touch(s, h->extra_contact_info_lang);
	touch(s, h->report_id);
	touch(s, h->begin_raw);
	touch(s, h->end_raw);
	touch(s, h->generator);
	touch(s, h->policy_domain);
	touch(s, h->policy_p);
	touch(s, h->policy_p_raw);
	touch(s, h->policy_sp);
	touch(s, h->policy_sp_raw);
	touch(s, h->policy_np);
	touch(s, h->policy_np_raw);
	touch(s, h->policy_adkim);
	touch(s, h->policy_adkim_raw);
	touch(s, h->policy_aspf);
	touch(s, h->policy_aspf_raw);
	touch(s, h->policy_pct_raw);
	touch(s, h->policy_fo);
	touch(s, h->policy_testing);
	touch(s, h->policy_testing_raw);
	touch(s, h->discovery_method);
	touch(s, h->discovery_method_raw);
	for (i = 0; i < h->nerrors; i++) {
		touch(s, h->errors[i].text);
		touch(s, h->errors[i].lang);
	}
	touch_ext(s, h->ext, h->next);
	touch_warn(s, h->warnings, h->nwarnings);
	s->sum += (uint64_t)h->date_begin + (uint64_t)h->date_end +
	    h->record_count + (uint64_t)h->message_total +
	    h->records_skipped + (uint64_t)h->policy_published_count;
	return (0);
}

static int
on_records(const struct report_record *r, size_t n, void *arg, char **cause)
{
	struct seen	*s = arg;
	size_t		 i, j;

	(void)cause;
	for (i = 0; i < n; i++, r++) {
		if (r->ord <= s->last_ord || r->message_count < 0 ||
		    r->identifiers_tag == NULL)
			abort();
		s->last_ord = r->ord;
		touch(s, r->source_ip);
		touch(s, r->source_ip_raw);
		touch(s, r->count_raw);
		touch(s, r->disposition);
		touch(s, r->disposition_raw);
		touch(s, r->dkim_aligned);
		touch(s, r->dkim_aligned_raw);
		touch(s, r->spf_aligned);
		touch(s, r->spf_aligned_raw);
		touch(s, r->header_from);
		touch(s, r->envelope_from);
		touch(s, r->envelope_to);
		touch(s, r->identifiers_tag);
		for (j = 0; j < r->nreasons; j++) {
			touch(s, r->reasons[j].type);
			touch(s, r->reasons[j].type_raw);
			touch(s, r->reasons[j].comment);
			touch(s, r->reasons[j].comment_lang);
		}
		for (j = 0; j < r->ndkim; j++) {
			touch(s, r->dkim[j].domain);
			touch(s, r->dkim[j].selector);
			touch(s, r->dkim[j].result);
			touch(s, r->dkim[j].result_raw);
			touch(s, r->dkim[j].human_result);
			touch(s, r->dkim[j].human_result_lang);
		}
		for (j = 0; j < r->nspf; j++) {
			touch(s, r->spf[j].domain);
			touch(s, r->spf[j].scope);
			touch(s, r->spf[j].scope_raw);
			touch(s, r->spf[j].result);
			touch(s, r->spf[j].result_raw);
			touch(s, r->spf[j].human_result);
			touch(s, r->spf[j].human_result_lang);
		}
		touch_ext(s, r->ext, r->next);
		touch_warn(s, r->warnings, r->nwarnings);
		s->sum += (uint64_t)r->message_count;
	}
	s->records += n;
	return (0);
}

static int
on_end(const struct report_head *h, void *arg, char **cause)
{
	struct seen	*s = arg;

	if (h->record_count != s->records)
		abort();
	return (on_head(h, arg, cause));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const enum report_mode modes[] = {
		REPORT_STRICT, REPORT_WIN1252, REPORT_RECOVER
	};
	struct report_limits	 lim;
	struct input		 in;
	struct seen		 s;
	enum report_status	 st;
	char			*cause;
	size_t			 i, chunk = 4096;
	int			 retry;

	if (len > 0) {
		chunk = (size_t)data[0] % 64 + 1;
		if (data[0] >= 128)
			chunk = 65536;
	}
	for (i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		memset(&in, 0, sizeof in);
		in.data = data;
		in.len = len;
		in.chunk = chunk;
		memset(&s, 0, sizeof s);
		report_limits_default(&lim);
		lim.mode = modes[i];
		lim.batch = 3;
		lim.max_records = 1000;
		lim.max_results = 20;
		lim.max_text = 4096;
		lim.max_recover = 1024 * 1024;
		cause = NULL;
		retry = -1;
		st = report_parse_xml(in_read, &in, &lim, &callbacks, &s,
		    &retry, &cause);
		if (retry != 0 && retry != 1)
			abort();
		if (st == REPORT_OK || st == REPORT_DUPLICATE) {
			if (cause != NULL)
				abort();
		} else if (cause == NULL)
			abort();
		free(cause);
	}
	return (0);
}
