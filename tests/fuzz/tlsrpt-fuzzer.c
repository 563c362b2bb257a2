/*
 * tlsrpt-fuzzer.c: a libFuzzer target for the SMTP TLS report parser
 * (report/tlsrpt.c) and the failure report parser (report/arf.c).
 *
 * Each input is parsed as a TLS report and as a failure report (ARF and
 * plain text, with the input also given as the returned message), read in
 * pieces of a size taken from the first byte, with small limits so that
 * the limit paths are reached too.  The callbacks read every byte of
 * every string handed out, so that ASan sees a dangling or unterminated
 * pointer, and check the invariants report.h promises.
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

int		LLVMFuzzerTestOneInput(const uint8_t *, size_t);
static ssize_t	in_read(void *, char *, size_t, char **);
static void	touch(uint64_t *, const char *);
static void	touch_list(uint64_t *, char **, size_t);
static int	on_tls(const struct tlsrpt_report *, void *, char **);
static int	on_arf(const struct failure_report *, void *, char **);

static const struct tlsrpt_callbacks tls_cb = { on_tls };
static const struct arf_callbacks arf_cb = { on_arf };

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
touch(uint64_t *sum, const char *v)
{
	if (v == NULL)
		return;
	for (; *v != '\0'; v++)
		*sum += (unsigned char)*v;
}

static void
touch_list(uint64_t *sum, char **v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (v[i] == NULL)
			abort();
		touch(sum, v[i]);
	}
}

static int
on_tls(const struct tlsrpt_report *r, void *arg, char **cause)
{
	uint64_t			*sum = arg;
	const struct tlsrpt_policy	*p;
	const struct tlsrpt_failure	*f;
	size_t				 i, j;

	(void)cause;
	if (r->organization_name == NULL || r->report_id == NULL ||
	    *r->report_id == '\0' || r->successful_total < 0 ||
	    r->failed_total < 0)
		abort();
	touch(sum, r->organization_name);
	touch(sum, r->contact_info);
	touch(sum, r->report_id);
	touch(sum, r->begin_raw);
	touch(sum, r->end_raw);
	touch(sum, r->extra);
	touch_list(sum, r->warnings, r->nwarnings);
	for (i = 0; i < r->npolicies; i++) {
		p = &r->policies[i];
		if (p->policy_domain == NULL || p->successful_sessions < 0 ||
		    p->failed_sessions < 0)
			abort();
		touch(sum, p->policy_type);
		touch(sum, p->policy_type_raw);
		touch(sum, p->policy_domain);
		touch_list(sum, p->policy_string, p->npolicy_string);
		touch_list(sum, p->mx_host, p->nmx_host);
		touch(sum, p->successful_raw);
		touch(sum, p->failed_raw);
		touch(sum, p->extra);
		for (j = 0; j < p->nfailures; j++) {
			f = &p->failures[j];
			if (f->failed_session_count < 0)
				abort();
			touch(sum, f->result_type);
			touch(sum, f->result_type_raw);
			touch(sum, f->sending_mta_ip);
			touch(sum, f->sending_mta_ip_raw);
			touch(sum, f->receiving_mx_hostname);
			touch(sum, f->receiving_mx_helo);
			touch(sum, f->receiving_ip);
			touch(sum, f->receiving_ip_raw);
			touch(sum, f->failed_session_count_raw);
			touch(sum, f->additional_information);
			touch(sum, f->failure_reason_code);
			touch(sum, f->extra);
		}
	}
	return (0);
}

static int
on_arf(const struct failure_report *r, void *arg, char **cause)
{
	uint64_t	*sum = arg;

	(void)cause;
	if (r->format == NULL || r->feedback == NULL ||
	    r->raw_fields == NULL || r->source_port < -1 ||
	    r->source_port > 65535)
		abort();
	touch(sum, r->format);
	touch(sum, r->reason);
	touch(sum, r->feedback);
	touch(sum, r->raw_fields);
	touch(sum, r->feedback_type);
	touch(sum, r->feedback_type_raw);
	touch(sum, r->version);
	touch(sum, r->user_agent);
	touch(sum, r->original_mail_from);
	touch_list(sum, r->original_rcpt_to, r->noriginal_rcpt_to);
	touch(sum, r->original_envelope_id);
	touch(sum, r->arrival_date_raw);
	touch(sum, r->source_ip);
	touch(sum, r->source_ip_raw);
	touch_list(sum, r->reported_domain, r->nreported_domain);
	touch_list(sum, r->reported_uri, r->nreported_uri);
	touch(sum, r->authentication_results);
	touch_list(sum, r->auth_failure, r->nauth_failure);
	touch(sum, r->auth_failure_raw);
	touch(sum, r->delivery_result);
	touch(sum, r->delivery_result_raw);
	touch(sum, r->dkim_domain);
	touch(sum, r->dkim_identity);
	touch(sum, r->dkim_selector);
	touch(sum, r->dkim_canonicalized_header);
	touch(sum, r->dkim_canonicalized_body);
	touch(sum, r->spf_dns);
	touch_list(sum, r->identity_alignment, r->nidentity_alignment);
	touch(sum, r->identity_alignment_raw);
	touch(sum, r->incidents);
	touch(sum, r->sample_headers);
	touch(sum, r->sample_body);
	touch(sum, r->original_from);
	touch(sum, r->original_subject);
	touch(sum, r->original_message_id);
	touch_list(sum, r->warnings, r->nwarnings);
	*sum += (uint64_t)r->arrival_date;
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct report_limits	 lim;
	struct arf_input	 ai;
	struct input		 in;
	enum report_status	 st;
	uint64_t		 sum = 0;
	char			*cause;
	size_t			 chunk = 4096;
	int			 i;

	if (len > 0) {
		chunk = (size_t)data[0] % 64 + 1;
		if (data[0] >= 128)
			chunk = 65536;
	}
	for (i = 0; i < 3; i++) {
		memset(&in, 0, sizeof in);
		in.data = data;
		in.len = len;
		in.chunk = chunk;
		report_limits_default(&lim);
		lim.max_records = 100;
		lim.max_text = 4096;
		lim.max_json = 256 * 1024;
		lim.max_json_depth = 16;
		cause = NULL;
		if (i == 0)
			st = report_parse_tlsrpt(in_read, &in, &lim, &tls_cb,
			    &sum, &cause);
		else {
			memset(&ai, 0, sizeof ai);
			ai.plain = i == 2;
			ai.report_type = "feedback-report";
			ai.original = (const char *)data;
			ai.original_len = len;
			ai.headers_only = len > 0 && (data[0] & 1);
			ai.store_body = len > 0 && (data[0] & 2);
			ai.text = ai.original;
			ai.text_len = len;
			st = report_parse_arf(in_read, &in, &ai, &lim, &arf_cb,
			    &sum, &cause);
		}
		if (st == REPORT_OK || st == REPORT_DUPLICATE) {
			if (cause != NULL)
				abort();
		} else if (cause == NULL)
			abort();
		free(cause);
	}
	(void)sum;
	return (0);
}
