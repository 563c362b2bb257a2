/*
 * tst_show.c: the pure functions of show/: number formatting, the verdict,
 * bar lengths, escaping for terminals, HTML and JSON, day arithmetic, the
 * binning of long windows, the report command's arguments and an approved
 * sender's value.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "show/show.h"
#include "show/show_p.h"
#include "tests/tst.h"

static void	test_count(void);
static void	test_pct(void);
static void	test_verdict(void);
static void	test_bar(void);
static void	test_term(void);
static void	test_html(void);
static void	test_json(void);
static void	test_days(void);
static void	test_bins(void);
static void	test_args(void);
static void	test_sender_norm(void);

static void
test_count(void)
{
	static const struct {
		long long	 v;
		const char	*want;
	} t[] = {
		{ 0, "0" }, { 7, "7" }, { 999, "999" }, { 1000, "1,000" },
		{ 12345, "12,345" }, { 123456, "123,456" },
		{ 1234567, "1,234,567" }, { -1234, "-1,234" },
		{ 9223372036854775807LL, "9,223,372,036,854,775,807" }
	};
	char	b[32];
	size_t	i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++)
		CHECK_STR(show_fmt_count(b, sizeof b, t[i].v), t[i].want);
}

static void
test_pct(void)
{
	static const struct {
		long long	 num, den;
		const char	*want;
	} t[] = {
		{ 0, 0, "-" }, { 1, 0, "-" }, { 0, 10, "0.0%" },
		{ 10, 10, "100.0%" }, { 1, 3, "33.3%" }, { 2, 3, "66.7%" },
		{ 9999, 10000, "99.9%" },	/* not 100.0 with a failure */
		{ 1, 100000, "0.1%" },		/* not 0.0 with a pass */
		{ 973, 1000, "97.3%" }, { 11, 10, "100.0%" }
	};
	char	b[16];
	size_t	i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++)
		CHECK_STR(show_fmt_pct(b, sizeof b, t[i].num, t[i].den),
		    t[i].want);
}

static void
test_verdict(void)
{
	static const struct {
		long long	 pass, total;
		enum show_level	 want;
	} t[] = {
		{ 0, 0, SHOW_NODATA }, { 100, 100, SHOW_HEALTHY },
		{ 98, 100, SHOW_HEALTHY }, { 97, 100, SHOW_ATTENTION },
		{ 90, 100, SHOW_ATTENTION }, { 89, 100, SHOW_ACTION },
		{ 0, 5, SHOW_ACTION }
	};
	enum show_level	 l;
	size_t		 i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		l = show_verdict(t[i].pass, t[i].total);
		CHECK_INT(l, t[i].want);
	}
	CHECK_STR(show_level_name(SHOW_ACTION), "action needed");
	CHECK_STR(show_level_name(SHOW_HEALTHY), "healthy");
}

static void
test_bar(void)
{
	static const struct {
		long long	 pass, fail, max;
		size_t		 width, np, nf;
	} t[] = {
		{ 0, 0, 100, 40, 0, 0 },
		{ 100, 0, 100, 40, 40, 0 },
		{ 50, 50, 100, 40, 20, 20 },
		{ 50, 0, 100, 40, 20, 0 },
		{ 999, 1, 1000, 40, 39, 1 },	/* one failure stays visible */
		{ 1, 999, 1000, 40, 1, 39 },
		{ 1, 0, 1000000, 40, 1, 0 },	/* tiny day: one cell */
		{ 1, 1, 1000000, 40, 1, 1 },
		{ 10, 10, 0, 40, 0, 0 },	/* no max: no bar */
		{ 300, 0, 100, 40, 40, 0 }	/* over max: capped */
	};
	size_t	i, np, nf;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		show_bar_split(t[i].pass, t[i].fail, t[i].max, t[i].width,
		    &np, &nf);
		CHECK_INT(np, t[i].np);
		CHECK_INT(nf, t[i].nf);
		CHECK(np + nf <= t[i].width);
	}
}

static void
test_term(void)
{
	static const struct {
		const char	*in;
		size_t		 width;
		const char	*want;
	} t[] = {
		{ "example.com", 0, "example.com" },
		{ "\033[31mred\033[0m", 0, "?[31mred?[0m" },
		{ "a\nb\tc\rd", 0, "a?b?c?d" },
		{ "del\177", 0, "del?" },
		{ "c1\xc2\x9b" "x", 0, "c1?x" },	/* CSI as C1 */
		{ "bidi\xe2\x80\xae" "x", 0, "bidi?x" },
		{ "bad\xff\xfe", 0, "bad??" },
		{ "caf\xc3\xa9", 0, "caf\xc3\xa9" },
		/* utf8_decode's edges: overlong forms, a surrogate, past
		   U+10FFFF, cut short; then the largest valid sequences. */
		{ "o\xc0\xaf" "x", 0, "o??x" },
		{ "o\xe0\x80\xaf" "x", 0, "o???x" },
		{ "o\xf0\x80\x80\xaf" "x", 0, "o????x" },
		{ "s\xed\xa0\x80" "x", 0, "s???x" },
		{ "h\xf4\x90\x80\x80" "x", 0, "h????x" },
		{ "cut\xe2\x82", 0, "cut??" },
		{ "\xf4\x8f\xbf\xbd" "\xef\xbf\xbd", 0,
		  "\xf4\x8f\xbf\xbd" "\xef\xbf\xbd" },
		{ "abcdefghij", 5, "abcd~" },
		{ "abcde", 5, "abcde" },
		{ "abcdef", 5, "abcd~" },
		{ "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 4,
		    "\xc3\xa9\xc3\xa9\xc3\xa9~" },
		{ "", 3, "" }
	};
	char	*c;
	size_t	 i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		c = show_term_clean(t[i].in, t[i].width);
		CHECK_STR(c, t[i].want);
		CHECK(strchr(c, '\033') == NULL);
		if (t[i].width > 0)
			CHECK(show_term_width(c) <= t[i].width);
		free(c);
	}
	CHECK_INT(show_term_width("caf\xc3\xa9"), 4);
}

static void
test_html(void)
{
	static const struct {
		const char	*in, *want;
	} t[] = {
		{ "example.com", "example.com" },
		{ "<script>alert(1)</script>",
		    "&lt;script&gt;alert(1)&lt;/script&gt;" },
		{ "\"><img src=x onerror=alert(1)>",
		    "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" },
		{ "a&b'c", "a&amp;b&#39;c" },
		{ "\033[31m", "&#xFFFD;[31m" },
		{ "l1\nl2", "l1 l2" },
		{ "bad\xff", "bad&#xFFFD;" },
		{ "caf\xc3\xa9", "caf\xc3\xa9" }
	};
	char	*e;
	size_t	 i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		e = show_html_esc(t[i].in);
		CHECK_STR(e, t[i].want);
		CHECK(strchr(e, '<') == NULL && strchr(e, '"') == NULL);
		free(e);
	}
}

static void
test_json(void)
{
	static const struct {
		const char	*in, *want;
	} t[] = {
		{ "plain", "plain" },
		{ "q\"b\\", "q\\\"b\\\\" },
		{ "l1\nl2\tx", "l1\\nl2\\tx" },
		{ "\033[31m", "\\u001b[31m" },
		{ "</script>", "\\u003c/script\\u003e" },
		{ "a&b", "a\\u0026b" },
		{ "bad\xff", "bad\\ufffd" },
		{ "ls\xe2\x80\xa8", "ls\\u2028" },
		{ "caf\xc3\xa9", "caf\xc3\xa9" }
	};
	char	*e;
	size_t	 i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		e = show_json_esc(t[i].in);
		CHECK_STR(e, t[i].want);
		free(e);
	}
}

static void
test_days(void)
{
	static const struct {
		const char	*in;
		int		 ok;
		long		 day;
	} t[] = {
		{ "1970-01-01", 1, 0 }, { "2026-01-31", 1, 20484 },
		{ "2024-02-29", 1, 19782 }, { "2026-02-29", 0, 0 },
		{ "2026-13-01", 0, 0 }, { "2026-1-01", 0, 0 },
		{ "2026-01-01x", 0, 0 }, { "yesterday", 0, 0 }, { "", 0, 0 }
	};
	char	b[11];
	long	d;
	size_t	i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		d = -1;
		CHECK_INT(show_parse_day(t[i].in, &d) == 0, t[i].ok);
		if (t[i].ok) {
			CHECK_INT(d, t[i].day);
			show_format_day(d, b);
			CHECK_STR(b, t[i].in);
		}
	}
	show_format_day(20484 - 29, b);
	CHECK_STR(b, "2026-01-02");
}

/* A daily table of n days from first, day i with i + 1 messages, 1 failed. */
static void
daily_table(struct show_table *t, const char *first, size_t n)
{
	char	b[32];
	long	d;
	size_t	i;

	if (show_parse_day(first, &d) != 0)
		fatalx("bad day %s", first);
	memset(t, 0, sizeof *t);
	t->cols = show_cols_day;
	t->ncols = DAY_NCOLS;
	t->nrows = n;
	t->cells = xcalloc(n * DAY_NCOLS + 1, sizeof *t->cells);
	for (i = 0; i < n; i++) {
		show_format_day(d + (long)i, b);
		t->cells[i * DAY_NCOLS + DAY_DAY] = xstrdup(b);
		snprintf(b, sizeof b, "%zu", i + 1);
		t->cells[i * DAY_NCOLS + DAY_MSGS] = xstrdup(b);
		snprintf(b, sizeof b, "%zu", i);
		t->cells[i * DAY_NCOLS + DAY_PASS] = xstrdup(b);
		t->cells[i * DAY_NCOLS + DAY_FAIL] = xstrdup("1");
		t->cells[i * DAY_NCOLS + DAY_QUAR] = xstrdup("0");
		t->cells[i * DAY_NCOLS + DAY_REJ] = xstrdup(i % 2 ? "1" : "0");
	}
}

/*
 * Long windows bin by week (from Monday; 2026-01-01 was a Thursday) or by
 * calendar month: each bin is its first day in the window and the sums of
 * its days; nothing is lost at the edges.
 */
static void
test_bins(void)
{
	struct show_table	 day, bin;
	long long		 sum;
	size_t			 r;
	char			 b[16];

	CHECK(show_bin_for(1) == SHOW_BIN_DAY);
	CHECK(show_bin_for(90) == SHOW_BIN_DAY);
	CHECK(show_bin_for(91) == SHOW_BIN_WEEK);
	CHECK(show_bin_for(731) == SHOW_BIN_WEEK);
	CHECK(show_bin_for(732) == SHOW_BIN_MONTH);
	CHECK(show_bin_for(3660) == SHOW_BIN_MONTH);

	daily_table(&day, "2026-01-01", 20);
	show_bins(&day, SHOW_BIN_DAY, &bin);
	CHECK_INT(bin.nrows, 20);
	CHECK_STR(show_cell(&bin, 19, DAY_DAY), "2026-01-20");
	CHECK_INT(show_num(&bin, 19, DAY_MSGS), 20);
	show_table_free(&bin);

	/* Thu 1 to Sun 4, then whole weeks from the 5th, 12th, 19th. */
	show_bins(&day, SHOW_BIN_WEEK, &bin);
	CHECK_INT(bin.nrows, 4);
	CHECK_STR(show_cell(&bin, 0, DAY_DAY), "2026-01-01");
	CHECK_INT(show_num(&bin, 0, DAY_MSGS), 1 + 2 + 3 + 4);
	CHECK_INT(show_num(&bin, 0, DAY_FAIL), 4);
	CHECK_STR(show_cell(&bin, 1, DAY_DAY), "2026-01-05");
	CHECK_INT(show_num(&bin, 1, DAY_MSGS), 5 + 6 + 7 + 8 + 9 + 10 + 11);
	CHECK_INT(show_num(&bin, 1, DAY_PASS), 4 + 5 + 6 + 7 + 8 + 9 + 10);
	CHECK_INT(show_num(&bin, 1, DAY_REJ), 3);
	CHECK_STR(show_cell(&bin, 2, DAY_DAY), "2026-01-12");
	CHECK_STR(show_cell(&bin, 3, DAY_DAY), "2026-01-19");
	CHECK_INT(show_num(&bin, 3, DAY_MSGS), 19 + 20);
	for (sum = 0, r = 0; r < bin.nrows; r++)
		sum += show_num(&bin, r, DAY_MSGS);
	CHECK_INT(sum, 20 * 21 / 2);
	show_table_free(&bin);
	show_table_free(&day);

	/* From 2025-12-20 over 75 days: Dec (12), Jan (31), Feb (28), Mar. */
	daily_table(&day, "2025-12-20", 75);
	show_bins(&day, SHOW_BIN_MONTH, &bin);
	CHECK_INT(bin.nrows, 4);
	CHECK_STR(show_cell(&bin, 0, DAY_DAY), "2025-12-20");
	CHECK_INT(show_num(&bin, 0, DAY_FAIL), 12);
	CHECK_STR(show_cell(&bin, 1, DAY_DAY), "2026-01-01");
	CHECK_INT(show_num(&bin, 1, DAY_FAIL), 31);
	CHECK_STR(show_cell(&bin, 2, DAY_DAY), "2026-02-01");
	CHECK_INT(show_num(&bin, 2, DAY_FAIL), 28);
	CHECK_STR(show_cell(&bin, 3, DAY_DAY), "2026-03-01");
	CHECK_INT(show_num(&bin, 3, DAY_FAIL), 4);
	CHECK_INT(show_num(&bin, 3, DAY_MSGS), 72 + 73 + 74 + 75);
	show_table_free(&bin);
	show_table_free(&day);

	/* Labels: a month without its day; a day without its year only
	   on the axis of a daily chart within one year. */
	CHECK_STR(show_bin_label(SHOW_BIN_MONTH, "2026-03-01", 1, b,
	    sizeof b), "2026-03");
	CHECK_STR(show_bin_label(SHOW_BIN_WEEK, "2026-03-02", 1, b,
	    sizeof b), "2026-03-02");
	CHECK_STR(show_bin_label(SHOW_BIN_DAY, "2026-03-02", 1, b,
	    sizeof b), "03-02");
	CHECK_STR(show_bin_label(SHOW_BIN_DAY, "2026-03-02", 0, b,
	    sizeof b), "2026-03-02");
}

/* show_args on a copy of words (argv is not const). */
static int
run_args(const char *const *words, int n, struct show_opts *o,
    char ***argv, char **cause)
{
	int	i;

	*argv = xcalloc((size_t)n + 1, sizeof **argv);
	for (i = 0; i < n; i++)
		(*argv)[i] = xstrdup(words[i]);
	return (show_args(n, *argv, o, cause));
}

static void
free_args(char **argv)
{
	size_t	i;

	for (i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

static void
test_args(void)
{
	static const char *const ok[] = { "--days", "7", "--until",
	    "2026-01-31", "--domain", "example.com", "--format=html", "-o",
	    "r.html" };
	static const struct {
		const char	*w[2];
		int		 n;
		const char	*cause;
	} bad[] = {
		{ { "--days", "0" }, 2, "--days" },
		{ { "--days", "12x" }, 2, "--days" },
		{ { "--format", "pdf" }, 2, "--format" },
		{ { "--until", "2026-02-30" }, 2, "--until" },
		{ { "--bogus", NULL }, 1, "--bogus" },
		{ { "--days", NULL }, 1, "--days" },
		{ { "--days=", NULL }, 1, "--days" }
	};
	struct show_opts o;
	char		*cause = NULL, **argv;
	size_t		 i;

	CHECK_INT(run_args(ok, 9, &o, &argv, &cause), 0);
	CHECK_INT(o.days, 7);
	CHECK_STR(o.until, "2026-01-31");
	CHECK_STR(o.domain, "example.com");
	CHECK_INT(o.format, SHOW_HTML);
	CHECK_STR(o.output, "r.html");
	free_args(argv);
	CHECK_INT(run_args(ok, 0, &o, &argv, &cause), 0);
	CHECK_INT(o.days, 30);
	CHECK_INT(o.format, SHOW_TEXT);
	CHECK(o.domain == NULL && o.output == NULL && !o.color);
	CHECK_INT(strlen(o.until), 10);
	free_args(argv);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cause = NULL;
		CHECK_INT(run_args(bad[i].w, bad[i].n, &o, &argv, &cause), -1);
		CHECK(cause != NULL && strstr(cause, bad[i].cause) != NULL);
		free(cause);
		free_args(argv);
	}
}

/* An approved sender's kind and value as dmarc.approved_sender keeps them. */
static void
test_sender_norm(void)
{
	static const struct {
		const char	*kind, *in, *want;	/* want NULL: refused */
	} t[] = {
		{ "domain", "SendGrid.NET.", "sendgrid.net" },
		{ "domain", ".example.com", "example.com" },
		{ "domain", "mail_1.example-x.com", "mail_1.example-x.com" },
		{ "domain", "a b.example", NULL },
		{ "domain", "a..example", NULL },
		{ "domain", "...", NULL },
		{ "domain", "x\r\nBcc: y", NULL },
		{ "ptr", "Outlook.COM", "outlook.com" },
		{ "asn", "AS15169", "15169" },
		{ "asn", "as680", "680" },
		{ "asn", "4294967295", "4294967295" },
		{ "asn", "4294967296", NULL },
		{ "asn", "-1", NULL },
		{ "asn", "AS", NULL },
		{ "name", "Amazon SES", "Amazon SES" },
		{ "name", "", NULL },
		{ "name", "tab\there", NULL },
		{ "cidr", "192.0.2.0/24", "192.0.2.0/24" },	/* the server's */
		{ "colour", "blue", NULL }
	};
	char	*out, *cause;
	size_t	 i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		cause = NULL;
		CHECK_INT(show_sender_norm(t[i].kind, t[i].in, &out, &cause),
		    t[i].want != NULL ? 0 : -1);
		if (t[i].want != NULL)
			CHECK_STR(out, t[i].want);
		else
			CHECK(out == NULL && cause != NULL);
		free(out);
		free(cause);
	}
}

int
main(void)
{
	log_init(LOG_TO_STDERR, 0);
	test_count();
	test_pct();
	test_verdict();
	test_bar();
	test_term();
	test_html();
	test_json();
	test_days();
	test_bins();
	test_args();
	test_sender_norm();
	return (TST_DONE());
}
