/*
 * tst_imap_parse.c: table-driven tests of imap/imap-parse.c: response
 * framing (literals split across reads at every byte, {N} overflow, a
 * literal over the cap, caps on line length), status lines and response
 * codes, SEARCH, FETCH items in any order, quoting, UID sets, mailbox
 * name encoding, NAMESPACE and LIST delimiters, the mapping of configured
 * folder names and SEARCH criteria.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "imap/imap_p.h"
#include "tests/tst.h"

#define MAXLINE_DEFAULT	1024
#define MAXLIT_DEFAULT	64
#define BYTES(s)	s, sizeof(s) - 1	/* a literal holding NULs */

/*
 * Reader: the input is fed in pieces of every size from 1 up; each
 * complete response is described as its line text followed by each
 * literal as [content] or [N dropped], responses separated by " | ".
 * On an error the description ends with "ERROR".
 */
struct reader_case {
	const char	*name;
	const char	*in;
	size_t		 inlen;		/* 0: strlen */
	uint64_t	 max_line;	/* 0: MAXLINE_DEFAULT */
	uint64_t	 max_lit;	/* 0: MAXLIT_DEFAULT */
	const char	*want;
	int		 want_partial;	/* input ends inside a response */
};

static const struct reader_case reader_cases[] = {
	{ "tagged", "A1 OK done\r\n", 0, 0, 0, "A1 OK done", 0 },
	{ "two responses", "* 2 EXISTS\r\nA1 OK x\r\n", 0, 0, 0,
	  "* 2 EXISTS | A1 OK x", 0 },
	{ "bare LF", "* 3 EXPUNGE\nA1 OK y\n", 0, 0, 0,
	  "* 3 EXPUNGE | A1 OK y", 0 },
	{ "literal with CRLF inside",
	  "* 1 FETCH (UID 4 BODY[] {7}\r\nab\r\ncd\n)\r\n", 0, 0, 0,
	  "* 1 FETCH (UID 4 BODY[] {7})[ab\r\ncd\n]", 0 },
	{ "literal that looks like lines",
	  "* 1 FETCH (BODY[] {13}\r\nA1 OK {3}\r\n\r\n)\r\nA1 OK z\r\n", 0, 0,
	  0, "* 1 FETCH (BODY[] {13})[A1 OK {3}\r\n\r\n] | A1 OK z", 0 },
	{ "zero and two literals",
	  "* 1 FETCH (X {0}\r\n Y {2}\r\nhi)\r\n", 0, 0, 0,
	  "* 1 FETCH (X {0} Y {2})[][hi]", 0 },
	{ "binary literal", BYTES("* 1 FETCH (BINARY[] ~{3}\r\na\0b)\r\n"), 0, 0,
	  "* 1 FETCH (BINARY[] ~{3})[a\0b]", 0 },
	{ "literal over the cap is discarded",
	  "* 1 FETCH (UID 9 BODY[] {20}\r\n0123456789abcdefghij)\r\n"
	  "A1 OK done\r\n", 0, 0, 8,
	  "* 1 FETCH (UID 9 BODY[] {20})[20 dropped] | A1 OK done", 0 },
	{ "second literal over the remaining budget",
	  "* 1 FETCH (A {6}\r\n123456 B {6}\r\n123456)\r\n", 0, 0, 10,
	  "* 1 FETCH (A {6} B {6})[123456][6 dropped]", 0 },
	{ "literal size overflow",
	  "* 1 FETCH (BODY[] {18446744073709551616}\r\nx)\r\n", 0, 0, 0,
	  "ERROR", 0 },
	{ "literal size too many digits",
	  "* 1 FETCH (BODY[] {000000000000000000001}\r\nx)\r\n", 0, 0, 0,
	  "ERROR", 0 },
	{ "huge literal announced: waits, allocates nothing",
	  "* 1 FETCH (BODY[] {18446744073709551615}\r\nabc", 0, 0, 0,
	  "", 1 },
	{ "line over the cap", "* OK 0123456789012345678901234567890\r\n", 0,
	  16, 0, "ERROR", 0 },
	{ "text over the cap across literals",
	  "* 1 FETCH (A {1}\r\nx B {1}\r\ny C)\r\n", 0, 20, 0, "ERROR", 0 },
	{ "NUL in a line", BYTES("* OK a\0b\r\n"), 0, 0, "ERROR", 0 },
	{ "braces without a number are text", "* OK {x}\r\n* OK {}\r\n",
	  0, 0, 0, "* OK {x} | * OK {}", 0 },
};

static void
describe(struct buf *out, const struct imap_resp *r)
{
	char	 tmp[64];
	size_t	 i;

	if (out->len > 0)
		buf_add(out, " | ", 3);
	buf_add(out, r->line.data, r->line.len);
	for (i = 0; i < r->nlit; i++) {
		if (r->litv[i].dropped) {
			snprintf(tmp, sizeof tmp, "[%llu dropped]",
			    (unsigned long long)r->litv[i].size);
			buf_add(out, tmp, strlen(tmp));
		} else {
			buf_add(out, "[", 1);
			buf_add(out, r->lits.data + r->litv[i].off,
			    (size_t)r->litv[i].size);
			buf_add(out, "]", 1);
		}
	}
}

/* Feed c->in in pieces of step bytes; describe what came out. */
static int
reader_run(const struct reader_case *c, size_t step, struct buf *out)
{
	struct imap_reader	 rd;
	size_t			 len, off, n, used;
	char			*cause = NULL;
	int			 rv = 0, partial = 0;

	len = c->inlen != 0 ? c->inlen : strlen(c->in);
	imap_reader_init(&rd, c->max_line ? c->max_line : MAXLINE_DEFAULT,
	    c->max_lit ? c->max_lit : MAXLIT_DEFAULT);
	for (off = 0; off < len && rv != -1; ) {
		n = len - off < step ? len - off : step;
		while (n > 0) {
			rv = imap_reader_feed(&rd, c->in + off, n, &used,
			    &cause);
			off += used;
			n -= used;
			if (rv == -1) {
				if (out->len > 0)
					buf_add(out, " | ", 3);
				buf_add(out, "ERROR", 5);
				free(cause);
				break;
			}
			if (rv == 1) {
				describe(out, &rd.resp);
				imap_reader_reset(&rd);
			} else
				CHECK_INT(n, 0);	/* all consumed */
		}
	}
	if (rv == 0 && (rd.resp.line.len > 0 || rd.in_lit))
		partial = 1;
	/* Nothing was allocated for a literal we do not keep. */
	CHECK(rd.resp.lits.size <= (c->max_lit ? c->max_lit :
	    MAXLIT_DEFAULT) + 4096);
	imap_reader_free(&rd);
	return (partial);
}

static void
test_reader(void)
{
	const struct reader_case	*c;
	struct buf			 out;
	size_t				 i, step, len;
	int				 partial;

	for (i = 0; i < sizeof reader_cases / sizeof reader_cases[0]; i++) {
		c = &reader_cases[i];
		len = c->inlen != 0 ? c->inlen : strlen(c->in);
		for (step = 1; step <= len; step++) {
			buf_init(&out, 1 << 20);
			buf_add(&out, "", 0);
			partial = reader_run(c, step, &out);
			if (strcmp(out.data, c->want) != 0 ||
			    partial != c->want_partial) {
				fprintf(stderr, "reader \"%s\", step %zu:\n",
				    c->name, step);
				CHECK_STR(out.data, c->want);
				CHECK_INT(partial, c->want_partial);
				buf_free(&out);
				break;
			}
			tst_checks++;
			buf_free(&out);
		}
	}
}

/* Frame one complete response from text (for the decoders). */
static void
frame(struct imap_reader *rd, const char *text, uint64_t max_lit)
{
	size_t	 used;
	char	*cause = NULL;
	int	 rv;

	imap_reader_init(rd, 4096, max_lit);
	rv = imap_reader_feed(rd, text, strlen(text), &used, &cause);
	if (rv != 1)
		fprintf(stderr, "frame: %s: %s\n", text,
		    cause ? cause : "incomplete");
	CHECK_INT(rv, 1);
	free(cause);
}

struct status_case {
	const char	*in;
	int		 ok;
	enum imap_kind	 kind;
	const char	*tag;
	enum imap_cond	 cond;
	int		 has_num;
	uint32_t	 num;
	const char	*word;
	const char	*code;		/* NULL: none */
	const char	*text;
	long long	 uidvalidity;	/* -1: no valid UIDVALIDITY code */
};

static const struct status_case status_cases[] = {
	{ "* OK [UIDVALIDITY 3857529045] UIDs valid\r\n", 1, IMAP_R_UNTAGGED,
	  "", IMAP_C_OK, 0, 0, "OK", "UIDVALIDITY 3857529045", "UIDs valid",
	  3857529045LL },
	{ "* OK [UIDVALIDITY 4294967296] too big\r\n", 1, IMAP_R_UNTAGGED,
	  "", IMAP_C_OK, 0, 0, "OK", "UIDVALIDITY 4294967296", "too big", -1 },
	{ "* OK [UIDVALIDITYX 5] other code\r\n", 1, IMAP_R_UNTAGGED, "",
	  IMAP_C_OK, 0, 0, "OK", "UIDVALIDITYX 5", "other code", -1 },
	{ "* ok [uidvalidity 7]\r\n", 1, IMAP_R_UNTAGGED, "", IMAP_C_OK, 0, 0,
	  "OK", "uidvalidity 7", "", 7 },
	{ "A0001 NO [ALREADYEXISTS] Mailbox exists\r\n", 1, IMAP_R_TAGGED,
	  "A0001", IMAP_C_NO, 0, 0, "NO", "ALREADYEXISTS", "Mailbox exists",
	  -1 },
	{ "D0002 OK [READ-WRITE] Select completed\r\n", 1, IMAP_R_TAGGED,
	  "D0002", IMAP_C_OK, 0, 0, "OK", "READ-WRITE", "Select completed",
	  -1 },
	{ "a1 bad what\r\n", 1, IMAP_R_TAGGED, "a1", IMAP_C_BAD, 0, 0, "BAD",
	  NULL, "what", -1 },
	{ "* 23 EXISTS\r\n", 1, IMAP_R_UNTAGGED, "", IMAP_C_NONE, 1, 23,
	  "EXISTS", NULL, "", -1 },
	{ "* 4294967295 EXPUNGE\r\n", 1, IMAP_R_UNTAGGED, "", IMAP_C_NONE, 1,
	  4294967295U, "EXPUNGE", NULL, "", -1 },
	{ "* BYE shutting down\r\n", 1, IMAP_R_UNTAGGED, "", IMAP_C_BYE, 0, 0,
	  "BYE", NULL, "shutting down", -1 },
	{ "+ go ahead\r\n", 1, IMAP_R_CONT, "", IMAP_C_NONE, 0, 0, "", NULL,
	  "go ahead", -1 },
	{ "* SEARCH\r\n", 1, IMAP_R_UNTAGGED, "", IMAP_C_NONE, 0, 0, "SEARCH",
	  NULL, "", -1 },
	{ "A1 FOO bar\r\n", 0, 0, NULL, 0, 0, 0, NULL, NULL, NULL, -1 },
	{ "A1 BYE bar\r\n", 0, 0, NULL, 0, 0, 0, NULL, NULL, NULL, -1 },
	{ "* 4294967296 EXISTS\r\n", 0, 0, NULL, 0, 0, 0, NULL, NULL, NULL,
	  -1 },
	{ "* 3 OK odd\r\n", 0, 0, NULL, 0, 0, 0, NULL, NULL, NULL, -1 },
	{ "*\r\n", 0, 0, NULL, 0, 0, 0, NULL, NULL, NULL, -1 },
	{ "\r\n", 0, 0, NULL, 0, 0, 0, NULL, NULL, NULL, -1 },
};

static void
test_status(void)
{
	const struct status_case	*c;
	struct imap_reader		 rd;
	struct imap_status		 st;
	char				*cause = NULL, *code;
	uint32_t			 v;
	size_t				 i;
	int				 rv;

	for (i = 0; i < sizeof status_cases / sizeof status_cases[0]; i++) {
		c = &status_cases[i];
		frame(&rd, c->in, 64);
		rv = imap_parse_status(&rd.resp, &st, &cause);
		CHECK_INT(rv, c->ok ? 0 : -1);
		if (rv == -1) {
			CHECK(cause != NULL);
			free(cause);
			cause = NULL;
		}
		if (!c->ok || rv == -1) {
			imap_reader_free(&rd);
			continue;
		}
		CHECK_INT(st.kind, c->kind);
		CHECK_STR(st.tag, c->tag);
		CHECK_INT(st.cond, c->cond);
		CHECK_INT(st.has_num, c->has_num);
		CHECK_INT(st.num, c->num);
		CHECK_STR(st.word, c->word);
		code = st.code == NULL ? NULL : xstrndup(st.code, st.codelen);
		CHECK_STR(code, c->code);
		free(code);
		CHECK_STR(st.text, c->text);
		if (imap_parse_code_num(&st, "UIDVALIDITY", &v))
			CHECK_INT(v, c->uidvalidity);
		else
			CHECK_INT(-1, c->uidvalidity);
		imap_reader_free(&rd);
	}
}

struct search_case {
	const char	*in;
	int		 ok;
	const char	*want;		/* UIDs, space separated */
};

static const struct search_case search_cases[] = {
	{ "* SEARCH\r\n", 1, "" },
	{ "* SEARCH \r\n", 1, "" },
	{ "* SEARCH 1 5 3\r\n", 1, "1 5 3" },
	{ "* SEARCH 4294967295\r\n", 1, "4294967295" },
	{ "* SEARCH 2 4 (MODSEQ 917162500)\r\n", 1, "2 4" },
	{ "* SEARCH 1 x\r\n", 0, NULL },
	{ "* SEARCH 0\r\n", 0, NULL },
	{ "* SEARCH 4294967296\r\n", 0, NULL },
	{ "* SEARCH 1 2 3 4 5 6 7 8 9\r\n", 0, NULL },	/* over the cap */
};

static void
test_search(void)
{
	const struct search_case	*c;
	struct imap_reader		 rd;
	struct imap_status		 st;
	struct buf			 got;
	uint32_t			*uids;
	size_t				 i, j, n, alloc;
	char				*cause = NULL, tmp[16];
	int				 rv;

	for (i = 0; i < sizeof search_cases / sizeof search_cases[0]; i++) {
		c = &search_cases[i];
		frame(&rd, c->in, 64);
		CHECK_INT(imap_parse_status(&rd.resp, &st, &cause), 0);
		uids = NULL;
		n = alloc = 0;
		rv = imap_parse_search(&rd.resp, &st, &uids, &n, &alloc, 8,
		    &cause);
		CHECK_INT(rv, c->ok ? 0 : -1);
		if (rv == 0) {
			buf_init(&got, 1024);
			buf_add(&got, "", 0);
			for (j = 0; j < n; j++) {
				snprintf(tmp, sizeof tmp, "%s%u",
				    j ? " " : "", uids[j]);
				buf_add(&got, tmp, strlen(tmp));
			}
			CHECK_STR(got.data, c->want);
			buf_free(&got);
		} else {
			CHECK(cause != NULL);
			free(cause);
			cause = NULL;
		}
		free(uids);
		imap_reader_free(&rd);
	}
}

struct fetch_case {
	const char	*in;
	uint64_t	 max_lit;	/* 0: MAXLIT_DEFAULT */
	int		 ok;
	int		 has_uid;
	uint32_t	 uid;
	int		 has_size;
	uint64_t	 size;
	int		 has_body;
	const char	*body;		/* NULL: no bytes (dropped or none) */
	uint64_t	 body_size;
	int		 seen;
};

static const struct fetch_case fetch_cases[] = {
	{ "* 1 FETCH (UID 7 RFC822.SIZE 5 BODY[] {5}\r\nhello)\r\n", 0, 1,
	  1, 7, 1, 5, 1, "hello", 5, 0 },
	{ "* 1 FETCH (BODY[] {5}\r\nhello UID 7 RFC822.SIZE 5)\r\n", 0, 1,
	  1, 7, 1, 5, 1, "hello", 5, 0 },
	{ "* 1 FETCH (RFC822.SIZE 5 BODY[] {5}\r\nhello FLAGS (\\Seen) "
	  "uid 7)\r\n", 0, 1, 1, 7, 1, 5, 1, "hello", 5, 1 },
	{ "* 2 FETCH (FLAGS (\\Recent \\Deleted))\r\n", 0, 1, 0, 0, 0, 0, 0,
	  NULL, 0, 0 },
	{ "* 3 FETCH (UID 10 BODY[] NIL)\r\n", 0, 1, 1, 10, 0, 0, 0, NULL, 0,
	  0 },
	{ "* 4 FETCH (UID 11 ENVELOPE (\"a \\\"b\\\"\" NIL ((\"x\" {3}\r\n"
	  "abc))) BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL) BODY[HEADER.FIELDS "
	  "(FROM TO)] {2}\r\nhi BODY[] \"quoted\")\r\n", 0, 1, 1, 11, 0, 0, 1,
	  "quoted", 6, 0 },
	{ "* 5 FETCH (UID 12 RFC822.SIZE 18446744073709551615 BODY[] {20}\r\n"
	  "0123456789abcdefghij)\r\n", 8, 1, 1, 12, 1, UINT64_MAX, 1, NULL,
	  20, 0 },
	{ "* 6 FETCH (UID)\r\n", 0, 0,
	  0, 0, 0, 0, 0, NULL, 0, 0 },
	{ "* 6 FETCH (UID 0)\r\n", 0, 0,
	  0, 0, 0, 0, 0, NULL, 0, 0 },
	{ "* 6 FETCH (UID 1 RFC822.SIZE 18446744073709551616)\r\n", 0, 0,
	  0, 0, 0, 0, 0, NULL, 0, 0 },
	{ "* 6 FETCH UID 1\r\n", 0, 0,
	  0, 0, 0, 0, 0, NULL, 0, 0 },
	{ "* 6 FETCH (UID 1 FLAGS \\Seen)\r\n", 0, 0,
	  0, 0, 0, 0, 0, NULL, 0, 0 },
	{ "* 6 FETCH (UID 1 BODY[] )\r\n", 0, 0,
	  0, 0, 0, 0, 0, NULL, 0, 0 },
	{ "* 6 FETCH (X (a (b))\r\n", 0, 0,
	  0, 0, 0, 0, 0, NULL, 0, 0 },
	{ "* 6 FETCH (\"UID\" 1)\r\n", 0, 0,
	  0, 0, 0, 0, 0, NULL, 0, 0 },
};

static void
test_fetch(void)
{
	const struct fetch_case	*c;
	struct imap_reader	 rd;
	struct imap_status	 st;
	struct imap_fetch	 f;
	char			*cause = NULL, *body;
	size_t			 i;
	int			 rv;

	for (i = 0; i < sizeof fetch_cases / sizeof fetch_cases[0]; i++) {
		c = &fetch_cases[i];
		frame(&rd, c->in, c->max_lit ? c->max_lit : MAXLIT_DEFAULT);
		CHECK_INT(imap_parse_status(&rd.resp, &st, &cause), 0);
		rv = imap_parse_fetch(&rd.resp, &st, &f, &cause);
		if (rv != (c->ok ? 0 : -1))
			fprintf(stderr, "fetch case %zu: %s\n", i,
			    cause ? cause : "no error");
		CHECK_INT(rv, c->ok ? 0 : -1);
		if (rv == -1) {
			CHECK(cause != NULL);
			free(cause);
			cause = NULL;
		}
		if (rv == -1 || !c->ok) {
			imap_reader_free(&rd);
			continue;
		}
		CHECK_INT(f.seq, st.num);
		CHECK_INT(f.has_uid, c->has_uid);
		CHECK_INT(f.uid, c->uid);
		CHECK_INT(f.has_size, c->has_size);
		CHECK(f.size == c->size);
		CHECK_INT(f.has_body, c->has_body);
		body = f.body == NULL ? NULL : xstrndup(f.body, f.body_len);
		CHECK_STR(body, c->body);
		free(body);
		CHECK(f.body_size == c->body_size);
		CHECK_INT(f.seen, c->seen);
		imap_reader_free(&rd);
	}
}

struct uidset_case {
	uint32_t	 uids[12];
	size_t		 n;
	size_t		 maxuids;
	size_t		 maxlen;
	const char	*want;
	size_t		 used;
};

static const struct uidset_case uidset_cases[] = {
	{ { 1, 2, 3, 4, 5, 7, 9, 10, 11, 12 }, 10, 100, 1000, "1:5,7,9:12",
	  10 },
	{ { 0 }, 0, 100, 1000, "", 0 },
	{ { 42 }, 1, 100, 1000, "42", 1 },
	{ { 1, 3, 5, 7 }, 4, 100, 1000, "1,3,5,7", 4 },
	{ { 1, 2, 3, 4 }, 4, 3, 1000, "1:3", 3 },
	{ { 1, 3, 5, 7 }, 4, 100, 5, "1,3,5", 3 },
	{ { 100000, 100001 }, 2, 100, 3, "100000:100001", 2 },
	{ { 4294967294U, 4294967295U }, 2, 100, 1000,
	  "4294967294:4294967295", 2 },
	{ { 5, 6, 8, 9, 10 }, 5, 100, 1000, "5:6,8:10", 5 },
};

struct sort_case {
	uint32_t	 in[8];
	size_t		 n;
	uint32_t	 want[8];
	size_t		 wantn;
};

static const struct sort_case sort_cases[] = {
	{ { 5, 1, 0, 3, 3, 2 }, 6, { 1, 2, 3, 5 }, 4 },
	{ { 0, 0 }, 2, { 0 }, 0 },
	{ { 4294967295U, 1 }, 2, { 1, 4294967295U }, 2 },
	{ { 0 }, 0, { 0 }, 0 },
};

static void
test_uidset(void)
{
	const struct uidset_case	*c;
	const struct sort_case		*s;
	uint32_t			 u[8];
	size_t				 i, used, n;
	char				*set;

	for (i = 0; i < sizeof uidset_cases / sizeof uidset_cases[0]; i++) {
		c = &uidset_cases[i];
		set = imap_uidset(c->uids, c->n, c->maxuids, c->maxlen, &used);
		CHECK_STR(set, c->want);
		CHECK_INT(used, c->used);
		free(set);
	}
	for (i = 0; i < sizeof sort_cases / sizeof sort_cases[0]; i++) {
		s = &sort_cases[i];
		memcpy(u, s->in, sizeof u);
		n = imap_uids_sort(u, s->n);
		CHECK_INT(n, s->wantn);
		CHECK(memcmp(u, s->want, n * sizeof u[0]) == 0);
	}
}

struct quote_case {
	const char	*in;
	const char	*quoted;	/* NULL: needs a literal */
};

static const struct quote_case quote_cases[] = {
	{ "INBOX", "\"INBOX\"" },
	{ "", "\"\"" },
	{ "a\"b\\c", "\"a\\\"b\\\\c\"" },
	{ "Reports/DMARC 2024", "\"Reports/DMARC 2024\"" },
	{ "a\r\nb", NULL },
	{ "\xc3\xa4", NULL },
	{ "tab\there", NULL },
};

struct lexq_case {
	const char	*in;		/* a response with quoted strings */
	const char	*want[3];	/* their unquoted values */
};

static const struct lexq_case lexq_cases[] = {
	{ "* LIST () \"/\" \"a \\\"q\\\" \\\\ b\"\r\n",
	  { "/", "a \"q\" \\ b", NULL } },
	{ "* LIST () \"\" \"(paren) {5}\"\r\n", { "", "(paren) {5}", NULL } },
};

static void
test_quote(void)
{
	const struct quote_case	*c;
	const struct lexq_case	*l;
	struct imap_reader	 rd;
	struct imap_status	 st;
	struct imap_lex		 lx;
	struct imap_tok		 t;
	char			*q, *cause = NULL;
	size_t			 i, j;

	for (i = 0; i < sizeof quote_cases / sizeof quote_cases[0]; i++) {
		c = &quote_cases[i];
		q = imap_quote(c->in);
		CHECK_STR(q, c->quoted);
		if (q != NULL) {
			free(q);
			/* Round trip through the lexer's view. */
			q = imap_quote(c->in);
			free(q);
		}
	}
	for (i = 0; i < sizeof lexq_cases / sizeof lexq_cases[0]; i++) {
		l = &lexq_cases[i];
		frame(&rd, l->in, 64);
		CHECK_INT(imap_parse_status(&rd.resp, &st, &cause), 0);
		imap_lex_init(&lx, &rd.resp, st.rest);
		j = 0;
		for (;;) {
			CHECK_INT(imap_lex_next(&lx, &t, &cause), 0);
			if (t.type == IMAP_TOK_END)
				break;
			if (t.type != IMAP_TOK_QUOTED)
				continue;
			q = imap_unquote(t.s, t.len);
			CHECK(j < 2);
			if (j < 2)
				CHECK_STR(q, l->want[j]);
			j++;
			free(q);
		}
		CHECK_INT(j, 2);
		imap_reader_free(&rd);
	}
	/* An unterminated quoted string is an error. */
	frame(&rd, "* LIST () \"/\" \"abc\\\"\r\n", 64);
	CHECK_INT(imap_parse_status(&rd.resp, &st, &cause), 0);
	imap_lex_init(&lx, &rd.resp, st.rest);
	while (imap_lex_next(&lx, &t, &cause) == 0 && t.type != IMAP_TOK_END)
		/* nothing */;
	CHECK(cause != NULL);
	free(cause);
	imap_reader_free(&rd);
}

struct mbox_case {
	const char	*in;
	const char	*want;		/* NULL: refused */
};

static const struct mbox_case mbox_cases[] = {
	{ "INBOX", "INBOX" },
	{ "Entw&APw-rfe", "Entw&APw-rfe" },	/* ASCII: as given */
	{ "A &- B", "A &- B" },
	{ "A & B", "A &- B" },			/* not valid mUTF-7 */
	{ "a&", "a&-" },
	{ "&AOQ", "&-AOQ" },			/* unterminated */
	{ "&AOQ-&-", "&AOQ-&-" },
	{ "Entw\xc3\xbc" "rfe", "Entw&APw-rfe" },
	{ "&Co \xc3\x9c", "&-Co &ANw-" },
	{ "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "&ZeVnLIqe-" },
	{ "\xf0\x9f\x98\x80", "&2D3eAA-" },
	{ "\xc3\xa4 \xc3\xb6", "&AOQ- &APY-" },
	{ "a\tb", NULL },
	{ "\xff", NULL },
	{ "\xc0\xaf", NULL },			/* overlong */
	{ "\xed\xa0\x80", NULL },		/* surrogate */
	{ "", NULL },
};

static void
test_mailbox(void)
{
	const struct mbox_case	*c;
	char			*got, *cause = NULL;
	size_t			 i;

	for (i = 0; i < sizeof mbox_cases / sizeof mbox_cases[0]; i++) {
		c = &mbox_cases[i];
		got = imap_mailbox_encode(c->in, &cause);
		CHECK_STR(got, c->want);
		CHECK(got != NULL || cause != NULL);
		free(got);
		free(cause);
		cause = NULL;
	}
}

struct identity_case {
	const char	*user;
	const char	*host;
	unsigned	 port;
	const char	*folder;
	const char	*want;		/* NULL: refused */
};

static const struct identity_case identity_cases[] = {
	{ "dmarc", "imap.example.com", 993, "INBOX",
	  "imap://dmarc@imap.example.com:993/INBOX" },
	/* The host's case and INBOX's do not matter ... */
	{ "dmarc", "IMAP.Example.COM", 993, "inbox",
	  "imap://dmarc@imap.example.com:993/INBOX" },
	{ "dmarc", "imap.example.com", 993, "InBoX",
	  "imap://dmarc@imap.example.com:993/INBOX" },
	/* ... the user's and any other folder's do. */
	{ "DMARC", "imap.example.com", 993, "Reports",
	  "imap://DMARC@imap.example.com:993/Reports" },
	{ "dmarc", "imap.example.com", 993, "reports",
	  "imap://dmarc@imap.example.com:993/reports" },
	{ "dmarc", "imap.example.com", 143, "INBOX/DMARC",
	  "imap://dmarc@imap.example.com:143/INBOX/DMARC" },
	/* A user name cannot pass for a host, a port or a folder. */
	{ "dmarc@example.com", "imap.example.com", 993, "INBOX",
	  "imap://dmarc%40example.com@imap.example.com:993/INBOX" },
	{ "a@h:1/F", "h2", 1, "X",
	  "imap://a%40h%3A1%2FF@h2:1/X" },
	{ "50%; x", "h", 993, "INBOX", "imap://50%25%3B%20x@h:993/INBOX" },
	{ "J\xc3\xbcrgen", "h", 993, "INBOX",
	  "imap://J%C3%BCrgen@h:993/INBOX" },
	{ NULL, "h", 993, "INBOX", "imap://h:993/INBOX" },
	{ "", "h", 993, "INBOX", "imap://@h:993/INBOX" },
	{ "u", "[::1]", 10993, "INBOX", "imap://u@[::1]:10993/INBOX" },
	/* The folder as the server names it: UTF-8 and mUTF-7 are one. */
	{ "u", "h", 993, "Entw\xc3\xbc" "rfe", "imap://u@h:993/Entw&APw-rfe" },
	{ "u", "h", 993, "Entw&APw-rfe", "imap://u@h:993/Entw&APw-rfe" },
	{ "u", "h", 993, "A & B", "imap://u@h:993/A &- B" },
	{ "u", "h", 993, "a\tb", NULL },
	{ "u", "h", 993, "", NULL },
};

static void
test_identity(void)
{
	const struct identity_case *c;
	char			*got, *cause = NULL;
	size_t			 i;

	for (i = 0; i < sizeof identity_cases / sizeof identity_cases[0];
	    i++) {
		c = &identity_cases[i];
		got = imap_identity_key(c->user, c->host, c->port, c->folder,
		    &cause);
		CHECK_STR(got, c->want);
		CHECK(got != NULL || cause != NULL);
		free(got);
		free(cause);
		cause = NULL;
	}
}

struct ns_case {
	const char	*in;
	int		 ok;
	const char	*prefix;
	char		 delim;
};

static const struct ns_case ns_cases[] = {
	{ "* NAMESPACE ((\"INBOX.\" \".\")) NIL NIL\r\n", 1, "INBOX.", '.' },
	{ "* NAMESPACE ((\"\" \"/\")) ((\"Other/\" \"/\")) NIL\r\n", 1,
	  "", '/' },
	{ "* NAMESPACE ((\"\" \"\\\\\")) NIL NIL\r\n", 1, "", '\\' },
	{ "* NAMESPACE ((\"\" NIL)) NIL NIL\r\n", 1, "", '\0' },
	{ "* NAMESPACE ((\"INBOX.\" \".\" \"X-PARAM\" (\"a\"))) NIL NIL\r\n", 1,
	  "INBOX.", '.' },
	{ "* NAMESPACE (({6}\r\nINBOX. \".\")) NIL NIL\r\n", 1, "INBOX.", '.' },
	{ "* NAMESPACE NIL NIL ((\"Shared.\" \".\"))\r\n", 1, "", '\0' },
	{ "* NAMESPACE ((\"INBOX.\" \"..\")) NIL NIL\r\n", 0, NULL, 0 },
	{ "* NAMESPACE (\"INBOX.\" \".\") NIL NIL\r\n", 0, NULL, 0 },
	{ "* NAMESPACE\r\n", 0, NULL, 0 },
};

struct list_case {
	const char	*in;
	int		 ok;
	char		 delim;
};

static const struct list_case list_cases[] = {
	{ "* LIST (\\Noselect) \".\" \"\"\r\n", 1, '.' },
	{ "* LIST (\\Noselect) \"/\" \"\"\r\n", 1, '/' },
	{ "* LIST () NIL \"\"\r\n", 1, '\0' },
	{ "* LIST (\\Noselect \\HasChildren) \"\\\\\" \"\"\r\n", 1, '\\' },
	{ "* LIST \".\" \"\"\r\n", 0, 0 },
	{ "* LIST (\\Noselect) \"\" \"\"\r\n", 0, 0 },
};

struct folder_case {
	const char	*in;
	const char	*prefix;
	char		 delim;
	const char	*want;		/* NULL: refused */
};

static const struct folder_case folder_cases[] = {
	{ "Archive", "INBOX.", '.', "INBOX.Archive" },
	{ "Reports/Archive", "INBOX.", '.', "INBOX.Reports.Archive" },
	{ "Reports/Archive", "", '.', "Reports.Archive" },
	{ "Reports/Archive", "", '/', "Reports/Archive" },
	{ "Reports/Archive", NULL, '/', "Reports/Archive" },
	{ "INBOX", "INBOX.", '.', "INBOX" },
	{ "inbox", "", '/', "INBOX" },
	{ "Inbox/DMARC", "INBOX.", '.', "INBOX.DMARC" },
	{ "INBOX.Archive", "INBOX.", '.', "INBOX.Archive" },
	{ "inbox.Archive", "INBOX.", '.', "INBOX.Archive" },
	{ "INBOXES", "INBOX.", '.', "INBOX.INBOXES" },
	{ "Archive", "", '\0', "Archive" },
	{ "Reports/Archive", "", '\0', NULL },
	{ "Entw\xc3\xbc" "rfe/2024", "INBOX.", '.',
	  "INBOX.Entw\xc3\xbc" "rfe.2024" },
	{ "A & B", "", '/', "A & B" },
	{ "", "", '/', NULL },
	{ "/Archive", "", '/', NULL },
	{ "Archive/", "", '/', NULL },
	{ "a//b", "", '.', NULL },
};

struct criteria_case {
	int		 unseen;
	time_t		 since;
	uint32_t	 uid_from;
	uint64_t	 modseq_from;
	const char	*want;
};

static const struct criteria_case criteria_cases[] = {
	{ 1, 0, 0, 0, "UNSEEN UNDELETED" },
	{ 0, 0, 0, 0, "UNDELETED" },
	{ 1, 1709251199, 0, 0, "UNSEEN UNDELETED SINCE 29-Feb-2024" },
	{ 0, 1709251200, 0, 0, "UNDELETED SINCE 1-Mar-2024" },
	{ 0, 86400 * 365, 0, 0, "UNDELETED SINCE 1-Jan-1971" },
	{ 0, -86400, 0, 0, "UNDELETED SINCE 31-Dec-1969" },
	{ 0, 4102444800, 0, 0, "UNDELETED SINCE 1-Jan-2100" },
	/* Only what can be new: a UID range, a mod-sequence (CONDSTORE). */
	{ 0, 0, 1000001, 0, "UID 1000001:* UNDELETED" },
	{ 1, 0, 4294967295U, 0, "UID 4294967295:* UNSEEN UNDELETED" },
	{ 0, 0, 0, 917162501, "UNDELETED MODSEQ 917162501" },
	{ 1, 1709251200, 0, UINT64_C(9223372036854775807),
	    "UNSEEN UNDELETED SINCE 1-Mar-2024 MODSEQ 9223372036854775807" },
	{ 0, 1709251200, 7, 12,
	    "UID 7:* UNDELETED SINCE 1-Mar-2024 MODSEQ 12" },
};

static void
test_namespace(void)
{
	const struct ns_case	*c;
	const struct list_case	*l;
	struct imap_reader	 rd;
	struct imap_status	 st;
	char			*prefix, *cause = NULL, delim;
	size_t			 i;
	int			 rv;

	for (i = 0; i < sizeof ns_cases / sizeof ns_cases[0]; i++) {
		c = &ns_cases[i];
		frame(&rd, c->in, 64);
		CHECK_INT(imap_parse_status(&rd.resp, &st, &cause), 0);
		rv = imap_parse_namespace(&rd.resp, &st, &prefix, &delim,
		    &cause);
		CHECK_INT(rv, c->ok ? 0 : -1);
		if (rv == 0) {
			CHECK_STR(prefix, c->prefix);
			CHECK_INT(delim, c->delim);
		} else {
			CHECK(prefix == NULL && cause != NULL);
			if (cause == NULL)
				fprintf(stderr, "namespace case %zu\n", i);
		}
		free(prefix);
		free(cause);
		cause = NULL;
		imap_reader_free(&rd);
	}
	for (i = 0; i < sizeof list_cases / sizeof list_cases[0]; i++) {
		l = &list_cases[i];
		frame(&rd, l->in, 64);
		CHECK_INT(imap_parse_status(&rd.resp, &st, &cause), 0);
		delim = 'x';
		rv = imap_parse_list_delim(&rd.resp, &st, &delim, &cause);
		CHECK_INT(rv, l->ok ? 0 : -1);
		if (rv == 0)
			CHECK_INT(delim, l->delim);
		else
			CHECK(cause != NULL);
		free(cause);
		cause = NULL;
		imap_reader_free(&rd);
	}
}

static void
test_folder(void)
{
	const struct folder_case	*c;
	const struct criteria_case	*k;
	char				*got, *cause = NULL;
	size_t				 i;

	for (i = 0; i < sizeof folder_cases / sizeof folder_cases[0]; i++) {
		c = &folder_cases[i];
		got = imap_folder_map(c->in, c->prefix, c->delim, &cause);
		CHECK_STR(got, c->want);
		CHECK(got != NULL || cause != NULL);
		free(got);
		free(cause);
		cause = NULL;
	}
	for (i = 0; i < sizeof criteria_cases / sizeof criteria_cases[0];
	    i++) {
		k = &criteria_cases[i];
		got = imap_search_criteria(k->unseen, k->since, k->uid_from,
		    k->modseq_from);
		CHECK_STR(got, k->want);
		free(got);
	}
}

struct num_case {
	const char	*in;
	int		 ok64;
	uint64_t	 v64;
	int		 ok32;
};

static const struct num_case num_cases[] = {
	{ "0", 1, 0, 1 },
	{ "4294967295", 1, 4294967295U, 1 },
	{ "4294967296", 1, 4294967296ULL, 0 },
	{ "18446744073709551615", 1, UINT64_MAX, 0 },
	{ "18446744073709551616", 0, 0, 0 },
	{ "99999999999999999999", 0, 0, 0 },
	{ "", 0, 0, 0 },
	{ "12a", 0, 0, 0 },
	{ "-1", 0, 0, 0 },
	{ " 1", 0, 0, 0 },
};

static void
test_numbers(void)
{
	const struct num_case	*c;
	uint64_t		 v;
	uint32_t		 w;
	size_t			 i;
	int			 rv;

	for (i = 0; i < sizeof num_cases / sizeof num_cases[0]; i++) {
		c = &num_cases[i];
		rv = imap_parse_u64(c->in, strlen(c->in), &v);
		CHECK_INT(rv, c->ok64 ? 0 : -1);
		if (rv == 0)
			CHECK(v == c->v64);
		CHECK_INT(imap_parse_u32(c->in, strlen(c->in), &w),
		    c->ok32 ? 0 : -1);
	}
}

static void
test_capability(void)
{
	char	*caps;

	caps = imap_parse_capability("IMAP4rev1  Move uidplus AUTH=PLAIN",
	    strlen("IMAP4rev1  Move uidplus AUTH=PLAIN"));
	CHECK_STR(caps, " IMAP4REV1 MOVE UIDPLUS AUTH=PLAIN ");
	CHECK_INT(imap_capability_has(caps, "MOVE"), 1);
	CHECK_INT(imap_capability_has(caps, "UIDplus"), 1);
	CHECK_INT(imap_capability_has(caps, "MOV"), 0);
	CHECK_INT(imap_capability_has(caps, "IMAP4"), 0);
	CHECK_INT(imap_capability_has(caps, "MOVE UIDPLUS"), 0);
	CHECK_INT(imap_capability_has(caps, ""), 0);
	CHECK_INT(imap_capability_has(NULL, "MOVE"), 0);
	free(caps);
}

int
main(void)
{
	test_reader();
	test_status();
	test_search();
	test_fetch();
	test_uidset();
	test_quote();
	test_mailbox();
	test_identity();
	test_numbers();
	test_capability();
	test_namespace();
	test_folder();
	return (TST_DONE());
}
