/*
 * tst_deliver.c: the pure functions of deliver/: quoted-printable, the
 * Subject's folding and RFC 2047 encoding, the whole message, and the
 * webhook's HMAC-SHA256 signature (RFC 4231 test vectors).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "deliver/deliver.h"
#include "tests/tst.h"

static void	test_qp(void);
static void	test_header(void);
static void	test_message(void);
static void	test_signature(void);
static int	lines_within(const char *, size_t);

/* Whether every CRLF-ended line of s is at most max bytes. */
static int
lines_within(const char *s, size_t max)
{
	const char	*e;

	for (; *s != '\0'; s = e + 2) {
		if ((e = strstr(s, "\r\n")) == NULL)
			return (strlen(s) <= max);
		if ((size_t)(e - s) > max)
			return (0);
	}
	return (1);
}

static void
test_qp(void)
{
	static const struct {
		const char	*in, *want;
	} t[] = {
		{ "plain text\n", "plain text\r\n" },
		{ "a=b\n", "a=3Db\r\n" },
		{ "trailing space \nend", "trailing space=20\r\nend\r\n" },
		{ "tab\t\n", "tab=09\r\n" },
		{ "caf\xc3\xa9\n", "caf=C3=A9\r\n" },
		{ "crlf\r\nkept\r\n", "crlf\r\nkept\r\n" },
		{ "lone\rcr\n", "lone=0Dcr\r\n" },
		{ ".\n", ".\r\n" },		/* curl dot-stuffs, not QP */
		{ "", "" }
	};
	char	*q, *long_in;
	size_t	 i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		q = deliver_qp(t[i].in);
		CHECK_STR(q, t[i].want);
		free(q);
	}
	/* A long line: soft breaks, no line over 76, nothing lost. */
	long_in = xmalloc(301);
	memset(long_in, 'x', 300);
	long_in[299] = '=';
	long_in[300] = '\0';
	q = deliver_qp(long_in);
	CHECK(lines_within(q, 76));
	CHECK(strstr(q, "=\r\n") != NULL);
	CHECK(strlen(q) == 299 + 3 + 3 * 4 + 2);	/* =3D, 4 soft breaks */
	free(q);
	free(long_in);
}

static void
test_header(void)
{
	static const struct {
		const char	*in, *want;
	} t[] = {
		{ "[dmarc-agent] plain", "[dmarc-agent] plain" },
		/* Control characters, CR LF first, become spaces. */
		{ "a\r\nBcc: x@y\tz", "a  Bcc: x@y z" },
		{ "caf\xc3\xa9", "=?UTF-8?B?Y2Fmw6k=?=" },
		{ "=?x?=", "=?UTF-8?B?PT94Pz0=?=" },
		{ "bad \xff byte", "bad ? byte" }
	};
	char	*h, *long_in;
	size_t	 i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		h = deliver_header_encode(t[i].in, 9);
		CHECK_STR(h, t[i].want);
		free(h);
	}
	/* Folded at spaces: the first line after "Subject: ", 78 at most. */
	long_in = xstrdup("[dmarc-agent] 4 alerts: Approved sender failing DMARC"
	    " for freitagsrunde.org: domain esp.example.net (25.0% pass), and"
	    " 3 more");
	h = deliver_header_encode(long_in, 9);
	CHECK_STR(h, "[dmarc-agent] 4 alerts: Approved sender failing DMARC"
	    " for\r\n freitagsrunde.org: domain esp.example.net (25.0% pass),"
	    " and 3 more");
	free(h);
	free(long_in);
	/* Non-ASCII over several words, each whole characters. */
	long_in = xstrdup("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9");
	h = deliver_header_encode(long_in, 9);
	CHECK_STR(h, "=?UTF-8?B?w6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDq"
	    "cOpw6nDqcOp?=\r\n =?UTF-8?B?w6nDqcOpw6k=?=");
	CHECK(lines_within(h, 78 - 9));
	free(h);
	free(long_in);
}

static void
test_message(void)
{
	const char		*to[] = { "a@example.com", "b@example.org" };
	struct deliver_mail	 m;
	struct deliver_message	 msg;
	char			*s;
	size_t			 len;

	memset(&m, 0, sizeof m);
	m.from = "agent@example.net";
	m.to = to;
	m.nto = 2;
	msg.subject = "Hello\r\nBcc: evil@example.com";
	msg.text = "line one\nline two\n";
	msg.html = "<p>hi</p>\n";
	s = deliver_message_build(&m, &msg, 1700000000, 0x1234abcd, &len);
	CHECK(len == strlen(s));
	CHECK(strncmp(s, "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
	    "From: dmarc-agent <agent@example.net>\r\n"
	    "To: a@example.com,\r\n b@example.org\r\n"
	    "Subject: Hello  Bcc: evil@example.com\r\n"
	    "Message-ID: <1700000000.1234abcd.dmarc-agent@example.net>\r\n"
	    "MIME-Version: 1.0\r\nAuto-Submitted: auto-generated\r\n",
	    strlen("Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
	    "From: dmarc-agent <agent@example.net>\r\n"
	    "To: a@example.com,\r\n b@example.org\r\n"
	    "Subject: Hello  Bcc: evil@example.com\r\n"
	    "Message-ID: <1700000000.1234abcd.dmarc-agent@example.net>\r\n"
	    "MIME-Version: 1.0\r\nAuto-Submitted: auto-generated\r\n")) == 0);
	CHECK(strstr(s, "Content-Type: multipart/alternative;\r\n boundary="
	    "\"=_dmarc-agent_1234abcd_1700000000\"\r\n") != NULL);
	CHECK(strstr(s, "\r\n--=_dmarc-agent_1234abcd_1700000000\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
	    "line one\r\nline two\r\n") != NULL);
	CHECK(strstr(s, "Content-Type: text/html; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
	    "<p>hi</p>\r\n") != NULL);
	CHECK(len > 41 && strcmp(s + len - 41,
	    "\r\n--=_dmarc-agent_1234abcd_1700000000--\r\n") == 0);
	CHECK(lines_within(s, 78));
	/* No bare CR or LF anywhere. */
	CHECK(strstr(s, "\n\n") == NULL);
	free(s);
	msg.html = NULL;
	s = deliver_message_build(&m, &msg, 1700000000, 1, &len);
	CHECK(strstr(s, "multipart") == NULL);
	CHECK(strstr(s, "\r\nContent-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\nline one\r\n")
	    != NULL);
	free(s);
}

/* RFC 4231 §4.2 and §4.3: HMAC-SHA-256 test cases 1 and 2. */
static void
test_signature(void)
{
	unsigned char	key1[20];
	char		sig[DELIVER_SIG_LEN + 1];

	memset(key1, 0x0b, sizeof key1);
	deliver_signature(key1, sizeof key1, "Hi There", 8, sig);
	CHECK_STR(sig, "sha256=b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da"
	    "726e9376c2e32cff7");
	deliver_signature("Jefe", 4, "what do ya want for nothing?", 28, sig);
	CHECK_STR(sig, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739"
	    "839dec58b964ec3843");
}

int
main(void)
{
	log_init(LOG_TO_STDERR, 0);
	test_qp();
	test_header();
	test_message();
	test_signature();
	return (TST_DONE());
}
