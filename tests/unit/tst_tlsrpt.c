/*
 * tst_tlsrpt.c: SMTP TLS reports (report/tlsrpt.c); failure reports have
 * tst_arf.c.
 *
 * Golden values for a Google, a Microsoft and a Mail.ru TLS report from
 * the corpus ($DMARC_CORPUS), the quirks (mx-host as
 * a string, counts as strings, unknown types, punycode, a start time
 * without a time zone), hostile JSON (deep nesting, huge numbers, a
 * 100 MB string produced on the fly), and every TLS report of the corpus
 * with its number of policies from CATALOG.tsv.
 */
#include "config.h"

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "common/common.h"
#include "report/report.h"
#include "tests/tst.h"
#include "tests/unit/tst_src.h"

/* What the callback saw. */
struct got {
	int			 calls;
	int			 ret;		/* what to return */
	struct tlsrpt_report	 r;		/* deep copy of some fields */
	char			*dump;
};

static ssize_t	 gen_read(void *, char *, size_t, char **);
static char	*dump_tls(const struct tlsrpt_report *);
static int	 on_tls(const struct tlsrpt_report *, void *, char **);
static int	 parse_str(const char *, struct got *, char **);
static int	 parse_file(const char *, struct got *, char **);
static void	 test_golden(void);
static void	 test_quirks(void);
static void	 test_hostile(void);
static void	 test_corpus(void);

static const char *corpus;

/* {"organization-name":"xxxx...  (gen bytes of x), never closed. */
static ssize_t
gen_read(void *arg, char *buf, size_t len, char **cause)
{
	static const char	 head[] = "{\"organization-name\":\"";
	struct src		*s = arg;
	size_t			 n;

	(void)cause;
	if (s->given == 0 && len >= sizeof head - 1) {
		memcpy(buf, head, sizeof head - 1);
		s->given = sizeof head - 1;
		return ((ssize_t)(sizeof head - 1));
	}
	if (s->given - (sizeof head - 1) >= s->gen)
		return (0);
	n = len;
	if (n > s->gen - (s->given - (sizeof head - 1)))
		n = (size_t)(s->gen - (s->given - (sizeof head - 1)));
	memset(buf, 'x', n);
	s->given += n;
	return ((ssize_t)n);
}


/* One line per fact, to compare with a golden text. */
static char *
dump_tls(const struct tlsrpt_report *r)
{
	struct buf	 b;
	char		*l;
	size_t		 i, j, k;

	buf_init(&b, 1024 * 1024);
	OUT("org=%s contact=%s id=%s\n", S(r->organization_name),
	    S(r->contact_info), S(r->report_id));
	OUT("dates=%lld..%lld raw=%s..%s\n", (long long)r->date_begin,
	    (long long)r->date_end, S(r->begin_raw), S(r->end_raw));
	OUT("totals=%lld/%lld extra=%s\n", (long long)r->successful_total,
	    (long long)r->failed_total, S(r->extra));
	for (i = 0; i < r->npolicies; i++) {
		const struct tlsrpt_policy *p = &r->policies[i];

		OUT("policy %zu type=%s/%s domain=%s ok=%lld/%s fail=%lld/%s"
		    " mxstr=%d extra=%s\n", i + 1, S(p->policy_type),
		    S(p->policy_type_raw), S(p->policy_domain),
		    (long long)p->successful_sessions, S(p->successful_raw),
		    (long long)p->failed_sessions, S(p->failed_raw),
		    p->mx_host_string, S(p->extra));
		for (j = 0; j < p->npolicy_string; j++)
			OUT("  string %s\n", p->policy_string[j]);
		for (j = 0; j < p->nmx_host; j++)
			OUT("  mx %s\n", p->mx_host[j]);
		for (k = 0; k < p->nfailures; k++) {
			const struct tlsrpt_failure *f = &p->failures[k];

			OUT("  failure %zu %s/%s mta=%s/%s mx=%s helo=%s "
			    "ip=%s/%s n=%lld/%s info=%s code=%s extra=%s\n",
			    k + 1, S(f->result_type), S(f->result_type_raw),
			    S(f->sending_mta_ip), S(f->sending_mta_ip_raw),
			    S(f->receiving_mx_hostname),
			    S(f->receiving_mx_helo), S(f->receiving_ip),
			    S(f->receiving_ip_raw),
			    (long long)f->failed_session_count,
			    S(f->failed_session_count_raw),
			    S(f->additional_information),
			    S(f->failure_reason_code), S(f->extra));
		}
	}
	for (i = 0; i < r->nwarnings; i++)
		OUT("warning %s\n", r->warnings[i]);
	return (buf_steal(&b, NULL));
}

static int
on_tls(const struct tlsrpt_report *r, void *arg, char **cause)
{
	struct got	*g = arg;

	(void)cause;
	g->calls++;
	free(g->dump);
	g->dump = dump_tls(r);
	g->r.npolicies = r->npolicies;
	g->r.successful_total = r->successful_total;
	g->r.failed_total = r->failed_total;
	if (g->ret == -1)
		*cause = xstrdup("store failed");
	return (g->ret);
}

static const struct tlsrpt_callbacks tls_cb = { on_tls };

static int
parse_str(const char *json, struct got *g, char **cause)
{
	struct report_limits	lim;
	struct src		s;

	memset(&s, 0, sizeof s);
	s.data = json;
	s.len = strlen(json);
	s.chunk = 7;
	report_limits_default(&lim);
	return (st(report_parse_tlsrpt(src_read, &s, &lim, &tls_cb, g,
	    cause)));
}


static int
parse_file(const char *rel, struct got *g, char **cause)
{
	struct report_limits	 lim;
	struct src		 s;
	int			 rc;
	char			*data;
	size_t			 len;

	if ((data = slurp(corpus, rel, &len)) == NULL)
		return (REPORT_INVALID);
	memset(&s, 0, sizeof s);
	s.data = data;
	s.len = len;
	s.chunk = 1000;
	report_limits_default(&lim);
	rc = st(report_parse_tlsrpt(src_read, &s, &lim, &tls_cb, g, cause));
	free(data);
	return (rc);
}

static const struct {
	const char	*path;
	const char	*want;
} golden[] = {
	{ "cry-inc__dmarc-report-viewer/testdata/smtp-tls-reports/"
	  "google.json",
	  "org=Google Inc. contact=smtp-tls-reporting@google.com "
	  "id=2025-05-22T00:00:00Z_foo-bar.io\n"
	  "dates=1747872000..1747958399 raw=NULL..NULL\n"
	  "totals=1/0 extra=NULL\n"
	  "policy 1 type=sts/NULL domain=foo-bar.io ok=1/NULL fail=0/NULL "
	  "mxstr=0 extra=NULL\n"
	  "  string version: STSv1\n  string mode: enforce\n"
	  "  string mx: *.foo-bar.io\n  string max_age: 2592000\n"
	  "  mx *.foo-bar.io\n" },
	{ "cry-inc__dmarc-report-viewer/testdata/smtp-tls-reports/"
	  "microsoft.json",
	  "org=Microsoft Corporation contact=tlsrpt-noreply@microsoft.com "
	  "id=133925885310113267+random.net\n"
	  "dates=1747958400..1748044799 raw=NULL..NULL\n"
	  "totals=4/0 extra=NULL\n"
	  "policy 1 type=sts/NULL domain=random.net ok=2/NULL fail=0/NULL "
	  "mxstr=0 extra=NULL\n"
	  "  string version: STSv1\n  string mode: enforce\n"
	  "  string mx: *.random.net\n  string max_age: 2592000\n"
	  "policy 2 type=tlsa/NULL domain=random.net ok=2/NULL fail=0/NULL "
	  "mxstr=0 extra=NULL\n"
	  "  string [\"3 1 1 6007EEE553E85D8DF007A845D19EC343283D4E416E9A33F9"
	  "EF3040C8B7C285BC\",\"3 1 1 837C773D54C2E2BD71871A3FC352BE8214D564"
	  "6CBAE5E3091401A7274717998B\"]\n" },
	{ "domainaware__parsedmarc/samples/smtp_tls/mail.ru.json",
	  "org=Mail.ru contact=tls_support@corp.mail.ru "
	  "id=b28254de-7b2e-be36-bb5c-4c3b92da8b25@mail.ru\n"
	  "dates=1708560000..1708646400 raw=NULL..NULL\n"
	  "totals=0/1 extra=NULL\n"
	  "policy 1 type=sts/NULL domain=example.com ok=0/NULL fail=1/NULL "
	  "mxstr=0 extra=NULL\n"
	  "  failure 1 sts-policy-fetch-error/NULL mta=NULL/NULL mx=NULL "
	  "helo=NULL ip=NULL/NULL n=1/NULL info=NULL "
	  "code=bad https response code: 404 extra=NULL\n"
	  "  failure 2 sts-policy-fetch-error/NULL mta=NULL/NULL mx=NULL "
	  "helo=NULL ip=NULL/NULL n=1/NULL info=NULL "
	  "code=bad https response code: 500 extra=NULL\n" },
	/* Counts as strings, unknown type and result type, a domain with
	   capitals and a dot, policy-string as a string. */
	{ "dmarc-analyzer-net__DmarcAnalyzerApp/src/api.tests/Fixtures/"
	  "sample-lenient-tls.json",
	  "org=Quirky Reporter contact=NULL id=quirky-001\n"
	  "dates=1785628800..1785715199 raw=2026-08-02T00:00:00+00:00.."
	  "2026-08-02T23:59:59+00:00\n"
	  "totals=43/7 extra=NULL\n"
	  "policy 1 type=sts/STS domain=acme.example ok=42/42 fail=7/7 "
	  "mxstr=0 extra=NULL\n"
	  "  string version: STSv1\n"
	  "  failure 1 NULL/quantum-handshake-flux mta=192.0.2.1/NULL "
	  "mx=NULL helo=NULL ip=NULL/NULL n=5/5 info=NULL code=NULL "
	  "extra=NULL\n"
	  "  failure 2 certificate-expired/NULL mta=NULL/NULL "
	  "mx=mx1.acme.example helo=NULL ip=NULL/NULL n=0/NULL info=NULL "
	  "code=NULL extra=NULL\n"
	  "policy 2 type=sts/NULL domain= ok=1/NULL fail=0/NULL mxstr=0 "
	  "extra=NULL\n"
	  "warning policy-string is a string, not a list\n"
	  "warning total-successful-session-count is a string: \"42\"\n"
	  "warning total-failure-session-count is a string: \"7\"\n"
	  "warning failed-session-count is a string: \"5\"\n"
	  "warning unknown result-type \"quantum-handshake-flux\" kept as is\n"
	  "warning a failure detail without failed-session-count\n"
	  "warning a policy without policy-domain\n" },
	/* mx-host as a string, a punycode domain, IPv6 not canonical. */
	{ "robalexdev__tlsrpt-be/app/cmd/mail/testing.json",
	  "org=Company-X contact=sts-reporting@company-x.example "
	  "id=report-id-of-report-over-email-1234\n"
	  "dates=1459468800..1459555199 raw=NULL..NULL\n"
	  "totals=5326/303 extra=NULL\n"
	  "policy 1 type=sts/NULL domain=xn--gpher-jua.test ok=5326/NULL "
	  "fail=303/NULL mxstr=1 extra=NULL\n"
	  "  string version: STSv1\n  string mode: testing\n"
	  "  string mx: *.mail.company-y.example\n  string max_age: 86400\n"
	  "  mx *.mail.company-y.example\n"
	  "  failure 1 certificate-expired/NULL mta=2001:db8:abcd:12::1/"
	  "2001:db8:abcd:0012::1 mx=mx1.mail.company-y.example helo=NULL "
	  "ip=NULL/NULL n=100/NULL info=NULL code=NULL extra=NULL\n"
	  "  failure 2 starttls-not-supported/NULL mta=2001:db8:abcd:13::1/"
	  "2001:db8:abcd:0013::1 mx=mx2.mail.company-y.example helo=NULL "
	  "ip=203.0.113.56/NULL n=200/NULL info=https://reports.company-x."
	  "example/report_info ? id = 5065427 c - 23 d3# "
	  "StarttlsNotSupported  code=NULL extra=NULL\n"
	  "  failure 3 validation-failure/NULL mta=198.51.100.62/NULL "
	  "mx=mx-backup.mail.company-y.example helo=NULL ip=203.0.113.58/NULL"
	  " n=3/NULL info=NULL code=X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED "
	  "extra=NULL\n" },
	/* The same report gzip'd (decompressed by the test). */
	{ "marcbradshaw__mail-tls-rpt/t/data/report.json.gz", NULL }
};

static void
test_golden(void)
{
	struct got	 g;
	char		*cause;
	size_t		 i;

	for (i = 0; i < sizeof golden / sizeof golden[0]; i++) {
		memset(&g, 0, sizeof g);
		cause = NULL;
		CHECK_INT(parse_file(golden[i].path, &g, &cause), REPORT_OK);
		if (cause != NULL)
			fprintf(stderr, "%s: %s\n", golden[i].path, cause);
		CHECK_INT(g.calls, 1);
		if (golden[i].want != NULL)
			CHECK_STR(g.dump, golden[i].want);
		else
			CHECK(g.dump != NULL && strstr(g.dump,
			    "org=Google Inc.") != NULL &&
			    strstr(g.dump, "type=no-policy-found") != NULL);
		free(g.dump);
		free(cause);
	}
}

static const struct {
	const char		*what;
	const char		*json;
	enum report_status	 st;
	const char		*want;		/* in the dump or the cause */
} quirks[] = {
	{ "no time zone (Microsoft, 2023)",
	  "{\"organization-name\":\"Microsoft Corporation\",\"date-range\":"
	  "{\"start-datetime\":\"2023-01-10T00:00:00\",\"end-datetime\":"
	  "\"2023-01-10T23:59:59Z\"},\"report-id\":\"133198585438131172+"
	  "test.xmox.nl\",\"policies\":[{\"policy\":{\"policy-type\":"
	  "\"sts\",\"policy-domain\":\"test.xmox.nl\"},\"summary\":"
	  "{\"total-successful-session-count\":2,"
	  "\"total-failure-session-count\":0}}]}", REPORT_OK,
	  "dates=1673308800..1673395199 raw=2023-01-10T00:00:00..NULL\n" },
	{ "no time zone: the warning",
	  "{\"organization-name\":\"M\",\"date-range\":"
	  "{\"start-datetime\":\"2023-01-10T00:00:00\",\"end-datetime\":"
	  "\"2023-01-10T23:59:59Z\"},\"report-id\":\"x\",\"policies\":[]}",
	  REPORT_OK, "warning start-datetime \"2023-01-10T00:00:00\" has no "
	  "time zone: read as UTC\n" },
	{ "offset and fraction",
	  "{\"organization-name\":\"M\",\"date-range\":"
	  "{\"start-datetime\":\"2023-01-10T02:00:00.123+02:00\","
	  "\"end-datetime\":\"2023-01-10t23:59:59z\"},\"report-id\":\"x\","
	  "\"policies\":[]}", REPORT_OK, "dates=1673308800..1673395199 "
	  "raw=2023-01-10T02:00:00.123+02:00..2023-01-10t23:59:59z\n" },
	{ "unknown members kept",
	  "{\"organization-name\":\"M\",\"x-a\":[1,\"\\u0000\"],"
	  "\"date-range\":{\"start-datetime\":\"2023-01-10T00:00:00Z\","
	  "\"end-datetime\":\"2023-01-10T23:59:59Z\",\"tz\":\"UTC\"},"
	  "\"report-id\":\" x \",\"policies\":[{\"policy\":{\"policy-type\":"
	  "\"tlsa\",\"policy-domain\":\"A.test.\",\"mx-host-pattern\":\"y\"},"
	  "\"summary\":{\"total-successful-session-count\":1e400,"
	  "\"total-failure-session-count\":99999999999999999999999},"
	  "\"failure-details\":[{\"result-type\":\"dane-required\","
	  "\"receiving-mx-helo\":\" MX.A.test \",\"additional-info-uri\":"
	  "\"u\",\"receiving-ip\":\"not-an-ip\"}]}]}", REPORT_OK,
	  "totals=0/0 extra={\"x-a\":[1,\"\\ufffd\"],\"date-range.tz\":"
	  "\"UTC\"}\npolicy 1 type=tlsa/NULL domain=a.test ok=0/1e400 "
	  "fail=0/18446744073709551615 mxstr=0 extra={\"policy.mx-host-"
	  "pattern\":\"y\"}\n  failure 1 dane-required/NULL mta=NULL/NULL "
	  "mx=NULL helo=MX.A.test ip=NULL/not-an-ip n=0/NULL info=NULL "
	  "code=NULL extra={\"additional-info-uri\":\"u\"}\n" },
	{ "report-id trimmed", "{\"organization-name\":\" O \",\"date-range\""
	  ":{\"start-datetime\":\"2023-01-10\",\"end-datetime\":"
	  "\"2023-01-11\"},\"report-id\":\" x \",\"policies\":[]}", REPORT_OK,
	  "org=O contact=NULL id=x\n" },
	{ "not a TLS report: a list", "[1, 2]", REPORT_NOT_DMARC,
	  "not an SMTP TLS report" },
	{ "not a TLS report: other object", "{\"feedback\": 1}",
	  REPORT_NOT_DMARC, "not an SMTP TLS report" },
	{ "a bare number", "12", REPORT_NOT_DMARC, "not an SMTP TLS report" },
	{ "empty", "", REPORT_INVALID, "empty JSON" },
	{ "truncated", "{\"organization-name\": \"x\"", REPORT_INVALID,
	  "ends too early" },
	{ "trailing data", "{\"organization-name\":\"x\"} {}",
	  REPORT_INVALID, "data after the JSON text" },
	{ "no report-id", "{\"organization-name\":\"x\",\"date-range\":"
	  "{\"start-datetime\":\"2023-01-10T00:00:00Z\",\"end-datetime\":"
	  "\"2023-01-10T23:59:59Z\"},\"policies\":[]}", REPORT_INVALID,
	  "no report-id" },
	{ "no date-range", "{\"organization-name\":\"x\",\"report-id\":\"r\","
	  "\"policies\":[]}", REPORT_INVALID, "no date-range" },
	{ "bad date", "{\"organization-name\":\"x\",\"report-id\":\"r\","
	  "\"date-range\":{\"start-datetime\":\"yesterday\",\"end-datetime\":"
	  "\"2023-01-10T23:59:59Z\"},\"policies\":[]}", REPORT_INVALID,
	  "start-datetime is not a date and time: yesterday" },
	{ "policies not a list", "{\"organization-name\":\"x\","
	  "\"report-id\":\"r\",\"policies\":3}", REPORT_INVALID,
	  "policies is not a list" },
	{ "not UTF-8", "{\"organization-name\":\"\xff\"}", REPORT_INVALID,
	  "JSON: " },
	{ "BOM", "\xef\xbb\xbf{\"organization-name\":\"x\",\"report-id\":"
	  "\"r\",\"date-range\":{\"start-datetime\":\"2023-01-10T00:00:00Z\","
	  "\"end-datetime\":\"2023-01-10T23:59:59Z\"}}", REPORT_OK,
	  "warning no policies\n" },
};

static void
test_quirks(void)
{
	struct got	 g;
	char		*cause;
	size_t		 i;
	int		 rc;

	for (i = 0; i < sizeof quirks / sizeof quirks[0]; i++) {
		memset(&g, 0, sizeof g);
		cause = NULL;
		rc = parse_str(quirks[i].json, &g, &cause);
		tst_checks++;
		if (rc != (int)quirks[i].st || (rc == REPORT_OK ?
		    g.dump == NULL || strstr(g.dump, quirks[i].want) == NULL :
		    cause == NULL || strstr(cause, quirks[i].want) == NULL)) {
			tst_failures++;
			fprintf(stderr, "%s: status %d, want %d; got:\n%s%s\n"
			    "want: %s\n", quirks[i].what, rc,
			    (int)quirks[i].st, g.dump ? g.dump : "",
			    cause ? cause : "", quirks[i].want);
		}
		CHECK_INT(g.calls, rc == REPORT_OK ? 1 : 0);
		free(g.dump);
		free(cause);
	}

	/* The callback's answers. */
	memset(&g, 0, sizeof g);
	g.ret = 1;
	cause = NULL;
	CHECK_INT(parse_str(quirks[0].json, &g, &cause), REPORT_DUPLICATE);
	CHECK_STR(cause, NULL);
	free(g.dump);
	g.dump = NULL;
	g.ret = -1;
	CHECK_INT(parse_str(quirks[0].json, &g, &cause), REPORT_ABORTED);
	CHECK_STR(cause, "store failed");
	free(cause);
	free(g.dump);
}

/* Deep nesting, a 100 MB string, many entries: refused within the caps. */
static void
test_hostile(void)
{
	struct report_limits	 lim;
	struct src		 s;
	struct got		 g;
	char			*deep, *cause = NULL;
	size_t			 n = 100000, i;

	memset(&g, 0, sizeof g);
	deep = xmalloc(n + 1);
	memset(deep, '[', n);
	deep[n] = '\0';
	CHECK_INT(parse_str(deep, &g, &cause), REPORT_INVALID);
	CHECK(cause != NULL && strstr(cause, "nesting") != NULL);
	free(cause);
	cause = NULL;
	/* Objects too. */
	for (i = 0; i + 5 < n; i += 5)
		memcpy(deep + i, "{\"a\":", 5);
	deep[i] = '\0';
	CHECK_INT(parse_str(deep, &g, &cause), REPORT_INVALID);
	CHECK(cause != NULL && strstr(cause, "nesting") != NULL);
	free(cause);
	cause = NULL;
	free(deep);

	/* 100 MB string: stops at max_json (16 MiB), not at the end. */
	memset(&s, 0, sizeof s);
	s.gen = 100 * 1000 * 1000;
	report_limits_default(&lim);
	CHECK_INT(st(report_parse_tlsrpt(gen_read, &s, &lim, &tls_cb, &g,
	    &cause)), REPORT_INVALID);
	CHECK_STR(cause, "JSON over 16777216 bytes (max_json)");
	CHECK(s.given <= REPORT_MAX_JSON + 65536);
	free(cause);
	cause = NULL;
	/* With a cap above the JSON, the string cap (max_text) refuses it. */
	memset(&s, 0, sizeof s);
	s.gen = 1000 * 1000;
	CHECK_INT(st(report_parse_tlsrpt(gen_read, &s, &lim, &tls_cb, &g,
	    &cause)), REPORT_INVALID);
	CHECK(cause != NULL && strstr(cause, "ends too early") != NULL);
	free(cause);
	cause = NULL;

	/* Entries over max_records. */
	lim.max_records = 2;
	memset(&s, 0, sizeof s);
	s.data = "{\"organization-name\":\"x\",\"report-id\":\"r\","
	    "\"policies\":[{},{},{}]}";
	s.len = strlen(s.data);
	CHECK_INT(st(report_parse_tlsrpt(src_read, &s, &lim, &tls_cb, &g,
	    &cause)), REPORT_INVALID);
	CHECK_STR(cause, "more than 2 policies and failure details "
	    "(max_records)");
	free(cause);
	cause = NULL;
	/* A string over max_text. */
	report_limits_default(&lim);
	lim.max_text = 4;
	memset(&s, 0, sizeof s);
	s.data = "{\"organization-name\":\"12345\"}";
	s.len = strlen(s.data);
	CHECK_INT(st(report_parse_tlsrpt(src_read, &s, &lim, &tls_cb, &g,
	    &cause)), REPORT_INVALID);
	CHECK_STR(cause, "organization-name longer than 4 bytes (max_text)");
	free(cause);
	CHECK_INT(g.calls, 0);
}

/* Every TLS report of the corpus: parsed, with its number of policies. */
static void
test_corpus(void)
{
	FILE		*f;
	struct got	 g;
	char		*path, line[8192], *fld[10], *p, *cause;
	int		 nf, files = 0;

	xasprintf(&path, "%s/CATALOG.tsv", corpus);
	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "cannot open %s\n", path);
		tst_failures++;
		free(path);
		return;
	}
	free(path);
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		for (nf = 0, p = line; nf < 10 && p != NULL; nf++)
			fld[nf] = strsep(&p, "\t");
		if (nf < 9 || strcmp(fld[3], "tlsrpt") != 0 ||
		    (strcmp(fld[2], "json") != 0 && strcmp(fld[2], "gz") != 0))
			continue;
		memset(&g, 0, sizeof g);
		cause = NULL;
		files++;
		tst_checks++;
		if (parse_file(fld[0], &g, &cause) != REPORT_OK ||
		    g.r.npolicies != strtoul(fld[6], NULL, 10)) {
			tst_failures++;
			fprintf(stderr, "%s: %s, %zu policies (catalog: %s)\n",
			    fld[0], cause ? cause : "parsed", g.r.npolicies,
			    fld[6]);
		}
		free(cause);
		free(g.dump);
	}
	fclose(f);
	CHECK(files >= 20);
}

int
main(void)
{
	log_init(LOG_TO_STDERR, 0);
	if ((corpus = getenv("DMARC_CORPUS")) == NULL)
		corpus = "../shared/corpus";
	corpus = tst_corpus(corpus, "golden and corpus parts");
	if (corpus != NULL)
		test_golden();
	test_quirks();
	test_hostile();
	if (corpus != NULL)
		test_corpus();
	return (TST_DONE());
}
