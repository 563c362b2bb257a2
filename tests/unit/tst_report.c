/*
 * tst_report.c: unit tests of the report module.
 *
 * Three parts: tables for the normalisation helpers (report_p.h); a table
 * of small inline XML documents, each parsed twice (whole, and fed in
 * 5-byte pieces) whose callbacks flatten everything handed out into
 * "key=value" strings that are compared with the expected ones; and a
 * sweep over the XML files of the real corpus ($DMARC_CORPUS/CATALOG.tsv)
 * that checks statuses and record counts against the catalog.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "common/common.h"
#include "report/report.h"
#include "report/report_p.h"
#include "tests/tst.h"

#if defined(__SANITIZE_ADDRESS__) || defined(HAVE_ASAN) || \
    defined(HAVE_FUZZING)
#define TST_SANITIZED	1
#else
#define TST_SANITIZED	0
#endif

/* A pull stream over memory, optionally in small pieces or failing. */
struct mem {
	const char	*data;
	size_t		 len;
	size_t		 off;
	size_t		 chunk;		/* 0: as much as asked */
	size_t		 fail_at;	/* 0: never */
};

/* What the callbacks saw. */
struct coll {
	char		**kv;
	size_t		  nkv;
	char		  calls[512];
	int		  flatten;
	int		  head_ret;
	int		  records_ret;
	int		  bad_order;
	int		  bad_values;
	uint32_t	  last_ord;
	size_t		  nrecords;
	uint32_t	  skipped;
	int		  ended;
};

struct xcase {
	const char		*name;
	const char		*xml;
	enum report_mode	 mode;
	size_t			 batch;		/* 0: default */
	uint32_t		 max_records;	/* 0: default */
	uint32_t		 max_results;	/* 0: default */
	int			 head_ret;
	int			 records_ret;
	enum report_status	 want;
	int			 want_retry;	/* -1: any */
	const char		*cause;		/* substring or NULL */
	const char		*calls;		/* NULL: any */
	const char *const	*kv;		/* "k=v" or "k~sub" */
};

static ssize_t	mem_read(void *, char *, size_t, char **);
static void	calls_add(struct coll *, const char *);
static void	coll_add(struct coll *, const char *, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	coll_free(struct coll *);
static const char *coll_get(struct coll *, const char *);
static void	flat_head(struct coll *, const char *,
		    const struct report_head *);
static void	flat_record(struct coll *, const struct report_record *);
static int	cb_head(const struct report_head *, void *, char **);
static int	cb_records(const struct report_record *, size_t, void *,
		    char **);
static int	cb_end(const struct report_head *, void *, char **);
static int	is_word(const char *, const char *const *);
static void	check_values(struct coll *, const struct report_record *);
static void	test_helpers(void);
static void	run_case(const struct xcase *, size_t);
static void	test_cases(void);
static void	test_read_error(void);
static void	test_xxe_file(void);
static enum report_status parse_lim(const char *, size_t,
		    struct report_limits *, size_t *, struct coll *, char **);
static char	*filler(size_t);
static void	test_max_text(void);
static void	test_max_recover(void);
static void	test_xxe_marker(void);
static void	put_digits(char *, uint32_t, int);
static ssize_t	gen_read(void *, char *, size_t, char **);
static int	st_head(const struct report_head *, void *, char **);
static int	st_records(const struct report_record *, size_t, void *,
		    char **);
static int	st_end(const struct report_head *, void *, char **);
static void	test_stream(void);
static char	*slurp(const char *, size_t *);
static const char *corpus_dir(void);
static const char *corpus_found(void);
static enum report_status parse_retry(const char *, size_t, struct coll *,
		    int *, char **);
static void	test_corpus(void);
static const char *golden_default(const char *);
static char	*gunzip(const char *, size_t, size_t *);
static void	test_golden(void);

static const struct report_callbacks callbacks = {
	cb_head, cb_records, cb_end
};

static ssize_t
mem_read(void *arg, char *buf, size_t len, char **cause)
{
	struct mem	*m = arg;
	size_t		 n;

	if (m->fail_at != 0 && m->off >= m->fail_at) {
		*cause = xstrdup("boom: read failed");
		return (-1);
	}
	n = m->len - m->off;
	if (n > len)
		n = len;
	if (m->chunk != 0 && n > m->chunk)
		n = m->chunk;
	if (m->fail_at != 0 && m->off + n > m->fail_at)
		n = m->fail_at - m->off;
	memcpy(buf, m->data + m->off, n);
	m->off += n;
	return ((ssize_t)n);
}

static void
calls_add(struct coll *c, const char *s)
{
	size_t	len = strlen(c->calls);

	snprintf(c->calls + len, sizeof c->calls - len, "%s", s);
}

static void
coll_add(struct coll *c, const char *key, const char *fmt, ...)
{
	va_list	 ap;
	char	*v, *kv;

	if (!c->flatten)
		return;
	va_start(ap, fmt);
	xvasprintf(&v, fmt, ap);
	va_end(ap);
	xasprintf(&kv, "%s=%s", key, v);
	free(v);
	c->kv = xreallocarray(c->kv, c->nkv + 1, sizeof *c->kv);
	c->kv[c->nkv++] = kv;
}

static void
coll_free(struct coll *c)
{
	size_t	i;

	for (i = 0; i < c->nkv; i++)
		free(c->kv[i]);
	free(c->kv);
	memset(c, 0, sizeof *c);
}

/* The value of key, or "(absent)". */
static const char *
coll_get(struct coll *c, const char *key)
{
	size_t	i, len = strlen(key);

	for (i = 0; i < c->nkv; i++) {
		if (strncmp(c->kv[i], key, len) == 0 && c->kv[i][len] == '=')
			return (c->kv[i] + len + 1);
	}
	return ("(absent)");
}

#define S(x)	((x) != NULL ? (x) : "(null)")

static void
flat_head(struct coll *c, const char *p, const struct report_head *h)
{
	char	k[128];
	size_t	i;

#define HS(name, v) do {						\
	snprintf(k, sizeof k, "%s.%s", p, name);			\
	coll_add(c, k, "%s", S(v));					\
} while (0)
#define HI(name, v) do {						\
	snprintf(k, sizeof k, "%s.%s", p, name);			\
	coll_add(c, k, "%lld", (long long)(v));				\
} while (0)
	HS("format", report_format_name(h->format));
	HS("ns", h->xml_namespace);
	HS("version", h->xml_version);
	HS("org", h->org_name);
	HS("key", h->reporter_key);
	HS("email", h->org_email);
	HS("eci", h->extra_contact_info);
	HS("eci_lang", h->extra_contact_info_lang);
	HS("id", h->report_id);
	HI("begin", h->date_begin);
	HI("end", h->date_end);
	HS("begin_raw", h->begin_raw);
	HS("end_raw", h->end_raw);
	HS("generator", h->generator);
	HS("domain", h->policy_domain);
	HS("p", h->policy_p);
	HS("p_raw", h->policy_p_raw);
	HS("sp", h->policy_sp);
	HS("sp_raw", h->policy_sp_raw);
	HS("np", h->policy_np);
	HS("np_raw", h->policy_np_raw);
	HS("adkim", h->policy_adkim);
	HS("adkim_raw", h->policy_adkim_raw);
	HS("aspf", h->policy_aspf);
	HS("aspf_raw", h->policy_aspf_raw);
	HI("pct", h->policy_pct);
	HS("pct_raw", h->policy_pct_raw);
	HS("fo", h->policy_fo);
	HS("testing", h->policy_testing);
	HS("testing_raw", h->policy_testing_raw);
	HS("dm", h->discovery_method);
	HS("dm_raw", h->discovery_method_raw);
	HI("ppcount", h->policy_published_count);
	HI("nerrors", h->nerrors);
	for (i = 0; i < h->nerrors; i++) {
		snprintf(k, sizeof k, "%s.error%zu", p, i);
		coll_add(c, k, "%s", S(h->errors[i].text));
		snprintf(k, sizeof k, "%s.error%zu.lang", p, i);
		coll_add(c, k, "%s", S(h->errors[i].lang));
	}
	HI("next", h->next);
	for (i = 0; i < h->next; i++) {
		snprintf(k, sizeof k, "%s.ext%zu.name", p, i);
		coll_add(c, k, "%s", S(h->ext[i].local_name));
		snprintf(k, sizeof k, "%s.ext%zu.ns", p, i);
		coll_add(c, k, "%s", S(h->ext[i].ns_uri));
		snprintf(k, sizeof k, "%s.ext%zu.xml", p, i);
		coll_add(c, k, "%s", S(h->ext[i].xml));
	}
	HI("nwarn", h->nwarnings);
	for (i = 0; i < h->nwarnings; i++) {
		snprintf(k, sizeof k, "%s.warn%zu", p, i);
		coll_add(c, k, "%s", S(h->warnings[i]));
	}
	HI("records", h->record_count);
	HI("messages", h->message_total);
	HI("skipped", h->records_skipped);
#undef HS
#undef HI
}

static void
flat_record(struct coll *c, const struct report_record *r)
{
	char	k[128];
	size_t	i;

#define RS(name, v) do {						\
	snprintf(k, sizeof k, "r%" PRIu32 ".%s", r->ord, name);	\
	coll_add(c, k, "%s", S(v));					\
} while (0)
#define RI(name, v) do {						\
	snprintf(k, sizeof k, "r%" PRIu32 ".%s", r->ord, name);	\
	coll_add(c, k, "%lld", (long long)(v));				\
} while (0)
#define RX(fmt, idx, v) do {						\
	snprintf(k, sizeof k, "r%" PRIu32 "." fmt, r->ord, idx);	\
	coll_add(c, k, "%s", S(v));					\
} while (0)
	RI("ord", r->ord);
	RS("ip", r->source_ip);
	RS("ip_raw", r->source_ip_raw);
	RI("count", r->message_count);
	RS("count_raw", r->count_raw);
	RS("disp", r->disposition);
	RS("disp_raw", r->disposition_raw);
	RS("dkim", r->dkim_aligned);
	RS("dkim_raw", r->dkim_aligned_raw);
	RS("spf", r->spf_aligned);
	RS("spf_raw", r->spf_aligned_raw);
	RS("hfrom", r->header_from);
	RS("efrom", r->envelope_from);
	RS("eto", r->envelope_to);
	RS("idtag", r->identifiers_tag);
	RI("nreason", r->nreasons);
	for (i = 0; i < r->nreasons; i++) {
		RX("reason%zu.type", i, r->reasons[i].type);
		RX("reason%zu.type_raw", i, r->reasons[i].type_raw);
		RX("reason%zu.comment", i, r->reasons[i].comment);
		RX("reason%zu.lang", i, r->reasons[i].comment_lang);
	}
	RI("ndkim", r->ndkim);
	for (i = 0; i < r->ndkim; i++) {
		RX("dkim%zu.domain", i, r->dkim[i].domain);
		RX("dkim%zu.selector", i, r->dkim[i].selector);
		RX("dkim%zu.result", i, r->dkim[i].result);
		RX("dkim%zu.result_raw", i, r->dkim[i].result_raw);
		RX("dkim%zu.human", i, r->dkim[i].human_result);
		RX("dkim%zu.human_lang", i, r->dkim[i].human_result_lang);
	}
	RI("nspf", r->nspf);
	for (i = 0; i < r->nspf; i++) {
		RX("spf%zu.domain", i, r->spf[i].domain);
		RX("spf%zu.scope", i, r->spf[i].scope);
		RX("spf%zu.scope_raw", i, r->spf[i].scope_raw);
		RX("spf%zu.result", i, r->spf[i].result);
		RX("spf%zu.result_raw", i, r->spf[i].result_raw);
		RX("spf%zu.human", i, r->spf[i].human_result);
		RX("spf%zu.human_lang", i, r->spf[i].human_result_lang);
	}
	RI("next", r->next);
	for (i = 0; i < r->next; i++) {
		RX("ext%zu.name", i, r->ext[i].local_name);
		RX("ext%zu.ns", i, r->ext[i].ns_uri);
		RX("ext%zu.xml", i, r->ext[i].xml);
	}
	RI("nwarn", r->nwarnings);
	for (i = 0; i < r->nwarnings; i++)
		RX("warn%zu", i, r->warnings[i]);
#undef RS
#undef RI
#undef RX
}

static int
cb_head(const struct report_head *h, void *arg, char **cause)
{
	struct coll	*c = arg;

	(void)cause;
	calls_add(c, "H ");
	if (h->report_id == NULL || h->policy_domain == NULL ||
	    h->reporter_key == NULL || c->nrecords != 0)
		c->bad_order++;
	flat_head(c, "hh", h);
	return (c->head_ret);
}

static int
is_word(const char *v, const char *const *words)
{
	size_t	i;

	if (v == NULL)
		return (1);
	for (i = 0; words[i] != NULL; i++) {
		if (strcmp(v, words[i]) == 0)
			return (1);
	}
	return (0);
}

/* Invariants every record must keep. */
static void
check_values(struct coll *c, const struct report_record *r)
{
	size_t	i;

	if (r->message_count < 0 || r->identifiers_tag == NULL ||
	    !is_word(r->disposition, report_words_disposition) ||
	    !is_word(r->dkim_aligned, report_words_aligned) ||
	    !is_word(r->spf_aligned, report_words_aligned))
		c->bad_values++;
	for (i = 0; i < r->ndkim; i++) {
		if (!is_word(r->dkim[i].result, report_words_dkim_result))
			c->bad_values++;
	}
	for (i = 0; i < r->nspf; i++) {
		if (!is_word(r->spf[i].result, report_words_spf_result) ||
		    !is_word(r->spf[i].scope, report_words_spf_scope))
			c->bad_values++;
	}
	for (i = 0; i < r->nreasons; i++) {
		if (!is_word(r->reasons[i].type, report_words_reason))
			c->bad_values++;
	}
}

static int
cb_records(const struct report_record *r, size_t n, void *arg, char **cause)
{
	struct coll	*c = arg;
	char		 s[32];
	size_t		 i;

	snprintf(s, sizeof s, "R%zu ", n);
	calls_add(c, s);
	if (strncmp(c->calls, "H ", 2) != 0)
		c->bad_order++;
	for (i = 0; i < n; i++) {
		if (r[i].ord <= c->last_ord)
			c->bad_order++;
		c->last_ord = r[i].ord;
		check_values(c, &r[i]);
		flat_record(c, &r[i]);
	}
	c->nrecords += n;
	if (c->records_ret == -1)
		*cause = xstrdup("database went away");
	return (c->records_ret);
}

static int
cb_end(const struct report_head *h, void *arg, char **cause)
{
	struct coll	*c = arg;

	(void)cause;
	calls_add(c, "E");
	if (h->record_count != c->nrecords)
		c->bad_order++;
	c->skipped = h->records_skipped;
	c->ended = 1;
	flat_head(c, "h", h);
	return (0);
}

/* The normalisation helpers. */
static void
test_helpers(void)
{
	static const struct {
		const char	*in, *out;
	} ips[] = {
		{ "1.2.3.4", "1.2.3.4" },
		{ " 192.0.2.1\n", "192.0.2.1" },
		{ "[1.2.3.4]", "1.2.3.4" },
		{ "2001:DB8:0:0:0:0:0:1", "2001:db8::1" },
		{ "[2001:db8::1]", "2001:db8::1" },
		{ "::ffff:192.0.2.1", "::ffff:192.0.2.1" },
		{ "fe80::1%eth0", NULL },
		{ "1.2.3", NULL },
		{ "1.2.3.256", NULL },
		{ "", NULL },
		{ "example.com", NULL },
	};
	static const struct {
		const char	*in;
		int		 rc;
		int64_t		 v;
	} epochs[] = {
		{ "1700000000", 0, 1700000000 },
		{ " 1700000000 ", 0, 1700000000 },
		{ "1700000000.999", 1, 1700000000 },
		{ "-5", 0, -5 },
		{ "9223372036854775807", 0, INT64_MAX },
		{ "9223372036854775808", -1, 0 },
		{ "-9223372036854775808", 0, INT64_MIN },
		{ "1700000000.", -1, 0 },
		{ "17e8", -1, 0 },
		{ "", -1, 0 },
		{ "2024-01-01", -1, 0 },
	};
	static const struct {
		const char	*in;
		int		 rc;
		int64_t		 v;
	} counts[] = {
		{ "0", 0, 0 },
		{ " 42 ", 0, 42 },
		{ "-5", -1, 0 },
		{ "+5", -1, 0 },
		{ "1.5", -1, 0 },
		{ "9223372036854775807", 0, INT64_MAX },
		{ "99999999999999999999", -1, 0 },
		{ "", -1, 0 },
	};
	static const struct {
		const char	*in, *val, *raw;
		int		 rc;
	} enums[] = {
		{ "pass", "pass", NULL, 0 },
		{ "Pass ", "pass", "Pass ", 0 },
		{ "PERMERROR", "permerror", "PERMERROR", 0 },
		{ "hardfail", NULL, "hardfail", -1 },
		{ "", NULL, "", -1 },
	};
	static const struct {
		const char	*org, *email, *key;
	} keys[] = {
		{ "Google.com", "x@google.com", "google.com" },
		{ " Yahoo! Inc. ", NULL, "yahoo! inc." },
		{ "", "noreply@Mail.Example.ORG", "mail.example.org" },
		{ NULL, "<dmarc@Example.net>", "example.net" },
		{ "  ", NULL, "" },
		{ NULL, "no-at-sign", "" },
	};
	size_t	 i;
	char	*s, *val, *raw;
	int64_t	 v;
	int	 rc;

	for (i = 0; i < sizeof ips / sizeof ips[0]; i++) {
		s = report_ip(ips[i].in);
		CHECK_STR(s, ips[i].out);
		free(s);
	}
	for (i = 0; i < sizeof epochs / sizeof epochs[0]; i++) {
		v = 0;
		rc = report_epoch(epochs[i].in, &v);
		CHECK_INT(rc, epochs[i].rc);
		if (rc >= 0)
			CHECK_INT(v, epochs[i].v);
	}
	for (i = 0; i < sizeof counts / sizeof counts[0]; i++) {
		v = 0;
		rc = report_count(counts[i].in, &v);
		CHECK_INT(rc, counts[i].rc);
		if (rc == 0)
			CHECK_INT(v, counts[i].v);
	}
	for (i = 0; i < sizeof enums / sizeof enums[0]; i++) {
		rc = report_enum(enums[i].in, report_words_dkim_result, &val,
		    &raw);
		CHECK_INT(rc, enums[i].rc);
		CHECK_STR(val, enums[i].val);
		CHECK_STR(raw, enums[i].raw);
		free(val);
		free(raw);
	}
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		s = report_reporter_key(keys[i].org, keys[i].email);
		CHECK_STR(s, keys[i].key);
		free(s);
	}
	s = report_domain(" Example.COM. ");
	CHECK_STR(s, "example.com");
	free(s);
	s = report_domain("example.com..");
	CHECK_STR(s, "example.com.");
	free(s);
	CHECK_INT(report_pct("100"), 100);
	CHECK_INT(report_pct("0"), 0);
	CHECK_INT(report_pct("101"), -1);
	CHECK_INT(report_pct("-1"), -1);
	CHECK_INT(report_pct(NULL), -1);
	CHECK_STR(report_format_name(REPORT_FMT_RFC7489), "rfc7489");
	CHECK_STR(report_format_name(REPORT_FMT_RFC9990), "rfc9990");
	CHECK_STR(report_format_name(REPORT_FMT_DRAFT), "draft");
	CHECK_STR(report_format_name(REPORT_FMT_UNKNOWN), "unknown");
}

/* Building blocks of the inline documents. */
#define MD	"<report_metadata><org_name>Example Org</org_name>"	\
	"<email>dmarc@example.org</email><report_id>rid-1</report_id>"	\
	"<date_range><begin>1700000000</begin><end>1700086399</end>"	\
	"</date_range></report_metadata>"
#define PP	"<policy_published><domain>example.com</domain>"	\
	"<p>none</p></policy_published>"
#define REC(ip, n) "<record><row><source_ip>" ip "</source_ip>"		\
	"<count>" n "</count><policy_evaluated><disposition>none"	\
	"</disposition><dkim>pass</dkim><spf>pass</spf>"		\
	"</policy_evaluated></row><identifiers><header_from>example.com"\
	"</header_from></identifiers><auth_results><spf><domain>"	\
	"example.com</domain><result>pass</result></spf></auth_results>"\
	"</record>"
#define MD_PP	"<report_metadata><org_name>o</org_name></report_metadata>"
#define MD_PP_LEN (sizeof MD_PP - 1)
#define DOC(body) "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"	\
	"<feedback>" body "</feedback>\n"
#define KV(...)	((const char *const[]){ __VA_ARGS__, NULL })

static const struct xcase cases[] = {
	{ "rfc7489 full",
	  "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\r\n<feedback>\r\n"
	  "\t<version>1.0</version>\r\n"
	  "\t<report_metadata>\n<org_name> Google Inc. </org_name>\n"
	  "<email>noreply-dmarc-support@google.com</email>\n"
	  "<extra_contact_info>https://support.google.com/a/answer/2466580"
	  "</extra_contact_info>\n<report_id>1234567890123456789"
	  "</report_id>\n<date_range><begin>1538352000</begin>"
	  "<end>1538438399</end></date_range>\n"
	  "<error lang=\"en\">rua too big</error><error>second</error>"
	  "</report_metadata>\n"
	  "<policy_published><domain>Example.COM.</domain><adkim>r</adkim>"
	  "<aspf>s</aspf><p>reject</p><sp>quarantine</sp><pct>100</pct>"
	  "<fo>1:d</fo></policy_published>\n"
	  "<record><row><source_ip>203.0.113.7</source_ip><count>12</count>"
	  "<policy_evaluated><disposition>none</disposition><dkim>pass"
	  "</dkim><spf>fail</spf></policy_evaluated></row>"
	  "<identifiers><envelope_to>Example.net</envelope_to>"
	  "<envelope_from>Bounce.Example.com</envelope_from>"
	  "<header_from>Example.com</header_from></identifiers>"
	  "<auth_results><dkim><domain>Example.com</domain><selector>"
	  "Sel1</selector><result>pass</result><human_result>good"
	  "</human_result></dkim><spf><domain>bounce.example.com</domain>"
	  "<scope>mfrom</scope><result>softfail</result></spf>"
	  "</auth_results></record>\n</feedback>\n",
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_OK, 0, NULL, "H R1 E",
	  KV("h.format=rfc7489", "h.ns=(null)", "h.version=1.0",
	    "h.org=Google Inc.", "h.key=google inc.",
	    "h.email=noreply-dmarc-support@google.com",
	    "h.eci=https://support.google.com/a/answer/2466580",
	    "h.eci_lang=(null)", "h.id=1234567890123456789",
	    "h.begin=1538352000", "h.end=1538438399", "h.begin_raw=(null)",
	    "h.end_raw=(null)", "h.generator=(null)",
	    "h.domain=example.com", "h.adkim=r", "h.aspf=s", "h.p=reject",
	    "h.p_raw=(null)", "h.sp=quarantine", "h.np=(null)", "h.pct=100",
	    "h.pct_raw=(null)", "h.fo=1:d", "h.testing=(null)",
	    "h.dm=(null)", "h.ppcount=1", "h.nerrors=2",
	    "h.error0=rua too big", "h.error0.lang=en", "h.error1=second",
	    "h.error1.lang=(null)", "h.next=0", "h.nwarn=0",
	    "h.records=1", "h.messages=12", "h.skipped=0",
	    "hh.id=1234567890123456789", "hh.records=0",
	    "r1.ord=1", "r1.ip=203.0.113.7", "r1.ip_raw=(null)",
	    "r1.count=12", "r1.count_raw=(null)", "r1.disp=none",
	    "r1.disp_raw=(null)", "r1.dkim=pass", "r1.spf=fail",
	    "r1.hfrom=example.com", "r1.efrom=bounce.example.com",
	    "r1.eto=example.net", "r1.idtag=identifiers", "r1.nreason=0",
	    "r1.ndkim=1", "r1.dkim0.domain=example.com",
	    "r1.dkim0.selector=Sel1", "r1.dkim0.result=pass",
	    "r1.dkim0.result_raw=(null)", "r1.dkim0.human=good",
	    "r1.dkim0.human_lang=(null)", "r1.nspf=1",
	    "r1.spf0.domain=bounce.example.com", "r1.spf0.scope=mfrom",
	    "r1.spf0.result=softfail", "r1.spf0.human=(null)",
	    "r1.next=0", "r1.nwarn=0") },

	{ "rfc9990 default namespace",
	  "<feedback xmlns=\"urn:ietf:params:xml:ns:dmarc-2.0\">"
	  "<version>1.0</version><report_metadata><org_name>GMX"
	  "</org_name><email>dmarc@gmx.net</email>"
	  "<extra_contact_info lang=\"de\">https://gmx.net</extra_contact_info>"
	  "<report_id>a.b@gmx</report_id><date_range><begin>1700000000"
	  "</begin><end>1700086400</end></date_range>"
	  "<generator>GMX dmarc 2.1</generator></report_metadata>"
	  "<policy_published><domain>example.com</domain><p>quarantine</p>"
	  "<np>reject</np><testing>n</testing>"
	  "<discovery_method>treewalk</discovery_method>"
	  "</policy_published><record><row><source_ip>2001:db8::5"
	  "</source_ip><count>3</count><policy_evaluated><disposition>pass"
	  "</disposition><dkim>pass</dkim><spf>pass</spf>"
	  "</policy_evaluated></row><identifiers><header_from>example.com"
	  "</header_from><envelope_from>example.com</envelope_from>"
	  "</identifiers><auth_results><dkim><domain>example.com</domain>"
	  "<selector>s1</selector><result>pass</result></dkim><spf><domain>"
	  "example.com</domain><result>pass</result><human_result lang=\"en\">"
	  "sender ok</human_result></spf></auth_results></record>"
	  "</feedback>",
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_OK, 0, NULL, "H R1 E",
	  KV("h.format=rfc9990", "h.ns=urn:ietf:params:xml:ns:dmarc-2.0",
	    "h.eci=https://gmx.net", "h.eci_lang=de",
	    "h.generator=GMX dmarc 2.1", "h.np=reject", "h.testing=n",
	    "h.dm=treewalk", "h.pct=-1", "h.pct_raw=(null)", "h.sp=(null)",
	    "h.fo=(null)", "h.id=a.b@gmx", "r1.ip=2001:db8::5",
	    "r1.ip_raw=(null)", "r1.disp=pass", "r1.spf0.scope=(null)",
	    "r1.spf0.human=sender ok", "r1.spf0.human_lang=en",
	    "r1.dkim0.selector=s1", "h.nwarn=0", "r1.nwarn=0") },

	{ "rfc9990 prefixed namespace",
	  "<?xml version=\"1.0\"?><d:feedback "
	  "xmlns:d=\"urn:ietf:params:xml:ns:dmarc-2.0\" "
	  "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"
	  "<d:report_metadata><d:org_name>Org</d:org_name><d:email>a@b"
	  "</d:email><d:report_id>r9</d:report_id><d:date_range><d:begin>1"
	  "</d:begin><d:end>2</d:end></d:date_range></d:report_metadata>"
	  "<d:policy_published><d:domain>example.org</d:domain><d:p>reject"
	  "</d:p></d:policy_published><d:record><d:row><d:source_ip>"
	  "192.0.2.9</d:source_ip><d:count>1</d:count></d:row>"
	  "<d:identifiers><d:header_from>example.org</d:header_from>"
	  "</d:identifiers><d:auth_results/></d:record></d:feedback>",
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_OK, 0, NULL, "H R1 E",
	  KV("h.format=rfc9990", "h.ns=urn:ietf:params:xml:ns:dmarc-2.0",
	    "h.org=Org", "h.id=r9", "h.begin=1", "h.end=2",
	    "h.domain=example.org", "h.p=reject", "r1.ip=192.0.2.9",
	    "r1.count=1", "r1.hfrom=example.org", "r1.ndkim=0",
	    "r1.nspf=0", "r1.disp=(null)", "r1.next=0") },

	{ "draft: no namespace but np",
	  DOC("<version>2.0</version>" MD "<policy_published><domain>"
	  "example.com</domain><p>none</p><np>none</np>"
	  "</policy_published>" REC("1.2.3.4", "1")),
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_OK, 0, NULL, "H R1 E",
	  KV("h.format=draft", "h.version=2.0", "h.np=none",
	    "h.ns=(null)") },

	{ "dmarc-xml/0.1 namespace",
	  "<feedback xmlns=\"http://dmarc.org/dmarc-xml/0.1\">" MD PP
	  REC("1.2.3.4", "1") "</feedback>",
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_OK, 0, NULL, "H R1 E",
	  KV("h.format=rfc7489", "h.ns=http://dmarc.org/dmarc-xml/0.1") },

	{ "identities misspelling",
	  DOC(MD PP "<record><row><source_ip>1.2.3.4</source_ip><count>2"
	  "</count></row><identities><header_from>Mail.Example.COM."
	  "</header_from></identities></record>"),
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_OK, 0, NULL, "H R1 E",
	  KV("r1.idtag=identities", "r1.hfrom=mail.example.com",
	    "r1.efrom=(null)", "r1.eto=(null)", "r1.nwarn=0") },

	{ "no identifiers",
	  DOC(MD PP "<record><row><source_ip>1.2.3.4</source_ip><count>2"
	  "</count></row></record>"),
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_OK, 0, NULL, "H R1 E",
	  KV("r1.idtag=missing", "r1.hfrom=(null)", "r1.nwarn=1",
	    "r1.warn0=no identifiers") },

	{ "envelope_from empty vs absent",
	  DOC(MD PP
	  "<record><row><source_ip>1.2.3.4</source_ip><count>1</count>"
	  "</row><identifiers><header_from>a.example</header_from>"
	  "<envelope_from></envelope_from></identifiers></record>"
	  "<record><row><source_ip>1.2.3.4</source_ip><count>1</count>"
	  "</row><identifiers><header_from>a.example</header_from>"
	  "</identifiers></record>"
	  "<record><row><source_ip>1.2.3.4</source_ip><count>1</count>"
	  "</row><identifiers><header_from>a.example</header_from>"
	  "<envelope_from/></identifiers></record>"
	  "<record><row><source_ip>1.2.3.4</source_ip><count>1</count>"
	  "</row><identifiers><header_from>a.example</header_from>"
	  "<envelope_from>  </envelope_from></identifiers></record>"),
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_OK, 0, NULL, "H R4 E",
	  KV("r1.efrom=", "r2.efrom=(null)", "r3.efrom=", "r4.efrom=",
	    "h.records=4", "h.messages=4") },

	{ "raw enum words",
	  DOC(MD "<policy_published><domain>example.com</domain>"
	  "<p>REJECT</p><sp>Quarantine </sp><adkim>R</adkim><aspf>x</aspf>"
	  "<testing>Y</testing><discovery_method>dns</discovery_method>"
	  "</policy_published>"
	  "<record><row><source_ip>1.2.3.4</source_ip><count>1</count>"
	  "<policy_evaluated><disposition>None</disposition><dkim>Pass "
	  "</dkim><spf>FAIL</spf><reason><type></type></reason>"
	  "<reason><type>Forwarded</type></reason><reason><type>"
	  "vendor_word</type></reason></policy_evaluated></row>"
	  "<identifiers><header_from>a.example</header_from></identifiers>"
	  "<auth_results><dkim><domain>a.example</domain><result>Pass "
	  "</result></dkim><spf><domain>a.example</domain><scope>MFROM"
	  "</scope><result>hardfail</result></spf><spf><domain>a.example"
	  "</domain><scope>ehlo</scope><result>unknown</result></spf>"
	  "</auth_results></record>"),
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_OK, 0, NULL, "H R1 E",
	  KV("h.p=reject", "h.p_raw=REJECT", "h.sp=quarantine",
	    "h.sp_raw=Quarantine ", "h.adkim=r", "h.adkim_raw=R",
	    "h.aspf=(null)", "h.aspf_raw=x", "h.testing=y",
	    "h.testing_raw=Y", "h.dm=(null)", "h.dm_raw=dns",
	    "h.format=draft",
	    "r1.disp=none", "r1.disp_raw=None", "r1.dkim=pass",
	    "r1.dkim_raw=Pass ", "r1.spf=fail", "r1.spf_raw=FAIL",
	    "r1.nreason=3", "r1.reason0.type=(null)",
	    "r1.reason0.type_raw=", "r1.reason1.type=forwarded",
	    "r1.reason1.type_raw=Forwarded", "r1.reason2.type=(null)",
	    "r1.reason2.type_raw=vendor_word",
	    "r1.dkim0.result=pass", "r1.dkim0.result_raw=Pass ",
	    "r1.spf0.scope=mfrom", "r1.spf0.scope_raw=MFROM",
	    "r1.spf0.result=(null)", "r1.spf0.result_raw=hardfail",
	    "r1.spf1.scope=(null)", "r1.spf1.scope_raw=ehlo",
	    "r1.spf1.result=(null)", "r1.spf1.result_raw=unknown") },

	{ "source_ip forms",
	  DOC(MD PP REC("2001:DB8:0:0:0:0:0:1", "1")
	  REC("[1.2.3.4]", "2") REC(" 10.0.0.1\n", "3")
	  REC("fe80::1%eth0", "4") REC("not-an-ip", "5")
	  "<record><row><count>6</count></row><identifiers><header_from>"
	  "x.example</header_from></identifiers></record>"
	  REC("2001:db8::1", "7")),
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_OK, 0, NULL, "H R7 E",
	  KV("r1.ip=2001:db8::1", "r1.ip_raw=2001:DB8:0:0:0:0:0:1",
	    "r2.ip=1.2.3.4", "r2.ip_raw=[1.2.3.4]", "r3.ip=10.0.0.1",
	    "r3.ip_raw= 10.0.0.1\n", "r4.ip=(null)",
	    "r4.ip_raw=fe80::1%eth0", "r4.nwarn=1",
	    "r4.warn0=row/source_ip is not an IP address",
	    "r5.ip=(null)", "r5.ip_raw=not-an-ip", "r5.count=5",
	    "r6.ip=(null)", "r6.ip_raw=(null)", "r6.nwarn=1",
	    "r6.warn0=no row/source_ip", "r6.count=6",
	    "r7.ip=2001:db8::1", "r7.ip_raw=(null)", "r7.nwarn=0",
	    "h.records=7", "h.messages=28", "h.skipped=0") },

	{ "fractional epochs",
	  DOC("<report_metadata><org_name>o</org_name><report_id>f1"
	  "</report_id><date_range><begin>1700000000.5</begin>"
	  "<end> 1700086399 </end></date_range></report_metadata>" PP
	  REC("1.2.3.4", "1")),
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_OK, 0, NULL, "H R1 E",
	  KV("h.begin=1700000000", "h.begin_raw=1700000000.5",
	    "h.end=1700086399", "h.end_raw=(null)", "h.email=(null)",
	    "h.key=o") },

	{ "end before begin is clamped",
	  DOC("<report_metadata><org_name>o</org_name><report_id>f2"
	  "</report_id><date_range><begin>1700086399</begin>"
	  "<end>1700000000</end></date_range></report_metadata>" PP),
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_OK, 0, NULL, "H E",
	  KV("h.begin=1700086399", "h.end=1700086399",
	    "h.end_raw=1700000000", "h.nwarn=1",
	    "h.warn0~end 1700000000 is before begin", "h.records=0") },

	{ "missing sp fo pct, bad pct",
	  DOC(MD "<policy_published><domain>example.com</domain>"
	  "<p>none</p><pct>150</pct></policy_published>"
	  REC("1.2.3.4", "1")),
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_OK, 0, NULL, "H R1 E",
	  KV("h.sp=(null)", "h.sp_raw=(null)", "h.fo=(null)",
	    "h.pct=-1", "h.pct_raw=150", "h.adkim=(null)",
	    "h.aspf=(null)") },

	{ "several results, reasons, comments and lang",
	  DOC(MD PP "<record><row><source_ip>1.2.3.4</source_ip>"
	  "<count>9</count><policy_evaluated><disposition>none"
	  "</disposition><dkim>fail</dkim><spf>fail</spf><reason><type>"
	  "local_policy</type><comment lang=\"en\"> arc=pass as.1.x=pass "
	  "</comment></reason><reason><comment xml:lang=\"de\">weiter"
	  "</comment><type>mailing_list</type></reason></policy_evaluated>"
	  "</row><identifiers><header_from>list.example</header_from>"
	  "</identifiers><auth_results><dkim><domain>list.example</domain>"
	  "<selector>a</selector><result>fail</result><human_result "
	  "lang=\"fr\">mauvais</human_result></dkim><dkim><domain>"
	  "other.example.</domain><selector>B</selector><result>pass"
	  "</result></dkim><dkim><domain>third.example</domain><result>"
	  "temperror</result></dkim><spf><domain>list.example</domain>"
	  "<scope>helo</scope><result>none</result></spf><spf><scope>helo"
	  "</scope><result>pass</result></spf></auth_results></record>"),
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_OK, 0, NULL, "H R1 E",
	  KV("r1.nreason=2", "r1.reason0.type=local_policy",
	    "r1.reason0.comment=arc=pass as.1.x=pass",
	    "r1.reason0.lang=en", "r1.reason1.type=mailing_list",
	    "r1.reason1.comment=weiter", "r1.reason1.lang=de",
	    "r1.ndkim=3", "r1.dkim0.human=mauvais",
	    "r1.dkim0.human_lang=fr", "r1.dkim1.domain=other.example",
	    "r1.dkim1.selector=B", "r1.dkim2.selector=(null)",
	    "r1.dkim2.result=temperror", "r1.nspf=2",
	    "r1.spf0.scope=helo", "r1.spf1.domain=(null)",
	    "r1.spf1.result=pass") },

	{ "extensions and unknown elements",
	  "<feedback xmlns:ext=\"urn:example:ext\">" MD
	  "<policy_published><domain>example.com</domain><p>none</p>"
	  "<unknown-tag1>v</unknown-tag1></policy_published>"
	  "<extension><ext:size unit=\"b\">1024</ext:size>"
	  "<y:z xmlns:y=\"urn:y\"/></extension>"
	  "<record><row><source_ip>1.2.3.4</source_ip><count>1</count>"
	  "</row><identifiers><header_from>a.example</header_from>"
	  "</identifiers><auth_results/><ext:added>yes</ext:added>"
	  "<extension><ext:arc>pass</ext:arc></extension></record>"
	  "</feedback>",
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_OK, 0, NULL, "H R1 E",
	  KV("h.next=3", "h.ext0.name=unknown-tag1", "h.ext0.ns=(null)",
	    "h.ext0.xml=<unknown-tag1>v</unknown-tag1>",
	    "h.ext1.name=size", "h.ext1.ns=urn:example:ext",
	    "h.ext1.xml=<ext:size xmlns:ext=\"urn:example:ext\" "
	    "unit=\"b\">1024</ext:size>",
	    "h.ext2.name=z", "h.ext2.ns=urn:y",
	    "h.ext2.xml=<y:z xmlns:y=\"urn:y\"/>",
	    "h.nwarn=1", "h.warn0=unknown element <unknown-tag1> kept as "
	    "extension", "r1.next=2", "r1.ext0.name=added",
	    "r1.ext0.xml=<ext:added xmlns:ext=\"urn:example:ext\">yes"
	    "</ext:added>", "r1.ext1.name=arc", "r1.nwarn=1",
	    "r1.warn0=unknown element <added> kept as extension") },

	{ "IKEA xs:schema wrapper",
	  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xs:schema "
	  "xmlns:xs=\"http://www.w3.org/2001/XMLSchema\"><xs:element "
	  "name=\"feedback\"/><Feedback>" MD PP REC("1.2.3.4", "4")
	  "</Feedback></xs:schema>",
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_OK, 0, NULL, "H R1 E",
	  KV("h.id=rid-1", "r1.count=4", "h.records=1") },

	{ "IKEA unclosed wrapper, strict",
	  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xs:schema "
	  "xmlns:xs=\"http://www.w3.org/2001/XMLSchema\">\n<feedback>" MD PP
	  REC("1.2.3.4", "4") "</feedback>\n",
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_INVALID, 1,
	  "XML not well-formed at line", NULL, KV("h.id=(absent)") },

	{ "IKEA unclosed wrapper, recover",
	  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xs:schema "
	  "xmlns:xs=\"http://www.w3.org/2001/XMLSchema\">\n<feedback>" MD PP
	  REC("1.2.3.4", "4") "</feedback>\n",
	  REPORT_RECOVER, 0, 0, 0, 0, 0, REPORT_OK, 0, NULL, "H R1 E",
	  KV("h.id=rid-1", "r1.count=4", "h.warn0~recovered: line ",
	    "hh.warn0~recovered: line ") },

	{ "out-of-order metadata",
	  DOC(REC("1.2.3.4", "5") PP
	  "<report_metadata><report_id>late-1</report_id><date_range>"
	  "<end>20</end><begin>10</begin></date_range><email>x@Y.example"
	  "</email></report_metadata>" REC("1.2.3.5", "6")),
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_OK, 0, NULL, "H R2 E",
	  KV("h.id=late-1", "h.begin=10", "h.end=20", "h.org=(null)",
	    "h.key=y.example", "r1.count=5", "r2.count=6",
	    "h.messages=11") },

	{ "header after the first batch",
	  DOC(REC("1.2.3.4", "5") REC("1.2.3.4", "6") MD PP),
	  REPORT_STRICT, 2, 0, 0, 0, 0, REPORT_INVALID, 0,
	  "not found before record 3", "", KV("r1.ord=(absent)") },

	{ "header within the first batch",
	  DOC(REC("1.2.3.4", "5") MD PP REC("1.2.3.4", "6")),
	  REPORT_STRICT, 2, 0, 0, 0, 0, REPORT_OK, 0, NULL, "H R2 E",
	  KV("r1.count=5", "r2.count=6") },

	{ "bad counts are skipped",
	  DOC(MD PP REC("1.2.3.1", "1") REC("1.2.3.2", "-5")
	  REC("1.2.3.3", "99999999999999999999") REC("1.2.3.4", " 4 ")
	  REC("1.2.3.5", "") "<record><row><source_ip>1.2.3.6</source_ip>"
	  "</row></record>" REC("1.2.3.7", "1.5")),
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_OK, 0, NULL, "H R2 E",
	  KV("r1.count=1", "r2.ord=(absent)", "r3.ord=(absent)",
	    "r4.count=4", "r4.count_raw=(null)", "r5.ord=(absent)",
	    "r6.ord=(absent)", "r7.ord=(absent)", "h.records=2",
	    "h.messages=5", "h.skipped=5", "h.nwarn=5",
	    "h.warn0=record 2: row/count \"-5\" is not a non-negative "
	    "integer; record skipped",
	    "h.warn1~record 3: row/count \"99999999999999999999\"",
	    "h.warn3=record 6: no row/count; record skipped") },

	{ "XXE with a DTD is refused",
	  "<?xml version=\"1.0\"?>\n<!DOCTYPE feedback [\n<!ENTITY xxe "
	  "SYSTEM \"file:///etc/hostname\">]>\n<feedback>"
	  "<report_metadata><org_name>&xxe;</org_name><report_id>x"
	  "</report_id><date_range><begin>1</begin><end>2</end>"
	  "</date_range></report_metadata>" PP "</feedback>",
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_INVALID, 0, "DTD", "",
	  KV("h.org=(absent)") },

	{ "XXE with a DTD is refused in recover mode",
	  "<?xml version=\"1.0\"?>\n<!DOCTYPE feedback [\n<!ENTITY xxe "
	  "SYSTEM \"file:///etc/hostname\">]>\n<feedback>"
	  "<report_metadata><org_name>&xxe;</org_name><report_id>x"
	  "</report_id><date_range><begin>1</begin><end>2</end>"
	  "</date_range></report_metadata>" PP "</feedback>",
	  REPORT_RECOVER, 0, 0, 0, 0, 0, REPORT_INVALID, 0, "DTD", "",
	  KV("h.org=(absent)") },

	{ "external DTD is refused",
	  "<?xml version=\"1.0\"?>\n<!DOCTYPE feedback SYSTEM "
	  "\"http://127.0.0.1:9/x.dtd\">\n<feedback>" MD PP "</feedback>",
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_INVALID, 0, "DTD", "",
	  NULL },

	{ "billion laughs, recover",
	  "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n"
	  "<!ENTITY lol \"lol\">\n"
	  "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
	  "<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">"
	  "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">"
	  "<!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">"
	  "<!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">"
	  "<!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">"
	  "<!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">"
	  "<!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">"
	  "<!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">"
	  "]>\n<feedback><report_metadata><org_name>&lol9;</org_name>"
	  "</report_metadata></feedback>",
	  REPORT_RECOVER, 0, 0, 0, 0, 0, REPORT_INVALID, 0, "DTD", "",
	  NULL },

	{ "billion laughs, strict",
	  "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n"
	  "<!ENTITY lol \"lol\">\n"
	  "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
	  "<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">"
	  "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">"
	  "<!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">"
	  "<!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">"
	  "<!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">"
	  "<!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">"
	  "<!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">"
	  "<!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">"
	  "]>\n<feedback><report_metadata><org_name>&lol9;</org_name>"
	  "</report_metadata></feedback>",
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_INVALID, 0, "DTD", "",
	  NULL },

	{ "undeclared entity",
	  DOC("<report_metadata><org_name>&lol9;</org_name>"
	  "</report_metadata>"),
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_INVALID, 1,
	  "XML not well-formed at line 2", "", NULL },

	{ "not DMARC",
	  "<?xml version=\"1.0\"?>\n<root><item><name>x</name></item>"
	  "</root>",
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_NOT_DMARC, 0, "<root>", "",
	  NULL },

	{ "empty feedback is not DMARC",
	  "<feedback/>",
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_NOT_DMARC, 0, "<feedback>",
	  "", NULL },

	{ "empty document",
	  "",
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_INVALID, 0, "empty", "",
	  NULL },

	{ "invalid UTF-8, strict",
	  DOC("<report_metadata><org_name>Bob\x91" "s</org_name>"
	  "<report_id>u1</report_id><date_range><begin>1</begin><end>2"
	  "</end></date_range></report_metadata>" PP),
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_INVALID, 1,
	  "XML not well-formed at line 2", "", NULL },

	{ "invalid UTF-8, windows-1252",
	  DOC("<report_metadata><org_name>Bob\x91" "s</org_name>"
	  "<report_id>u1</report_id><date_range><begin>1</begin><end>2"
	  "</end></date_range></report_metadata>" PP),
	  REPORT_WIN1252, 0, 0, 0, 0, 0, REPORT_OK, 0, NULL, "H E",
	  KV("h.org=Bob\xe2\x80\x98s", "h.key=bob\xe2\x80\x98s",
	    "h.nwarn=1", "h.warn0=decoded as windows-1252") },

	{ "BEL in a comment, strict",
	  DOC(MD PP "<record><row><source_ip>1.2.3.4</source_ip><count>1"
	  "</count><policy_evaluated><reason><type>other</type><comment>"
	  "arc=pass\a ok</comment></reason></policy_evaluated></row>"
	  "</record>"),
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_INVALID, 1,
	  "XML not well-formed at line 2", "", NULL },

	{ "BEL in a comment, recover",
	  DOC(MD PP "<record><row><source_ip>1.2.3.4</source_ip><count>1"
	  "</count><policy_evaluated><reason><type>other</type><comment>"
	  "arc=pass\a ok</comment></reason></policy_evaluated></row>"
	  "</record>"),
	  REPORT_RECOVER, 0, 0, 0, 0, 0, REPORT_OK, 0, NULL, "H R1 E",
	  KV("h.nwarn=1", "h.warn0~recovered: line 2: ",
	    "r1.reason0.type=other", "r1.reason0.comment~arc=pass") },

	/* Real-world breakage seen from real reporters, written as fixtures. */
	{ "UTF-8 BOM",
	  "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	  "<feedback>" MD PP REC("1.2.3.4", "1") "</feedback>\n",
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_OK, 0, NULL, "H R1 E",
	  KV("h.org=Example Org", "h.id=rid-1", "h.nwarn=0",
	    "r1.ip=1.2.3.4") },

	{ "windows-1252 declared",
	  "<?xml version=\"1.0\" encoding=\"windows-1252\"?>\n<feedback>"
	  "<report_metadata><org_name>\x93" "Caf\xe9\x94 Org</org_name>"
	  "<report_id>w1</report_id><date_range><begin>1</begin><end>2"
	  "</end></date_range></report_metadata>" PP "</feedback>",
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_OK, 0, NULL, "H E",
	  KV("h.org=\xe2\x80\x9c" "Caf\xc3\xa9\xe2\x80\x9d Org",
	    "h.key=\xe2\x80\x9c" "caf\xc3\xa9\xe2\x80\x9d org",
	    "h.nwarn=0") },

	{ "invalid UTF-8, recover",
	  DOC("<report_metadata><org_name>Bob\x91" "s</org_name>"
	  "<report_id>u1</report_id><date_range><begin>1</begin><end>2"
	  "</end></date_range></report_metadata>" PP),
	  REPORT_RECOVER, 0, 0, 0, 0, 0, REPORT_OK, 0, NULL, "H E",
	  KV("h.id=u1", "h.warn0~recovered: line 2: ") },

	{ "white space before the XML declaration, strict",
	  "  \n<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feedback>" MD PP
	  REC("1.2.3.4", "1") "</feedback>\n",
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_INVALID, 1,
	  "XML not well-formed at line 2", "", NULL },

	{ "white space before the XML declaration, recover",
	  "  \n<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feedback>" MD PP
	  REC("1.2.3.4", "1") "</feedback>\n",
	  REPORT_RECOVER, 0, 0, 0, 0, 0, REPORT_OK, 0, NULL, "H R1 E",
	  KV("h.id=rid-1", "h.org=Example Org", "r1.ip=1.2.3.4",
	    "r1.count=1", "h.warn0~recovered: line 2: ") },

	{ "float timestamps",
	  DOC("<report_metadata><org_name>o</org_name><report_id>f3"
	  "</report_id><date_range><begin>1339171200.0</begin>"
	  "<end>1339257599.999</end></date_range></report_metadata>" PP),
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_OK, 0, NULL, "H E",
	  KV("h.begin=1339171200", "h.begin_raw=1339171200.0",
	    "h.end=1339257599", "h.end_raw=1339257599.999",
	    "h.nwarn=0") },

	{ "version 0",
	  DOC("<version>0</version>" MD PP),
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_OK, 0, NULL, "H E",
	  KV("h.version=0", "h.format=rfc7489") },

	{ "version 0.1",
	  DOC("<version> 0.1 </version>" MD PP),
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_OK, 0, NULL, "H E",
	  KV("h.version=0.1", "h.format=rfc7489") },

	{ "version 2.0 without namespace",
	  DOC("<version>2.0</version>" MD PP),
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_OK, 0, NULL, "H E",
	  KV("h.version=2.0", "h.format=rfc7489", "h.ns=(null)") },

	{ "version missing",
	  DOC(MD PP),
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_OK, 0, NULL, "H E",
	  KV("h.version=(null)", "h.format=rfc7489") },

	{ "begin == end",
	  DOC("<report_metadata><org_name>o</org_name><report_id>e1"
	  "</report_id><date_range><begin>1538204542</begin>"
	  "<end>1538204542</end></date_range></report_metadata>" PP
	  REC("1.2.3.4", "1")),
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_OK, 0, NULL, "H R1 E",
	  KV("h.begin=1538204542", "h.end=1538204542",
	    "h.begin_raw=(null)", "h.end_raw=(null)", "h.nwarn=0") },

	{ "multi-week range",
	  DOC("<report_metadata><org_name>o</org_name><report_id>e2"
	  "</report_id><date_range><begin>1521417600</begin>"
	  "<end>1523232000</end></date_range></report_metadata>" PP
	  REC("1.2.3.4", "1")),
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_OK, 0, NULL, "H R1 E",
	  KV("h.begin=1521417600", "h.end=1523232000",
	    "h.end_raw=(null)", "h.nwarn=0") },

	{ "empty auth_results",
	  DOC(MD PP "<record><row><source_ip>1.2.3.4</source_ip><count>3"
	  "</count></row><identifiers><header_from>a.example"
	  "</header_from></identifiers><auth_results></auth_results>"
	  "</record><record><row><source_ip>1.2.3.5</source_ip><count>4"
	  "</count></row><identifiers><header_from>a.example"
	  "</header_from></identifiers><auth_results/></record>"),
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_OK, 0, NULL, "H R2 E",
	  KV("r1.ndkim=0", "r1.nspf=0", "r1.next=0", "r1.nwarn=0",
	    "r2.ndkim=0", "r2.nspf=0", "r2.nwarn=0", "h.messages=7") },

	{ "broken closing tag (KDDI), strict",
	  DOC("<report_metadata><org_name>o</org_name><report_id>k1"
	  "0/report_id><date_range><begin>1</begin><end>2</end>"
	  "</date_range></report_metadata>" PP REC("1.2.3.4", "1")),
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_INVALID, 1,
	  "XML not well-formed", "", NULL },

	{ "unescaped element in a value, recover",
	  DOC("<report_metadata><org_name>o</org_name><email>"
	  "<bad-xml@bad-xml.net></email><report_id>k2</report_id>"
	  "<date_range><begin>1</begin><end>2</end></date_range>"
	  "</report_metadata>" PP REC("1.2.3.4", "1")),
	  REPORT_RECOVER, 0, 0, 0, 0, 0, REPORT_OK, 0, NULL, NULL,
	  KV("h.id~k2", "h.warn0~recovered: line 2: ") },

	{ "truncated document, recover",
	  "<?xml version=\"1.0\"?>\n<feedback>" MD PP
	  "<record><row><source_ip>1.2.3.4</source_ip><count>9</count>"
	  "</row><identifiers><header_from>a.example</header_from>",
	  REPORT_RECOVER, 0, 0, 0, 0, 0, REPORT_OK, 0, NULL, "H R1 E",
	  KV("h.id=rid-1", "r1.count=9", "r1.hfrom=a.example",
	    "h.warn0~recovered: line 2: ") },

	{ "truncated document, strict",
	  "<?xml version=\"1.0\"?>\n<feedback>" MD PP
	  "<record><row><source_ip>1.2.3.4</source_ip><count>9</count>"
	  "</row><identifiers><header_from>a.example</header_from>",
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_INVALID, 1,
	  "XML not well-formed", NULL, NULL },

	{ "parameter entity is refused",
	  "<?xml version=\"1.0\"?>\n<!DOCTYPE feedback [<!ENTITY % p SYSTEM "
	  "\"file:///etc/hostname\"> %p;]>\n<feedback>" MD PP "</feedback>",
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_INVALID, 0, "DTD", "", NULL },

	{ "parameter entity is refused in recover mode",
	  "<?xml version=\"1.0\"?>\n<!DOCTYPE feedback [<!ENTITY % p SYSTEM "
	  "\"file:///etc/hostname\"> %p;]>\n<feedback>" MD PP "</feedback>",
	  REPORT_RECOVER, 0, 0, 0, 0, 0, REPORT_INVALID, 0, "DTD", "", NULL },

	{ "billion laughs, windows-1252",
	  "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n"
	  "<!ENTITY lol \"lol\">\n"
	  "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
	  "<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">"
	  "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">"
	  "]>\n<feedback><report_metadata><org_name>&lol3;</org_name>"
	  "</report_metadata></feedback>",
	  REPORT_WIN1252, 0, 0, 0, 0, 0, REPORT_INVALID, 0, "DTD", "",
	  NULL },

	{ "batches of two",
	  DOC(MD PP REC("1.2.3.1", "1") REC("1.2.3.2", "2")
	  REC("1.2.3.3", "3") REC("1.2.3.4", "4") REC("1.2.3.5", "5")),
	  REPORT_STRICT, 2, 0, 0, 0, 0, REPORT_OK, 0, NULL, "H R2 R2 R1 E",
	  KV("r1.ord=1", "r2.ord=2", "r3.ord=3", "r4.ord=4", "r5.ord=5",
	    "r5.ip=1.2.3.5", "h.records=5", "h.messages=15",
	    "hh.records=0") },

	{ "missing report_id",
	  DOC("<report_metadata><org_name>o</org_name><date_range><begin>1"
	  "</begin><end>2</end></date_range></report_metadata>" PP
	  REC("1.2.3.4", "1")),
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_INVALID, 0,
	  "missing report_metadata/report_id", "", NULL },

	{ "missing policy domain",
	  DOC(MD "<policy_published><p>none</p></policy_published>"),
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_INVALID, 0,
	  "missing policy_published/domain", "", NULL },

	{ "missing date_range",
	  DOC("<report_metadata><report_id>x</report_id></report_metadata>"
	  PP),
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_INVALID, 0,
	  "missing report_metadata/date_range", "", NULL },

	{ "bad epoch",
	  DOC("<report_metadata><report_id>x</report_id><date_range><begin>"
	  "yesterday</begin><end>2</end></date_range></report_metadata>"
	  PP),
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_INVALID, 0,
	  "date_range/begin is not a number", "", NULL },

	{ "repeated policy_published",
	  DOC(MD PP "<policy_published><domain>other.example</domain>"
	  "<p>reject</p></policy_published>" REC("1.2.3.4", "1")),
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_OK, 0, NULL, "H R1 E",
	  KV("h.domain=example.com", "h.p=none", "h.ppcount=2",
	    "h.next=1", "h.ext0.name=policy_published",
	    "h.ext0.xml~<domain>other.example</domain>",
	    "h.warn0=repeated element <policy_published> kept as "
	    "extension") },

	{ "duplicate head",
	  DOC(MD PP REC("1.2.3.4", "1")),
	  REPORT_STRICT, 0, 0, 0, 1, 0, REPORT_DUPLICATE, 0, NULL, "H ",
	  KV("hh.id=rid-1", "r1.ord=(absent)") },

	{ "records callback aborts",
	  DOC(MD PP REC("1.2.3.4", "1")),
	  REPORT_STRICT, 0, 0, 0, 0, -1, REPORT_ABORTED, 0,
	  "database went away", "H R1 ", NULL },

	{ "max_records",
	  DOC(MD PP REC("1.2.3.4", "1") REC("1.2.3.4", "1")
	  REC("1.2.3.4", "1")),
	  REPORT_STRICT, 0, 2, 0, 0, 0, REPORT_INVALID, 0,
	  "more than 2 records (max_records)", NULL, NULL },

	{ "max_results",
	  DOC(MD PP "<record><row><source_ip>1.2.3.4</source_ip><count>1"
	  "</count></row><auth_results><dkim><domain>a</domain></dkim>"
	  "<dkim><domain>b</domain></dkim><dkim><domain>c</domain></dkim>"
	  "</auth_results></record>"),
	  REPORT_STRICT, 0, 0, 2, 0, 0, REPORT_INVALID, 0,
	  "record 1: more than 2 dkim elements (max_results)", "", NULL },

	{ "trailing garbage, strict",
	  DOC(MD PP REC("1.2.3.4", "1")) "<junk/>",
	  REPORT_STRICT, 0, 0, 0, 0, 0, REPORT_INVALID, 1,
	  "Extra content", NULL, NULL },
};

/*
 * Golden reports from the corpus.  Every field of the header (end
 * callback), of the first and of the last record is compared: a key that
 * is not listed must have its default value ("(null)", 0, pct -1,
 * ppcount 1, idtag "identifiers").  The values were read from the files.
 */
struct golden {
	const char		*path;
	int			 mode;		/* mode that must succeed */
	uint32_t		 last;		/* ord of the last record */
	const char *const	*kv;
};

static const struct golden goldens[] = {
	/* Google: RFC 7489 layout plus np, so "draft"; no envelope_from. */
	{ "cry-inc__dmarc-report-viewer/testdata/dmarc-reports/google.xml",
	  REPORT_STRICT, 1,
	  KV("h.format=draft", "h.org=google.com", "h.key=google.com",
	    "h.email=noreply-dmarc-support@google.com",
	    "h.eci=https://support.google.com/a/answer/2466580",
	    "h.id=3166094538684628578", "h.begin=1709683200",
	    "h.end=1709769599", "h.domain=foo-bar.io", "h.adkim=r",
	    "h.aspf=r", "h.p=reject", "h.sp=reject", "h.pct=100",
	    "h.np=reject", "h.records=1", "h.messages=1",
	    "r1.ord=1", "r1.ip=1.2.3.4", "r1.count=1", "r1.disp=none",
	    "r1.dkim=pass", "r1.spf=pass", "r1.hfrom=foo-bar.io",
	    "r1.ndkim=1", "r1.dkim0.domain=foo-bar.io",
	    "r1.dkim0.result=pass", "r1.dkim0.selector=krs", "r1.nspf=1",
	    "r1.spf0.domain=foo-bar.io", "r1.spf0.result=pass") },
	/* Microsoft (gzip): version 1.0, fo, envelope_to, temperror. */
	{ "avvertix__dmarc-report-parser/tests/fixtures/dmarc.xml.gz",
	  REPORT_STRICT, 2,
	  KV("h.format=rfc7489", "h.version=1.0", "h.org=Enterprise Outlook",
	    "h.key=enterprise outlook", "h.email=dmarcreport@microsoft.com",
	    "h.id=17265e8a413a4989bc4eef2c46ef08d0", "h.begin=1732492800",
	    "h.end=1732579200", "h.domain=a-domain.localhost", "h.adkim=s",
	    "h.aspf=s", "h.p=reject", "h.sp=reject", "h.pct=100", "h.fo=0",
	    "h.records=2", "h.messages=2",
	    "r1.ord=1", "r1.ip=255.255.255.253", "r1.count=1",
	    "r1.disp=none", "r1.dkim=pass", "r1.spf=pass",
	    "r1.hfrom=a-domain.localhost", "r1.efrom=a-domain.localhost",
	    "r1.eto=other-domain.localhost", "r1.ndkim=1",
	    "r1.dkim0.domain=a-domain.localhost", "r1.dkim0.selector=dkim",
	    "r1.dkim0.result=pass", "r1.nspf=1",
	    "r1.spf0.domain=a-domain.localhost", "r1.spf0.scope=mfrom",
	    "r1.spf0.result=pass",
	    "r2.ord=2", "r2.ip=255.255.255.253", "r2.count=1",
	    "r2.disp=none", "r2.dkim=pass", "r2.spf=fail",
	    "r2.hfrom=a-domain.localhost", "r2.efrom=a-domain.localhost",
	    "r2.eto=other-domain.localhost", "r2.ndkim=1",
	    "r2.dkim0.domain=a-domain.localhost", "r2.dkim0.selector=dkim",
	    "r2.dkim0.result=pass", "r2.nspf=1",
	    "r2.spf0.domain=a-domain.localhost", "r2.spf0.scope=mfrom",
	    "r2.spf0.result=temperror") },
	/* Yahoo: no sp, two DKIM signatures. */
	{ "dmarc-analyzer-net__DmarcAnalyzerApp/src/api.tests/Fixtures/"
	  "sample-yahoo-aggregate.xml", REPORT_STRICT, 1,
	  KV("h.format=rfc7489", "h.org=Yahoo", "h.key=yahoo",
	    "h.email=dmarchelp@yahooinc.com", "h.id=1737770612.289931",
	    "h.begin=1737676800", "h.end=1737763199",
	    "h.domain=007ed325dddd44e3a0f17488f4312e49.com", "h.adkim=r",
	    "h.aspf=r", "h.p=none", "h.pct=100", "h.records=1",
	    "h.messages=1",
	    "r1.ord=1", "r1.ip=127.0.0.1", "r1.count=1", "r1.disp=none",
	    "r1.dkim=pass", "r1.spf=fail",
	    "r1.hfrom=007ed325dddd44e3a0f17488f4312e49.com", "r1.ndkim=2",
	    "r1.dkim0.domain=007ed325dddd44e3a0f17488f4312e49.com",
	    "r1.dkim0.selector=k1", "r1.dkim0.result=pass",
	    "r1.dkim1.domain=007ed325dddd44e3a0f17488f4312e49.com",
	    "r1.dkim1.selector=rmk", "r1.dkim1.result=pass", "r1.nspf=1",
	    "r1.spf0.domain=007ed325dddd44e3a0f17488f4312e49.com",
	    "r1.spf0.result=pass") },
	/* AOL: declared windows-1252, xmlns:ns1 but no default namespace. */
	{ "bbustin__dmarc_aggregate_parser/sample-data/dmarc.xml",
	  REPORT_STRICT, 1,
	  KV("h.format=rfc7489", "h.org=AOL", "h.key=aol",
	    "h.email=postmaster@aol.com", "h.id=website.com_1504828800",
	    "h.begin=1504742400", "h.end=1504828800",
	    "h.domain=website.com", "h.adkim=r", "h.aspf=r", "h.p=reject",
	    "h.sp=reject", "h.pct=100", "h.records=1", "h.messages=1",
	    "r1.ord=1", "r1.ip=125.125.125.125", "r1.count=1",
	    "r1.disp=none", "r1.dkim=pass", "r1.spf=pass",
	    "r1.hfrom=website.com", "r1.ndkim=1",
	    "r1.dkim0.domain=website.com", "r1.dkim0.result=pass",
	    "r1.nspf=1", "r1.spf0.domain=website.com", "r1.spf0.scope=mfrom",
	    "r1.spf0.result=pass") },
	/* Mail.ru: one line, reject, no DKIM result. */
	{ "cry-inc__dmarc-report-viewer/testdata/dmarc-reports/mailru.xml",
	  REPORT_STRICT, 1,
	  KV("h.format=rfc7489", "h.org=Mail.Ru", "h.key=mail.ru",
	    "h.email=dmarc_support@corp.mail.ru",
	    "h.eci=http://help.mail.ru/mail-help",
	    "h.id=28327321193681154911721360800", "h.begin=1721260800",
	    "h.end=1721347200", "h.domain=foobar.de", "h.adkim=r",
	    "h.aspf=r", "h.p=reject", "h.sp=reject", "h.pct=100",
	    "h.records=1", "h.messages=1",
	    "r1.ord=1", "r1.ip=118.41.204.2", "r1.count=1",
	    "r1.disp=reject", "r1.dkim=fail", "r1.spf=fail",
	    "r1.hfrom=foobar.de", "r1.ndkim=0", "r1.nspf=1",
	    "r1.spf0.domain=foobar.de", "r1.spf0.scope=mfrom",
	    "r1.spf0.result=softfail") },
	/* Amazon SES (gzip): version 0.1, DKIM without selector. */
	{ "georgestarcher__dmarcgo/testdata/fixtures/amazonses.com!"
	  "georgestarcher.com!1518134400!1518220800.xml.gz",
	  REPORT_STRICT, 1,
	  KV("h.format=rfc7489", "h.version=0.1", "h.org=AMAZON-SES",
	    "h.key=amazon-ses", "h.email=postmaster@amazonses.com",
	    "h.id=072b67ad-a2bd-4ee2-bbb3-533ca391825f",
	    "h.begin=1518134400", "h.end=1518220800",
	    "h.domain=georgestarcher.com", "h.adkim=r", "h.aspf=r",
	    "h.p=reject", "h.sp=reject", "h.pct=100", "h.fo=0",
	    "h.records=1", "h.messages=1",
	    "r1.ord=1", "r1.ip=209.85.214.46", "r1.count=1",
	    "r1.disp=none", "r1.dkim=pass", "r1.spf=pass",
	    "r1.hfrom=georgestarcher.com", "r1.efrom=georgestarcher.com",
	    "r1.ndkim=1", "r1.dkim0.domain=georgestarcher.com",
	    "r1.dkim0.result=pass", "r1.nspf=1",
	    "r1.spf0.domain=georgestarcher.com", "r1.spf0.result=pass") },
	/* GMX: RFC 9990 namespace, discovery_method, testing, no pct. */
	{ "cry-inc__dmarc-report-viewer/testdata/dmarc-reports/gmxnet.xml",
	  REPORT_STRICT, 1,
	  KV("h.format=rfc9990", "h.ns=urn:ietf:params:xml:ns:dmarc-2.0",
	    "h.version=1.0", "h.org=GMX", "h.key=gmx",
	    "h.email=noreply-dmarc@sicher.gmx.net",
	    "h.eci=https://postmaster.gmx.net/en/case?c=r2002",
	    "h.id=6d2be94cbabf4e838a3cf58fb4a42ab5", "h.begin=1733184000",
	    "h.end=1733270399", "h.domain=myserver.com", "h.dm=psl",
	    "h.adkim=r", "h.aspf=r", "h.p=reject", "h.sp=reject",
	    "h.testing=n", "h.records=1", "h.messages=1",
	    "r1.ord=1", "r1.ip=11.222.33.44", "r1.count=1", "r1.disp=none",
	    "r1.dkim=pass", "r1.spf=pass", "r1.efrom=myserver.com",
	    "r1.hfrom=myserver.com", "r1.ndkim=1",
	    "r1.dkim0.domain=myserver.com", "r1.dkim0.selector=abc123",
	    "r1.dkim0.result=pass", "r1.nspf=1",
	    "r1.spf0.domain=myserver.com", "r1.spf0.scope=mfrom",
	    "r1.spf0.result=pass") },
	/* Mimecast (gzip with trailing garbage): empty human_result. */
	{ "MozaicWorks__DMARCReporting/samples/trailing_garbage1.xml.gz",
	  REPORT_STRICT, 3,
	  KV("h.format=rfc7489", "h.org=Mimecast", "h.key=mimecast",
	    "h.email=no-reply@eu-2.mimecastreport.com",
	    "h.eci=https://community.mimecast.com/s/knowledge",
	    "h.id=f3cc1fba1c6da549e551dccf2d8d37a4229516e20d5c7416edc847a0"
	    "750aebb3", "h.begin=1693353600", "h.end=1693439999",
	    "h.domain=abbove.com", "h.adkim=s", "h.aspf=r", "h.p=reject",
	    "h.sp=none", "h.pct=100", "h.records=3", "h.messages=3",
	    "r1.ord=1", "r1.ip=209.85.208.179", "r1.count=1",
	    "r1.disp=none", "r1.dkim=pass", "r1.spf=pass",
	    "r1.hfrom=abbove.com", "r1.ndkim=1", "r1.dkim0.domain=abbove.com",
	    "r1.dkim0.selector=google", "r1.dkim0.result=pass",
	    "r1.dkim0.human=", "r1.nspf=1", "r1.spf0.domain=abbove.com",
	    "r1.spf0.result=pass",
	    "r3.ord=3", "r3.ip=209.85.208.181", "r3.count=1",
	    "r3.disp=none", "r3.dkim=pass", "r3.spf=pass",
	    "r3.hfrom=abbove.com", "r3.ndkim=1", "r3.dkim0.domain=abbove.com",
	    "r3.dkim0.selector=google", "r3.dkim0.result=pass",
	    "r3.dkim0.human=", "r3.nspf=1", "r3.spf0.domain=abbove.com",
	    "r3.spf0.result=pass") },
	/* 2,286 records; empty org_name, key from the email domain. */
	{ "domainaware__parsedmarc/samples/aggregate/!large-example.com!"
	  "1711897200!1711983600.xml", REPORT_STRICT, 2286,
	  KV("h.format=rfc7489", "h.org=", "h.key=accurateplastics.com",
	    "h.email=administrator@accurateplastics.com",
	    "h.id=example.com:1711897200", "h.begin=1711897200",
	    "h.end=1711983600", "h.domain=example.com", "h.adkim=r",
	    "h.aspf=r", "h.p=none", "h.sp=reject", "h.pct=100",
	    "h.records=2286", "h.messages=2286",
	    "r1.ord=1", "r1.ip=12.20.121.1", "r1.count=1", "r1.disp=none",
	    "r1.dkim=fail", "r1.spf=fail", "r1.hfrom=example.com",
	    "r1.nspf=1", "r1.spf0.domain=", "r1.spf0.result=none",
	    "r2286.ord=2286", "r2286.ip=12.20.129.254", "r2286.count=1",
	    "r2286.disp=none", "r2286.dkim=fail", "r2286.spf=fail",
	    "r2286.hfrom=example.com", "r2286.nspf=1", "r2286.spf0.domain=",
	    "r2286.spf0.result=none") },
	/* IETF test.xml: 9990, pass disposition, IPv6, an unparseable IP. */
	{ "ietf-wg-dmarc__draft-ietf-dmarc-aggregate-reporting/test.xml",
	  REPORT_STRICT, 71,
	  KV("h.format=rfc9990", "h.ns=urn:ietf:params:xml:ns:dmarc-2.0",
	    "h.version=1.0", "h.org=Sample Reporter",
	    "h.key=sample reporter",
	    "h.email=report_sender@example-reporter.com", "h.eci=...",
	    "h.id=3v98abbp8ya9n3va8yr8oa3ya", "h.begin=161212415",
	    "h.end=161221511", "h.domain=example.com", "h.p=quarantine",
	    "h.sp=none", "h.testing=n", "h.records=71", "h.messages=8733",
	    "r1.ord=1", "r1.ip=2001:db8::1:0:0:1",
	    "r1.ip_raw=2001:db8:0:0:1:0:0:1", "r1.count=123",
	    "r1.disp=pass", "r1.dkim=pass", "r1.spf=fail",
	    "r1.efrom=example.com", "r1.hfrom=example.com", "r1.ndkim=1",
	    "r1.dkim0.domain=example.com", "r1.dkim0.result=pass",
	    "r1.dkim0.selector=abc123", "r1.nspf=1",
	    "r1.spf0.domain=example.com", "r1.spf0.result=fail",
	    "r71.ord=71",
	    "r71.ip_raw=1234:5678:9abc:def0:1234:5678:901.234.567.890",
	    "r71.count=123", "r71.disp=pass", "r71.dkim=pass",
	    "r71.spf=fail", "r71.efrom=example.com", "r71.hfrom=example.com",
	    "r71.ndkim=1", "r71.dkim0.domain=example.com",
	    "r71.dkim0.result=pass", "r71.dkim0.selector=abc123",
	    "r71.nspf=1", "r71.spf0.domain=example.com",
	    "r71.spf0.result=fail", "r71.nwarn=1",
	    "r71.warn0=row/source_ip is not an IP address") },
};

static void
run_case(const struct xcase *x, size_t chunk)
{
	struct report_limits	 lim;
	struct mem		 m;
	struct coll		 c;
	enum report_status	 st;
	const char		*want, *got, *sep;
	char			*cause = NULL, key[128];
	size_t			 i, klen;
	int			 retry = -1, before = tst_failures;

	memset(&m, 0, sizeof m);
	m.data = x->xml;
	m.len = strlen(x->xml);
	m.chunk = chunk;
	memset(&c, 0, sizeof c);
	c.flatten = 1;
	c.head_ret = x->head_ret;
	c.records_ret = x->records_ret;
	report_limits_default(&lim);
	lim.mode = x->mode;
	if (x->batch != 0)
		lim.batch = x->batch;
	if (x->max_records != 0)
		lim.max_records = x->max_records;
	if (x->max_results != 0)
		lim.max_results = x->max_results;
	st = report_parse_xml(mem_read, &m, &lim, &callbacks, &c, &retry,
	    &cause);
	CHECK_INT(st, x->want);
	if (x->want_retry != -1)
		CHECK_INT(retry, x->want_retry);
	if (st == REPORT_OK || st == REPORT_DUPLICATE)
		CHECK(cause == NULL);
	else {
		CHECK(cause != NULL);
		if (x->cause != NULL && cause != NULL)
			CHECK(strstr(cause, x->cause) != NULL);
	}
	if (x->calls != NULL)
		CHECK_STR(c.calls, x->calls);
	CHECK_INT(c.bad_order, 0);
	CHECK_INT(c.bad_values, 0);
	for (i = 0; x->kv != NULL && x->kv[i] != NULL; i++) {
		klen = strcspn(x->kv[i], "=~");
		snprintf(key, sizeof key, "%.*s", (int)klen, x->kv[i]);
		sep = x->kv[i] + klen;
		want = *sep != '\0' ? sep + 1 : "";
		got = coll_get(&c, key);
		if (*sep == '~') {
			CHECK(strstr(got, want) != NULL);
			if (strstr(got, want) == NULL)
				fprintf(stderr, "  %s: \"%s\" lacks \"%s\"\n",
				    key, got, want);
		} else
			CHECK_STR(got, want);
	}
	if (tst_failures != before)
		fprintf(stderr, "  ^ case \"%s\" (chunk %zu): status %d, "
		    "retry %d, cause \"%s\", calls \"%s\"\n", x->name, chunk,
		    st, retry, S(cause), c.calls);
	free(cause);
	coll_free(&c);
}

static void
test_cases(void)
{
	size_t	i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		run_case(&cases[i], 0);
		run_case(&cases[i], 5);
	}
}

/* A read error keeps the stream's cause and is not worth a retry. */
static void
test_read_error(void)
{
	static const char	 doc[] = DOC(MD PP REC("1.2.3.4", "1"));
	struct report_limits	 lim;
	struct mem		 m;
	struct coll		 c;
	enum report_status	 st;
	char			*cause = NULL;
	int			 retry = -1;

	memset(&m, 0, sizeof m);
	m.data = doc;
	m.len = strlen(doc);
	m.fail_at = 60;
	memset(&c, 0, sizeof c);
	report_limits_default(&lim);
	st = report_parse_xml(mem_read, &m, &lim, &callbacks, &c, &retry,
	    &cause);
	CHECK_INT(st, REPORT_INVALID);
	CHECK_INT(retry, 0);
	CHECK_STR(cause, "boom: read failed");
	CHECK_STR(c.calls, "");
	free(cause);
	coll_free(&c);
}

/* Nothing of an external file may show up, whatever the mode. */
static void
test_xxe_file(void)
{
	static const char	 doc[] = "<?xml version=\"1.0\"?>\n"
	    "<!DOCTYPE feedback [<!ENTITY xxe SYSTEM "
	    "\"file:///etc/hostname\">]>\n<feedback><report_metadata>"
	    "<org_name>&xxe;</org_name><report_id>&xxe;</report_id>"
	    "<date_range><begin>1</begin><end>2</end></date_range>"
	    "</report_metadata>" PP REC("1.2.3.4", "1") "</feedback>";
	static const enum report_mode modes[] = {
		REPORT_STRICT, REPORT_WIN1252, REPORT_RECOVER
	};
	struct report_limits	 lim;
	struct mem		 m;
	struct coll		 c;
	enum report_status	 st;
	char			*cause, *host;
	size_t			 i, j, len;

	host = slurp("/etc/hostname", &len);
	if (host != NULL) {
		host[strcspn(host, "\r\n")] = '\0';
		if (strlen(host) < 3) {
			free(host);
			host = NULL;
		}
	}
	for (i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		memset(&m, 0, sizeof m);
		m.data = doc;
		m.len = strlen(doc);
		memset(&c, 0, sizeof c);
		c.flatten = 1;
		report_limits_default(&lim);
		lim.mode = modes[i];
		cause = NULL;
		st = report_parse_xml(mem_read, &m, &lim, &callbacks, &c, NULL,
		    &cause);
		CHECK_INT(st, REPORT_INVALID);
		CHECK_STR(c.calls, "");
		CHECK(cause != NULL && strstr(cause, "DTD") != NULL);
		if (host != NULL) {
			CHECK(cause == NULL || strstr(cause, host) == NULL);
			for (j = 0; j < c.nkv; j++)
				CHECK(strstr(c.kv[j], host) == NULL);
		}
		free(cause);
		coll_free(&c);
	}
	free(host);
}

/*
 * A generated report: a header, n realistic records (two DKIM results and
 * one SPF result each), the closing tag.  Record i comes from a template
 * whose numbers are patched in place.
 */
struct gen {
	uint32_t	 n;
	uint32_t	 i;
	int		 state;		/* 0 head, 1 records, 2 tail, 3 end */
	char		 buf[1024];
	size_t		 len;
	size_t		 off;
	size_t		 ip_at, count_at;	/* offsets in the template */
};

#define GEN_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feedback>"\
	"<version>1.0</version><report_metadata><org_name>google.com"	\
	"</org_name><email>noreply-dmarc-support@google.com</email>"	\
	"<report_id>gen-1</report_id><date_range><begin>1700000000"	\
	"</begin><end>1700086399</end></date_range></report_metadata>"	\
	"<policy_published><domain>example.com</domain><adkim>r</adkim>"\
	"<aspf>r</aspf><p>none</p><sp>none</sp><pct>100</pct>"		\
	"</policy_published>\n"
#define GEN_REC "<record><row><source_ip>10.100.100.100</source_ip>"	\
	"<count>0000000</count><policy_evaluated><disposition>none"	\
	"</disposition><dkim>pass</dkim><spf>pass</spf>"		\
	"</policy_evaluated></row><identifiers><header_from>example.com"\
	"</header_from><envelope_from>bounce.example.com</envelope_from>"\
	"</identifiers><auth_results><dkim><domain>example.com</domain>"\
	"<selector>s1</selector><result>pass</result></dkim><dkim>"	\
	"<domain>esp.example.net</domain><selector>k2</selector><result>"\
	"pass</result></dkim><spf><domain>bounce.example.com</domain>"	\
	"<scope>mfrom</scope><result>pass</result></spf></auth_results>"\
	"</record>\n"

/* Write v as exactly w decimal digits at s. */
static void
put_digits(char *s, uint32_t v, int w)
{
	while (w-- > 0) {
		s[w] = (char)('0' + v % 10);
		v /= 10;
	}
}

static ssize_t
gen_read(void *arg, char *out, size_t len, char **cause)
{
	struct gen	*g = arg;
	size_t		 n;

	(void)cause;
	while (g->off == g->len) {
		g->off = 0;
		if (g->state == 0) {
			g->len = strlen(GEN_HEAD);
			memcpy(g->buf, GEN_HEAD, g->len);
			g->state = 1;
		} else if (g->state == 1 && g->i < g->n) {
			if (g->i == 0) {
				g->len = strlen(GEN_REC);
				memcpy(g->buf, GEN_REC, g->len);
				g->ip_at = (size_t)(strstr(g->buf, "10.100") -
				    g->buf) + 3;
				g->count_at = (size_t)(strstr(g->buf,
				    "0000000") - g->buf);
			}
			put_digits(g->buf + g->ip_at, 100 + g->i / 24336 % 156,
			    3);
			put_digits(g->buf + g->ip_at + 4, 100 + g->i / 156 %
			    156, 3);
			put_digits(g->buf + g->ip_at + 8, 100 + g->i % 156, 3);
			put_digits(g->buf + g->count_at, 1000000 + g->i % 7, 7);
			g->i++;
		} else if (g->state == 1) {
			g->len = strlen("</feedback>\n");
			memcpy(g->buf, "</feedback>\n", g->len);
			g->state = 2;
		} else
			return (0);
	}
	n = g->len - g->off;
	if (n > len)
		n = len;
	memcpy(out, g->buf + g->off, n);
	g->off += n;
	return ((ssize_t)n);
}

struct stream_seen {
	uint64_t	 records;
	int64_t		 messages;
	uint32_t	 bad;
	uint32_t	 end_records;
	int64_t		 end_messages;
};

static int
st_head(const struct report_head *h, void *arg, char **cause)
{
	struct stream_seen	*s = arg;

	(void)cause;
	if (strcmp(h->report_id, "gen-1") != 0)
		s->bad++;
	return (0);
}

static int
st_records(const struct report_record *r, size_t n, void *arg, char **cause)
{
	struct stream_seen	*s = arg;
	size_t			 i;

	(void)cause;
	for (i = 0; i < n; i++) {
		/* Spot checks: the numbers patched in came out. */
		if (r[i].ord != s->records + 1 || r[i].ndkim != 2 ||
		    r[i].nspf != 1 || r[i].message_count !=
		    (int64_t)(1000000 + s->records % 7) ||
		    r[i].count_raw != NULL || r[i].source_ip == NULL ||
		    r[i].source_ip_raw != NULL || r[i].nwarnings != 0 ||
		    strcmp(r[i].dkim[1].domain, "esp.example.net") != 0)
			s->bad++;
		s->messages += r[i].message_count;
		s->records++;
	}
	return (0);
}

static int
st_end(const struct report_head *h, void *arg, char **cause)
{
	struct stream_seen	*s = arg;

	(void)cause;
	s->end_records = h->record_count;
	s->end_messages = h->message_total;
	return (0);
}

/*
 * A 1,000,000-record report streams through in bounded memory.  Run first
 * in main(), so the process peak is the parser's.  Under sanitizers or
 * valgrind the memory is not asserted and fewer records are parsed.
 */
static void
test_stream(void)
{
	static const struct report_callbacks cbs = {
		st_head, st_records, st_end
	};
	struct report_limits	 lim;
	struct stream_seen	 s;
	struct gen		 g;
	struct timespec		 t0, t1;
	struct rusage		 ru;
	enum report_status	 st;
	const char		*pre;
	char			*cause = NULL;
	double			 secs;
	int64_t			 want_msgs = 0;
	uint32_t		 i;
	int			 sanitized;

	pre = getenv("LD_PRELOAD");
	sanitized = TST_SANITIZED || getenv("RUNNING_ON_VALGRIND") != NULL ||
	    (pre != NULL && strstr(pre, "vgpreload") != NULL);
	memset(&g, 0, sizeof g);
	g.n = sanitized ? 20000 : 1000000;
	for (i = 0; i < g.n; i++)
		want_msgs += 1000000 + i % 7;
	memset(&s, 0, sizeof s);
	report_limits_default(&lim);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	st = report_parse_xml(gen_read, &g, &lim, &cbs, &s, NULL, &cause);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	getrusage(RUSAGE_SELF, &ru);
	CHECK_INT(st, REPORT_OK);
	CHECK(cause == NULL);
	CHECK_INT(s.records, g.n);
	CHECK_INT(s.end_records, g.n);
	CHECK_INT(s.messages, want_msgs);
	CHECK_INT(s.end_messages, want_msgs);
	CHECK_INT(s.bad, 0);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("tst_report: streamed %" PRIu32 " records in %.2f s "
	    "(%.0f records/s), peak RSS %ld KiB%s\n", g.n, secs,
	    secs > 0 ? g.n / secs : 0.0, ru.ru_maxrss,
	    sanitized ? " (sanitizer/valgrind: memory not asserted)" : "");
	if (!sanitized)
		CHECK(ru.ru_maxrss < 64 * 1024);
	free(cause);
}

/* Parse data with lim (mode, max_text, max_recover set by the caller). */
static enum report_status
parse_lim(const char *data, size_t len, struct report_limits *lim,
    size_t *consumed, struct coll *c, char **cause)
{
	struct mem		 m;
	enum report_status	 st;
	int			 retry = -1;

	memset(&m, 0, sizeof m);
	m.data = data;
	m.len = len;
	memset(c, 0, sizeof *c);
	c->flatten = 1;
	*cause = NULL;
	st = report_parse_xml(mem_read, &m, lim, &callbacks, c, &retry,
	    cause);
	if (st == REPORT_INVALID && *cause != NULL &&
	    strstr(*cause, "(max_") != NULL)
		CHECK_INT(retry, 0);
	*consumed = m.off;
	return (st);
}

/* len bytes of comments, then a few new lines (NUL-terminated). */
static char *
filler(size_t len)
{
	static const char	 c[] = "<!-- filler -->";
	char			*s;
	size_t			 i;

	s = xmalloc(len + 1);
	memset(s, '\n', len);
	for (i = 0; i + 2 * sizeof c < len; i += sizeof c - 1)
		memcpy(s + i, c, sizeof c - 1);
	s[len] = '\0';
	return (s);
}

/* max_text: every kind of over-long text, refused while reading. */
static void
test_max_text(void)
{
	static const struct {
		const char	*name;
		const char	*before, *fill, *between, *after;
		size_t		 n1, n2;	/* fill repeats */
		const char	*cause;
		int		 early;		/* stops before the end */
	} t[] = {
		{ "text", "<feedback><report_metadata><org_name>", "a", "",
		  "</org_name>", 70000, 0,
		  "text of <org_name> longer than 65536 bytes (max_text)", 1 },
		{ "text with CDATA", "<feedback><report_metadata><org_name>",
		  "a", "<![CDATA[b]]>", "</org_name>", 40000, 40000,
		  "text of <org_name> longer than 65536 bytes (max_text)", 1 },
		{ "text of nested elements",
		  "<feedback><report_metadata><org_name><x>", "a",
		  "</x><y>", "</y></org_name></report_metadata>",
		  40000, 40000,
		  "text of <org_name> longer than 65536 bytes (max_text)", 0 },
		{ "attribute", "<feedback><report_metadata>"
		  "<extra_contact_info lang=\"", "a", "", "\">x"
		  "</extra_contact_info>", 70000, 0,
		  "attribute value in <extra_contact_info> longer than "
		  "65536 bytes (max_text)", 1 },
		{ "comment", "<feedback><report_metadata><!--", "a", "",
		  "-->", 70000, 0,
		  "comment in <report_metadata> longer than 65536 bytes "
		  "(max_text)", 1 },
		{ "extension", "<feedback xmlns:v=\"urn:v\"><report_metadata>"
		  "<v:big><a>", "a", "</a><b>", "</b></v:big>"
		  "</report_metadata>", 40000, 40000,
		  "element <big> kept as extension is longer than 65536 "
		  "bytes as XML (max_text)", 0 },
	};
	struct report_limits	 lim;
	struct coll		 c;
	enum report_status	 st;
	char			*doc, *cause, *tail;
	size_t			 i, j, len, off, used, tlen;
	int			 before;

	/* 1 MiB after the long value: reading must stop well before. */
	tlen = 1024 * 1024;
	tail = filler(tlen);
	memcpy(tail + tlen - 12, "</feedback>\n", 12);
	tail[tlen] = '\0';
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		before = tst_failures;
		len = strlen(t[i].before) + t[i].n1 + strlen(t[i].between) +
		    t[i].n2 + strlen(t[i].after) + MD_PP_LEN + tlen;
		doc = xmalloc(len + 1);
		off = 0;
#define PUT(s, n) do { memcpy(doc + off, s, n); off += n; } while (0)
		PUT(t[i].before, strlen(t[i].before));
		for (j = 0; j < t[i].n1; j++)
			doc[off++] = *t[i].fill;
		PUT(t[i].between, strlen(t[i].between));
		for (j = 0; j < t[i].n2; j++)
			doc[off++] = *t[i].fill;
		PUT(t[i].after, strlen(t[i].after));
		PUT(MD_PP, MD_PP_LEN);
		PUT(tail, tlen);
#undef PUT
		doc[off] = '\0';
		report_limits_default(&lim);
		st = parse_lim(doc, off, &lim, &used, &c, &cause);
		CHECK_INT(st, REPORT_INVALID);
		CHECK_STR(cause, t[i].cause);
		CHECK_STR(c.calls, "");
		if (t[i].early)
			CHECK(used < 128 * 1024);
		if (tst_failures != before)
			fprintf(stderr, "  ^ max_text case %s: read %zu of "
			    "%zu\n", t[i].name, used, off);
		free(cause);
		coll_free(&c);
		/* A larger max_text lets the same document through. */
		if (strcmp(t[i].name, "extension") == 0) {
			lim.max_text = 200000;
			st = parse_lim(doc, off, &lim, &used, &c, &cause);
			CHECK_INT(st, REPORT_INVALID);
			CHECK_STR(cause, "missing report_metadata/report_id");
			free(cause);
			coll_free(&c);
		}
		free(doc);
	}
	free(tail);
	report_limits_default(&lim);
	CHECK_INT(lim.max_text, 65536);
	CHECK_INT(lim.max_recover, 32 * 1024 * 1024);
	CHECK_INT(lim.max_records, 10000000);
	CHECK_INT(lim.max_results, 100);
	CHECK_INT(lim.batch, 1000);
}

/* max_recover: recover mode stops reading one byte past the cap. */
static void
test_max_recover(void)
{
	static const char	 broken[] = "<?xml version=\"1.0\"?>\n"
	    "<feedback>" MD PP REC("1.2.3.4", "1") "<junk>";
	struct report_limits	 lim;
	struct coll		 c;
	enum report_status	 st;
	char			*doc, *cause, *fill;
	size_t			 len, used;

	len = 4 * 1024 * 1024;
	fill = filler(len - strlen(broken));
	xasprintf(&doc, "%s%s", broken, fill);
	free(fill);
	doc[len] = '\0';
	report_limits_default(&lim);
	lim.mode = REPORT_RECOVER;
	lim.max_recover = 100000;
	st = parse_lim(doc, len, &lim, &used, &c, &cause);
	CHECK_INT(st, REPORT_INVALID);
	CHECK_STR(cause, "too large to recover (over 100000 bytes, "
	    "max_recover)");
	CHECK_INT(used, 100001);
	CHECK_STR(c.calls, "");
	free(cause);
	coll_free(&c);
	/* An input of exactly max_recover bytes is recovered. */
	lim.max_recover = strlen(broken);
	st = parse_lim(broken, strlen(broken), &lim, &used, &c, &cause);
	CHECK_INT(st, REPORT_OK);
	if (st != REPORT_OK)
		fprintf(stderr, "  recover under the cap: %s\n", cause);
	CHECK_STR(c.calls, "H R1 E");
	CHECK(strstr(coll_get(&c, "h.warn0"), "recovered: ") != NULL);
	free(cause);
	coll_free(&c);
	/* Strict mode streams and has no such cap. */
	lim.mode = REPORT_STRICT;
	lim.max_recover = 100000;
	st = parse_lim(doc, len, &lim, &used, &c, &cause);
	CHECK_INT(st, REPORT_INVALID);
	CHECK(cause != NULL && strstr(cause, "too large") == NULL);
	free(cause);
	coll_free(&c);
	free(doc);
}

/*
 * External entities, parameter entities, external DTDs and XInclude, in
 * every mode: refused, and nothing of the file shows up anywhere.
 */
static void
test_xxe_marker(void)
{
	static const char *const docs[] = {
		"<?xml version=\"1.0\"?>\n<!DOCTYPE feedback [<!ENTITY x "
		"SYSTEM \"file://%s\">]>\n<feedback><report_metadata>"
		"<org_name>&x;</org_name><report_id>&x;</report_id>"
		"<date_range><begin>1</begin><end>2</end></date_range>"
		"</report_metadata>" PP "</feedback>",
		"<?xml version=\"1.0\"?>\n<!DOCTYPE feedback [<!ENTITY %% p "
		"SYSTEM \"file://%s\"> %%p;]>\n<feedback>" MD PP
		"</feedback>",
		"<?xml version=\"1.0\"?>\n<!DOCTYPE feedback SYSTEM "
		"\"file://%s\">\n<feedback>" MD PP "</feedback>",
		"<?xml version=\"1.0\"?>\n<feedback xmlns:xi=\"http://www.w3."
		"org/2001/XInclude\">" MD PP "<record><row><source_ip>1.2.3.4"
		"</source_ip><count>1</count></row><identifiers><header_from>"
		"<xi:include href=\"file://%s\" parse=\"text\"/>"
		"</header_from></identifiers></record></feedback>",
	};
	static const enum report_mode modes[] = {
		REPORT_STRICT, REPORT_WIN1252, REPORT_RECOVER
	};
	struct report_limits	 lim;
	struct coll		 c;
	enum report_status	 st;
	char			 path[] = "/tmp/tst_report.XXXXXX", *doc, *cause;
	const char		*marker = "XXE-MARKER-7f3a";
	size_t			 i, j, k, used;
	int			 fd;

	if ((fd = mkstemp(path)) == -1) {
		CHECK(fd != -1);
		return;
	}
	CHECK(write(fd, marker, strlen(marker)) ==
	    (ssize_t)strlen(marker));
	close(fd);
	for (i = 0; i < sizeof docs / sizeof docs[0]; i++) {
		xasprintf(&doc, docs[i], path);
		for (j = 0; j < sizeof modes / sizeof modes[0]; j++) {
			report_limits_default(&lim);
			lim.mode = modes[j];
			st = parse_lim(doc, strlen(doc), &lim, &used, &c,
			    &cause);
			if (i < 3) {
				CHECK_INT(st, REPORT_INVALID);
				CHECK(cause != NULL &&
				    strstr(cause, "DTD") != NULL);
			} else
				CHECK_INT(st, REPORT_OK);
			CHECK(cause == NULL || strstr(cause, marker) == NULL);
			for (k = 0; k < c.nkv; k++)
				CHECK(strstr(c.kv[k], marker) == NULL);
			free(cause);
			coll_free(&c);
		}
		free(doc);
	}
	unlink(path);
}

/* Read a whole file (capped at 64 MiB); NULL when it cannot. */
static char *
slurp(const char *path, size_t *len)
{
	FILE	*f;
	char	*data;
	size_t	 size = 65536, n;

	if ((f = fopen(path, "rb")) == NULL)
		return (NULL);
	data = xmalloc(size + 1);
	*len = 0;
	while ((n = fread(data + *len, 1, size - *len, f)) > 0) {
		*len += n;
		if (*len == size) {
			if (size >= 64 * 1024 * 1024)
				break;
			size *= 2;
			data = xrealloc(data, size + 1);
		}
	}
	fclose(f);
	data[*len] = '\0';
	return (data);
}

/* $DMARC_CORPUS, else ../shared/corpus next to the source tree. */
static const char *
corpus_dir(void)
{
	static char	 path[1024];
	struct stat	 sb;
	const char	*env, *suffix = "tests/unit/tst_report.c";
	size_t		 len;

	if ((env = getenv("DMARC_CORPUS")) != NULL && *env != '\0')
		return (env);
	if ((env = getenv("top_srcdir")) != NULL) {
		snprintf(path, sizeof path, "%s/../shared/corpus", env);
		if (stat(path, &sb) == 0)
			return (path);
	}
	len = strlen(__FILE__);
	if (len >= strlen(suffix) &&
	    strcmp(__FILE__ + len - strlen(suffix), suffix) == 0) {
		snprintf(path, sizeof path, "%.*s../shared/corpus",
		    (int)(len - strlen(suffix)), __FILE__);
		if (path[0] != '.' && stat(path, &sb) == 0)
			return (path);
	}
	if (stat("../shared/corpus", &sb) == 0)
		return ("../shared/corpus");
	return (NULL);
}

/* The corpus, checked once (tst_corpus): NULL skips the corpus parts. */
static const char *
corpus_found(void)
{
	static const char	*dir;
	static int		 done;

	if (!done) {
		dir = tst_corpus(corpus_dir(), "golden reports and sweep");
		done = 1;
	}
	return (dir);
}

/* Parse as the agent will: strict, then windows-1252, then recover. */
static enum report_status
parse_retry(const char *data, size_t len, struct coll *c, int *mode,
    char **cause)
{
	struct report_limits	 lim;
	struct mem		 m;
	enum report_status	 st = REPORT_INVALID;
	int			 retry = 0, m_, fl;

	*cause = NULL;
	for (m_ = REPORT_STRICT;; m_++) {
		free(*cause);
		*cause = NULL;
		memset(&m, 0, sizeof m);
		m.data = data;
		m.len = len;
		fl = c->flatten;
		coll_free(c);
		c->flatten = fl;
		report_limits_default(&lim);
		lim.mode = (enum report_mode)m_;
		st = report_parse_xml(mem_read, &m, &lim, &callbacks, c,
		    &retry, cause);
		*mode = m_;
		if (st != REPORT_INVALID || !retry || m_ == REPORT_RECOVER)
			break;
	}
	return (st);
}

/*
 * Catalog rows known to be wrong or not usable as they are, each with the
 * status the parser must give.
 */
static const struct {
	const char		*path;
	enum report_status	 want;
	const char		*why;
} corpus_exceptions[] = {
	/*
	 * Fixtures of truncated documents: <report_metadata> is never
	 * closed, and there is no report_id or date_range even after
	 * recovery.  The catalog calls them aggregate reports with 0
	 * records; they cannot be stored, so they are invalid.
	 */
	{ "kimon1230__dmarc_report_reader/tests/fixtures/malformed.xml",
	  REPORT_INVALID, "truncated fixture without report_id" },
	{ "stuartmaxwell__dmarc-report/tests/reports/dmarc-invalid-1.xml",
	  REPORT_INVALID, "truncated fixture without report_id" },
	/*
	 * Fixtures of deliberately invalid reports: one has no date_range,
	 * the other "not-a-number" as begin and end.  Without a reporting
	 * period a report cannot be stored, so they are invalid, not
	 * 1-record aggregate reports as the catalog says.
	 */
	{ "stuartmaxwell__dmarc-report/tests/reports/dmarc-invalid-2.xml",
	  REPORT_INVALID, "fixture without date_range" },
	{ "stuartmaxwell__dmarc-report/tests/reports/dmarc-invalid-3.xml",
	  REPORT_INVALID, "fixture with non-numeric date_range" },
};

/*
 * The sweep's floor: the XML aggregate reports CATALOG.tsv listed when
 * this was written.  An empty or truncated catalog, or a corpus whose
 * files cannot be read, must not pass as a sweep of nothing.
 */
#define CORPUS_MIN_AGGREGATE	93

/* The default of a flattened key that a golden list leaves out. */
static const char *
golden_default(const char *key)
{
	static const char *const numeric[] = {
		"begin", "end", "nerrors", "next", "nwarn", "records",
		"messages", "skipped", "ord", "count", "nreason", "ndkim",
		"nspf", NULL
	};
	const char	*f = strchr(key, '.') + 1;
	size_t		 i;

	if (strcmp(key, "h.pct") == 0)
		return ("-1");
	if (strcmp(key, "h.ppcount") == 0)
		return ("1");
	if (strcmp(f, "idtag") == 0)
		return ("identifiers");
	for (i = 0; numeric[i] != NULL; i++) {
		if (strcmp(f, numeric[i]) == 0)
			return ("0");
	}
	return ("(null)");
}

/* Gunzip (zlib, trailing bytes ignored); NULL on error. */
static char *
gunzip(const char *in, size_t inlen, size_t *outlen)
{
	z_stream	 z;
	char		*out;
	size_t		 size = inlen * 4 + 4096;
	int		 rc;

	memset(&z, 0, sizeof z);
	if (inflateInit2(&z, 15 + 32) != Z_OK)
		return (NULL);
	out = xmalloc(size + 1);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)inlen;
	do {
		if (z.total_out == size) {
			size *= 2;
			out = xrealloc(out, size + 1);
		}
		z.next_out = (Bytef *)out + z.total_out;
		z.avail_out = (uInt)(size - z.total_out);
		rc = inflate(&z, Z_NO_FLUSH);
	} while (rc == Z_OK);
	*outlen = z.total_out;
	inflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(out);
		return (NULL);
	}
	out[*outlen] = '\0';
	return (out);
}

/* Every field of the header, the first and the last record. */
static void
test_golden(void)
{
	const struct golden	*g;
	const char		*dir, *want, *eq;
	char			 path[4096], pre[3][32], *data, *xml, *cause;
	struct coll		 c;
	enum report_status	 st;
	size_t			 i, j, k, len, xlen, npre;
	int			 mode, before, found;

	if ((dir = corpus_found()) == NULL)
		return;
	for (i = 0; i < sizeof goldens / sizeof goldens[0]; i++) {
		g = &goldens[i];
		before = tst_failures;
		snprintf(path, sizeof path, "%s/%s", dir, g->path);
		data = slurp(path, &len);
		CHECK(data != NULL);
		if (data == NULL) {
			fprintf(stderr, "  cannot read %s\n", path);
			continue;
		}
		xml = data;
		xlen = len;
		if (len > 2 && (unsigned char)data[0] == 0x1f &&
		    (unsigned char)data[1] == 0x8b) {
			xml = gunzip(data, len, &xlen);
			CHECK(xml != NULL);
			if (xml == NULL) {
				free(data);
				continue;
			}
		}
		memset(&c, 0, sizeof c);
		c.flatten = 1;
		st = parse_retry(xml, xlen, &c, &mode, &cause);
		CHECK_INT(st, REPORT_OK);
		CHECK_INT(mode, g->mode);
		CHECK_INT(c.bad_order, 0);
		CHECK_INT(c.bad_values, 0);
		snprintf(pre[0], sizeof pre[0], "h.");
		snprintf(pre[1], sizeof pre[1], "r1.");
		snprintf(pre[2], sizeof pre[2], "r%" PRIu32 ".", g->last);
		npre = g->last == 1 ? 2 : 3;
		/* Every listed key was handed out with that value. */
		for (j = 0; g->kv[j] != NULL; j++) {
			eq = strchr(g->kv[j], '=');
			snprintf(path, sizeof path, "%.*s",
			    (int)(eq - g->kv[j]), g->kv[j]);
			CHECK_STR(coll_get(&c, path), eq + 1);
		}
		/* Every other field of those has its default. */
		for (j = 0; j < c.nkv; j++) {
			for (k = 0; k < npre; k++) {
				if (strncmp(c.kv[j], pre[k],
				    strlen(pre[k])) == 0)
					break;
			}
			if (k == npre)
				continue;
			eq = strchr(c.kv[j], '=');
			snprintf(path, sizeof path, "%.*s",
			    (int)(eq - c.kv[j]), c.kv[j]);
			for (found = 0, k = 0; g->kv[k] != NULL; k++) {
				if (strncmp(g->kv[k], path, strlen(path)) ==
				    0 && g->kv[k][strlen(path)] == '=')
					found = 1;
			}
			if (found)
				continue;
			want = golden_default(path);
			CHECK_STR(eq + 1, want);
			if (strcmp(eq + 1, want) != 0)
				fprintf(stderr, "  %s\n", c.kv[j]);
		}
		if (tst_failures != before)
			fprintf(stderr, "  ^ golden %s: status %d, mode %d, "
			    "cause \"%s\"\n", g->path, st, mode, S(cause));
		free(cause);
		coll_free(&c);
		if (xml != data)
			free(xml);
		free(data);
	}
}

static void
test_corpus(void)
{
	const char		*dir, *want_path;
	char			 path[8192], *cat, *line, *next, *f[10], *p;
	char			*data, *cause;
	struct coll		 c;
	enum report_status	 st;
	size_t			 len, nf, exc;
	long			 want_count;
	int			 mode, before, nxml = 0, nok = 0;
	int			 nmode[3] = { 0, 0, 0 };
	int			 ninvalid = 0, nnot = 0;
	int			 nexc = 0, nother = 0, nrecords = 0;
	int			 nlisted = 0, nagg = 0;

	if ((dir = corpus_found()) == NULL)
		return;
	snprintf(path, sizeof path, "%s/CATALOG.tsv", dir);
	cat = slurp(path, &len);
	CHECK(cat != NULL);
	if (cat == NULL) {
		fprintf(stderr, "cannot read %s\n", path);
		return;
	}
	for (line = cat; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		for (nf = 0, p = line; nf < 10 && p != NULL; nf++) {
			f[nf] = p;
			if ((p = strchr(p, '\t')) != NULL)
				*p++ = '\0';
		}
		if (nf < 7 || strcmp(f[0], "path") == 0 ||
		    strcmp(f[2], "xml") != 0)
			continue;
		nlisted += strcmp(f[3], "aggregate") == 0;
		snprintf(path, sizeof path, "%s/%s", dir, f[0]);
		if ((data = slurp(path, &len)) == NULL) {
			CHECK(data != NULL);
			fprintf(stderr, "  cannot read %s\n", path);
			continue;
		}
		nxml++;
		nagg += strcmp(f[3], "aggregate") == 0;
		before = tst_failures;
		memset(&c, 0, sizeof c);
		st = parse_retry(data, len, &c, &mode, &cause);
		for (exc = 0; exc < sizeof corpus_exceptions /
		    sizeof corpus_exceptions[0]; exc++) {
			want_path = corpus_exceptions[exc].path;
			if (strcmp(want_path, f[0]) == 0)
				break;
		}
		CHECK_INT(c.bad_order, 0);
		CHECK_INT(c.bad_values, 0);
		if (exc < sizeof corpus_exceptions /
		    sizeof corpus_exceptions[0]) {
			nexc++;
			CHECK_INT(st, corpus_exceptions[exc].want);
		} else if (strcmp(f[3], "aggregate") == 0) {
			CHECK_INT(st, REPORT_OK);
			CHECK(c.ended);
			if (*f[6] != '\0') {
				want_count = strtol(f[6], NULL, 10);
				CHECK_INT(c.nrecords + c.skipped, want_count);
			}
		} else if (strcmp(f[3], "none") == 0)
			CHECK(st == REPORT_NOT_DMARC || st == REPORT_INVALID);
		if (st == REPORT_OK) {
			nok++;
			nmode[mode]++;
			nrecords += (int)c.nrecords;
		} else if (st == REPORT_INVALID)
			ninvalid++;
		else if (st == REPORT_NOT_DMARC)
			nnot++;
		else
			nother++;
		if (tst_failures != before)
			fprintf(stderr, "  ^ corpus %s (kind %s, catalog count "
			    "%s): status %d in mode %d, %zu records + %u "
			    "skipped, cause \"%s\"\n", f[0], f[3], f[6], st,
			    mode, c.nrecords, c.skipped, S(cause));
		free(cause);
		free(data);
		coll_free(&c);
	}
	free(cat);
	CHECK_INT(nagg, nlisted);
	CHECK(nagg >= CORPUS_MIN_AGGREGATE);
	printf("tst_report: corpus %s: %d xml files (%d of %d listed "
	    "aggregate reports read, floor %d): %d ok (%d strict, %d "
	    "windows-1252, %d recover; %d records), %d invalid, %d not dmarc, "
	    "%d other, %d listed exceptions\n", dir, nxml, nagg, nlisted,
	    CORPUS_MIN_AGGREGATE, nok, nmode[0], nmode[1], nmode[2], nrecords,
	    ninvalid, nnot, nother, nexc);
}

int
main(void)
{
	log_init(LOG_TO_STDERR, 0);
	test_stream();
	test_helpers();
	test_cases();
	test_read_error();
	test_xxe_file();
	test_max_text();
	test_max_recover();
	test_xxe_marker();
	test_corpus();
	test_golden();
	return (TST_DONE());
}
