/*
 * tst_arf.c: failure reports (report/arf.c).
 *
 * Golden values for two ARF reports of the corpus ($DMARC_CORPUS),
 * Exim's plain-text report, text that is no failure report, and hostile
 * input (folding, CRLF, bad bytes, NUL, every cap).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "report/report.h"
#include "tests/tst.h"
#include "tests/unit/tst_src.h"

/* What the callback saw. */
struct got {
	int			 calls;
	int			 ret;		/* what to return */
	char			*fdump;
};

static char	*part(const char *, const char *);
static int	 on_arf(const struct failure_report *, void *, char **);
static void	 test_arf(void);
static void	 test_arf_plain(void);
static void	 test_arf_hostile(void);

static const char *corpus;

/*
 * The body of the first part of a corpus mail whose Content-Type is type
 * (a test helper; mime/ does this for real).
 */
static char *
part(const char *mail, const char *type)
{
	const char	*p, *e;

	if ((p = strcasestr(mail, type)) == NULL)
		return (NULL);
	if ((p = strstr(p, "\n\n")) == NULL)
		return (NULL);
	p += 2;
	/* Up to a boundary line (Exim's "------ This is a copy" is not). */
	for (e = strstr(p, "\n--"); e != NULL && e[3] == '-';
	    e = strstr(e + 1, "\n--"))
		;
	if (e == NULL)
		e = p + strlen(p);
	return (xstrndup(p, (size_t)(e - p + 1)));
}

static int
on_arf(const struct failure_report *r, void *arg, char **cause)
{
	struct got	*g = arg;
	struct buf	 b;
	char		*l;
	size_t		 i;

	(void)cause;
	g->calls++;
	buf_init(&b, 1024 * 1024);
	OUT("format=%s reason=%s type=%s/%s version=%s ua=%s\n", r->format,
	    S(r->reason), S(r->feedback_type), S(r->feedback_type_raw),
	    S(r->version), S(r->user_agent));
	OUT("from=%s envid=%s arrival=%lld/%s ip=%s/%s port=%d\n",
	    S(r->original_mail_from), S(r->original_envelope_id),
	    (long long)r->arrival_date, S(r->arrival_date_raw),
	    S(r->source_ip), S(r->source_ip_raw), r->source_port);
	for (i = 0; i < r->noriginal_rcpt_to; i++)
		OUT("rcpt=%s\n", r->original_rcpt_to[i]);
	for (i = 0; i < r->nreported_domain; i++)
		OUT("domain=%s\n", r->reported_domain[i]);
	for (i = 0; i < r->nauth_failure; i++)
		OUT("auth_failure=%s\n", r->auth_failure[i]);
	for (i = 0; i < r->nidentity_alignment; i++)
		OUT("alignment=%s\n", r->identity_alignment[i]);
	OUT("ar=%s\ndelivery=%s/%s dkim=%s/%s/%s spf=%s\n",
	    S(r->authentication_results), S(r->delivery_result),
	    S(r->delivery_result_raw), S(r->dkim_domain),
	    S(r->dkim_identity), S(r->dkim_selector), S(r->spf_dns));
	OUT("sample from=%s subject=%s msgid=%s headers_only=%d body=%s\n",
	    S(r->original_from), S(r->original_subject),
	    S(r->original_message_id), r->sample_headers_only,
	    r->sample_body != NULL ? "yes" : "no");
	OUT("raw=%s\n", S(r->raw_fields));
	for (i = 0; i < r->nwarnings; i++)
		OUT("warning %s\n", r->warnings[i]);
	free(g->fdump);
	g->fdump = buf_steal(&b, NULL);
	CHECK(r->feedback != NULL);
	CHECK(r->sample_headers != NULL);
	return (g->ret);
}

static const struct arf_callbacks arf_cb = { on_arf };

static const struct {
	const char	*path;
	const char	*orig_type;
	int		 headers_only;
	const char	*want;
} arf_golden[] = {
	{ "stalwartlabs__mail-auth/resources/arf/004.eml",
	  "text/rfc822-headers", 1,
	  "format=arf reason=NULL type=auth-failure/NULL version=1 "
	  "ua=OpenDMARC-Filter/1.3.2\n"
	  "from=info@interpublication.org envid=8BE2660E72 "
	  "arrival=-9223372036854775808/NULL ip=148.163.85.135/"
	  "148.163.85.135 (sainay.interpublication.org) port=-1\n"
	  "domain=interpublication.org\nauth_failure=dmarc\n"
	  "ar=box.mydomain.name; dmarc=fail header.from=interpublication.org"
	  "\ndelivery=NULL/NULL dkim=NULL/NULL/NULL spf=NULL\n"
	  "sample from=\"Rolf Bader\" <info@interpublication.org> "
	  "subject=Wir kaufen dein Auto! msgid=NULL headers_only=1 body=no\n"
	  "raw=[[\"Feedback-Type\",\"auth-failure\"],[\"Version\",\"1\"],"
	  "[\"User-Agent\",\"OpenDMARC-Filter/1.3.2\"],[\"Auth-Failure\","
	  "\"dmarc\"],[\"Authentication-Results\",\"box.mydomain.name; "
	  "dmarc=fail header.from=interpublication.org\"],"
	  "[\"Original-Envelope-Id\",\"8BE2660E72\"],[\"Original-Mail-From\","
	  "\"info@interpublication.org\"],[\"Source-IP\",\"148.163.85.135 "
	  "(sainay.interpublication.org)\"],[\"Reported-Domain\","
	  "\"interpublication.org\"]]\n" },
	{ "domainaware__parsedmarc/samples/failure/DMARC Failure Report for "
	  "domain.de (mail-from=sharepoint@domain.de, ip=10.10.10.10).eml",
	  "message/rfc822", 0,
	  "format=arf reason=NULL type=auth-failure/NULL version=1.0 "
	  "ua=Lua/1.0\n"
	  "from=sharepoint@domain.de envid=NULL arrival=1538385627/"
	  "Mon, 01 Oct 2018 11:20:27 +0200 ip=10.10.10.10/NULL port=-1\n"
	  "rcpt=peter.pan@domain.de\ndomain=domain.de\nauth_failure=dmarc\n"
	  "ar=dmarc=fail (p=none, dis=none) header.from=domain.de\n"
	  "delivery=NULL/smg-policy-action dkim=NULL/NULL/NULL spf=NULL\n"
	  "sample from=\"=?utf-8?B?SW50ZXJha3RpdmUgV2V0dGJld2VyYmVyLcOcYmVy"
	  "c2ljaHQ=?=\" <sharepoint@domain.de> subject=Subject "
	  "msgid=<38.E7.30937.BD6E1BB5@ mailrelay.de> headers_only=0 "
	  "body=yes\n"
	  "raw=[[\"Feedback-Type\",\"auth-failure\"],[\"User-Agent\","
	  "\"Lua/1.0\"],[\"Version\",\"1.0\"],[\"Original-Mail-From\","
	  "\"sharepoint@domain.de\"],[\"Original-Rcpt-To\","
	  "\"peter.pan@domain.de\"],[\"Arrival-Date\",\"Mon, 01 Oct 2018 "
	  "11:20:27 +0200\"],[\"Message-ID\",\"<38.E7.30937.BD6E1BB5@ "
	  "mailrelay.de>\"],[\"Authentication-Results\",\"dmarc=fail "
	  "(p=none, dis=none) header.from=domain.de\"],[\"Source-IP\","
	  "\"10.10.10.10\"],[\"Delivery-Result\",\"smg-policy-action\"],"
	  "[\"Auth-Failure\",\"dmarc\"],[\"Reported-Domain\",\"domain.de\"]]"
	  "\n" }
};

static void
test_arf(void)
{
	struct report_limits	 lim;
	struct arf_input	 in;
	struct src		 s;
	struct got		 g;
	char			*mail, *fb, *orig, *cause;
	size_t			 i, len;

	report_limits_default(&lim);
	for (i = 0; i < sizeof arf_golden / sizeof arf_golden[0]; i++) {
		if ((mail = slurp(corpus, arf_golden[i].path, &len)) == NULL)
			continue;
		fb = part(mail, "Content-Type: message/feedback-report");
		orig = part(mail, arf_golden[i].orig_type);
		CHECK(fb != NULL && orig != NULL);
		memset(&in, 0, sizeof in);
		in.report_type = "feedback-report";
		in.original = orig;
		in.original_len = orig != NULL ? strlen(orig) : 0;
		in.headers_only = arf_golden[i].headers_only;
		in.store_body = !in.headers_only;
		memset(&s, 0, sizeof s);
		s.data = fb != NULL ? fb : "";
		s.len = strlen(s.data);
		s.chunk = 5;
		memset(&g, 0, sizeof g);
		cause = NULL;
		CHECK_INT(st(report_parse_arf(src_read, &s, &in, &lim, &arf_cb,
		    &g, &cause)), REPORT_OK);
		CHECK_STR(cause, NULL);
		CHECK_INT(g.calls, 1);
		CHECK_STR(g.fdump, arf_golden[i].want);
		free(g.fdump);
		free(fb);
		free(orig);
		free(mail);
	}
}

/* Exim's plain-text report, and text that is no failure report. */
static void
test_arf_plain(void)
{
	struct report_limits	 lim;
	struct arf_input	 in;
	struct src		 s;
	struct got		 g;
	char			*mail, *text, *cause = NULL;
	size_t			 len;

	report_limits_default(&lim);
	mail = slurp(corpus, "domainaware__parsedmarc/samples/failure/"
	    "exim_plain_text_only_no_arf_part.eml", &len);
	if (mail == NULL)
		return;
	text = part(mail, "Content-Type: text/plain");
	CHECK(text != NULL);
	memset(&in, 0, sizeof in);
	in.plain = 1;
	in.text = text;
	in.text_len = text != NULL ? strlen(text) : 0;
	memset(&s, 0, sizeof s);
	s.data = text != NULL ? text : "";
	s.len = strlen(s.data);
	memset(&g, 0, sizeof g);
	CHECK_INT(st(report_parse_arf(src_read, &s, &in, &lim, &arf_cb, &g,
	    &cause)), REPORT_OK);
	CHECK(g.fdump != NULL && strstr(g.fdump, "format=plain reason=no "
	    "message/feedback-report part: fields read from the text type="
	    "NULL/NULL") != NULL);
	CHECK(g.fdump != NULL && strstr(g.fdump, "arrival=1744060569/Mon, "
	    "07 Apr 2025 23:16:09 +0200 ip=203.0.113.68/NULL") != NULL);
	CHECK(g.fdump != NULL && strstr(g.fdump, "domain=example.com\n") !=
	    NULL);
	CHECK(g.fdump != NULL && strstr(g.fdump, "sample from=<user@example."
	    "com> subject=Payment from your account. msgid=<134117F8-2145-"
	    "AECE-9CCA-25FC98731341@example.com> headers_only=1") != NULL);
	CHECK(g.fdump != NULL && strstr(g.fdump, "[\"DMARC Results\","
	    "\"None, Accept\"]") != NULL);
	free(g.fdump);
	free(text);
	free(mail);

	memset(&s, 0, sizeof s);
	s.data = "Your message could not be delivered.\n";
	s.len = strlen(s.data);
	memset(&g, 0, sizeof g);
	CHECK_INT(st(report_parse_arf(src_read, &s, &in, &lim, &arf_cb, &g,
	    &cause)), REPORT_NOT_DMARC);
	CHECK_STR(cause, "text is not a DMARC failure report");
	free(cause);
	CHECK_INT(g.calls, 0);
}

/* Folding, CRLF, bad bytes, NUL, caps. */
static void
test_arf_hostile(void)
{
	struct report_limits	 lim;
	struct arf_input	 in;
	struct src		 s;
	struct got		 g;
	struct buf		 b;
	char			*cause = NULL;
	int			 i;

	report_limits_default(&lim);
	memset(&in, 0, sizeof in);
	in.original = "Subject: a\r\n b\r\n\r\nbody\r\n";
	in.original_len = strlen(in.original);
	memset(&s, 0, sizeof s);
	s.data = "Feedback-Type: Auth-Failure\r\nAuth-Failure: dkim, spf\r\n"
	    "Identity-Alignment: DKIM,spf\r\nSource-Port: 99999\r\n"
	    "DKIM-Domain: A.Example.\r\nReported-URI: x\r\n"
	    "User-Agent: a\r\n\tb\xff\r\nnot a field\r\n";
	s.len = strlen(s.data) + 1;	/* with its NUL */
	memset(&g, 0, sizeof g);
	CHECK_INT(st(report_parse_arf(src_read, &s, &in, &lim, &arf_cb, &g,
	    &cause)), REPORT_OK);
	CHECK(g.fdump != NULL && strstr(g.fdump, "type=auth-failure/"
	    "Auth-Failure version=NULL ua=a b\xef\xbf\xbd\n") != NULL);
	CHECK(g.fdump != NULL && strstr(g.fdump, "auth_failure=spf\n"
	    "alignment=dkim\nalignment=spf\n") != NULL);
	CHECK(g.fdump != NULL && strstr(g.fdump, "dkim=a.example/") != NULL);
	CHECK(g.fdump != NULL && strstr(g.fdump, "subject=a b ") != NULL);
	CHECK(g.fdump != NULL && strstr(g.fdump, "body=no") != NULL);
	CHECK(g.fdump != NULL && strstr(g.fdump, "[\"User-Agent\",\"a\\n\\tb"
	    "\xef\xbf\xbd\"]") != NULL);
	CHECK(g.fdump != NULL && strstr(g.fdump, "warning Source-Port not "
	    "kept: 99999") != NULL);
	CHECK(g.fdump != NULL && strstr(g.fdump, "warning not a field: not "
	    "a field") != NULL);
	free(g.fdump);

	/* No field at all. */
	memset(&s, 0, sizeof s);
	s.data = "\n\n";
	s.len = 2;
	CHECK_INT(st(report_parse_arf(src_read, &s, &in, &lim, &arf_cb, &g,
	    &cause)), REPORT_NOT_DMARC);
	free(cause);
	cause = NULL;

	/* Too many fields; a field over max_text; over max_json. */
	buf_init(&b, 1024 * 1024);
	for (i = 0; i < 1001; i++)
		buf_add(&b, "X-A: b\n", 7);
	memset(&s, 0, sizeof s);
	s.data = b.data;
	s.len = b.len;
	CHECK_INT(st(report_parse_arf(src_read, &s, &in, &lim, &arf_cb, &g,
	    &cause)), REPORT_INVALID);
	CHECK_STR(cause, "more than 1000 fields");
	free(cause);
	cause = NULL;
	lim.max_text = 10;
	memset(&s, 0, sizeof s);
	s.data = "X-A: 0123456789\n";
	s.len = strlen(s.data);
	CHECK_INT(st(report_parse_arf(src_read, &s, &in, &lim, &arf_cb, &g,
	    &cause)), REPORT_INVALID);
	CHECK_STR(cause, "a field longer than 10 bytes (max_text)");
	free(cause);
	cause = NULL;
	lim.max_json = 100;
	memset(&s, 0, sizeof s);
	s.data = b.data;
	s.len = b.len;
	CHECK_INT(st(report_parse_arf(src_read, &s, &in, &lim, &arf_cb, &g,
	    &cause)), REPORT_INVALID);
	CHECK_STR(cause, "failure report over 100 bytes (max_json)");
	free(cause);
	buf_free(&b);
}

int
main(void)
{
	log_init(LOG_TO_STDERR, 0);
	if ((corpus = getenv("DMARC_CORPUS")) == NULL)
		corpus = "../shared/corpus";
	corpus = tst_corpus(corpus, "ARF golden parts");
	if (corpus != NULL) {
		test_arf();
		test_arf_plain();
	}
	test_arf_hostile();
	return (TST_DONE());
}
