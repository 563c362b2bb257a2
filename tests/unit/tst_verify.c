/*
 * tst_verify.c: the pure parts of verify/: header fields,
 * Authentication-Results (RFC 8601) and which of them is trusted, From
 * domains (duplicates, groups, comments), alignment on organisational
 * domains, the reporter's domain and whether it authenticated the mail,
 * key records; then verify_message without a DNS server: an unsigned
 * mail, and a signed one whose key lookup goes to a UDP socket that never
 * answers (temperror in bounded time, cached: the second message asks
 * nothing).  Signatures checked against real keys are
 * tests/server/dkim.test's, with a real unbound.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/common.h"
#include "verify/verify.h"
#include "verify/verify_p.h"
#include "tests/tst.h"

static void	test_fields(void);
static void	test_ar(void);
static void	test_from(void);
static void	test_align(void);
static void	test_reporter(void);
static void	test_key(void);
static void	test_unsigned(void);
static void	test_silent(void);
static int	count_field(const char *, size_t, const char *, size_t,
		    void *);

static const struct {
	const char	*in;
	int		 ok;
	const char	*id, *dkim, *dkim_domain, *spf, *dmarc, *dmarc_from;
} ars[] = {
	{ "mx.example.net; dkim=pass header.d=google.com header.s=20230601; "
	  "spf=pass smtp.mailfrom=google.com; dmarc=pass (p=REJECT) "
	  "header.from=google.com", 1, "mx.example.net", "pass", "google.com",
	  "pass", "pass", "google.com" },
	/* RFC 8601 appendix B.3's shape, with a version and comments. */
	{ " MX.Example.NET 1 (a comment; with ; inside); "
	  "spf=pass smtp.mailfrom=example.net (spf (nested) comment)",
	  1, "mx.example.net", NULL, NULL, "pass", NULL, NULL },
	{ "mx.example.net; none", 1, "mx.example.net", NULL, NULL, NULL,
	  NULL, NULL },
	/* A fail first, then a pass: the pass and its domain win. */
	{ "mx.example.net; dkim=fail header.d=evil.test; "
	  "dkim=pass header.i=@Yahoo.COM", 1, "mx.example.net", "pass",
	  "yahoo.com", NULL, NULL, NULL },
	{ "\"quoted.id\"; dkim = pass header . d = \"a.test\"", 1,
	  "quoted.id", "pass", "a.test", NULL, NULL, NULL },
	{ "mx; dkim/1=neutral reason=\"no key\"; dmarc=fail "
	  "header.from=x.test", 1, "mx", "neutral", NULL, NULL, "fail",
	  "x.test" },
	/* Junk between results is skipped, the rest is read. */
	{ "mx; ===; =pass; spf=softfail", 1, "mx", NULL, NULL, "softfail",
	  NULL, NULL },
	{ "", 0, NULL, NULL, NULL, NULL, NULL, NULL },
	{ "  (only a comment)  ", 0, NULL, NULL, NULL, NULL, NULL, NULL },
	{ "; dkim=pass", 0, NULL, NULL, NULL, NULL, NULL, NULL },
};

static const struct {
	const char	*in;
	const char	*domain;
	int		 naddr;
} froms[] = {
	{ " noreply-dmarc-support@google.com", "google.com", 1 },
	{ " \"Google\" <noreply-dmarc-support@Google.COM.>", "google.com", 1 },
	{ " DMARC (a@evil.test) <dmarc@yahoo.com>", "yahoo.com", 1 },
	{ " \"a@evil.test, x\" <r@b.test>", "b.test", 1 },
	{ " a@one.test, b@two.test", NULL, 2 },
	{ " reports: a@one.test;", NULL, 1 },
	{ " nobody", NULL, 1 },
	{ " x@[192.0.2.1]", NULL, 1 },
	{ " x@bad..test", NULL, 1 },
	{ " x@-ok.test", "-ok.test", 1 },
};

static const struct {
	const char	*from, *d;
	int		 aligned;
} aligns[] = {
	{ "google.com", "google.com", 2 },
	{ "google.com", "mail.google.com", 1 },
	{ "a.b.example.co.uk", "example.co.uk", 1 },
	{ "example.co.uk", "other.co.uk", 0 },
	{ "evil.test", "google.com", 0 },
	{ "github.io", "x.github.io", 0 },	/* private suffix */
	{ NULL, "google.com", 0 },
};

static const struct {
	const char	*email, *org_name;
	const char	*auth[3];
	int		 any_fail;
	const char	*failed;	/* a failing signature's d= */
	const char	*reporter;
	enum verify_authenticity want;
} reporters[] = {
	{ "noreply-dmarc-support@google.com", "google.com",
	  { "google.com" }, 0, NULL, "google.com", VERIFY_VERIFIED },
	/* A subdomain signs for the organisation. */
	{ "dmarc@mail.yahoo.com", "Yahoo", { "yahoo.com" }, 0, NULL,
	  "yahoo.com", VERIFY_VERIFIED },
	{ "x@reports.example.co.uk", NULL, { "mx.example.co.uk" }, 0, NULL,
	  "example.co.uk", VERIFY_VERIFIED },
	/* The org_name names it when the email does not. */
	{ "dmarc@ms-relay.test", "microsoft.com", { "microsoft.com" }, 0,
	  NULL, "ms-relay.test", VERIFY_VERIFIED },
	/* Claims google.com, signed by another domain. */
	{ "noreply-dmarc-support@google.com", "google.com", { "evil.test" },
	  0, NULL, "google.com", VERIFY_FORGED },
	{ "noreply-dmarc-support@google.com", "google.com", { NULL }, 1,
	  "evil.test", "google.com", VERIFY_FORGED },
	/* The reporter's pass wins over a third party's failure. */
	{ "noreply-dmarc-support@google.com", NULL, { "esp.test",
	  "google.com" }, 1, "esp.test", "google.com", VERIFY_VERIFIED },
	{ "noreply-dmarc-support@google.com", NULL, { NULL }, 0, NULL,
	  "google.com", VERIFY_UNVERIFIED },
	/* A public suffix is no organisation. */
	{ "a@co.uk", NULL, { "evil.co.uk" }, 0, NULL, "co.uk",
	  VERIFY_FORGED },
	{ NULL, "Enterprise Outlook", { NULL }, 0, NULL, NULL,
	  VERIFY_UNVERIFIED },
	{ NULL, "Enterprise Outlook", { "outlook.com" }, 0, NULL, NULL,
	  VERIFY_FORGED },
	/* The trusted header says pass, the reporter's signature fails now:
	   the body changed since it was signed. */
	{ "noreply-dmarc-support@google.com", NULL, { "google.com" }, 1,
	  "mail.google.com", "google.com", VERIFY_FORGED },
};

static int
count_field(const char *name, size_t nlen, const char *field, size_t len,
    void *arg)
{
	char	*out = arg;
	size_t	 n = strlen(out);

	snprintf(out + n, 512 - n, "[%.*s|%zu]", (int)nlen, name, len);
	return (0);
}

static void
test_fields(void)
{
	static const char	 m1[] = "From x  \r\nFrom: a@b.test\r\n"
	    "Subject: one\r\n two\r\nX-Bad line\r\n\r\nbody\r\n";
	static const char	 m2[] = "A: 1\nB : 2\n\tmore\n\nbody";
	static const char	 m3[] = "A: no body at all";
	char			 out[512];
	size_t			 body;

	out[0] = '\0';
	body = verify_fields(m1, sizeof m1 - 1, count_field, out);
	CHECK_STR(out, "[From|14][Subject|18]");
	CHECK_STR(m1 + body, "body\r\n");
	out[0] = '\0';
	body = verify_fields(m2, sizeof m2 - 1, count_field, out);
	CHECK_STR(out, "[A|4][B|11]");
	CHECK_STR(m2 + body, "body");
	out[0] = '\0';
	body = verify_fields(m3, sizeof m3 - 1, count_field, out);
	CHECK_STR(out, "[A|17]");
	CHECK_INT(body, sizeof m3 - 1);
}

static void
test_ar(void)
{
	struct verify_ar	 ar;
	char			 id0[] = "mx.example.net", id1[] = "other";
	char			*ids[] = { id0, id1 };
	size_t			 i;
	int			 rc;

	for (i = 0; i < nitems(ars); i++) {
		rc = verify_ar_parse(ars[i].in, &ar);
		CHECK_INT(rc == 0, ars[i].ok);
		if (rc != 0)
			continue;
		CHECK_STR(ar.id, ars[i].id);
		CHECK_STR(ar.dkim, ars[i].dkim);
		CHECK_STR(ar.dkim_domain, ars[i].dkim_domain);
		CHECK_STR(ar.spf, ars[i].spf);
		CHECK_STR(ar.dmarc, ars[i].dmarc);
		CHECK_STR(ar.dmarc_from, ars[i].dmarc_from);
		CHECK_INT(verify_ar_is_trusted(&ar, ids, 2),
		    strcmp(ars[i].id, "mx.example.net") == 0);
		CHECK_INT(verify_ar_is_trusted(&ar, ids, 0), 0);
		verify_ar_free(&ar);
	}
}

static void
test_from(void)
{
	char	*d;
	size_t	 i;
	int	 n;

	for (i = 0; i < nitems(froms); i++) {
		n = -1;
		d = verify_from_domain(froms[i].in, &n);
		CHECK_STR(d, froms[i].domain);
		CHECK_INT(n, froms[i].naddr);
		free(d);
	}
}

static void
test_align(void)
{
	psl_ctx_t	*psl = psl_latest(NULL);
	const psl_ctx_t	*p = psl != NULL ? psl : psl_builtin();
	size_t		 i;

	for (i = 0; i < nitems(aligns); i++)
		CHECK_INT(verify_align(p, aligns[i].from, aligns[i].d),
		    aligns[i].aligned);
	psl_free(psl);
}

static void
test_reporter(void)
{
	struct verify_opts	 o;
	struct verify_result	 r;
	struct verify_sig	 sig;
	struct verify		*v;
	char			*cause = NULL, *rep, *auth[3];
	size_t			 i, j;

	memset(&o, 0, sizeof o);
	if ((v = verify_new(&o, &cause)) == NULL) {
		fprintf(stderr, "verify_new: %s\n", cause);
		CHECK(0);
		return;
	}
	for (i = 0; i < nitems(reporters); i++) {
		memset(&r, 0, sizeof r);
		for (j = 0; j < 3 && reporters[i].auth[j] != NULL; j++)
			auth[j] = (char *)reporters[i].auth[j];
		r.auth_domains = auth;
		r.nauth = j;
		r.any_fail = reporters[i].any_fail;
		memset(&sig, 0, sizeof sig);
		sig.result = VERIFY_SIG_FAIL;
		sig.domain = (char *)reporters[i].failed;
		r.sigs = &sig;
		r.nsigs = sig.domain != NULL ? 1 : 0;
		rep = NULL;
		CHECK_STR(verify_authenticity_name(verify_reporter(v, &r,
		    reporters[i].email, reporters[i].org_name, &rep)),
		    verify_authenticity_name(reporters[i].want));
		CHECK_STR(rep, reporters[i].reporter);
		free(rep);
	}
	verify_free(v);
}

static void
test_key(void)
{
	char	 hex[65], *p;

	p = verify_key_p("v=DKIM1; k=rsa; p=MIIB IjAN\t Bg;");
	CHECK_STR(p, "MIIBIjANBg");
	free(p);
	p = verify_key_p("v=DKIM1; h=sha256; p=");
	CHECK_STR(p, "");
	free(p);
	p = verify_key_p("v=DKIM1; pp=x");
	CHECK_STR(p, NULL);
	free(p);
	CHECK_INT(verify_key_sha256("v=DKIM1; p=", hex, sizeof hex), -1);
	CHECK_INT(verify_key_sha256("v=DKIM1; p=abc", hex, sizeof hex), 0);
	/* SHA-256 of "abc" (FIPS 180-2 appendix B.1). */
	CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb41"
	    "0ff61f20015ad");
}

static void
test_unsigned(void)
{
	static const char	 m[] = "From: a@google.com\r\nFrom: b@evil.test"
	    "\r\nAuthentication-Results: evil.test; dkim=pass "
	    "header.d=google.com\r\nAuthentication-Results: mx.example.net; "
	    "dkim=none; spf=pass smtp.mailfrom=google.com; dmarc=pass "
	    "header.from=google.com\r\nAuthentication-Results: "
	    "mx.example.net; dkim=pass header.d=late.test\r\n\r\nbody\r\n";
	static const char	*ids[] = { "MX.example.net" };
	struct verify_opts	 o;
	struct verify_result	 r;
	struct verify		*v;
	char			*cause = NULL, *rep = NULL;

	memset(&o, 0, sizeof o);
	o.trusted_ids = ids;
	o.ntrusted = 1;
	if ((v = verify_new(&o, &cause)) == NULL) {
		CHECK(0);
		return;
	}
	verify_message(v, m, sizeof m - 1, &r);
	CHECK_INT(r.nsigs, 0);
	CHECK_INT(r.sigs_seen, 0);
	CHECK_INT(r.from_count, 2);
	CHECK_STR(r.from_domain, NULL);
	/* The untrusted header first, then the trusted one; not the
	   second trusted one. */
	CHECK_STR(r.ar_id, "mx.example.net");
	CHECK_STR(r.ar_dkim, "none");
	CHECK_STR(r.ar_dmarc, "pass");
	CHECK_STR(r.ar_dkim_domain, NULL);
	CHECK_STR(r.ar_dmarc_from, "google.com");
	/* Two From fields: no DMARC pass, whatever the header says. */
	CHECK_STR(verify_dmarc_name(r.dmarc), "fail");
	CHECK_INT(r.nauth, 1);
	CHECK_STR(verify_authenticity_name(verify_reporter(v, &r,
	    "noreply-dmarc-support@google.com", "google.com", &rep)),
	    "verified");
	free(rep);
	CHECK_STR(r.detail, "2 From fields");
	verify_result_free(&r);
	verify_free(v);
}

static int
udp_socket(int *port)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;
	int			fd;

	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
		return (-1);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) != 0) {
		close(fd);
		return (-1);
	}
	*port = ntohs(sin.sin_port);
	return (fd);
}

static double
secs(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/*
 * A signature whose key lookup never answers: temperror after the
 * per-lookup timeout, and a second message with the same key asks nothing
 * (negative cache); 40 signatures cost max_signatures lookups at most,
 * within the message budget.
 */
static void
test_silent(void)
{
	static const char	 sig[] = "DKIM-Signature: v=1; a=rsa-sha256; "
	    "c=relaxed/relaxed; d=slow.test; s=sel; h=from; bh=47DEQpj8HBSa+/"
	    "TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA\r\n";
	struct verify_opts	 o;
	struct verify_result	 r;
	struct verify		*v;
	struct buf		 b;
	char			 addr[64], *cause = NULL, *m;
	double			 t0, t;
	size_t			 len, i;
	int			 fd, port;

	if ((fd = udp_socket(&port)) == -1) {
		CHECK(0);
		return;
	}
	snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
	memset(&o, 0, sizeof o);
	o.resolver = addr;
	o.timeout_ms = 300;
	o.budget_ms = 1000;
	o.max_signatures = 4;
	if ((v = verify_new(&o, &cause)) == NULL) {
		fprintf(stderr, "verify_new: %s\n", cause);
		CHECK(0);
		close(fd);
		return;
	}
	buf_init(&b, 1 << 20);
	buf_add(&b, sig, sizeof sig - 1);
	buf_add(&b, "From: a@slow.test\r\n\r\nbody\r\n", 27);
	m = buf_steal(&b, &len);
	t0 = secs();
	verify_message(v, m, len, &r);
	t = secs() - t0;
	CHECK(t >= 0.25 && t < 0.9);
	CHECK_INT(r.nsigs, 1);
	if (r.nsigs == 1) {
		CHECK_STR(verify_sig_result_name(r.sigs[0].result),
		    "temperror");
		CHECK_STR(r.sigs[0].error, "key lookup timed out");
		CHECK_STR(r.sigs[0].domain, "slow.test");
		CHECK_STR(r.sigs[0].selector, "sel");
	}
	CHECK_STR(verify_dmarc_name(r.dmarc), "none");
	verify_result_free(&r);
	t0 = secs();
	verify_message(v, m, len, &r);
	CHECK(secs() - t0 < 0.2);
	CHECK_INT(v->lookups, 1);
	CHECK_INT(v->hits, 1);
	verify_result_free(&r);
	free(m);

	/* 40 signatures of distinct selectors: 4 checked, in the budget. */
	buf_init(&b, 1 << 20);
	for (i = 0; i < 40; i++) {
		char	*s;

		xasprintf(&s, "DKIM-Signature: v=1; a=rsa-sha256; d=slow.test;"
		    " s=k%zu; h=from; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3h"
		    "SuFU=; b=AAAA\r\n", i);
		buf_add(&b, s, strlen(s));
		free(s);
	}
	buf_add(&b, "From: a@slow.test\r\n\r\nbody\r\n", 27);
	m = buf_steal(&b, &len);
	t0 = secs();
	verify_message(v, m, len, &r);
	t = secs() - t0;
	CHECK(t < 1.5);
	CHECK_INT(r.sigs_seen, 40);
	CHECK_INT(r.nsigs, 4);
	CHECK(r.detail != NULL && strstr(r.detail,
	    "36 signature(s) past the first 4 not checked") != NULL);
	verify_result_free(&r);
	free(m);
	verify_free(v);
	close(fd);
}

int
main(void)
{
	test_fields();
	test_ar();
	test_from();
	test_align();
	test_reporter();
	test_key();
	test_unsigned();
	test_silent();
	return (TST_DONE());
}
