/*
 * show-mail.c: the report as the HTML part of a mail (report --mail, the
 * summary mail, --format mail).
 *
 * Mail clients strip style sheets, scripts, SVG and external images, and
 * many lay a message out no wider than about 640 pixels.  So: no <style>
 * element and no class the look depends on, only inline styles and the
 * old bgcolor and width attributes; the charts are tables whose cells are
 * the bars (a width in pixels, a background colour, a non-breaking space
 * so that they are not collapsed); one column at most 640 pixels wide that
 * shrinks on a phone.  Without HTML at all the text part says the same.
 *
 * As in show-html.c, every string from the database goes through
 * show_html_esc, and the figures a test compares carry data-* attributes
 * (data-kpi, data-day/data-pass/data-fail, data-approved/data-fail).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "show/show.h"
#include "show/show_p.h"

#define MAIL_W		640	/* the column */
#define MAIL_ROWS	10	/* rows of each table */
#define MAIL_ALLDAYS	45	/* longer windows skip days without mail */

#define C_INK		"#1f2328"
#define C_MUTE		"#59636e"
#define C_LINE		"#d1d9e0"
#define C_PASS		"#2da44e"
#define C_FAIL		"#cf222e"
#define TD		"padding:4px 6px;border-bottom:1px solid " C_LINE ";"
#define TDN		TD "text-align:right;white-space:nowrap;"
#define TH		"padding:4px 6px;text-align:left;font-size:12px;" \
			"color:" C_MUTE ";border-bottom:1px solid " C_LINE ";"
#define THN		TH "text-align:right;"

static void	put(FILE *, const char *);
static void	count(FILE *, long long);
static void	pct(FILE *, long long, long long);
static void	level_colors(enum show_level, const char **, const char **);
static void	heading(FILE *, const char *, const char *);
static void	verdict(FILE *, const struct show_domain *);
static void	kpis(FILE *, const struct show_domain *);
static void	bar(FILE *, long long, long long, long long);
static void	daily(FILE *, const struct show_data *,
		    const struct show_table *);
static void	senders(FILE *, const struct show_table *);
static void	failing(FILE *, const struct show_table *);
static void	reporters(FILE *, const struct show_table *);
static void	health(FILE *, const struct show_table *);

static void
put(FILE *f, const char *s)
{
	char	*e = show_html_esc(s);

	fputs(e, f);
	free(e);
}

static void
count(FILE *f, long long v)
{
	char	b[32];

	fputs(show_fmt_count(b, sizeof b, v), f);
}

static void
pct(FILE *f, long long num, long long den)
{
	char	b[16];

	fputs(show_fmt_pct(b, sizeof b, num, den), f);
}

/* The banner's ink and background for a verdict. */
static void
level_colors(enum show_level l, const char **ink, const char **bg)
{
	switch (l) {
	case SHOW_HEALTHY:
		*ink = "#1a7f37";
		*bg = "#dafbe1";
		return;
	case SHOW_ATTENTION:
		*ink = "#9a6700";
		*bg = "#fff8c5";
		return;
	case SHOW_ACTION:
		*ink = C_FAIL;
		*bg = "#ffebe9";
		return;
	case SHOW_NODATA:
		break;
	}
	*ink = C_MUTE;
	*bg = "#f6f8fa";
}

static void
heading(FILE *f, const char *title, const char *hint)
{
	fprintf(f, "<h2 style=\"font-size:17px;margin:22px 0 4px\">%s</h2>\n",
	    title);
	if (hint != NULL)
		fprintf(f, "<p style=\"margin:0 0 6px;font-size:13px;color:"
		    C_MUTE "\">%s</p>\n", hint);
}

static void
verdict(FILE *f, const struct show_domain *v)
{
	const struct show_table	*s = &v->sum;
	enum show_level		 l;
	const char		*ink, *bg;
	long long		 msgs, pass, fail;

	msgs = show_num(s, 0, SUM_MSGS);
	pass = show_num(s, 0, SUM_PASS);
	fail = show_num(s, 0, SUM_FAIL);
	l = show_verdict(pass, msgs);
	level_colors(l, &ink, &bg);
	fprintf(f, "<table role=\"presentation\" width=\"100%%\" cellpadding=\"0\""
	    " cellspacing=\"0\" border=\"0\" bgcolor=\"%s\" style=\"margin:12px"
	    " 0;background:%s;border-left:8px solid %s\"><tr><td style=\""
	    "padding:12px 16px\">\n<div style=\"font-size:13px;font-weight:bold;"
	    "color:" C_MUTE "\">", bg, bg, ink);
	put(f, show_cell(s, 0, SUM_DOMAIN));
	fprintf(f, "</div>\n<div style=\"font-size:20px;font-weight:bold;"
	    "color:%s\" data-verdict=\"%s\">", ink, show_level_name(l));
	if (l == SHOW_NODATA)
		fputs("No reports in this period", f);
	else {
		pct(f, pass, msgs);
		fprintf(f, " of mail passes DMARC: %s", show_level_name(l));
	}
	fputs("</div>\n<p style=\"margin:6px 0 0\">", f);
	count(f, msgs);
	fputs(" messages were reported by receivers; ", f);
	count(f, pass);
	fputs(" passed, ", f);
	count(f, fail);
	fputs(" failed. Receivers put ", f);
	count(f, show_num(s, 0, SUM_QUAR));
	fputs(" in spam and refused ", f);
	count(f, show_num(s, 0, SUM_REJ));
	fputs(".</p>\n</td></tr></table>\n", f);
}

static void
kpis(FILE *f, const struct show_domain *v)
{
	const struct show_table	*s = &v->sum;
	static const struct {
		const char	*kpi, *label, *color;
		int		 col;
	} k[] = {
		{ "messages", "messages", C_INK, SUM_MSGS },
		{ "pass", "passed DMARC", "#1a7f37", SUM_PASS },
		{ "fail", "failed DMARC", C_FAIL, SUM_FAIL },
		{ "pass_pct", "pass rate", C_INK, -1 }
	};
	size_t	i;

	fputs("<table role=\"presentation\" width=\"100%\" cellpadding=\"0\""
	    " cellspacing=\"4\" border=\"0\"><tr>\n", f);
	for (i = 0; i < sizeof k / sizeof k[0]; i++) {
		fprintf(f, "<td width=\"25%%\" bgcolor=\"#f6f8fa\" style=\""
		    "background:#f6f8fa;padding:8px 10px\"><div style=\""
		    "font-size:20px;font-weight:bold;color:%s\" data-kpi=\"%s\">",
		    k[i].color, k[i].kpi);
		if (k[i].col >= 0)
			count(f, show_num(s, 0, (size_t)k[i].col));
		else
			pct(f, show_num(s, 0, SUM_PASS),
			    show_num(s, 0, SUM_MSGS));
		fprintf(f, "</div><div style=\"font-size:12px;color:" C_MUTE
		    "\">%s</div></td>\n", k[i].label);
	}
	fputs("</tr></table>\n", f);
}

/*
 * A bar of pass and fail out of max: coloured cells whose widths are
 * percentages of the bar's column, so that it shrinks on a phone, and a
 * spacer for the rest.
 */
static void
bar(FILE *f, long long pass, long long fail, long long max)
{
	size_t	np, nf;

	show_bar_split(pass, fail, max, 100, &np, &nf);
	fputs("<table role=\"presentation\" width=\"100%\" cellpadding=\"0\""
	    " cellspacing=\"0\" border=\"0\"><tr>", f);
	if (np > 0)
		fprintf(f, "<td width=\"%zu%%\" height=\"10\" bgcolor=\""
		    C_PASS "\" style=\"width:%zu%%;height:10px;background:"
		    C_PASS ";font-size:0;line-height:0\">&nbsp;</td>", np, np);
	if (nf > 0)
		fprintf(f, "<td width=\"%zu%%\" height=\"10\" bgcolor=\""
		    C_FAIL "\" style=\"width:%zu%%;height:10px;background:"
		    C_FAIL ";font-size:0;line-height:0\">&nbsp;</td>", nf, nf);
	if (np + nf < 100)
		fprintf(f, "<td width=\"%zu%%\" style=\"font-size:0;"
		    "line-height:0\">&nbsp;</td>", 100 - np - nf);
	fputs("</tr></table>", f);
}

static void
daily(FILE *f, const struct show_data *d, const struct show_table *t)
{
	long long	max = 0, m, pass, fail;
	size_t		r;

	for (r = 0; r < t->nrows; r++)
		if ((m = show_num(t, r, DAY_MSGS)) > max)
			max = m;
	heading(f, "Mail per day", "Green passed DMARC, red failed.");
	fputs("<table role=\"presentation\" width=\"100%\" cellpadding=\"0\""
	    " cellspacing=\"0\" border=\"0\" style=\"font-size:12px\""
	    " data-chart=\"daily\">\n", f);
	for (r = 0; r < t->nrows; r++) {
		m = show_num(t, r, DAY_MSGS);
		if (m == 0 && d->days > MAIL_ALLDAYS)
			continue;
		pass = show_num(t, r, DAY_PASS);
		fail = show_num(t, r, DAY_FAIL);
		fputs("<tr data-day=\"", f);
		put(f, show_cell(t, r, DAY_DAY));
		fprintf(f, "\" data-pass=\"%lld\" data-fail=\"%lld\"><td width=\""
		    "84\" style=\"padding:1px 6px 1px 0;color:" C_MUTE ";"
		    "white-space:nowrap\">", pass, fail);
		put(f, show_cell(t, r, DAY_DAY));
		fputs("</td><td style=\"padding:1px 0\">", f);
		bar(f, pass, fail, max);
		fputs("</td><td width=\"70\" style=\"padding:1px 0 1px 6px;"
		    "text-align:right;white-space:nowrap\">", f);
		count(f, m);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void
senders(FILE *f, const struct show_table *t)
{
	long long	m, fail;
	int		ok;
	size_t		r;

	heading(f, "Senders", "Unapproved senders that fail DMARC first:"
	    " approve yours with <code>dmarc-agent senders approve DOMAIN"
	    " KIND VALUE</code>.");
	if (t->nrows == 0) {
		fputs("<p style=\"color:" C_MUTE "\">None.</p>\n", f);
		return;
	}
	fputs("<table role=\"presentation\" width=\"100%\" cellpadding=\"0\""
	    " cellspacing=\"0\" border=\"0\" style=\"font-size:13px\""
	    " data-table=\"senders\">\n<tr><th style=\"" TH "\">Approved</th>"
	    "<th style=\"" TH "\">Sender</th><th style=\"" THN "\">Messages"
	    "</th><th style=\"" THN "\">Pass</th><th style=\"" THN "\">Failed"
	    "</th></tr>\n", f);
	for (r = 0; r < t->nrows && r < MAIL_ROWS; r++) {
		m = show_num(t, r, SEND_MSGS);
		fail = show_num(t, r, SEND_FAIL);
		ok = *show_cell(t, r, SEND_APPROVED) == 'y';
		fprintf(f, "<tr data-approved=\"%s\" data-fail=\"%lld\"><td"
		    " style=\"" TD "%s\">%s</td><td style=\"" TD
		    "word-break:break-all\">", ok ? "yes" : "no", fail,
		    !ok && fail > 0 ? "color:" C_FAIL ";font-weight:bold;" : "",
		    ok ? "yes" : "no");
		put(f, show_cell(t, r, SEND_KIND));
		fputs(" ", f);
		put(f, show_cell(t, r, SEND_VALUE));
		if (ok && fail > 0) {
			fputs("<br><span style=\"color:" C_FAIL "\">", f);
			count(f, fail);
			fputs(" would be rejected at p=reject</span>", f);
		}
		fputs("</td><td style=\"" TDN "\">", f);
		count(f, m);
		fputs("</td><td style=\"" TDN "\">", f);
		pct(f, show_num(t, r, SEND_PASS), m);
		fputs("</td><td style=\"" TDN "\">", f);
		count(f, fail);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void
failing(FILE *f, const struct show_table *t)
{
	size_t	r;

	heading(f, "Sources failing DMARC", NULL);
	if (t->nrows == 0) {
		fputs("<p style=\"color:" C_MUTE "\">None: every source"
		    " passed.</p>\n", f);
		return;
	}
	fputs("<table role=\"presentation\" width=\"100%\" cellpadding=\"0\""
	    " cellspacing=\"0\" border=\"0\" style=\"font-size:13px\""
	    " data-table=\"failing\">\n<tr><th style=\"" TH "\">Source</th>"
	    "<th style=\"" THN "\">Failed</th><th style=\"" TH "\">From</th>"
	    "</tr>\n", f);
	for (r = 0; r < t->nrows && r < MAIL_ROWS; r++) {
		fputs("<tr><td style=\"" TD "word-break:break-all\">", f);
		put(f, show_cell(t, r, FAIL_SOURCE));
		fputs("</td><td style=\"" TDN "\">", f);
		count(f, show_num(t, r, FAIL_FAILED));
		fputs("</td><td style=\"" TD "word-break:break-all\">", f);
		put(f, show_cell(t, r, FAIL_FROMS));
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void
reporters(FILE *f, const struct show_table *t)
{
	const char	*name;
	size_t		 r;

	heading(f, "Reporters", NULL);
	if (t->nrows == 0) {
		fputs("<p style=\"color:" C_MUTE "\">None.</p>\n", f);
		return;
	}
	fputs("<table role=\"presentation\" width=\"100%\" cellpadding=\"0\""
	    " cellspacing=\"0\" border=\"0\" style=\"font-size:13px\">\n<tr>"
	    "<th style=\"" TH "\">Reporter</th><th style=\"" THN "\">Reports"
	    "</th><th style=\"" THN "\">Messages</th><th style=\"" TH "\">Last"
	    " period end</th></tr>\n", f);
	for (r = 0; r < t->nrows && r < MAIL_ROWS; r++) {
		name = show_cell(t, r, REP_ORG);
		if (*name == '\0')
			name = show_cell(t, r, REP_KEY);
		fputs("<tr><td style=\"" TD "\">", f);
		put(f, name);
		fputs("</td><td style=\"" TDN "\">", f);
		count(f, show_num(t, r, REP_REPORTS));
		fputs("</td><td style=\"" TDN "\">", f);
		count(f, show_num(t, r, REP_MSGS));
		fputs("</td><td style=\"" TD "white-space:nowrap\">", f);
		put(f, show_cell(t, r, REP_LAST_END));
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void
health(FILE *f, const struct show_table *t)
{
	size_t	r;

	if (t->nrows == 0)
		return;
	heading(f, "Report mailboxes", NULL);
	fputs("<table role=\"presentation\" width=\"100%\" cellpadding=\"0\""
	    " cellspacing=\"0\" border=\"0\" style=\"font-size:13px\">\n<tr>"
	    "<th style=\"" TH "\">Mailbox</th><th style=\"" TH "\">Last"
	    " success</th><th style=\"" THN "\">Failing polls</th></tr>\n", f);
	for (r = 0; r < t->nrows; r++) {
		fputs("<tr><td style=\"" TD "\">", f);
		put(f, show_cell(t, r, HEALTH_MAILBOX));
		fputs("</td><td style=\"" TD "\">", f);
		put(f, *show_cell(t, r, HEALTH_LAST_OK) != '\0' ?
		    show_cell(t, r, HEALTH_LAST_OK) : "never");
		fputs("</td><td style=\"" TDN "\">", f);
		count(f, show_num(t, r, HEALTH_FAILING));
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

int
show_mail(FILE *f, const struct show_data *d)
{
	const struct show_domain	*v;
	size_t				 i;

	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta"
	    " charset=\"utf-8\">\n<meta name=\"viewport\" content=\""
	    "width=device-width, initial-scale=1\">\n<title>DMARC summary %s"
	    " to %s</title>\n</head>\n<body style=\"margin:0;padding:0;"
	    "background:#f6f8fa\">\n<table role=\"presentation\" width=\"100%%\""
	    " cellpadding=\"0\" cellspacing=\"0\" border=\"0\" bgcolor=\""
	    "#f6f8fa\"><tr><td align=\"center\" style=\"padding:16px 8px\">\n"
	    "<table role=\"presentation\" width=\"%d\" cellpadding=\"0\""
	    " cellspacing=\"0\" border=\"0\" bgcolor=\"#ffffff\" style=\""
	    "width:100%%;max-width:%dpx;background:#ffffff;border:1px solid "
	    C_LINE ";font-family:Arial,Helvetica,sans-serif;font-size:15px;"
	    "line-height:1.45;color:" C_INK "\" data-summary=\"1\">\n<tr><td"
	    " style=\"padding:20px 24px\">\n<h1 style=\"font-size:22px;"
	    "margin:0 0 4px\">Email authentication summary</h1>\n<p style=\""
	    "margin:0 0 8px;color:" C_MUTE "\">%s to %s (%d days, UTC), %zu"
	    " domain%s. From the DMARC reports mail providers send about mail"
	    " that uses your domains.</p>\n", d->from, d->until, MAIL_W,
	    MAIL_W, d->from, d->until, d->days, d->n, d->n == 1 ? "" : "s");
	if (d->n == 0) {
		fputs("<p style=\"color:" C_MUTE "\">No reports for ", f);
		put(f, d->domain != NULL ? d->domain : "any domain");
		fputs(" in this period.</p>\n", f);
	}
	for (i = 0; i < d->n; i++) {
		v = &d->v[i];
		fputs("<div data-domain=\"", f);
		put(f, show_cell(&v->sum, 0, SUM_DOMAIN));
		fputs("\">\n", f);
		verdict(f, v);
		kpis(f, v);
		daily(f, d, &v->daily);
		if (d->has_senders)
			senders(f, &v->senders);
		failing(f, &v->failing);
		reporters(f, &v->reporters);
		fputs("</div>\n", f);
	}
	if (d->has_health)
		health(f, &d->health);
	fprintf(f, "<p style=\"margin:20px 0 0;font-size:12px;color:" C_MUTE
	    "\">Sent by %s %s from its database; the whole report:"
	    " <code>dmarc-agent report --format html</code>.</p>\n"
	    "</td></tr></table>\n</td></tr></table>\n</body>\n</html>\n",
	    PACKAGE_NAME, PACKAGE_VERSION);
	return (ferror(f) ? -1 : 0);
}
